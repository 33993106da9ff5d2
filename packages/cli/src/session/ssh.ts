// The SSH settings of rsb's own connection to a destination (one per run, shared by every step).
import { parseSshCommand } from '@rsb/exec'
import { remoteShellOption } from '@rsb/rsync'
import { CliError } from '../errors.js'

/**
 * The SSH settings of rsb's own connections: `$RSB_SSH_CONFIG` alone when it is set (`$RSYNC_RSH` is then not read),
 * else every option of `$RSYNC_RSH` that selects where and how to connect (`-F -p -l -i -o -4 -6 -b`), for `ssh -G`,
 * so that rsb's commands go to the server, port and user that rsync's transfer goes to. `rsyncOptions` are the
 * pass-through options of an SSH destination's transfer: a remote shell of theirs (`--rsh=…`, `-e…`) would take
 * rsync's ssh elsewhere while rsb's connection follows `$RSYNC_RSH`, so it is refused.
 *
 * @throws {CliError} ERR_RSB_CLI_RSH_UNSUPPORTED when `$RSYNC_RSH` is not ssh or holds what rsb cannot follow, or
 *   `rsyncOptions` choose the remote shell
 */
export function sshSettings(
  env: Readonly<Record<string, string | undefined>>,
  rsyncOptions: readonly string[] = [],
): { sshConfigFile?: string; sshArgs?: readonly string[] } {
  const chosen = remoteShellOption(rsyncOptions)
  if (chosen !== undefined) {
    throw new CliError(
      'ERR_RSB_CLI_RSH_UNSUPPORTED',
      `rsb's own SSH connection cannot follow a remote shell given in the rsync options (${chosen} in --rsync-option): rsync would connect with it, rsb with $RSYNC_RSH.`,
      { hint: `Leave ${chosen} out of --rsync-option and set $RSYNC_RSH instead; rsb's own connection follows it.` },
    )
  }
  if (env.RSB_SSH_CONFIG) return { sshConfigFile: env.RSB_SSH_CONFIG }
  if ((env.RSYNC_RSH ?? '').trim() === '') return {}
  const rsh = parseSshCommand(env.RSYNC_RSH as string)
  if (rsh.unsupported !== undefined) {
    throw new CliError('ERR_RSB_CLI_RSH_UNSUPPORTED', `rsb's own SSH connection cannot follow $RSYNC_RSH: ${rsh.unsupported}.`, {
      hint:
        'Give $RSYNC_RSH as ssh (or the absolute path of the ssh on PATH) with only ssh options rsb can follow (-F, -p, -l, -i, -o, -4, -6, -b; see rsb --help), ' +
        "or set $RSB_SSH_CONFIG to an ssh_config file for rsb's own connection (then $RSYNC_RSH is not read for it).",
    })
  }
  return { sshArgs: rsh.sshArgs }
}

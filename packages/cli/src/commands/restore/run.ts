// `rsb restore`'s workflow: open the destination for reading (no lock), pick the snapshot, check every PATH and where
// it goes, and only then run rsync once for all of them. Nothing is written before every check has passed.
import os from 'node:os'
import path from 'node:path'
import {
  CleanupScope,
  explainSudoFailure,
  quoteArgument,
  parseSshCommand,
  quoteCommandLine,
  resolveSshHost,
  SSH_KEEPALIVE,
  tailLines,
  type Context,
  type RunOptions,
} from '@rsb/exec'
import { isSnapshotName } from '@rsb/rotation'
import { describeRsyncExit, RsyncError, withSshKeepalive } from '@rsb/rsync'
import { CliError, isRsbError } from '../../errors.js'
import type { Logger } from '../../kit/log.js'
import { errorReport, json, oneLine } from '../../kit/render.js'
import type { MainIo } from '../../main.js'
import { probePath } from '../../backup/probe.js'
import { openDestination } from '../../session/open.js'
import { readStore } from '../../session/store.js'
import { resolveTarget } from '../../session/target.js'
import type { RestoreArgs, RestorePath } from './args.js'
import { buildRestoreArgs, chooseSnapshot, isSystemDirectory, manifestSource, restoredPath, snapshotsOfMirror } from './plan.js'

/** What `--json` prints (schema version 1). */
export interface RestoreReport {
  schemaVersion: 1
  destination: string
  /** The snapshot's name, once picked. */
  snapshot: string | undefined
  /** The PATHs, relative to the snapshot's root (`''`: the whole snapshot). */
  paths: string[]
  /** Where the files went: `--to` DIR made absolute, or SOURCE for a restore in place. */
  to: string | undefined
  inPlace: boolean
  dryRun: boolean
  /** A dry run's itemized lines (rsync -i); null otherwise. */
  changes: string[] | undefined
  exitCode: number
  error: { code: string; message: string; hint: string | undefined } | undefined
}

/** The entry types the snapshot check reports: `d` directory, `f` regular file or other, `l` symbolic link. */
type EntryType = 'd' | 'f' | 'l'

// $1 the snapshot's directory, then one relative PATH each (normalised: no empty, `.` or `..` components). For each
// PATH: `ok\0TYPE\0`, or `PROBLEM\0PREFIX\0` with PROBLEM `symlink` or `notdir` (a parent component, PREFIX the path
// up to it) or `missing`. Nothing is followed: every parent component is tested with -L before it is entered.
/** The snapshot's path check (exported for tests that answer it). */
export const CHECK_SCRIPT = `
s=$1; shift
for r in "$@"; do
  p=$s; rest=$r; bad=
  while :; do
    case $rest in */*) c=\${rest%%/*}; rest=\${rest#*/} ;; *) break ;; esac
    p=$p/$c
    if [ -L "$p" ]; then bad=symlink; break; fi
    if [ ! -d "$p" ]; then if [ -e "$p" ]; then bad=notdir; else bad=missing; fi; break; fi
  done
  if [ -n "$bad" ]; then printf '%s\\0%s\\0' "$bad" "\${p#"$s"/}"; continue; fi
  [ -z "$rest" ] || p=$p/$rest
  if [ -L "$p" ]; then t=l; elif [ -d "$p" ]; then t=d; elif [ -e "$p" ]; then t=f; else printf 'missing\\0%s\\0' "$r"; continue; fi
  printf 'ok\\0%s\\0' "$t"
done
`

function shown(text: string): string {
  return [...text].some((c) => c < ' ' || c === '\x7f') ? JSON.stringify(text) : text
}

/** Checks each PATH in the snapshot where it lives; returns its type. */
async function checkPaths(
  context: Context,
  snapshot: string,
  paths: readonly RestorePath[],
  signal: AbortSignal | undefined,
): Promise<EntryType[]> {
  const result = await context.run(['sh', '-c', CHECK_SCRIPT, 'sh', snapshot, ...paths.map((p) => p.relative)], {
    ionice: undefined,
    signal,
    check: false,
  })
  const fields = result.stdout.split('\0')
  if (result.exitCode !== 0 || fields.length < paths.length * 2) {
    throw new CliError('ERR_RSB_CLI_STORE_UNREADABLE', `Cannot look at the snapshot ${shown(snapshot)} on ${context.host}.`, {
      path: snapshot,
      hint: `Check that ${context.host} can read it (${result.stderr.trim().split('\n').at(-1) || `exit status ${result.exitCode}`}).`,
    })
  }
  return paths.map((p, i) => {
    const status = fields[i * 2] as string
    const detail = fields[i * 2 + 1] as string
    if (status === 'ok') return detail as EntryType
    const name = path.posix.basename(snapshot)
    if (status === 'missing') {
      throw new CliError('ERR_RSB_CLI_RESTORE_PATH_MISSING', `${shown(p.given)} is not in the snapshot ${name} (${shown(snapshot)}).`, {
        path: p.given,
        hint: `Give the path as it was below the backed-up SOURCE (ls -- ${quoteArgument(path.posix.dirname(`${snapshot}/${p.relative}`))}), or pick another snapshot with --snapshot=NAME or --at=TIME.`,
      })
    }
    throw new CliError(
      'ERR_RSB_CLI_RESTORE_PATH_SYMLINK',
      `${shown(p.given)} cannot be restored from the snapshot ${name}: ${shown(detail)} in it is ${status === 'symlink' ? 'a symbolic link' : 'no directory'}, so the path would lead outside the snapshot.`,
      {
        path: p.given,
        hint: `Restore ${shown(detail)} itself (the link as it is), or the path its target names, from the same snapshot.`,
      },
    )
  })
}

/**
 * Checks the parents of each PATH below SOURCE on this machine before a restore in place: rsync (`--relative
 * --no-implied-dirs`) would write through a symbolic link among them, outside SOURCE/PATH (a user's
 * `~/docs -> /etc`). A parent that is missing is made by rsync; one that is a link or no directory is refused.
 *
 * @throws {CliError} ERR_RSB_CLI_RESTORE_PATH_SYMLINK
 */
async function checkInPlaceParents(
  local: Context,
  source: string,
  paths: readonly RestorePath[],
  signal: AbortSignal | undefined,
): Promise<void> {
  const result = await local.run(['sh', '-c', CHECK_SCRIPT, 'sh', source, ...paths.map((p) => p.relative)], {
    ionice: undefined,
    signal,
    check: false,
  })
  const fields = result.stdout.split('\0')
  paths.forEach((p, i) => {
    const status = fields[i * 2] as string
    if (status !== 'symlink' && status !== 'notdir') return
    const where = path.posix.join(source, fields[i * 2 + 1] as string)
    throw new CliError(
      'ERR_RSB_CLI_RESTORE_PATH_SYMLINK',
      `${shown(p.given)} cannot be restored in place: ${shown(where)} on this machine is ${status === 'symlink' ? 'a symbolic link' : 'no directory'}, and rsync would write through it, outside ${shown(path.posix.join(source, p.relative))}.`,
      {
        path: where,
        hint: `Look at it (ls -ld -- ${quoteArgument(where)}); restore into a directory with --to=DIR instead, or move it aside first.`,
      },
    )
  })
}

/** Checks where the files go (`--to` DIR or SOURCE, on this machine); returns it resolved. */
async function checkTarget(local: Context, directory: string, what: string, mayBeMissing: boolean, signal: AbortSignal | undefined) {
  const facts = await probePath(local, directory, { what, signal })
  const invalid = (why: string, hint: string) =>
    new CliError('ERR_RSB_CLI_RESTORE_TARGET_INVALID', `${what} ${shown(directory)} ${why}.`, { path: directory, hint })
  const backup =
    facts.insideBackup ??
    (facts.isStore ||
    facts.holdsSnapshots ||
    facts.isRegisteredMirror ||
    (facts.besideSnapshots && isSnapshotName(path.basename(facts.resolved)))
      ? facts.resolved
      : undefined)
  if (backup !== undefined) {
    throw invalid(
      `lies in a backup store (${shown(backup)})`,
      'Restore somewhere outside the store: writing into a mirror or a snapshot would change the snapshots that share its files.',
    )
  }
  if (facts.type === 'symlink')
    throw invalid('is a symbolic link', `Give the directory it points to: --to="$(realpath -- ${quoteArgument(directory)})".`)
  if (facts.type === 'other') throw invalid('exists and is not a directory', 'Give a directory (it is made if missing).')
  if (facts.type === 'missing') {
    if (!mayBeMissing) throw invalid('does not exist', 'Restore with --to=DIR instead.')
    const parent = path.posix.dirname(facts.resolved)
    if (!(await local.isDirectory(parent, { ionice: undefined, signal })))
      throw invalid(
        `cannot be made: its parent ${shown(parent)} is no directory`,
        `Make the parent first: mkdir -p -- ${quoteArgument(parent)}`,
      )
  }
  return facts.resolved
}

/** rsync's remote shell for a pull from `remote` as the backup's transfer gets it: `$RSYNC_RSH` (default ssh) with rsb's keepalive. */
async function remoteShell(env: MainIo['env'], remote: string, plain: Context): Promise<string | undefined> {
  const given = (env.RSYNC_RSH ?? '').trim() === '' ? undefined : (env.RSYNC_RSH as string)
  const rsh = given ?? 'ssh'
  const command = parseSshCommand(rsh)
  if (command.unsupported !== undefined) return given
  try {
    const settings = await resolveSshHost(remote, { sshArgs: ['-o', 'BatchMode=no', ...command.sshArgs], context: plain })
    const shell = withSshKeepalive(rsh, settings, SSH_KEEPALIVE)
    return shell === rsh ? given : shell
  } catch {
    // rsync's own ssh reports what is wrong with the host
    return given
  }
}

const USAGE_CODES = new Set([
  'ERR_RSB_CLI_USAGE',
  'ERR_RSB_CLI_RESTORE_IN_PLACE',
  'ERR_RSB_CLI_RESTORE_UNSAFE_PATH',
  'ERR_RSB_CLI_DESTINATION_DAEMON',
])

/** The exit status of an error: 2 for an error of the command line, else 1. */
export function restoreExitCode(error: unknown): number {
  if (!isRsbError(error)) return 1
  if (USAGE_CODES.has(error.code)) return 2
  return error.code.startsWith('ERR_RSB_DESTINATION_') &&
    error.code !== 'ERR_RSB_DESTINATION_NO_PARENT' &&
    error.code !== 'ERR_RSB_DESTINATION_NO_CONTEXT'
    ? 2
    : 1
}

/** The steps of a restore; fills `report` as it goes. */
async function restore(args: RestoreArgs, io: MainIo, logger: Logger, scope: CleanupScope, report: RestoreReport): Promise<void> {
  const signal = io.signal
  const target = resolveTarget(args.destination)
  const opened = await openDestination({ target, sudo: args.sudo, ionice: undefined, env: io.env, logger, signal, writes: false }, scope)
  const store = opened.destination
  if (store === undefined) throw new CliError('ERR_RSB_CLI_DESTINATION_DAEMON', `rsb restore cannot read ${args.destination}.`)
  const ssh = target.destination.kind === 'ssh' ? target.destination : undefined

  // 1. The mirror and its store, where they live.
  const mirror = await probePath(store, target.destination.directory, { tilde: ssh !== undefined, what: 'DESTINATION', signal })
  if (mirror.isStore || mirror.holdsSnapshots) {
    throw new CliError(
      'ERR_RSB_CLI_DESTINATION_IS_STORE',
      `${args.destination} is a backup store, not the mirror that rsb backup was given.`,
      {
        destination: args.destination,
        hint: `Give the mirror, whose snapshots lie beside it: did you mean ${path.posix.join(mirror.resolved, 'latest')}?`,
      },
    )
  }
  const storeDirectory = path.posix.dirname(mirror.resolved)
  const state = await readStore(store, storeDirectory, signal)

  // 2. The snapshot.
  const chosen = chooseSnapshot(
    snapshotsOfMirror(state, path.posix.basename(mirror.resolved), args.destination),
    args.snapshot,
    args.destination,
  )
  const snapshot = path.posix.join(storeDirectory, chosen.name)
  report.snapshot = chosen.name
  const how =
    args.snapshot.kind === 'latest'
      ? 'the newest'
      : args.snapshot.kind === 'at'
        ? `the newest at or before ${args.snapshot.text}`
        : 'given by --snapshot'
  logger.log('info', `Restoring from snapshot ${chosen.name} (${how}): ${snapshot}${ssh ? ` on ${store.host}` : ''}`)

  // 3. Each PATH in it, and where it goes.
  const types = await checkPaths(store, snapshot, args.paths, signal)
  const local = opened.local
  let directory: string
  if (args.to !== undefined) {
    directory = await checkTarget(local, path.resolve(args.to), '--to', true, signal)
  } else {
    const source = manifestSource(chosen.record)
    if (source === undefined) {
      throw new CliError(
        'ERR_RSB_CLI_RESTORE_NO_SOURCE',
        `The snapshot ${chosen.name} does not record which SOURCE it was backed up from, so there is no place to restore it in.`,
        { path: snapshot, hint: 'Restore into a directory with --to=DIR and move what you need from there.' },
      )
    }
    const targets = args.paths.map((p) => shown(restoredPath(p, { source })))
    if (!args.inPlace) {
      throw new CliError(
        'ERR_RSB_CLI_RESTORE_IN_PLACE',
        `Restoring without --to overwrites ${targets.join(', ')} with the snapshot's copy.`,
        {
          hint: 'Add --in-place to do that (try --dry-run first), or restore into a directory with --to=DIR.',
        },
      )
    }
    // the SOURCE a manifest names is a path of the machine that made the backup: on another one it is someone
    // else's files
    const host = (chosen.record?.manifest as { host?: unknown } | undefined)?.host
    if (typeof host === 'string' && host !== os.hostname()) {
      throw new CliError(
        'ERR_RSB_CLI_RESTORE_OTHER_HOST',
        `The snapshot ${chosen.name} was made on ${host}, not on this machine (${os.hostname()}): restoring it in place would overwrite this machine's ${targets.join(', ')} with ${host}'s.`,
        {
          path: snapshot,
          hint: `Restore into a directory with --to=DIR (and copy what you need to ${host}), or run rsb restore on ${host}.`,
        },
      )
    }
    directory = await checkTarget(local, source, 'SOURCE', false, signal)
    await checkInPlaceParents(local, directory, args.paths, signal)
  }
  report.to = directory
  const where = args.to !== undefined ? { to: directory } : { source: directory }
  args.paths.forEach((p, i) => {
    const onto = restoredPath(p, where)
    if (types[i] !== 'd' || !isSystemDirectory(onto)) return
    logger.log(
      'warning',
      `${args.dryRun ? 'Would overwrite' : 'Overwriting'} the system directory ${onto} with the snapshot's ${p.relative === '' ? 'root' : p.relative}: ` +
        `every file in it that differs from the snapshot is replaced${args.delete ? ', and every file in it that the snapshot lacks is deleted' : ''}.`,
    )
  })

  // 4. rsync, once for every PATH (hard links among them stay hard links).
  const remote = ssh
    ? `${ssh.username ? `${ssh.username}@` : ''}${ssh.hostname.includes(':') ? `[${ssh.hostname}]` : ssh.hostname}`
    : undefined
  const argv = buildRestoreArgs({
    snapshot,
    paths: args.paths,
    remote,
    target: { kind: args.to !== undefined ? 'to' : 'in-place', directory },
    delete: args.delete,
    dryRun: args.dryRun,
    timeout: args.timeout,
    rsh: remote !== undefined ? await remoteShell(io.env, remote, opened.plain) : undefined,
  })
  const changes: string[] = []
  let pending = ''
  const runOptions: RunOptions = {
    // HOME empty (root's with sudo: sudo -H), as the backup's rsync: no ~/.popt of the invoking user
    env: { HOME: '' },
    check: false,
    capture: false,
    signal,
    killAfterMs: 5000,
    onStdout(chunk) {
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop() as string
      for (const line of lines) {
        if (args.dryRun) changes.push(line)
        if (!args.json) io.stdout.write(`${line}\n`)
      }
    },
    onStderr: (chunk) => io.stderr.write(chunk),
  }
  logger.log('verbose', `Running ${quoteCommandLine((await local.commandLine(argv, runOptions)).argv)}`)
  const result = await local.run(argv, runOptions)
  if (pending !== '') runOptions.onStdout?.('\n')
  if (args.dryRun) report.changes = changes
  if (signal?.aborted) return
  const refusal = await explainSudoFailure(local, result)
  if (refusal) throw refusal
  if (result.exitCode !== 0) {
    const status = result.exitCode === undefined ? undefined : describeRsyncExit(result.exitCode)
    const tail = tailLines(result.stderr)
    const reason = tail.split('\n').findLast((line) => line.trim() !== '' && !line.startsWith('rsync error: '))
    throw new RsyncError(
      result.exitCode === 127
        ? 'ERR_RSB_RSYNC_NOT_FOUND'
        : (status?.code ?? (result.exitCode === undefined ? 'ERR_RSB_RSYNC_KILLED' : 'ERR_RSB_RSYNC_EXIT')),
      result.exitCode === undefined
        ? `rsync was killed by ${result.signal ?? 'a signal'} during the restore.`
        : `rsync failed with exit status ${result.exitCode} (${status?.meaning ?? 'unknown'})${reason ? `: ${reason}` : ''}`,
      {
        argv: result.argv,
        exitCode: result.exitCode,
        signal: result.signal,
        stderrTail: tail,
        hint: `Not everything was restored${args.dryRun ? '' : ` into ${directory}`}: see rsync's messages above, then run the restore again (it copies only what still differs).`,
      },
    )
  }
  const count = args.paths.length === 1 ? shown(args.paths[0]?.given ?? '') : `${args.paths.length} paths`
  logger.log(
    'info',
    args.dryRun
      ? `Dry run: ${changes.length} change(s) restoring ${count} from ${chosen.name} into ${directory}; nothing was written.`
      : `Restored ${count} from ${chosen.name} into ${directory}.`,
  )
}

/**
 * Runs `rsb restore` and returns its exit status: 0 restored (or dry run done), 1 error, 2 an error of the command
 * line, 130/143 interrupted by SIGINT/SIGTERM. Errors are one line on stderr; `--json` prints the report.
 */
export async function runRestore(args: RestoreArgs, io: MainIo, logger: Logger): Promise<number> {
  const report: RestoreReport = {
    schemaVersion: 1,
    destination: args.destination,
    snapshot: undefined,
    paths: args.paths.map((p) => p.relative),
    to: undefined,
    inPlace: args.to === undefined,
    dryRun: args.dryRun,
    changes: undefined,
    exitCode: 0,
    error: undefined,
  }
  const scope = new CleanupScope()
  let error: unknown
  try {
    await restore(args, io, logger, scope, report)
  } catch (caught) {
    error = caught
  }
  try {
    await scope.close((description, failure) => logger.log('error', `Cleanup failed (${description}): ${(failure as Error).message}`))
  } catch (failure) {
    error ??= failure
  }
  const reason: unknown = io.signal?.aborted ? io.signal.reason : undefined
  if (reason === 'SIGINT' || reason === 'SIGTERM') {
    logger.log('warning', `Restore interrupted by ${reason}; rsync was stopped, what it had copied stays.`)
    report.exitCode = reason === 'SIGINT' ? 130 : 143
    report.error = { code: 'ERR_RSB_CLI_INTERRUPTED', message: `The restore was interrupted by ${reason}.`, hint: undefined }
  } else if (error !== undefined) {
    report.exitCode = restoreExitCode(error)
    io.stderr.write(errorReport(error, 'rsb'))
    if (args.verbosity > 0 && error instanceof Error) {
      const cause = error.cause instanceof Error ? error.cause : isRsbError(error) ? undefined : error
      if (cause?.stack) logger.log('debug', `Caused by: ${cause.stack}`)
    }
    report.error = isRsbError(error)
      ? { code: error.code, message: oneLine(error.message), hint: error.hint }
      : { code: 'ERR_RSB_CLI_INTERNAL', message: oneLine(error instanceof Error ? error.message : String(error)), hint: undefined }
  }
  if (args.json) io.stdout.write(json(report))
  return report.exitCode
}

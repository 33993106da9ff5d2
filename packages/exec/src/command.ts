import { ExecError } from './errors.js'

/** I/O scheduling classes accepted by `ionice -c`. */
export type IoniceClass = 'idle' | 'best-effort' | 'realtime' | '1' | '2' | '3'

const IONICE_CLASSES: readonly string[] = ['idle', 'best-effort', 'realtime', '1', '2', '3']

/**
 * Checks an ionice class given by a user.
 *
 * @throws {ExecError} ERR_RSB_EXEC_INVALID_OPTION for anything but idle, best-effort, realtime, 1, 2, 3
 */
export function parseIoniceClass(value: string): IoniceClass {
  if (IONICE_CLASSES.includes(value)) return value as IoniceClass
  throw new ExecError('ERR_RSB_EXEC_INVALID_OPTION', `Invalid I/O scheduling class '${value}'.`, {
    hint: 'Use one of: idle, best-effort, realtime (or 3, 2, 1).',
  })
}

/** What {@link buildCommandLine} needs. */
export interface CommandLineSpec {
  /** The command itself (never a shell string). */
  argv: readonly string[]
  /** Prefix `sudo` (only when not privileged). */
  sudo?: boolean | undefined
  /** Whether the side that runs the command is root already. */
  privileged: boolean
  /** Prefix `ionice -c CLASS` (only when `hasIonice`). */
  ionice?: IoniceClass | undefined
  /** Whether `ionice` exists where the command runs. */
  hasIonice?: boolean | undefined
  /**
   * Environment overrides. With sudo they never go on sudo's command line (see {@link buildCommandLine}): `HOME`
   * becomes `sudo -H`, the others are named in `--preserve-env=` and set in sudo's real environment.
   */
  env?: Readonly<Record<string, string>> | undefined
  /** Add `-n` to sudo so that it fails instead of asking for a password. */
  nonInteractive?: boolean | undefined
}

/** The result of {@link buildCommandLine}. */
export interface CommandLine {
  /** Final argv: the sudo prefix (`sudo [-n] [-H] [--preserve-env=NAME,…]`), the ionice prefix, the command. */
  argv: string[]
  /** Environment overrides to set in the child's real environment (with sudo: sudo's, for `--preserve-env`). */
  env: Record<string, string>
}

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Builds the final argv of a command: `[sudo [-n] [-H] [--preserve-env=NAME,…]] [ionice -c CLASS] argv…`.
 *
 * With sudo, no `NAME=value` ever goes on sudo's command line: sudo refuses those to every user whose rule lacks
 * SETENV, so a least-privilege rule (`backup ALL=(root) NOPASSWD: /usr/bin/rsync, …`) could not run the command,
 * and a value there is in every user's `ps`. Instead:
 *
 * - `HOME` becomes `-H`: sudo sets HOME to the target user's home from the password database (root's, which
 *   only root writes). Whatever value was asked for, that is the only HOME sudo can give without SETENV, and it
 *   keeps the point of an empty HOME: root's rsync never reads the invoking user's `~/.popt` (option aliases and
 *   `exec` entries that rsync applies to its own command line) or `~/.cvsignore`, even where the sudoers
 *   defaults keep the caller's HOME (`env_keep += HOME`).
 * - Other overrides are set in sudo's real environment and named in `--preserve-env=NAME,…` (sorted): sudo
 *   passes them where the rules allow it (SETENV, an `ALL` rule, or `env_keep` naming them) and otherwise refuses
 *   with `sorry, you are not allowed to set the following environment variables`, which the context reports as
 *   `ERR_RSB_EXEC_SUDO_DENIED`: never a silently dropped variable. Callers that can say the same with an option
 *   should (rsync's `--rsh` instead of `RSYNC_RSH`, its password on standard input instead of `RSYNC_PASSWORD`).
 *
 * Without sudo the overrides are returned for the child's real environment.
 *
 * @throws {ExecError} ERR_RSB_EXEC_INVALID_OPTION for an environment name that is not a shell variable name
 * @example
 * ```ts
 * buildCommandLine({ argv: ['rsync', '-a'], sudo: true, privileged: false, env: { HOME: '' } }).argv
 * // ['sudo', '-H', 'rsync', '-a']
 * ```
 */
export function buildCommandLine(spec: CommandLineSpec): CommandLine {
  const argv: string[] = []
  const env = { ...spec.env }
  for (const name of Object.keys(env)) {
    if (!VARIABLE_NAME.test(name)) throw new ExecError('ERR_RSB_EXEC_INVALID_OPTION', `Invalid environment variable name '${name}'.`)
  }
  if (spec.sudo && !spec.privileged) {
    argv.push('sudo')
    if (spec.nonInteractive) argv.push('-n')
    if ('HOME' in env) {
      argv.push('-H')
      delete env.HOME
    }
    const names = Object.keys(env).sort()
    if (names.length > 0) argv.push(`--preserve-env=${names.join(',')}`)
  }
  if (spec.ionice !== undefined && spec.hasIonice !== false) argv.push('ionice', '-c', spec.ionice)
  argv.push(...spec.argv)
  return { argv, env }
}

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
  /** Environment overrides. */
  env?: Readonly<Record<string, string>> | undefined
  /** Add `-n` to sudo so that it fails instead of asking for a password. */
  nonInteractive?: boolean | undefined
}

/** The result of {@link buildCommandLine}. */
export interface CommandLine {
  /** Final argv: sudo prefix (with sorted `KEY=VALUE` arguments), ionice prefix, the command. */
  argv: string[]
  /** Environment overrides to set in the child's real environment (when sudo is not in the argv). */
  env: Record<string, string>
}

/**
 * Builds the final argv of a command: `[sudo [-n] KEY=VALUE…] [ionice -c CLASS] argv…`.
 * Environment overrides travel on sudo's command line, sorted by key, when sudo is used; otherwise
 * they are returned for the child's real environment.
 *
 * @example
 * ```ts
 * buildCommandLine({ argv: ['rsync', '-a'], sudo: true, privileged: false, env: { HOME: '' } }).argv
 * // ['sudo', 'HOME=', 'rsync', '-a']
 * ```
 */
export function buildCommandLine(spec: CommandLineSpec): CommandLine {
  const argv: string[] = []
  const env = { ...spec.env }
  if (spec.sudo && !spec.privileged) {
    argv.push('sudo')
    if (spec.nonInteractive) argv.push('-n')
    for (const key of Object.keys(env).sort()) argv.push(`${key}=${env[key]}`)
    for (const key of Object.keys(env)) delete env[key]
  }
  if (spec.ionice !== undefined && spec.hasIonice !== false) argv.push('ionice', '-c', spec.ionice)
  argv.push(...spec.argv)
  return { argv, env }
}

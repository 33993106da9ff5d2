import path from 'node:path'
import type { RunOptions } from '../args.js'
import { CliError, UsageError } from '../errors.js'

/** The destination of a run, with everything the workflow derives from it. */
export interface Target {
  readonly kind: 'local' | 'ssh' | 'daemon'
  /** The expression as given. */
  readonly expression: string
  /** SSH or daemon user. */
  readonly user: string | undefined
  /** SSH or daemon host. */
  readonly host: string | undefined
  /** Daemon port given in the expression. */
  readonly port: number | undefined
  readonly module: string | undefined
  /** The destination directory exactly as parsed (local path, remote path, or path inside the module). */
  readonly directory: string
  /** Where snapshots go (undefined when the directory has no parent: `latest`, `/`, a module). */
  readonly parent: string | undefined
  /** The key of the run lock: absolute local path, `[user@]host:dir`, or the daemon URL. */
  readonly lockKey: string
}

const DAEMON_URL = /^rsync:\/\/(?:(?<user>[^@]+)@)?(?<host>[^:/]+)(?::(?<port>\d+))?\/(?<module>[^/]+)(?:\/(?<directory>.*))?$/s
const DAEMON = /^(?:(?<user>[^@]+)@)?(?<host>[^:]+)::(?<module>[^/]+)(?:\/(?<directory>.*))?$/s
const SSH = /^(?:(?<user>[^@]+)@)?(?<host>[^:/]+):(?<directory>.*)$/s

/** Python's `posixpath.dirname` of the directory without its trailing slashes; undefined when empty. */
export function parentDirectory(directory: string): string | undefined {
  const stripped = directory.replace(/\/+$/, '')
  const slash = stripped.lastIndexOf('/')
  if (slash === -1) return undefined
  let head = stripped.slice(0, slash + 1)
  if (!/^\/+$/.test(head)) head = head.replace(/\/+$/, '')
  return head === '' ? undefined : head
}

/**
 * Parses the destination of a run and checks it against the requested actions and options.
 *
 * @throws {UsageError} ERR_RSB_CLI_USAGE for what the command line cannot ask of this destination
 */
export function resolveTarget(options: RunOptions, cwd = process.cwd()): Target {
  const text = options.destination
  let match = DAEMON_URL.exec(text) ?? DAEMON.exec(text)
  if (match?.groups) {
    const g = match.groups
    const directory = (g.directory ?? '').replace(/\/+$/, '')
    const port = g.port === undefined ? undefined : Number.parseInt(g.port, 10)
    return {
      kind: 'daemon',
      expression: text,
      user: g.user,
      host: g.host,
      port,
      module: g.module,
      directory,
      parent: undefined,
      lockKey: `rsync://${g.user ? `${g.user}@` : ''}${g.host}:${port ?? 873}/${g.module}${directory ? `/${directory}` : ''}`,
    }
  }
  match = SSH.exec(text)
  if (match?.groups) {
    const g = match.groups
    const directory = g.directory ?? ''
    return {
      kind: 'ssh',
      expression: text,
      user: g.user,
      host: g.host,
      port: undefined,
      module: undefined,
      directory,
      parent: parentDirectory(directory),
      lockKey: `${g.user ? `${g.user}@` : ''}${g.host}:${path.posix.normalize(directory)}`,
    }
  }
  return {
    kind: 'local',
    expression: text,
    user: undefined,
    host: undefined,
    port: undefined,
    module: undefined,
    directory: text,
    parent: parentDirectory(text),
    lockKey: path.resolve(cwd, text),
  }
}

/**
 * Checks a parsed destination against the command line, before anything runs.
 *
 * @returns the actions to run (a daemon destination without explicit actions: backup only)
 * @throws {UsageError} ERR_RSB_CLI_USAGE: `-s`/`-r`, `--mount` or `--crypto` against a daemon, `--tunnel` without
 *   a daemon destination, an SSH destination without a directory
 * @throws {CliError} ERR_RSB_DESTINATION_NO_PARENT when snapshots or rotation need a parent directory that
 *   cannot be determined
 */
export function checkTarget(target: Target, options: RunOptions): { backup: boolean; snapshot: boolean; rotate: boolean } {
  let { backup, snapshot, rotate } = options
  if (target.kind === 'daemon') {
    const explicit = options.explicitActions.filter((a) => a !== 'backup')
    if (explicit.length > 0) {
      throw new UsageError(
        `${explicit.map((a) => `--${a}`).join(' and ')} cannot run against an rsync daemon destination (${target.expression}).`,
        { hint: "Snapshots and rotation run on the server: put 'rsb --snapshot --rotate' in the module's post-xfer exec." },
      )
    }
    for (const [given, what] of [
      [options.mount, '--mount'],
      [options.crypto, '--crypto'],
    ] as const) {
      if (given !== undefined) {
        throw new UsageError(`${what} cannot be used with an rsync daemon destination (${target.expression}).`, {
          hint: `Run rsb with ${what} on the server instead.`,
        })
      }
    }
    snapshot = false
    rotate = false
    backup = true
  } else if (options.tunnel) {
    throw new UsageError('--tunnel needs an rsync daemon destination (HOST::MODULE or rsync://HOST/MODULE).')
  }
  if (target.kind === 'ssh' && target.directory === '') {
    throw new UsageError(`The SSH destination '${target.expression}' names no directory.`, {
      hint: `rsync would write into the remote home directory (or /) with --delete; give the directory: ${target.expression}/path/to/latest.`,
    })
  }
  if ((snapshot || rotate) && target.parent === undefined) {
    throw new CliError(
      'ERR_RSB_DESTINATION_NO_PARENT' as never,
      `Failed to determine the parent directory of the destination directory, so snapshots cannot be created or rotated for ${target.expression}.`,
      { hint: 'Use a destination directory inside a directory, for example /mnt/backups/latest, or run with --backup only.' },
    )
  }
  return { backup, snapshot, rotate }
}

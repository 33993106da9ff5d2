import { DEFAULT_DAEMON_PORT, ensureTrailingSlash, formatDestination, parseDestination, type Destination } from '@rsb/destination'
import { RsyncError } from './errors.js'
import { checkRsyncOptions, formatExcludeArgument } from './options.js'

/**
 * The locations never copied, in the original's order. Each becomes `--filter=-/ ROOT`: the `/` modifier
 * matches against the file's absolute path, so these exclude exactly those system locations whatever the
 * source is (a source below `/tmp/…` is still copied).
 */
export const DEFAULT_EXCLUDED_ROOTS: readonly string[] = Object.freeze([
  '/dev/',
  '/home/*/.cache/',
  '/media/',
  '/mnt/',
  '/proc/',
  '/run/',
  '/sys/',
  '/tmp/',
  '/var/cache/',
  '/var/tmp/',
])

/** The options rsb always gives rsync, in the original's order (after `--dry-run --verbose`). */
export const BASE_RSYNC_OPTIONS: readonly string[] = Object.freeze([
  '--delete',
  '--delete-excluded',
  '--acls',
  '--archive',
  '--hard-links',
  '--numeric-ids',
  '--xattrs',
])

/**
 * What {@link buildRsyncArgs} needs to know about the destination: the model of `@rsb/destination` (every
 * `Destination` from `parseDestination` fits), except that a daemon's `port` may be left undefined so that the
 * tunnel's local port (or 873) applies.
 */
export interface RsyncDestination {
  /** `local` directory, `ssh` location (`[user@]host:dir`) or `daemon` module. */
  readonly kind: 'local' | 'ssh' | 'daemon'
  /** SSH or daemon user; empty or undefined for none. */
  readonly username?: string | undefined
  /** SSH or daemon host; empty or undefined for local. */
  readonly hostname?: string | undefined
  /** The daemon module. */
  readonly module?: string | undefined
  /** The directory: local path, remote path, or the path inside the module (no leading slash). */
  readonly directory: string
  /**
   * The daemon port. When undefined the port is the tunnel's local port (when tunnelled) or 873. An explicit
   * port always wins over the tunnel's.
   */
  readonly port?: number | undefined
}

/** Options of {@link buildRsyncArgs}. */
export interface RsyncArgsOptions {
  /** What to back up. Default: `/`. Passed with exactly one trailing slash. */
  source?: string | undefined
  /**
   * Several directories to back up into one DESTINATION, each an absolute path (wins over `source` when given).
   * One is the same as `source`. With two or more rsync gets `--relative` (after rsb's base options) and each with
   * one trailing slash, so that each lands in DESTINATION under its whole path (`/etc` → `DESTINATION/etc/`) and
   * `--delete` acts only inside them.
   */
  sources?: readonly string[] | undefined
  /**
   * Where to: a destination (from `@rsb/destination`'s `parseDestination`, or see {@link RsyncDestination}) or
   * its expression as text (parsed with `parseDestination`). Daemon destinations are always written
   * `rsync://[user@]host:port/module[/dir]/`.
   */
  destination: RsyncDestination | string
  /** Add `--dry-run --verbose`. */
  dryRun?: boolean | undefined
  /** Cross filesystem boundaries (leave out `--one-file-system`). */
  multiFs?: boolean | undefined
  /**
   * Patterns to exclude, in order: each `--exclude=PATTERN`, except that the forms rsync's `--exclude` reads as
   * rules (`!`, a `- ` or `+ ` prefix) are made literal as `--filter=- PATTERN` (see `formatExcludeArgument`).
   */
  excludes?: readonly string[] | undefined
  /** Absolute locations passed as `--filter=-/ ROOT`. Default: {@link DEFAULT_EXCLUDED_ROOTS}. */
  excludedRoots?: readonly string[] | undefined
  /** The local port of an SSH tunnel to the daemon: the port of a daemon destination without an explicit port. */
  tunnelPort?: number | undefined
  /** rsb addition: add `--info=progress2` (whole-transfer progress on stdout; see {@link parseProgressLine}). */
  progress?: boolean | undefined
  /** rsb addition: add `--stats` (a statistics block at the end of stdout; see {@link parseStats}). */
  stats?: boolean | undefined
  /**
   * rsb addition: rsync's I/O timeout in seconds (`--timeout=N`): a server that stops answering ends the
   * transfer with exit status 30 after N seconds without data. Left out when undefined or 0.
   */
  timeout?: number | undefined
  /**
   * rsb addition: how long to wait for an rsync daemon's connection, in seconds (`--contimeout=N`, daemon
   * destinations only). Left out when undefined or 0.
   */
  connectTimeout?: number | undefined
  /**
   * rsb addition (`--rsync-option=OPT`, repeatable): further rsync options, each one argv element starting
   * with `-`, passed after all of rsb's options (so `--no-A` can switch off `--acls`) and before the operands.
   * Options that would break hard-link snapshots are refused (see `checkRsyncOptions`).
   */
  rsyncOptions?: readonly string[] | undefined
  /**
   * rsb addition: `--link-dest=DIR` for each, absolute paths on the destination's side (at most 20, rsync's limit),
   * after rsb's other options and before the pass-through ones. rsb passes the directories it moved files of
   * DESTINATION into, so that each of those files gets a new inode there: linked back when SOURCE has not changed it,
   * copied otherwise (rsync never changes a linked inode in place).
   */
  linkDest?: readonly string[] | undefined
}

function checkSeconds(seconds: number, what: string): number {
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new RsyncError('ERR_RSB_RSYNC_INVALID_OPTION', `Invalid ${what}: ${seconds}.`, {
      hint: 'Give a whole number of seconds (0: none).',
    })
  }
  return seconds
}

function checkPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RsyncError('ERR_RSB_RSYNC_INVALID_OPTION', `Invalid ${what}: ${port}.`, { hint: 'Use a TCP port between 1 and 65535.' })
  }
  return port
}

/**
 * rsync's argument for a destination (before the trailing slash), as `@rsb/destination` formats it: the
 * directory for local destinations, `[user@]host:dir` for SSH, and `rsync://[user@]host:port/module[/dir]` for
 * daemon modules (never `host::module`, never the module and directory fused; IPv6 hosts in brackets). A
 * daemon's port is its explicit port, else `tunnelPort`, else 873. Text is parsed first (`host::module` becomes
 * `rsync://host:873/module`, as the original always rewrote it).
 *
 * @param destination - a destination, or its expression as text
 * @param tunnelPort - the local port of the SSH tunnel to the daemon, if any
 * @throws {RsyncError} ERR_RSB_RSYNC_INVALID_OPTION for a port outside 1–65535
 * @throws {DestinationError} ERR_RSB_DESTINATION_* for text that is no destination, or a hand-built destination
 *   that has no expression (see `formatDestination`)
 * @example
 * ```ts
 * formatRsyncLocation({ kind: 'daemon', hostname: 'nas', module: 'laptop', directory: 'latest' })
 * // 'rsync://nas:873/laptop/latest'
 * formatRsyncLocation('localhost::laptop', 40123) // 'rsync://localhost:40123/laptop'
 * ```
 */
export function formatRsyncLocation(destination: RsyncDestination | string, tunnelPort?: number): string {
  const defaultPort = tunnelPort === undefined ? DEFAULT_DAEMON_PORT : checkPort(tunnelPort, 'tunnel port')
  if (typeof destination === 'string') return formatDestination(parseDestination(destination, { defaultPort }))
  const username = destination.username || undefined
  const hostname = destination.hostname ?? ''
  let resolved: Destination
  switch (destination.kind) {
    case 'local':
      resolved = { kind: 'local', directory: destination.directory }
      break
    case 'ssh':
      resolved = { kind: 'ssh', username, hostname, directory: destination.directory }
      break
    case 'daemon':
      resolved = {
        kind: 'daemon',
        username,
        hostname,
        port: destination.port === undefined ? defaultPort : checkPort(destination.port, 'daemon port'),
        module: destination.module ?? '',
        directory: destination.directory.replace(/^\/+/, ''),
      }
      break
  }
  return formatDestination(resolved)
}

function operand(value: string, what: string): string {
  if (value.startsWith('-')) {
    throw new RsyncError('ERR_RSB_RSYNC_INVALID_OPTION', `The ${what} '${value}' starts with '-', so rsync would read it as an option.`, {
      hint: `Write it as ./${value} if it is a relative path.`,
    })
  }
  return ensureTrailingSlash(value)
}

/**
 * Builds rsync's argv exactly as rsync-system-backup did, in its order:
 *
 * ```
 * rsync [--dry-run --verbose] --delete --delete-excluded --acls --archive --hard-links --numeric-ids --xattrs
 *       [--one-file-system] --filter=-/ ROOT… --exclude=PATTERN… SOURCE/ DESTINATION/
 * ```
 *
 * With several `sources` (rsb's addition), `--relative` follows `--xattrs` and the operands are `SOURCE/…` (each
 * absolute): each lands at `DESTINATION/SOURCE/`. rsync's `--one-file-system` applies to each of them on its own.
 *
 * An exclude pattern that rsync's `--exclude` would read as a rule (`!` clears the list, `- `/`+ ` prefixes)
 * is passed as `--filter=- PATTERN` instead, so it stays a literal exclude.
 *
 * rsb's additions come only when asked for, after the original's options and before the operands:
 * `--info=progress2` (`progress`), `--stats` (`stats`), `--timeout`, `--contimeout`, `--link-dest` (`linkDest`), then the
 * pass-through `rsyncOptions`.
 * Pure: no I/O. `argv[0]` is `rsync`.
 *
 * @param options - source, destination and the variant (see {@link RsyncArgsOptions})
 * @returns the argv, starting with `rsync`
 * @throws {RsyncError} ERR_RSB_RSYNC_INVALID_OPTION when the source or destination starts with `-`, when a
 *   pass-through option does not start with `-`, for an empty exclude pattern, for a bad port, for an empty
 *   `sources`, or for several sources of which one is not an absolute path
 * @throws {RsyncError} ERR_RSB_RSYNC_UNSAFE_OPTION for a pass-through option that would break hard-link
 *   snapshots or change SOURCE (`--inplace`, `-b`, `--link-dest=DIR`, …; see `UNSAFE_RSYNC_OPTIONS`)
 * @throws {DestinationError} ERR_RSB_DESTINATION_* for a destination that cannot be parsed or formatted
 * @example
 * ```ts
 * buildRsyncArgs({ source: '/srv//', destination: '/mnt/backups/latest', multiFs: true, excludes: ['*.log'] })
 * // ['rsync', '--delete', '--delete-excluded', '--acls', '--archive', '--hard-links', '--numeric-ids', '--xattrs',
 * //  '--filter=-/ /dev/', …, '--filter=-/ /var/tmp/', '--exclude=*.log', '/srv/', '/mnt/backups/latest/']
 * ```
 */
export function buildRsyncArgs(options: RsyncArgsOptions): string[] {
  const argv = ['rsync']
  if (options.dryRun) argv.push('--dry-run', '--verbose')
  argv.push(...BASE_RSYNC_OPTIONS)
  const sources = checkSources(options)
  if (sources.length > 1) argv.push('--relative')
  if (!options.multiFs) argv.push('--one-file-system')
  for (const root of options.excludedRoots ?? DEFAULT_EXCLUDED_ROOTS) argv.push(`--filter=-/ ${root}`)
  for (const pattern of options.excludes ?? []) argv.push(formatExcludeArgument(pattern))
  if (options.progress) argv.push('--info=progress2')
  if (options.stats) argv.push('--stats')
  if (options.timeout) argv.push(`--timeout=${checkSeconds(options.timeout, 'timeout')}`)
  const daemon =
    typeof options.destination === 'string'
      ? parseDestination(options.destination).kind === 'daemon'
      : options.destination.kind === 'daemon'
  if (options.connectTimeout && daemon) argv.push(`--contimeout=${checkSeconds(options.connectTimeout, 'connect timeout')}`)
  const linkDest = options.linkDest ?? []
  if (linkDest.length > 20 || linkDest.some((dir) => !dir.startsWith('/'))) {
    throw new RsyncError('ERR_RSB_RSYNC_INVALID_OPTION', `Invalid link-dest directories: ${JSON.stringify(linkDest)}.`, {
      hint: 'Give at most 20 absolute paths.',
    })
  }
  for (const dir of linkDest) argv.push(`--link-dest=${dir}`)
  const rsyncOptions = options.rsyncOptions ?? []
  checkRsyncOptions(rsyncOptions)
  argv.push(...rsyncOptions)
  const destination = formatRsyncLocation(options.destination, options.tunnelPort)
  argv.push(...sources.map((source) => operand(source, 'source')), operand(destination, 'destination'))
  return argv
}

/** The sources of a transfer: `sources`, else `source` (default `/`); several must each be absolute. */
function checkSources(options: RsyncArgsOptions): readonly string[] {
  const sources = options.sources ?? [options.source ?? '/']
  if (sources.length === 0) {
    throw new RsyncError('ERR_RSB_RSYNC_INVALID_OPTION', 'No source to back up was given.', { hint: 'Give at least one source.' })
  }
  const relative = sources.length > 1 ? sources.find((source) => !source.startsWith('/')) : undefined
  if (relative !== undefined) {
    throw new RsyncError(
      'ERR_RSB_RSYNC_INVALID_OPTION',
      `The source '${relative}' is not an absolute path: with several sources each lands in the destination under its whole path.`,
      { hint: 'Give every source as an absolute path.' },
    )
  }
  return sources
}

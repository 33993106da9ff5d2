import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { RunOptions } from '../args.js'
import { CliError } from '../errors.js'
import type { Logger, TextSink } from '../kit/log.js'
import { processStartTime } from '../session/lock.js'
import { STORE_DIRECTORY } from '../session/store.js'
import type { RunSummary } from './summary.js'

/**
 * rsb as an rsync daemon module's hooks (`--daemon-hook`). A daemon runs `post-xfer exec` after every connection
 * (a push, a listing, a pull, a client's dry run) with an environment that cannot tell them apart; only
 * `pre-xfer exec` gets the client's server-side arguments (`RSYNC_ARG0`…, `--sender` for a listing or a pull,
 * `-n` for a dry run). Both get the same `RSYNC_PID`: the daemon process that serves the connection, waits for
 * the transfer and then runs the post-xfer exec, so it lives until the post hook is done.
 *
 * The pre hook records what the connection is, in the store's metadata (the store is the module path's
 * parent, where the snapshots go), format version 1, one line of JSON:
 *
 * ```
 * STORE/.rsb/daemon-hooks/<RSYNC_PID>.json   {"format":"rsb-daemon-hook","version":1,"pid":1234,
 *                                             "pidStart":"<start time of RSYNC_PID, /proc/PID/stat field 22>",
 *                                             "module":"laptop","modulePath":"/srv/backups/laptop/latest",
 *                                             "kind":"push"|"read"|"dry-run","reason":"…","created":"<ISO 8601>"}
 * STORE/.rsb/daemon-hooks/.<pid>.<hex>.tmp   a record being written (renamed into place when complete)
 * ```
 *
 * `daemon-hooks/` is mode 0700 and owned by the daemon's user; STORE, `.rsb/` and it must not be writable by
 * anyone else (STORE may be sticky), no symbolic link is followed, and files are created exclusively. The post
 * hook takes (reads and removes) its connection's record, and every hook removes the records of connections
 * whose `RSYNC_PID` is gone (or reused by another process).
 */
export const HOOK_DIRECTORY = 'daemon-hooks'

/** What a connection does to the module: writes into it, reads from it, or writes nothing (a dry run). */
export type ConnectionKind = 'push' | 'read' | 'dry-run'

/** A connection as its server-side arguments describe it. */
export interface Connection {
  readonly kind: ConnectionKind
  /** Why, for log lines: `a listing or a pull (--sender)`, `a client's dry run (-n)`. */
  readonly reason: string
}

/** `.rsb/daemon-hooks/<RSYNC_PID>.json` */
export interface HookRecord {
  readonly format: 'rsb-daemon-hook'
  readonly version: number
  /** `$RSYNC_PID` of the connection. */
  readonly pid: number
  /** The start time of that process, to tell it from a later process with the same PID. */
  readonly pidStart?: string | undefined
  readonly module?: string | undefined
  /** `$RSYNC_MODULE_PATH` as the pre hook saw it. */
  readonly modulePath: string
  readonly kind: ConnectionKind
  readonly reason: string
  readonly created: string
}

/** The record format version this rsb writes and the newest it reads. */
export const HOOK_RECORD_VERSION = 1

/** rsync's short options that take a value (the rest of a cluster, or the next argument, is that value). */
const SHORT_WITH_VALUE = new Set(['B', 'e', 'f', 'M', 'T', '@'])

/**
 * rsync 3.5.0's long options that take a value (`rsync --help`, and the hidden `--log-format`, `--stop-at`,
 * `--time-limit`, `--config`, `--dparam`): given without `=`, the next argument is the value, for the server's
 * option parser as for this one. The client sends `--temp-dir`, `--backup-dir`, `--partial-dir`,
 * `--compare-dest`, `--copy-dest`, `--link-dest` and `--files-from` so, their value a separate argument
 * (`-T -ntmp` arrives as `--temp-dir` `-ntmp`); the others arrive as `--NAME=VALUE` unless `-M` sends them apart.
 */
const LONG_WITH_VALUE = new Set([
  'address',
  'backup-dir',
  'block-size',
  'bwlimit',
  'checksum-choice',
  'checksum-seed',
  'chmod',
  'chown',
  'compare-dest',
  'compress-choice',
  'compress-level',
  'compress-threads',
  'config',
  'confine-root',
  'contimeout',
  'copy-as',
  'copy-dest',
  'debug',
  'dparam',
  'early-input',
  'exclude',
  'exclude-from',
  'files-from',
  'filter',
  'groupmap',
  'iconv',
  'include',
  'include-from',
  'info',
  'link-dest',
  'log-file',
  'log-file-format',
  'log-format',
  'max-alloc',
  'max-delete',
  'max-size',
  'min-size',
  'modify-window',
  'only-write-batch',
  'out-format',
  'outbuf',
  'partial-dir',
  'password-file',
  'port',
  'protocol',
  'read-batch',
  'remote-option',
  'rsh',
  'rsync-path',
  'skip-compress',
  'sockopts',
  'stop-after',
  'stop-at',
  'suffix',
  'temp-dir',
  'time-limit',
  'timeout',
  'usermap',
  'write-batch',
])

/**
 * The client's server-side arguments of a daemon connection: `$RSYNC_ARG1`, `$RSYNC_ARG2`… (`$RSYNC_ARG0` is
 * always `rsyncd`), as a daemon sets them for `pre-xfer exec`.
 *
 * @returns the arguments, or undefined when `$RSYNC_ARG0` is not set (not a pre-xfer exec)
 */
export function connectionArgs(env: Readonly<Record<string, string | undefined>>): string[] | undefined {
  if (env.RSYNC_ARG0 === undefined) return undefined
  const args: string[] = []
  for (let i = 1; env[`RSYNC_ARG${i}`] !== undefined; i++) args.push(env[`RSYNC_ARG${i}`] as string)
  return args
}

/**
 * Tells from a daemon connection's server-side arguments (up to the `.` that ends the options) whether it writes
 * into the module. Pure. `--sender` (the daemon sends: a listing or a pull) reads; `-n` (in a cluster of short
 * options, before the `e` whose value is rsync's capability string) and `--dry-run` write nothing, and neither
 * does `--only-write-batch` (the client only writes its batch file). Anything else is a push. rsync accepts no
 * abbreviation and no `--no-dry-run`, so these are the only spellings. The value of an option is skipped as the
 * server's option parser skips it, never read as an option: the rest of a short cluster after `-T`, `-B`, `-e`…
 * (or the next argument when the cluster ends there), and the next argument after a long option that takes a
 * value given without `=` (rsync 3.5.0 sends `-T -ntmp` as `--temp-dir` `-ntmp`, likewise `--backup-dir`,
 * `--partial-dir`, `--compare-dest`, `--copy-dest`, `--link-dest` and `--files-from`).
 *
 * @example
 * ```ts
 * classifyConnection(['--server', '--sender', '-logDtpre.iLsfxCIvu', '.', '.']).kind // 'read'
 * classifyConnection(['--server', '-nlogDtpre.iLsfxCIvu', '.', '.']).kind             // 'dry-run'
 * classifyConnection(['--server', '-logDtpre.iLsfxCIvu', '.', '.']).kind              // 'push'
 * classifyConnection(['--server', '-logDtpre.iLsfxCIvu', '--temp-dir', '-ntmp', '.', '.']).kind // 'push'
 * ```
 */
export function classifyConnection(args: readonly string[]): Connection {
  let read: string | undefined
  let dry: string | undefined
  let batch: string | undefined
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    if (arg === '.') break
    if (arg === '--sender') read ??= arg
    else if (arg === '--dry-run') dry ??= arg
    else if (arg.startsWith('--')) {
      if (arg === '--only-write-batch' || arg.startsWith('--only-write-batch=')) batch ??= arg
      // --temp-dir DIR: the next argument is the value, whatever it looks like (-ntmp, --sender, .)
      if (!arg.includes('=') && LONG_WITH_VALUE.has(arg.slice(2))) i++
    } else if (arg.length > 1 && arg.startsWith('-')) {
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j] as string
        if (letter === 'n') dry ??= '-n'
        if (SHORT_WITH_VALUE.has(letter)) {
          if (j === arg.length - 1) i++
          break
        }
      }
    }
  }
  if (read !== undefined) return { kind: 'read', reason: `a listing or a pull (${read})` }
  if (dry !== undefined) return { kind: 'dry-run', reason: `a client's dry run (${dry})` }
  if (batch !== undefined) return { kind: 'dry-run', reason: `a push that only writes the client's batch file (${batch})` }
  return { kind: 'push', reason: 'a push' }
}

/** `/` or a path directly under `/` (`/home`, `/etc`): a store there would be `/` itself. */
function directlyUnderRoot(absolute: string): boolean {
  const normal = path.posix.normalize(absolute).replace(/\/+$/, '') || '/'
  return normal === '/' || path.posix.dirname(normal) === '/'
}

/**
 * Refuses a module path that is `/` or directly under `/` (`/home`, `/etc`), as given or once its symbolic links
 * are resolved: rsb would make the snapshots and rotate in `/`, among the system's own directories.
 *
 * @param modulePath - `$RSYNC_MODULE_PATH`
 * @param cwd - what a relative path is relative to
 * @returns the real path of the module (or the absolute one when it cannot be resolved)
 * @throws {CliError} ERR_RSB_CLI_MODULE_PATH_UNSAFE
 * @example
 * ```ts
 * checkModulePath('/srv/backups/laptop/latest') // '/srv/backups/laptop/latest'
 * checkModulePath('/home')                      // throws ERR_RSB_CLI_MODULE_PATH_UNSAFE
 * ```
 */
export function checkModulePath(modulePath: string, cwd = process.cwd()): string {
  const absolute = path.posix.resolve(cwd, modulePath)
  let real = absolute
  try {
    real = fs.realpathSync(absolute)
  } catch {
    // missing: the workflow says so (ERR_RSB_CLI_DESTINATION_MISSING); the path as given is checked
  }
  for (const candidate of [absolute, real]) {
    if (!directlyUnderRoot(candidate)) continue
    const what =
      candidate === absolute
        ? candidate === '/'
          ? 'the root directory'
          : 'directly under /'
        : `a link to ${real}, ${real === '/' ? 'the root directory' : 'directly under /'}`
    throw new CliError(
      'ERR_RSB_CLI_MODULE_PATH_UNSAFE',
      `The rsync daemon module path ${modulePath} ($RSYNC_MODULE_PATH) is ${what}: its snapshots and rotation would work in /, among the system's own directories.`,
      {
        path: real,
        destination: modulePath,
        hint: 'Give the module a directory of its own at least two levels deep, for example path = /srv/backups/laptop/latest (the snapshots go beside it, into /srv/backups/laptop).',
      },
    )
  }
  return real
}

function parentPid(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    return Number.isInteger(ppid) ? ppid : undefined
  } catch {
    return undefined
  }
}

/** Whether `pid` is this process or one of its ancestors. */
function isAncestor(pid: number): boolean {
  for (let p: number | undefined = process.pid, hops = 0; p !== undefined && p > 0 && hops < 64; p = parentPid(p), hops++) {
    if (p === pid) return true
  }
  return false
}

function parsePid(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined
  const pid = Number(text.trim())
  return pid > 0 && Number.isSafeInteger(pid) ? pid : undefined
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * Checks that a directory on the way to the records is one no other user can change: a real directory (not a
 * symbolic link), owned by root or by this user, not writable by group or others (`sticky`: unless its sticky
 * bit is set), and for `daemon-hooks/` itself mode 0700 and owned by this user.
 *
 * @returns undefined when it is fine, else what is wrong
 */
function unsafeDirectory(directory: string, kind: 'store' | 'metadata' | 'private'): string | undefined {
  const stat = fs.lstatSync(directory)
  if (stat.isSymbolicLink()) return `${directory} is a symbolic link`
  if (!stat.isDirectory()) return `${directory} is not a directory`
  const uid = process.geteuid?.() ?? stat.uid
  const mode = (stat.mode & 0o7777).toString(8).padStart(4, '0')
  if (kind === 'private') {
    if (stat.uid !== uid) return `${directory} belongs to user ${stat.uid}, not to this user (${uid})`
    if ((stat.mode & 0o077) !== 0) return `${directory} has mode ${mode}, not 0700`
    return undefined
  }
  if (stat.uid !== 0 && stat.uid !== uid) return `${directory} belongs to user ${stat.uid}, neither root nor this user (${uid})`
  if ((stat.mode & 0o022) !== 0 && !(kind === 'store' && (stat.mode & 0o1000) !== 0)) {
    return `${directory} (mode ${mode}) is writable by other users`
  }
  return undefined
}

/**
 * The records' directory of a store, checked with {@link unsafeDirectory} on the way (and made, with `.rsb/`,
 * when `create` is set).
 *
 * @returns the directory, or undefined when it does not exist and `create` is not set
 * @throws {Error} when a directory on the way is not safe, or cannot be made
 */
function hookDirectory(store: string, create: boolean): string | undefined {
  const metadata = path.posix.join(store, STORE_DIRECTORY)
  const directory = path.posix.join(metadata, HOOK_DIRECTORY)
  const steps: [string, 'store' | 'metadata' | 'private', number][] = [
    [store, 'store', 0],
    [metadata, 'metadata', 0o755],
    [directory, 'private', 0o700],
  ]
  for (const [step, kind, mode] of steps) {
    if (create && kind !== 'store') {
      try {
        fs.mkdirSync(step, { mode }) // never recursive: every step is checked before the next one is made
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
    }
    let problem: string | undefined
    try {
      problem = unsafeDirectory(step, kind)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !create) return undefined
      throw error
    }
    if (problem !== undefined) throw new Error(`${problem}: another user could change the records in it`)
  }
  return directory
}

/**
 * Opens `file` for reading without following a symbolic link and reads it (a record is one short line).
 *
 * @returns its text, or undefined when it does not exist
 */
function readPlainFile(file: string): string | undefined {
  let fd: number
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  try {
    if (!fs.fstatSync(fd).isFile()) throw new Error(`${file} is not a regular file`)
    const buffer = Buffer.alloc(64 * 1024)
    const length = fs.readSync(fd, buffer, 0, buffer.length, 0)
    return buffer.subarray(0, length).toString('utf8')
  } finally {
    fs.closeSync(fd)
  }
}

/** A record as read, or undefined when the text is not a record this rsb can use. */
function parseRecord(text: string): HookRecord | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  const r = value as Record<string, unknown>
  if (typeof value !== 'object' || value === null || r.format !== 'rsb-daemon-hook') return undefined
  if (typeof r.version !== 'number' || r.version < 1 || r.version > HOOK_RECORD_VERSION) return undefined
  if (typeof r.pid !== 'number' || typeof r.modulePath !== 'string' || typeof r.reason !== 'string') return undefined
  if (r.kind !== 'push' && r.kind !== 'read' && r.kind !== 'dry-run') return undefined
  if (r.pidStart !== undefined && typeof r.pidStart !== 'string') return undefined
  return value as HookRecord
}

/** Writes a record aside (created exclusively, mode 0600, no symlink followed), then renames it into place. */
function writeRecord(directory: string, record: HookRecord): void {
  const file = path.posix.join(directory, `${record.pid}.json`)
  const temp = path.posix.join(directory, `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants
  const fd = fs.openSync(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
  try {
    fs.writeSync(fd, `${JSON.stringify(record)}\n`)
  } finally {
    fs.closeSync(fd)
  }
  try {
    fs.renameSync(temp, file)
  } catch (error) {
    fs.rmSync(temp, { force: true })
    throw error
  }
}

/** Removes the records (and records being written) of connections that are over: their process is gone or was replaced. */
function removeStaleRecords(directory: string, keep: number | undefined): void {
  for (const name of fs.readdirSync(directory)) {
    const record = /^(\d+)\.json$/.exec(name)
    const temp = /^\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name)
    const pid = Number((record ?? temp)?.[1] ?? Number.NaN)
    if (!Number.isSafeInteger(pid) || pid === keep) continue
    try {
      const started = processStartTime(pid)
      let stale = started === undefined
      if (!stale && record) {
        const text = readPlainFile(path.posix.join(directory, name))
        const found = text === undefined ? undefined : parseRecord(text)
        stale = found?.pidStart !== undefined && found.pidStart !== started
      }
      if (stale) fs.unlinkSync(path.posix.join(directory, name))
    } catch {
      // gone meanwhile, or not readable: left for a later hook
    }
  }
}

/** What {@link runDaemonHook} needs from the workflow. */
export interface HookIo {
  readonly logger: Logger
  readonly env: Readonly<Record<string, string | undefined>>
  /** A pre-xfer exec's standard output, which the daemon shows the client when the hook refuses. */
  readonly stdout: TextSink
  readonly summary: RunSummary
}

/**
 * The hook part of a run whose DESTINATION is `$RSYNC_MODULE_PATH` (an rsync daemon's `pre-xfer exec` or
 * `post-xfer exec`). Refuses a module path that is `/` or directly under `/` in every mode. `--daemon-hook=pre`
 * records the connection (never refusing it for anything else: a record it cannot write is a warning) and is
 * done. In a post-xfer exec (`--daemon-hook=post`, or the one-line `rsb --snapshot --rotate`), the connection's
 * record is taken: a listing, a pull or a dry run makes no snapshot and no rotation (one line); a transfer whose
 * `$RSYNC_EXIT_STATUS` is not 0 neither (one warning). Without a record every transfer that succeeded goes on to
 * the snapshot, as before the pre hook existed, with one line saying what this cannot tell apart.
 *
 * @returns `done` when the run ends here (exit 0), `continue` when the snapshot and rotation steps follow
 * @throws {CliError} ERR_RSB_CLI_MODULE_PATH_UNSAFE
 */
export function runDaemonHook(options: RunOptions, io: HookIo): 'done' | 'continue' {
  const { logger, env, summary } = io
  const modulePath = options.destination
  let real: string
  try {
    real = checkModulePath(modulePath)
  } catch (error) {
    // a pre-xfer exec's standard output reaches the client, which then sees why the daemon refused
    if (options.daemonHook === 'pre' && !options.json) io.stdout.write(`rsb: ${message(error)} (${(error as CliError).code})\n`)
    throw error
  }
  const store = path.posix.dirname(real)
  const pid = parsePid(env.RSYNC_PID)
  const module = env.RSYNC_MODULE_NAME
  const shown = module ? `module ${module} (${modulePath})` : modulePath

  if (options.daemonHook === 'pre') {
    try {
      if (pid === undefined) throw new Error(`$RSYNC_PID is ${env.RSYNC_PID === undefined ? 'not set' : `'${env.RSYNC_PID}'`}`)
      const args = connectionArgs(env)
      if (args === undefined) throw new Error("$RSYNC_ARG0 is not set (not run by an rsync daemon's pre-xfer exec)")
      if (!isAncestor(pid)) throw new Error(`$RSYNC_PID ${pid} is not a process this hook runs under`)
      const connection = classifyConnection(args)
      const directory = hookDirectory(store, true) as string
      removeStaleRecords(directory, pid)
      writeRecord(directory, {
        format: 'rsb-daemon-hook',
        version: HOOK_RECORD_VERSION,
        pid,
        pidStart: processStartTime(pid),
        module,
        modulePath,
        kind: connection.kind,
        reason: connection.reason,
        created: new Date().toISOString(),
      })
      logger.log(
        'info',
        `The connection to ${shown} (RSYNC_PID ${pid}) is ${connection.reason}: ` +
          (connection.kind === 'push'
            ? 'the post-xfer exec snapshots it if it succeeds.'
            : 'the post-xfer exec makes no snapshot and no rotation.'),
      )
    } catch (error) {
      const line =
        `The pre-xfer exec could not record the connection to ${shown}: ${message(error)}. The transfer goes on; ` +
        'the post-xfer exec snapshots it if it succeeds, as it does without a pre-xfer exec.'
      logger.log('warning', line)
      summary.warnings.push(line)
    }
    return 'done'
  }

  // A post-xfer exec: take this connection's record, and clean up after connections that are over.
  let record: HookRecord | undefined
  if (pid !== undefined) {
    try {
      const directory = hookDirectory(store, false)
      if (directory !== undefined) {
        const file = path.posix.join(directory, `${pid}.json`)
        const text = readPlainFile(file)
        if (text !== undefined) {
          fs.rmSync(file, { force: true })
          const found = parseRecord(text)
          const started = processStartTime(pid)
          if (
            found &&
            found.pid === pid &&
            found.modulePath === modulePath &&
            (found.pidStart === undefined || started === undefined || found.pidStart === started)
          ) {
            record = found
          } else {
            logger.log('warning', `Ignored the record ${file}: it is not one of this connection (RSYNC_PID ${pid}, ${modulePath}).`)
          }
        }
        removeStaleRecords(directory, pid)
      }
    } catch (error) {
      logger.log('warning', `Could not read the pre-xfer exec's record of the connection to ${shown}: ${message(error)}.`)
    }
  }

  if (record && record.kind !== 'push') {
    logger.log('info', `The connection to ${shown} was ${record.reason} (recorded by the pre-xfer exec): no snapshot and no rotation.`)
    return 'done'
  }
  const transferStatus = env.RSYNC_EXIT_STATUS
  if (transferStatus !== undefined && transferStatus.trim() !== '0') {
    const line =
      `The rsync daemon's transfer into ${modulePath} ended with status ${transferStatus} ($RSYNC_EXIT_STATUS): ` +
      'no snapshot and no rotation, so a broken push never becomes a snapshot.'
    logger.log('warning', line)
    summary.warnings.push(line)
    return 'done'
  }
  if (!record && (options.daemonHook === 'post' || pid !== undefined || transferStatus !== undefined)) {
    logger.log(
      'notice',
      `No pre-xfer exec record of this connection to ${shown}${pid === undefined ? '' : ` (RSYNC_PID ${pid})`}: ` +
        "snapshotting it as any transfer that succeeded. A pre-xfer exec 'rsb --daemon-hook=pre' is needed to skip " +
        "listings, pulls and clients' dry runs, which otherwise make a snapshot too.",
    )
  }
  return 'continue'
}

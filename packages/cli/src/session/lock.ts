import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CliError } from '../errors.js'

/** Who holds (or held) a run lock: written into the lock file once the lock is taken. */
export interface LockHolder {
  /** The machine (`os.hostname()`). */
  readonly host: string
  readonly pid: number
  /** Field 22 of `/proc/PID/stat`, to tell a reused PID from the holder. */
  readonly startTime?: string | undefined
  /** When the lock was taken (ISO 8601, UTC). */
  readonly since: string
  /** What is locked (a destination, a store). */
  readonly key: string
}

/** A held run lock; `release()` is idempotent. */
export interface RunLock {
  readonly file: string
  /**
   * The open lock file. The lock is a `flock` on it: commands of the run that inherit this descriptor (rsync,
   * the snapshot copy) keep the lock held while they run, even when rsb itself was killed.
   */
  readonly fd: number
  /** The holder a run that ended without releasing the lock left behind, when this run took the lock over. */
  readonly previous: LockHolder | undefined
  release(): void
}

/** A lock directory rsb did not use, and why. */
export interface SkippedLockDirectory {
  readonly directory: string
  /** `unsafe`: someone else could steer it (logged as a warning); `unusable`: it cannot be created. */
  readonly kind: 'unsafe' | 'unusable'
  readonly reason: string
}

/** The directory of the run locks, and the candidates passed over. */
export interface LockDirectory {
  readonly directory: string
  readonly skipped: readonly SkippedLockDirectory[]
}

function effectiveUid(): number {
  return process.geteuid?.() ?? process.getuid?.() ?? 0
}

function passwdHome(): string | undefined {
  try {
    return os.userInfo().homedir
  } catch {
    return undefined
  }
}

/**
 * The candidates, best first: `$RSB_LOCK_DIR` alone when set; for root `/run/rsb` (in `/run`, which only root
 * may write; never the world-writable `/run/lock`), then `/var/lib/rsb/locks`; for others
 * `~/.local/state/rsb/locks` (the home directory from the password database, so that cron and a login shell
 * agree), then `$XDG_RUNTIME_DIR/rsb`, then `<tmpdir>/rsb-<uid>`.
 */
function candidates(env: Readonly<Record<string, string | undefined>>): string[] {
  if (env.RSB_LOCK_DIR) return [env.RSB_LOCK_DIR]
  const uid = effectiveUid()
  if (uid === 0) return ['/run/rsb', '/var/lib/rsb/locks']
  const list: string[] = []
  const home = passwdHome()
  if (home && path.isAbsolute(home)) list.push(path.join(home, '.local', 'state', 'rsb', 'locks'))
  if (env.XDG_RUNTIME_DIR && path.isAbsolute(env.XDG_RUNTIME_DIR)) list.push(path.join(env.XDG_RUNTIME_DIR, 'rsb'))
  list.push(path.join(os.tmpdir(), `rsb-${uid}`))
  return list
}

type Checked = { real: string } | { kind: 'unsafe' | 'unusable'; reason: string }

function describeMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0')
}

/**
 * Creates DIRECTORY when missing (mode 0700) and checks that no other user can steer it: it is a directory,
 * not a symlink, owned by this user, not open to others; and every directory above its real path is owned by
 * root or this user and writable by others only with the sticky bit (as /tmp). A directory of ours that others
 * may read (not write) is made 0700.
 */
export function checkLockDirectory(directory: string): Checked {
  const uid = effectiveUid()
  if (!path.isAbsolute(directory)) return { kind: 'unusable', reason: 'not an absolute path' }
  try {
    fs.mkdirSync(directory, { recursive: true, mode: 0o700 })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'EEXIST') return { kind: 'unusable', reason: `cannot be created (${code ?? String(error)})` }
  }
  let stat: fs.Stats
  try {
    stat = fs.lstatSync(directory)
  } catch (error) {
    return { kind: 'unusable', reason: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})` }
  }
  if (stat.isSymbolicLink()) return { kind: 'unsafe', reason: 'is a symbolic link' }
  if (!stat.isDirectory()) return { kind: 'unsafe', reason: 'is not a directory' }
  if (stat.uid !== uid) return { kind: 'unsafe', reason: `is owned by UID ${stat.uid}, not by this user (UID ${uid})` }
  if ((stat.mode & 0o022) !== 0) return { kind: 'unsafe', reason: `may be written by other users (mode ${describeMode(stat.mode)})` }
  if ((stat.mode & 0o077) !== 0) {
    try {
      fs.chmodSync(directory, 0o700)
    } catch (error) {
      return { kind: 'unusable', reason: `cannot be made private (${(error as NodeJS.ErrnoException).code ?? String(error)})` }
    }
  }
  const real = fs.realpathSync(directory)
  let current = '/'
  for (const part of ['', ...real.split('/').filter(Boolean)]) {
    current = part === '' ? '/' : path.join(current, part)
    if (current === real) break
    const above = fs.lstatSync(current)
    if (above.uid !== 0 && above.uid !== uid) return { kind: 'unsafe', reason: `lies in ${current}, which UID ${above.uid} owns` }
    if ((above.mode & 0o022) !== 0 && (above.mode & 0o1000) === 0)
      return { kind: 'unsafe', reason: `lies in ${current}, which other users may write to (mode ${describeMode(above.mode)})` }
  }
  return { real }
}

/**
 * Chooses the directory of the run locks (see {@link checkLockDirectory}): the first safe candidate. An unsafe
 * `$RSB_LOCK_DIR` is refused rather than replaced, since the user chose it.
 *
 * @throws {CliError} ERR_RSB_CLI_LOCK_UNSAFE when no candidate is safe (or `$RSB_LOCK_DIR` is not)
 */
export function lockDirectory(env: Readonly<Record<string, string | undefined>>): LockDirectory {
  const skipped: SkippedLockDirectory[] = []
  for (const directory of candidates(env)) {
    const checked = checkLockDirectory(directory)
    if ('real' in checked) return { directory: checked.real, skipped }
    skipped.push({ directory, ...checked })
  }
  const last = skipped.at(-1)
  throw new CliError(
    'ERR_RSB_CLI_LOCK_UNSAFE',
    `No safe directory for the run lock: ${skipped.map((s) => `${s.directory} ${s.reason}`).join('; ')}.`,
    {
      path: last?.directory,
      hint: env.RSB_LOCK_DIR
        ? 'Point $RSB_LOCK_DIR at a directory that only you own (mode 0700), or unset it.'
        : 'Remove the directory that another user made, or set $RSB_LOCK_DIR to a directory that only you own (mode 0700).',
    },
  )
}

/** The start time of a process (field 22 of /proc/PID/stat), to tell a reused PID from the lock's owner. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

/** Whether a holder may still be at work: always for another machine's; on this one, its PID with its start time. */
export function isAlive(holder: LockHolder): boolean {
  if (holder.host !== os.hostname()) return true
  try {
    process.kill(holder.pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false
  }
  const now = processStartTime(holder.pid)
  return now === undefined || holder.startTime === undefined || now === holder.startTime
}

/** Parses the text of a lock file (one JSON line); undefined when empty or not a holder. */
export function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>
    return typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.since === 'string'
      ? (value as LockHolder)
      : undefined
  } catch {
    return undefined
  }
}

/** `PID 123 on host, since …` */
export function describeHolder(holder: LockHolder): string {
  return `PID ${holder.pid} on ${holder.host}, since ${holder.since}`
}

function readAll(fd: number): string {
  const size = fs.fstatSync(fd).size
  const buffer = Buffer.alloc(Math.min(size, 64 * 1024))
  const read = fs.readSync(fd, buffer, 0, buffer.length, 0)
  return buffer.subarray(0, read).toString('utf8')
}

function lockFailed(display: string, file: string, detail: string, hint?: string): CliError {
  return new CliError('ERR_RSB_CLI_LOCK_FAILED', `Could not take the run lock of ${display}: ${detail}.`, {
    destination: display,
    path: file,
    hint,
  })
}

/**
 * Takes the run lock of KEY: a `flock` on a file in DIRECTORY (from {@link lockDirectory}) named after a hash
 * of KEY. The file is opened without following a symlink and must be this user's regular file with one link;
 * the lock is taken by `flock(1)` on the open file, so it belongs to this process's descriptor, which the run's
 * commands inherit ({@link RunLock.fd}): the lock is free only when every process of the run is gone, and the
 * kernel frees it then, whatever killed them. The holder (host, PID, since) is written into the file.
 *
 * @param key - what is locked (a destination, a store's device and inode)
 * @throws {CliError} ERR_RSB_CLI_LOCKED when another run holds it; ERR_RSB_CLI_LOCK_UNSAFE; ERR_RSB_CLI_LOCK_FAILED
 */
export function acquireRunLock(key: string, display: string, directory: string): RunLock {
  const file = path.join(directory, `${createHash('sha256').update(key).digest('hex').slice(0, 24)}.lock`)
  const { O_RDWR, O_CREAT, O_NOFOLLOW } = fs.constants
  let fd: number
  try {
    fd = fs.openSync(file, O_RDWR | O_CREAT | O_NOFOLLOW, 0o600)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ELOOP')
      throw new CliError('ERR_RSB_CLI_LOCK_UNSAFE', `The lock file ${file} is a symbolic link; rsb does not follow it.`, {
        destination: display,
        path: file,
        hint: `Remove ${file}; only rsb should write in ${directory}.`,
      })
    throw lockFailed(display, file, `cannot open ${file} (${code ?? String(error)})`)
  }
  try {
    const stat = fs.fstatSync(fd)
    const uid = effectiveUid()
    if (!stat.isFile() || stat.uid !== uid || stat.nlink !== 1)
      throw new CliError(
        'ERR_RSB_CLI_LOCK_UNSAFE',
        `The lock file ${file} is not a private file of this user (UID ${stat.uid}, ${stat.nlink} links).`,
        { destination: display, path: file, hint: `Remove ${file}; only rsb should write in ${directory}.` },
      )
    if ((stat.mode & 0o077) !== 0) fs.fchmodSync(fd, 0o600)
    // flock(1) locks the descriptor it inherits (ours): the lock stays with this process after flock exits
    const result = spawnSync('flock', ['--nonblock', '--conflict-exit-code', '75', '3'], {
      stdio: ['ignore', 'ignore', 'pipe', fd],
      encoding: 'utf8',
    })
    if (result.error) {
      const code = (result.error as NodeJS.ErrnoException).code
      throw lockFailed(
        display,
        file,
        code === 'ENOENT' ? 'the flock program is missing' : result.error.message,
        code === 'ENOENT' ? 'Install util-linux (it has flock).' : undefined,
      )
    }
    if (result.status === 75) {
      const holder = parseHolder(readAll(fd))
      const message = !holder
        ? `Another rsb run is working on ${display}.`
        : isAlive(holder)
          ? `Another rsb run (${describeHolder(holder)}) is working on ${display}.`
          : `An rsb run (${describeHolder(holder)}) ended, but processes it started (such as its rsync) still work on ${display}.`
      throw new CliError('ERR_RSB_CLI_LOCKED', message, {
        destination: display,
        path: file,
        hint: `Wait for it to finish; only one run per destination at a time (\`fuser -v ${file}\` shows who holds the lock).`,
      })
    }
    if (result.status !== 0) throw lockFailed(display, file, result.stderr.trim() || `flock exited with ${result.status}`)
    const previous = parseHolder(readAll(fd))
    const holder: LockHolder = {
      host: os.hostname(),
      pid: process.pid,
      startTime: processStartTime(process.pid),
      since: new Date().toISOString(),
      key,
    }
    fs.ftruncateSync(fd, 0)
    fs.writeSync(fd, `${JSON.stringify(holder)}\n`, 0)
    let released = false
    const lockFd = fd
    return {
      file,
      fd: lockFd,
      previous,
      release() {
        if (released) return
        released = true
        try {
          fs.ftruncateSync(lockFd, 0)
        } finally {
          fs.closeSync(lockFd)
        }
      },
    }
  } catch (error) {
    fs.closeSync(fd)
    throw error
  }
}

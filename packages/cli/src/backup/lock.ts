import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CliError } from '../errors.js'

/** A held run lock; `release()` is idempotent. */
export interface RunLock {
  readonly file: string
  release(): void
}

/**
 * The directory of rsb's lock files: `$RSB_LOCK_DIR`, else `/run/lock/rsb` when writable (root), else
 * `$XDG_RUNTIME_DIR/rsb`, else `<tmpdir>/rsb-<uid>`.
 */
export function lockDirectory(env: Readonly<Record<string, string | undefined>>): string {
  if (env.RSB_LOCK_DIR) return env.RSB_LOCK_DIR
  if (process.getuid?.() === 0) return '/run/lock/rsb'
  if (env.XDG_RUNTIME_DIR) return path.join(env.XDG_RUNTIME_DIR, 'rsb')
  return path.join(os.tmpdir(), `rsb-${process.getuid?.() ?? 'user'}`)
}

/** The start time of a process (field 22 of /proc/PID/stat), to tell a reused PID from the lock's owner. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

function isAlive(pid: number, startTime: string | undefined): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false
  }
  const now = processStartTime(pid)
  return now === undefined || startTime === undefined || now === startTime
}

interface LockRecord {
  pid: number
  startTime: string | undefined
  key: string
  since: string
}

/**
 * Takes the run lock of a destination: a file in {@link lockDirectory} named after a hash of `key`,
 * created atomically (written aside, then hard-linked into place), holding the owner's PID and start time. A lock whose owner died (even by
 * `kill -9`) is taken over.
 *
 * @param key - the normalised destination (absolute path, `host:dir`, daemon URL)
 * @throws {CliError} ERR_RSB_CLI_LOCKED when a live process holds the lock
 */
export function acquireRunLock(key: string, display: string, env: Readonly<Record<string, string | undefined>>): RunLock {
  const directory = lockDirectory(env)
  fs.mkdirSync(directory, { recursive: true, mode: 0o700 })
  const file = path.join(directory, `${createHash('sha256').update(key).digest('hex').slice(0, 24)}.lock`)
  const record: LockRecord = { pid: process.pid, startTime: processStartTime(process.pid), key, since: new Date().toISOString() }
  const text = `${JSON.stringify(record)}\n`
  for (let attempt = 0; attempt < 3; attempt++) {
    // written aside, then hard-linked into place: the lock file never exists half-written
    const temp = `${file}.${process.pid}.tmp`
    fs.writeFileSync(temp, text, { mode: 0o600 })
    try {
      fs.linkSync(temp, file)
      fs.unlinkSync(temp)
      let released = false
      return {
        file,
        release() {
          if (released) return
          released = true
          try {
            if (fs.readFileSync(file, 'utf8') === text) fs.unlinkSync(file)
          } catch {
            // already gone
          }
        },
      }
    } catch (error) {
      fs.rmSync(temp, { force: true })
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    let held: string
    try {
      held = fs.readFileSync(file, 'utf8')
    } catch {
      continue // released meanwhile
    }
    let owner: LockRecord | undefined
    try {
      owner = JSON.parse(held) as LockRecord
    } catch {
      owner = undefined // not ours: unreadable, treated as stale
    }
    if (owner && isAlive(owner.pid, owner.startTime)) {
      throw new CliError('ERR_RSB_CLI_LOCKED', `Another rsb run (PID ${owner.pid}, since ${owner.since}) is working on ${display}.`, {
        destination: display,
        path: file,
        hint: 'Wait for it to finish; only one run per destination at a time.',
      })
    }
    try {
      if (fs.readFileSync(file, 'utf8') === held) fs.unlinkSync(file)
    } catch {
      // someone else cleaned it up
    }
  }
  throw new CliError('ERR_RSB_CLI_LOCKED', `Could not take the run lock of ${display}.`, { destination: display, path: file })
}

// Whether another user could change a file that rsb acts on as root (a configuration file whose hooks it runs, a
// program a unit runs): the file and every directory above it must belong to root or to rsb's user and be writable
// by nobody else (a directory above may be writable by others with the sticky bit, as /tmp).
import fs from 'node:fs'
import path from 'node:path'

/** Why another user could change a path: the path (the file or a directory above it) and the reason. */
export interface UnsafePath {
  /** The file or directory at fault (real paths). */
  readonly path: string
  /** `belongs to user 1000`, `may be written by its group`, `may be written by every user`. */
  readonly reason: string
}

/**
 * Checks a file (or directory) and every directory above it, by their real paths.
 *
 * @param file - an existing path (symbolic links are followed to their target, whose directories are checked)
 * @param uid - rsb's user (default: this process's)
 * @returns undefined when nobody but root and `uid` can change it, else what and why
 * @throws the error of `realpath`/`stat` (ENOENT, EACCES)
 * @example
 * ```ts
 * findUnsafePath('/etc/rsb/rsb.toml') // undefined
 * findUnsafePath('/home/alice/rsb.toml') // { path: '/home/alice/rsb.toml', reason: 'belongs to user 1000' } as root
 * ```
 */
export function findUnsafePath(file: string, uid: number = process.geteuid?.() ?? process.getuid?.() ?? 0): UnsafePath | undefined {
  const real = fs.realpathSync(file)
  for (let current = real, first = true; ; current = path.dirname(current), first = false) {
    const stat = fs.statSync(current)
    if (stat.uid !== 0 && stat.uid !== uid) return { path: current, reason: `belongs to user ${stat.uid}` }
    const sticky = !first && stat.isDirectory() && (stat.mode & 0o1000) !== 0
    if ((stat.mode & 0o022) !== 0 && !sticky) {
      return { path: current, reason: (stat.mode & 0o002) !== 0 ? 'may be written by every user' : 'may be written by its group' }
    }
    if (current === '/') return undefined
  }
}

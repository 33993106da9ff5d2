// Whether another user could change a file that rsb acts on as root (a configuration file whose hooks it runs, a
// program a unit runs): the file and every directory on the way to it must belong to root or to rsb's user and be
// writable by nobody else (a directory on the way may be writable by others with the sticky bit, as /tmp). A
// symbolic link on the way is followed component by component, so the directories of every link are checked too.
import fs from 'node:fs'
import path from 'node:path'

/** Why another user could change a path: the path (the file or a directory on the way to it) and the reason. */
export interface UnsafePath {
  /** The file or directory at fault. */
  readonly path: string
  /** `belongs to user 1000`, `may be written by its group`, `may be written by every user`. */
  readonly reason: string
}

/** The most symbolic links followed (as the kernel's ELOOP limit). */
const MAX_LINKS = 40

function problemOf(where: string, stat: fs.Stats, uid: number, last: boolean): UnsafePath | undefined {
  if (stat.uid !== 0 && stat.uid !== uid) return { path: where, reason: `belongs to user ${stat.uid}` }
  const sticky = !last && stat.isDirectory() && (stat.mode & 0o1000) !== 0
  if ((stat.mode & 0o022) !== 0 && !sticky) {
    return { path: where, reason: (stat.mode & 0o002) !== 0 ? 'may be written by every user' : 'may be written by its group' }
  }
  return undefined
}

/**
 * Checks a file (or directory) and every directory on the way to it, following symbolic links one component at a time.
 *
 * @param file - an existing path
 * @param uid - rsb's user (default: this process's)
 * @returns undefined when nobody but root and `uid` can change it, else what and why
 * @throws the error of `lstat`/`readlink` (ENOENT, EACCES), ELOOP after 40 links
 * @example
 * ```ts
 * findUnsafePath('/etc/rsb/rsb.toml') // undefined
 * findUnsafePath('/home/alice/rsb.toml') // { path: '/home/alice/rsb.toml', reason: 'belongs to user 1000' } as root
 * ```
 */
export function findUnsafePath(file: string, uid: number = process.geteuid?.() ?? process.getuid?.() ?? 0): UnsafePath | undefined {
  let links = 0
  const pending = path
    .resolve(file)
    .split('/')
    .filter((part) => part !== '')
  let current = '/'
  const root = problemOf('/', fs.statSync('/'), uid, pending.length === 0)
  if (root !== undefined) return root
  while (pending.length > 0) {
    const part = pending.shift() as string
    const next = path.join(current, part)
    const stat = fs.lstatSync(next)
    if (stat.isSymbolicLink()) {
      // the link's directory (current) was checked; go on along its target
      if (++links > MAX_LINKS) throw Object.assign(new Error(`Too many symbolic links in ${file}`), { code: 'ELOOP' })
      const target = fs.readlinkSync(next)
      pending.unshift(...target.split('/').filter((p) => p !== ''))
      if (target.startsWith('/')) current = '/'
      continue
    }
    const problem = problemOf(next, stat, uid, pending.length === 0)
    if (problem !== undefined) return problem
    current = next
  }
  return undefined
}

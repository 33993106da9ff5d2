import path from 'node:path'
import { MountError } from './errors.js'

/**
 * Whether `directory` is `mountPoint` itself or lies below it, comparing whole path segments after making both
 * absolute (against `cwd`) and normalising them (`.`, `..`, repeated and trailing slashes). `/mnt/backup` does not
 * contain `/mnt/backups/x`. Pure: no symlinks are followed and nothing is asked of the file system.
 *
 * @param directory - the path to check
 * @param mountPoint - the mount point
 * @param cwd - the directory relative paths start from. Default: the process's working directory
 * @example
 * ```ts
 * isInside('/mnt/backups/latest', '/mnt/backups/') // true
 * isInside('/mnt/backups/latest', '/mnt/backup')   // false
 * isInside('/mnt/backups/../other', '/mnt/backups') // false
 * ```
 */
export function isInside(directory: string, mountPoint: string, cwd: string = process.cwd()): boolean {
  const inner = path.posix.resolve(cwd, directory)
  const outer = path.posix.resolve(cwd, mountPoint)
  if (inner === outer || outer === '/') return true
  return inner.startsWith(`${outer}/`)
}

/**
 * Throws unless `directory` is `mountPoint` or below it (see {@link isInside}).
 *
 * @throws {MountError} ERR_RSB_MOUNT_NOT_CONTAINED, with both absolute paths in the message
 * @example
 * ```ts
 * assertInside('/mnt/backups/latest', '/mnt/backup') // throws ERR_RSB_MOUNT_NOT_CONTAINED
 * ```
 */
export function assertInside(directory: string, mountPoint: string, cwd: string = process.cwd()): void {
  if (isInside(directory, mountPoint, cwd)) return
  const inner = path.posix.resolve(cwd, directory)
  const outer = path.posix.resolve(cwd, mountPoint)
  throw new MountError('ERR_RSB_MOUNT_NOT_CONTAINED', outer, `Destination directory (${inner}) not located under mount point (${outer})!`, {
    path: inner,
    hint: `Give a destination inside ${outer}, or the mount point it lies on.`,
  })
}

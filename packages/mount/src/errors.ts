/**
 * Error codes of `@rsb/mount`. Stable API: a code is never reused for another meaning.
 *
 * - `ERR_RSB_MOUNT_FAILED`: `mount MOUNTPOINT` failed, or the directory is still not a mount point after it.
 *   The message names the mount point.
 * - `ERR_RSB_MOUNT_UNMOUNT_FAILED`: `umount MOUNTPOINT` failed (for example because the filesystem is busy), or it
 *   is still a mount point after it.
 * - `ERR_RSB_MOUNT_NOT_CONTAINED`: a directory that must lie on the mounted filesystem is not the mount point or
 *   below it (compared by whole path segments).
 */
export type MountErrorCode = 'ERR_RSB_MOUNT_FAILED' | 'ERR_RSB_MOUNT_UNMOUNT_FAILED' | 'ERR_RSB_MOUNT_NOT_CONTAINED'

/** Details a {@link MountError} may carry. */
export interface MountErrorDetails {
  /** What to do about it. */
  hint?: string | undefined
  /** The original failure (usually an `ExecError` of `@rsb/exec`). */
  cause?: unknown
  /** For `ERR_RSB_MOUNT_NOT_CONTAINED`: the directory that is outside the mount point (absolute). */
  path?: string | undefined
  /** The exit status of the failed command. */
  exitCode?: number | undefined
  /** The last lines of the failed command's standard error. */
  stderrTail?: string | undefined
}

/**
 * The one error class of `@rsb/mount`.
 *
 * @example
 * ```ts
 * try {
 *   await ensureMounted('/mnt/backups')
 * } catch (error) {
 *   if (error instanceof MountError) console.error(error.code, error.mountPoint, error.hint)
 * }
 * ```
 */
export class MountError extends Error {
  override readonly name = 'MountError'
  /** What went wrong, as a stable code. */
  readonly code: MountErrorCode
  /** The mount point concerned. */
  readonly mountPoint: string
  /** What to do about it. */
  readonly hint: string | undefined
  /** The directory outside the mount point (`ERR_RSB_MOUNT_NOT_CONTAINED`). */
  readonly path: string | undefined
  /** The exit status of the failed command. */
  readonly exitCode: number | undefined
  /** The last lines of the failed command's standard error. */
  readonly stderrTail: string | undefined

  /**
   * @param code - the error code
   * @param mountPoint - the mount point concerned
   * @param message - one sentence on what happened
   * @param details - hint, cause and context fields
   */
  constructor(code: MountErrorCode, mountPoint: string, message: string, details: MountErrorDetails = {}) {
    super(message, { cause: details.cause })
    this.code = code
    this.mountPoint = mountPoint
    this.hint = details.hint
    this.path = details.path
    this.exitCode = details.exitCode
    this.stderrTail = details.stderrTail
  }
}

import { isRsbError, LocalContext, tailLines, type Context } from '@rsb/exec'
import { MountError } from './errors.js'
import { parseFstab, type FstabEntry, type FstabWarning } from './fstab.js'

/** What `@rsb/mount` reports while it works (libraries never print; the CLI decides what to show). */
export type MountEvent =
  | { type: 'already-mounted'; mountPoint: string }
  | { type: 'mounting'; mountPoint: string }
  | { type: 'mounted'; mountPoint: string }
  | { type: 'unmounting'; mountPoint: string }
  | { type: 'unmounted'; mountPoint: string }

/** Options shared by the functions that run commands. */
export interface MountOptions {
  /** Where commands run (locally or over SSH). Default: a new `LocalContext`. */
  context?: Context | undefined
  /** Cancels the running command (it is stopped; the call rejects with `ERR_RSB_EXEC_ABORTED`). */
  signal?: AbortSignal | undefined
  /** Receives progress events. */
  onEvent?: ((event: MountEvent) => void) | undefined
}

/** Options of {@link ensureMounted}. */
export interface EnsureMountedOptions extends MountOptions {
  /**
   * An fstab file to use instead of `/etc/fstab` (`mount --fstab FILE MOUNTPOINT`, util-linux 2.38+). Default: the
   * system's `/etc/fstab` (`mount MOUNTPOINT`).
   */
  fstab?: string | undefined
}

/** What {@link ensureMounted} did, and how to put it back. */
export interface MountHandle {
  /** The mount point, as given. */
  readonly mountPoint: string
  /** True when this call mounted the filesystem; false when it was mounted already. */
  readonly mountedByUs: boolean
  /**
   * Unmounts (`[sudo] umount MOUNTPOINT`), only if this call mounted; otherwise does nothing. Once it has succeeded,
   * later calls do nothing.
   *
   * @param options - `signal` cancels the unmount. The signal given to `ensureMounted()` is deliberately not
   * reused: cleanups must still run after a run was cancelled.
   * @throws {MountError} ERR_RSB_MOUNT_UNMOUNT_FAILED (for example while the filesystem is busy); a later call
   * tries again
   */
  undo(options?: { signal?: AbortSignal | undefined }): Promise<void>
}

/** A file in fstab format as read through a context. */
export interface FstabFile {
  /** The file's path. */
  readonly path: string
  /** The usable entries, in file order. */
  readonly entries: readonly FstabEntry[]
  /** The skipped lines. */
  readonly warnings: readonly FstabWarning[]
}

const PRIVILEGED = { sudo: true, ionice: undefined } as const

function contextOf(options: { context?: Context | undefined }): Context {
  return options.context ?? new LocalContext()
}

/**
 * Whether a directory is a mount point: `mountpoint DIR` in the context (its sudo setting applies), output
 * discarded. Status 0 means mounted; 32 (not a mount point) and 1 (no such path) mean not mounted.
 *
 * @param path - the directory
 * @param options - context, signal
 * @throws {ExecError} when `mountpoint` is missing (ERR_RSB_EXEC_NOT_FOUND), sudo wants a password, or it fails
 * otherwise
 * @example
 * ```ts
 * await isMountPoint('/') // true
 * ```
 */
export async function isMountPoint(path: string, options: MountOptions = {}): Promise<boolean> {
  try {
    await contextOf(options).run(['mountpoint', path], { ionice: undefined, capture: false, signal: options.signal })
    return true
  } catch (error) {
    if (isRsbError(error) && error.code === 'ERR_RSB_EXEC_COMMAND_FAILED') {
      const status = (error as { exitCode?: number }).exitCode
      if (status === 32 || status === 1) return false
    }
    throw error
  }
}

function failure(code: 'ERR_RSB_MOUNT_FAILED' | 'ERR_RSB_MOUNT_UNMOUNT_FAILED', mountPoint: string, cause?: unknown): MountError {
  const exec = cause as { exitCode?: number; stderrTail?: string } | undefined
  // mount and umount put the message first (then hints such as "dmesg(1) may have more information")
  const detail = exec?.stderrTail
    ?.split('\n')
    .map((line) => line.trim())
    .find(Boolean)
  const suffix = detail ? `: ${detail}` : ''
  return code === 'ERR_RSB_MOUNT_FAILED'
    ? new MountError(code, mountPoint, `Failed to mount filesystem! (${mountPoint})${suffix}`, {
        cause,
        exitCode: exec?.exitCode,
        stderrTail: exec?.stderrTail ? tailLines(exec.stderrTail) : undefined,
        hint: `Check the fstab entry of ${mountPoint} and that its device is present.`,
      })
    : new MountError(code, mountPoint, `Failed to unmount filesystem! (${mountPoint})${suffix}`, {
        cause,
        exitCode: exec?.exitCode,
        stderrTail: exec?.stderrTail ? tailLines(exec.stderrTail) : undefined,
        hint: `Make sure nothing uses ${mountPoint} any more, then unmount it again.`,
      })
}

async function runPrivileged(
  context: Context,
  argv: readonly string[],
  signal: AbortSignal | undefined,
  fail: (cause: unknown) => MountError,
): Promise<void> {
  try {
    await context.run(argv, { ...PRIVILEGED, capture: false, signal })
  } catch (error) {
    if (isRsbError(error) && (error.code === 'ERR_RSB_EXEC_COMMAND_FAILED' || error.code === 'ERR_RSB_EXEC_NOT_FOUND')) throw fail(error)
    throw error
  }
}

/**
 * Unmounts a filesystem: `[sudo] umount MOUNTPOINT` (sudo is requested always, and dropped where the context is
 * root), then checks that it is no longer a mount point.
 *
 * @param mountPoint - the mount point
 * @param options - context, signal, onEvent
 * @throws {MountError} ERR_RSB_MOUNT_UNMOUNT_FAILED
 * @example
 * ```ts
 * await unmount('/mnt/backups')
 * ```
 */
export async function unmount(mountPoint: string, options: MountOptions = {}): Promise<void> {
  const context = contextOf(options)
  options.onEvent?.({ type: 'unmounting', mountPoint })
  await runPrivileged(context, ['umount', mountPoint], options.signal, (cause) =>
    failure('ERR_RSB_MOUNT_UNMOUNT_FAILED', mountPoint, cause),
  )
  if (await isMountPoint(mountPoint, { context, signal: options.signal })) {
    throw failure('ERR_RSB_MOUNT_UNMOUNT_FAILED', mountPoint)
  }
  options.onEvent?.({ type: 'unmounted', mountPoint })
}

/**
 * Makes sure a filesystem is mounted, the way rsync-system-backup did: when `mountpoint MOUNTPOINT` says it is
 * not, runs `[sudo] mount MOUNTPOINT` (which mounts it from its fstab entry; `mount --fstab FILE MOUNTPOINT` with
 * the `fstab` option) and checks again.
 *
 * @param mountPoint - the mount point, as written in fstab
 * @param options - context, fstab, signal, onEvent
 * @returns a handle whose `undo()` unmounts only if this call mounted
 * @throws {MountError} ERR_RSB_MOUNT_FAILED (naming the mount point) when `mount` fails or the directory is still
 * not a mount point
 * @throws {ExecError} ERR_RSB_EXEC_SUDO_PASSWORD, ERR_RSB_EXEC_ABORTED, SSH connection errors
 * @example
 * ```ts
 * const mounted = await ensureMounted('/mnt/backups', { context })
 * try {
 *   // back up into /mnt/backups/latest
 * } finally {
 *   await mounted.undo()
 * }
 * ```
 */
export async function ensureMounted(mountPoint: string, options: EnsureMountedOptions = {}): Promise<MountHandle> {
  const context = contextOf(options)
  const signal = options.signal
  const handle = (mountedByUs: boolean): MountHandle => {
    let done = !mountedByUs
    return {
      mountPoint,
      mountedByUs,
      async undo(undoOptions = {}) {
        if (done) return
        await unmount(mountPoint, { context, signal: undoOptions.signal, onEvent: options.onEvent })
        done = true
      },
    }
  }
  if (await isMountPoint(mountPoint, { context, signal })) {
    options.onEvent?.({ type: 'already-mounted', mountPoint })
    return handle(false)
  }
  options.onEvent?.({ type: 'mounting', mountPoint })
  const argv = options.fstab === undefined ? ['mount', mountPoint] : ['mount', '--fstab', options.fstab, mountPoint]
  await runPrivileged(context, argv, signal, (cause) => failure('ERR_RSB_MOUNT_FAILED', mountPoint, cause))
  if (!(await isMountPoint(mountPoint, { context, signal }))) throw failure('ERR_RSB_MOUNT_FAILED', mountPoint)
  options.onEvent?.({ type: 'mounted', mountPoint })
  return handle(true)
}

/**
 * Reads and parses an fstab file through a context (`cat FILE`, with the context's sudo setting).
 *
 * @param options - context, path (default `/etc/fstab`), signal
 * @throws {ExecError} when the file cannot be read
 * @example
 * ```ts
 * const { entries } = await readFstab()
 * console.log(entries.find((entry) => entry.mountPoint === '/mnt/backups'))
 * ```
 */
export async function readFstab(
  options: { context?: Context | undefined; path?: string | undefined; signal?: AbortSignal | undefined } = {},
): Promise<FstabFile> {
  const path = options.path ?? '/etc/fstab'
  const text = await contextOf(options).readFile(path, { ionice: undefined, signal: options.signal })
  return { path, ...parseFstab(text) }
}

/**
 * Reads the mounted filesystems of the context's machine from `/proc/self/mounts` (same format as fstab; the
 * kernel shows the canonical device, `/dev/loop1` rather than a `/dev/mapper` symlink used to mount it).
 *
 * @param options - context, signal
 * @throws {ExecError} when the file cannot be read
 * @example
 * ```ts
 * const { entries } = await readMounts()
 * console.log(entries.some((entry) => entry.mountPoint === '/')) // true
 * ```
 */
export function readMounts(options: { context?: Context | undefined; signal?: AbortSignal | undefined } = {}): Promise<FstabFile> {
  return readFstab({ ...options, path: '/proc/self/mounts' })
}

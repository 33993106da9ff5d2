/**
 * Error codes of `@rsb/crypttab`. Stable API: a code is never reused for another meaning.
 *
 * - `ERR_RSB_CRYPTTAB_NO_ENTRY`: crypttab has no entry with that name (or the file does not exist). Nothing was run
 *   besides reading the file.
 * - `ERR_RSB_CRYPTTAB_MISSING_DISK`: the entry's source device does not exist (the backup disk is not plugged
 *   in). The CLI turns this into a quiet skip when it is not interactive.
 * - `ERR_RSB_CRYPTTAB_UNSUPPORTED_SOURCE`: the source is a `NAME=value` form other than `UUID=`, `LABEL=`,
 *   `PARTUUID=`, `PARTLABEL=`, or has an empty value.
 * - `ERR_RSB_CRYPTTAB_INVALID_ENTRY`: the entry cannot be used as written (an option with a malformed value such
 *   as `tries=x`, a target containing `/`); Debian's scripts refuse such entries too.
 * - `ERR_RSB_CRYPTTAB_KEY_MISSING`: the entry names a key file that does not exist.
 * - `ERR_RSB_CRYPTTAB_PASSPHRASE_REQUIRED`: the entry has no key file (`none`, `-` or no third field), so
 *   unlocking needs a passphrase typed on a terminal, and the context is not interactive.
 * - `ERR_RSB_CRYPTTAB_UNLOCK_FAILED`: the unlock command failed, or `/dev/mapper/NAME` is still missing after it.
 * - `ERR_RSB_CRYPTTAB_LOCK_FAILED`: the lock command failed (for example because the filesystem is still mounted),
 *   or `/dev/mapper/NAME` still exists after it.
 */
export type CrypttabErrorCode =
  | 'ERR_RSB_CRYPTTAB_NO_ENTRY'
  | 'ERR_RSB_CRYPTTAB_MISSING_DISK'
  | 'ERR_RSB_CRYPTTAB_UNSUPPORTED_SOURCE'
  | 'ERR_RSB_CRYPTTAB_INVALID_ENTRY'
  | 'ERR_RSB_CRYPTTAB_KEY_MISSING'
  | 'ERR_RSB_CRYPTTAB_PASSPHRASE_REQUIRED'
  | 'ERR_RSB_CRYPTTAB_UNLOCK_FAILED'
  | 'ERR_RSB_CRYPTTAB_LOCK_FAILED'

/** Details a {@link CrypttabError} may carry. */
export interface CrypttabErrorDetails {
  /** What to do about it. */
  hint?: string | undefined
  /** The original failure (usually an `ExecError` of `@rsb/exec`). */
  cause?: unknown
  /** The crypttab file concerned. */
  file?: string | undefined
  /** The device concerned: the resolved source device, or the key file for `ERR_RSB_CRYPTTAB_KEY_MISSING`. */
  device?: string | undefined
  /** The exit status of the failed command. */
  exitCode?: number | undefined
  /** The last lines of the failed command's output (standard error, and standard output for `cryptdisks_*`). */
  stderrTail?: string | undefined
}

/**
 * The one error class of `@rsb/crypttab`.
 *
 * @example
 * ```ts
 * try {
 *   await unlock('backups')
 * } catch (error) {
 *   if (error instanceof CrypttabError && error.code === 'ERR_RSB_CRYPTTAB_MISSING_DISK') console.log('disk not plugged in')
 *   else throw error
 * }
 * ```
 */
export class CrypttabError extends Error {
  override readonly name = 'CrypttabError'
  /** What went wrong, as a stable code. */
  readonly code: CrypttabErrorCode
  /** The crypttab target (mapping name) concerned. */
  readonly target: string
  /** What to do about it. */
  readonly hint: string | undefined
  /** The crypttab file concerned. */
  readonly file: string | undefined
  /** The device (or key file) concerned. */
  readonly device: string | undefined
  /** The exit status of the failed command. */
  readonly exitCode: number | undefined
  /** The last lines of the failed command's output. */
  readonly stderrTail: string | undefined

  /**
   * @param code - the error code
   * @param target - the crypttab target concerned
   * @param message - one sentence on what happened
   * @param details - hint, cause and context fields
   */
  constructor(code: CrypttabErrorCode, target: string, message: string, details: CrypttabErrorDetails = {}) {
    super(message, { cause: details.cause })
    this.code = code
    this.target = target
    this.hint = details.hint
    this.file = details.file
    this.device = details.device
    this.exitCode = details.exitCode
    this.stderrTail = details.stderrTail
  }
}

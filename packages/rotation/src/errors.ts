/**
 * Error codes of `@rsb/rotation`. Stable API: a code is never reused for another meaning.
 *
 * - `ERR_RSB_ROTATION_BAD_RETENTION`: a retention value is not `always` or a non-negative integer
 *   (negative, fractional, not a number, bad arithmetic).
 * - `ERR_RSB_ROTATION_EMPTY_SCHEME`: the rotation scheme names no frequency (every backup would be deleted).
 * - `ERR_RSB_ROTATION_BAD_PATTERN`: a timestamp pattern is invalid, lacks the `year`, `month` or `day` group, or
 *   uses a Python construct that has no faithful JavaScript translation.
 * - `ERR_RSB_ROTATION_BAD_OPTION`: another bad setting (an ionice class, a boolean, a removal command, a count).
 * - `ERR_RSB_ROTATION_BAD_CONFIG`: a configuration file cannot be read or parsed, or holds a bad value.
 * - `ERR_RSB_ROTATION_LOCATION_MISSING`: the directory to rotate does not exist.
 * - `ERR_RSB_ROTATION_LOCATION_UNREADABLE`: the directory to rotate cannot be read.
 * - `ERR_RSB_ROTATION_LOCATION_UNWRITABLE`: the directory to rotate cannot be written (default removal command).
 * - `ERR_RSB_ROTATION_LIST_FAILED`: listing the directory failed.
 * - `ERR_RSB_ROTATION_REMOVAL_FAILED`: one or more removal commands failed (the others still ran).
 * - `ERR_RSB_ROTATION_USAGE`: no longer produced (`rsb rotate`'s command-line errors are `ERR_RSB_CLI_USAGE`, as in
 *   every rsb program); kept so that the code is never reused.
 */
export type RotationErrorCode =
  | 'ERR_RSB_ROTATION_BAD_RETENTION'
  | 'ERR_RSB_ROTATION_EMPTY_SCHEME'
  | 'ERR_RSB_ROTATION_BAD_PATTERN'
  | 'ERR_RSB_ROTATION_BAD_OPTION'
  | 'ERR_RSB_ROTATION_BAD_CONFIG'
  | 'ERR_RSB_ROTATION_LOCATION_MISSING'
  | 'ERR_RSB_ROTATION_LOCATION_UNREADABLE'
  | 'ERR_RSB_ROTATION_LOCATION_UNWRITABLE'
  | 'ERR_RSB_ROTATION_LIST_FAILED'
  | 'ERR_RSB_ROTATION_REMOVAL_FAILED'
  | 'ERR_RSB_ROTATION_USAGE'

/** Details a {@link RotationError} may carry. */
export interface RotationErrorDetails {
  /** What to do about it. */
  hint?: string | undefined
  /** The original failure. */
  cause?: unknown
  /** What the error is about: a value, a pattern, a location or a file. */
  target?: string | undefined
}

/**
 * The one error class of `@rsb/rotation`.
 *
 * @example
 * ```ts
 * try { parseRetention('7/2') } catch (e) { if (e instanceof RotationError) console.error(e.code, e.hint) }
 * ```
 */
export class RotationError extends Error {
  override readonly name = 'RotationError'
  readonly code: RotationErrorCode
  readonly hint: string | undefined
  readonly target: string | undefined

  constructor(code: RotationErrorCode, message: string, details: RotationErrorDetails = {}) {
    super(message, { cause: details.cause })
    this.code = code
    this.hint = details.hint
    this.target = details.target
  }
}

/**
 * True for any rsb error (from any `@rsb/*` package), recognised by its code: the same duck typing as
 * `@rsb/exec`'s `isRsbError`, without loading `@rsb/exec`.
 */
export function isRsbError(error: unknown): error is Error & { code: string; hint?: string | undefined } {
  if (!(error instanceof Error)) return false
  const code: unknown = (error as Error & { code?: unknown }).code
  return typeof code === 'string' && code.startsWith('ERR_RSB_')
}

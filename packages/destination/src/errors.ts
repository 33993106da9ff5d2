/**
 * Error codes of `@rsb/destination`. Stable API: a code is never reused for another meaning.
 *
 * - `ERR_RSB_DESTINATION_INVALID`: the expression is empty or missing, is not valid Unicode, or (from
 *   {@link formatDestination}) a hand-built value has no expression that reads back as the same destination.
 * - `ERR_RSB_DESTINATION_CONTROL_CHARACTER`: the expression contains a control character (newline, tab, NUL, DEL…).
 * - `ERR_RSB_DESTINATION_NO_HOST`: a remote form with an empty host (`:dir`, `::module`, `rsync:///module`).
 * - `ERR_RSB_DESTINATION_BAD_HOST`: the host contains brackets outside a leading `[…]` pair, whitespace, or a
 *   bracketed host contains `@`, `[` or `]`.
 * - `ERR_RSB_DESTINATION_EMPTY_USER`: an `@` with nothing before it (`@host:dir`).
 * - `ERR_RSB_DESTINATION_PASSWORD`: an `rsync://user:password@…` URL (the password is redacted in the message).
 * - `ERR_RSB_DESTINATION_NO_MODULE`: a daemon destination without a module (`rsync://host`, `host::`, `host::/dir`).
 * - `ERR_RSB_DESTINATION_BAD_PORT`: the port of an `rsync://` URL is empty or not a decimal number.
 * - `ERR_RSB_DESTINATION_PORT_RANGE`: a port outside 1–65535 (in the URL or as the default port).
 * - `ERR_RSB_DESTINATION_NO_PARENT`: the parent directory of the destination directory cannot be determined
 *   (`latest`, `/`, `host:`, a daemon module), so snapshots cannot be created or rotated.
 * - `ERR_RSB_DESTINATION_NO_CONTEXT`: commands were asked to run on an rsync daemon destination.
 */
export type DestinationErrorCode =
  | 'ERR_RSB_DESTINATION_INVALID'
  | 'ERR_RSB_DESTINATION_CONTROL_CHARACTER'
  | 'ERR_RSB_DESTINATION_NO_HOST'
  | 'ERR_RSB_DESTINATION_BAD_HOST'
  | 'ERR_RSB_DESTINATION_EMPTY_USER'
  | 'ERR_RSB_DESTINATION_PASSWORD'
  | 'ERR_RSB_DESTINATION_NO_MODULE'
  | 'ERR_RSB_DESTINATION_BAD_PORT'
  | 'ERR_RSB_DESTINATION_PORT_RANGE'
  | 'ERR_RSB_DESTINATION_NO_PARENT'
  | 'ERR_RSB_DESTINATION_NO_CONTEXT'

/**
 * The one error class of `@rsb/destination`: every failure of this package is a `DestinationError`.
 *
 * @example
 * ```ts
 * try {
 *   parseDestination('rsync://backup-server')
 * } catch (error) {
 *   if (error instanceof DestinationError) console.error(error.code, error.message, error.hint)
 *   // ERR_RSB_DESTINATION_NO_MODULE Failed to parse expression! (rsync://backup-server): …
 * }
 * ```
 */
export class DestinationError extends Error {
  override readonly name = 'DestinationError'
  /** What went wrong, as a stable code. */
  readonly code: DestinationErrorCode
  /**
   * The expression concerned: the input of `parseDestination` (`''` when it was missing), or the formatted
   * destination. Credentials are redacted.
   */
  readonly expression: string
  /** What to do about it. */
  readonly hint: string | undefined

  /**
   * @param code - the error code
   * @param expression - the expression concerned (already redacted)
   * @param message - one sentence on what happened
   * @param options - `hint`: what to do; `cause`: the original failure
   */
  constructor(code: DestinationErrorCode, expression: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.code = code
    this.expression = expression
    this.hint = options.hint
  }
}

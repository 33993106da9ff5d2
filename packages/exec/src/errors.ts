/**
 * Error codes of `@rsb/exec`. Stable API: a code is never reused for another meaning.
 *
 * - `ERR_RSB_EXEC_COMMAND_FAILED`: a checked command exited non-zero or was killed by a signal.
 * - `ERR_RSB_EXEC_NOT_FOUND`: the program does not exist (spawn ENOENT, or status 127).
 * - `ERR_RSB_EXEC_SUDO_PASSWORD`: sudo wanted a password in a non-interactive run (the rules allow the command,
 *   with a password; or the user has no passwordless rule at all, so sudo cannot say more).
 * - `ERR_RSB_EXEC_SUDO_DENIED`: sudo refused: no sudoers rule allows this user the command (`… is not allowed to
 *   execute …`, or `a password is required` for a command that `sudo -n -l` says no rule allows), the
 *   environment it was given (a rule without SETENV), or to run without a terminal (requiretty).
 * - `ERR_RSB_EXEC_ABORTED`: the command was stopped through its AbortSignal.
 * - `ERR_RSB_EXEC_INVALID_OPTION`: a bad option value (for example an unknown ionice class).
 * - `ERR_RSB_EXEC_SSH_CONFIG`: the SSH settings of a host could not be resolved.
 * - `ERR_RSB_EXEC_SSH_CONNECT`: the SSH connection could not be made or was lost.
 * - `ERR_RSB_EXEC_SSH_AUTH`: the server accepted none of our keys.
 * - `ERR_RSB_EXEC_HOST_KEY_UNKNOWN`: the server's host key is not in any known_hosts file.
 * - `ERR_RSB_EXEC_HOST_KEY_MISMATCH`: the server's host key differs from the known one (or is revoked).
 * - `ERR_RSB_EXEC_TUNNEL`: the SSH tunnel could not be opened or could not reach its remote port.
 * - `ERR_RSB_EXEC_CLEANUP`: one or more cleanups of a scope failed.
 */
export type ExecErrorCode =
  | 'ERR_RSB_EXEC_COMMAND_FAILED'
  | 'ERR_RSB_EXEC_NOT_FOUND'
  | 'ERR_RSB_EXEC_SUDO_PASSWORD'
  | 'ERR_RSB_EXEC_SUDO_DENIED'
  | 'ERR_RSB_EXEC_ABORTED'
  | 'ERR_RSB_EXEC_INVALID_OPTION'
  | 'ERR_RSB_EXEC_SSH_CONFIG'
  | 'ERR_RSB_EXEC_SSH_CONNECT'
  | 'ERR_RSB_EXEC_SSH_AUTH'
  | 'ERR_RSB_EXEC_HOST_KEY_UNKNOWN'
  | 'ERR_RSB_EXEC_HOST_KEY_MISMATCH'
  | 'ERR_RSB_EXEC_TUNNEL'
  | 'ERR_RSB_EXEC_CLEANUP'

/** Details an {@link ExecError} may carry. */
export interface ExecErrorDetails {
  /** What to do about it. */
  hint?: string | undefined
  /** The original failure. */
  cause?: unknown
  /** The final argv that ran (with sudo/ionice prefixes). */
  argv?: readonly string[] | undefined
  /** Where it ran: `localhost` or `[user@]host`. */
  host?: string | undefined
  /** The exit status, when the command exited. */
  exitCode?: number | undefined
  /** The signal that ended the command, when it was killed. */
  signal?: string | undefined
  /** The last lines of the command's standard error. */
  stderrTail?: string | undefined
}

/**
 * The one error class of `@rsb/exec`.
 *
 * @example
 * ```ts
 * try { await context.run(['false']) } catch (e) { if (e instanceof ExecError) console.error(e.code, e.exitCode) }
 * ```
 */
export class ExecError extends Error {
  override readonly name = 'ExecError'
  readonly code: ExecErrorCode
  readonly hint: string | undefined
  readonly argv: readonly string[] | undefined
  readonly host: string | undefined
  readonly exitCode: number | undefined
  readonly signal: string | undefined
  readonly stderrTail: string | undefined

  constructor(code: ExecErrorCode, message: string, details: ExecErrorDetails = {}) {
    super(message, { cause: details.cause })
    this.code = code
    this.hint = details.hint
    this.argv = details.argv
    this.host = details.host
    this.exitCode = details.exitCode
    this.signal = details.signal
    this.stderrTail = details.stderrTail
  }
}

/** True for any rsb error (from any `@rsb/*` package), recognised by its code (duck typing). */
export function isRsbError(error: unknown): error is Error & { code: string; hint?: string | undefined } {
  if (!(error instanceof Error)) return false
  const code: unknown = (error as Error & { code?: unknown }).code
  return typeof code === 'string' && code.startsWith('ERR_RSB_')
}

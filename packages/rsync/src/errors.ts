/**
 * Error codes of `@rsb/rsync`. Stable API: a code is never reused for another meaning.
 *
 * rsync's own exit statuses (rsync(1), "EXIT VALUES"), each with its own code:
 *
 * - `ERR_RSB_RSYNC_SYNTAX` (1): syntax or usage error.
 * - `ERR_RSB_RSYNC_PROTOCOL` (2): protocol incompatibility.
 * - `ERR_RSB_RSYNC_FILE_SELECTION` (3): errors selecting input/output files or directories.
 * - `ERR_RSB_RSYNC_UNSUPPORTED` (4): requested action not supported.
 * - `ERR_RSB_RSYNC_START` (5): error starting the client-server protocol (for example an unknown daemon module).
 * - `ERR_RSB_RSYNC_DAEMON_LOG` (6): the daemon is unable to append to its log file.
 * - `ERR_RSB_RSYNC_SOCKET_IO` (10): error in socket I/O (for example connection refused).
 * - `ERR_RSB_RSYNC_FILE_IO` (11): error in file I/O.
 * - `ERR_RSB_RSYNC_DATA_STREAM` (12): error in the rsync protocol data stream.
 * - `ERR_RSB_RSYNC_DIAGNOSTICS` (13): errors with program diagnostics.
 * - `ERR_RSB_RSYNC_IPC` (14): error in IPC code.
 * - `ERR_RSB_RSYNC_SIBLING_CRASHED` (15): a sibling process crashed.
 * - `ERR_RSB_RSYNC_SIBLING_KILLED` (16): a sibling process was killed by a signal.
 * - `ERR_RSB_RSYNC_SIGNAL` (19, 20): rsync received a signal (SIGUSR1; SIGINT, SIGTERM or SIGHUP).
 * - `ERR_RSB_RSYNC_WAITPID` (21): some error returned by waitpid().
 * - `ERR_RSB_RSYNC_MEMORY` (22): error allocating core memory buffers.
 * - `ERR_RSB_RSYNC_MAX_DELETE` (25): the `--max-delete` limit stopped deletions.
 * - `ERR_RSB_RSYNC_TIMEOUT` (30): timeout in data send/receive.
 * - `ERR_RSB_RSYNC_DAEMON_TIMEOUT` (35): timeout waiting for the daemon connection.
 * - `ERR_RSB_RSYNC_SSH` (255): the remote shell (ssh) failed, for example it could not connect or log in.
 * - `ERR_RSB_RSYNC_EXIT`: any other non-zero exit status.
 *
 * Statuses 23 (partial transfer due to error) and 24 (vanished source files) are not errors: they are
 * reported as a warning (see {@link RsyncResult}).
 *
 * Failures around rsync:
 *
 * - `ERR_RSB_RSYNC_NOT_FOUND`: rsync (or the sudo/ionice in front of it) is not installed.
 * - `ERR_RSB_RSYNC_SUDO_PASSWORD`: sudo wanted a password in a non-interactive run.
 * - `ERR_RSB_RSYNC_KILLED`: rsync was ended by a signal that rsb did not send.
 * - `ERR_RSB_RSYNC_CANCELLED`: the run was stopped through its `AbortSignal`.
 * - `ERR_RSB_RSYNC_INVALID_OPTION`: a bad option of {@link buildRsyncArgs} (an operand starting with `-`, a
 *   pass-through option that is not an option, an empty exclude pattern, a bad port).
 * - `ERR_RSB_RSYNC_UNSAFE_OPTION`: a pass-through option that would break hard-link snapshots or change SOURCE
 *   (`--inplace`, `--append`, `--append-verify`, `--write-devices`, `--backup`/`-b`, `--backup-dir`, `--suffix`,
 *   `--remove-source-files`, `--remove-sent-files`, `--link-dest`, `--copy-dest`, `--compare-dest`,
 *   `--read-batch`, `--only-write-batch`, `--server`, `--sender`, `--daemon`; also inside a short-option cluster
 *   and in the value of `-M`/`--remote-option`). See `checkRsyncOptions` in `options.ts`.
 */
export type RsyncErrorCode =
  | 'ERR_RSB_RSYNC_SYNTAX'
  | 'ERR_RSB_RSYNC_PROTOCOL'
  | 'ERR_RSB_RSYNC_FILE_SELECTION'
  | 'ERR_RSB_RSYNC_UNSUPPORTED'
  | 'ERR_RSB_RSYNC_START'
  | 'ERR_RSB_RSYNC_DAEMON_LOG'
  | 'ERR_RSB_RSYNC_SOCKET_IO'
  | 'ERR_RSB_RSYNC_FILE_IO'
  | 'ERR_RSB_RSYNC_DATA_STREAM'
  | 'ERR_RSB_RSYNC_DIAGNOSTICS'
  | 'ERR_RSB_RSYNC_IPC'
  | 'ERR_RSB_RSYNC_SIBLING_CRASHED'
  | 'ERR_RSB_RSYNC_SIBLING_KILLED'
  | 'ERR_RSB_RSYNC_SIGNAL'
  | 'ERR_RSB_RSYNC_WAITPID'
  | 'ERR_RSB_RSYNC_MEMORY'
  | 'ERR_RSB_RSYNC_MAX_DELETE'
  | 'ERR_RSB_RSYNC_TIMEOUT'
  | 'ERR_RSB_RSYNC_DAEMON_TIMEOUT'
  | 'ERR_RSB_RSYNC_SSH'
  | 'ERR_RSB_RSYNC_EXIT'
  | 'ERR_RSB_RSYNC_NOT_FOUND'
  | 'ERR_RSB_RSYNC_SUDO_PASSWORD'
  | 'ERR_RSB_RSYNC_KILLED'
  | 'ERR_RSB_RSYNC_CANCELLED'
  | 'ERR_RSB_RSYNC_INVALID_OPTION'
  | 'ERR_RSB_RSYNC_UNSAFE_OPTION'

/** Details an {@link RsyncError} may carry. */
export interface RsyncErrorDetails {
  /** What to do about it. */
  hint?: string | undefined
  /** The original failure (for example the `@rsb/exec` error). */
  cause?: unknown
  /** The final argv that ran (with sudo/ionice prefixes). */
  argv?: readonly string[] | undefined
  /** rsync's exit status, when it exited. */
  exitCode?: number | undefined
  /** The signal that ended rsync, when it was killed. */
  signal?: string | undefined
  /** The meaning of the exit status from rsync's table (for example `error in socket I/O`). */
  meaning?: string | undefined
  /** The last lines of rsync's standard error. */
  stderrTail?: string | undefined
}

/**
 * The one error class of `@rsb/rsync`.
 *
 * @example
 * ```ts
 * try {
 *   await runRsync({ source: '/srv', destination: 'rsync://127.0.0.1:1/backups' })
 * } catch (error) {
 *   if (error instanceof RsyncError) console.error(error.code, error.exitCode, error.meaning, error.stderrTail)
 * }
 * ```
 */
export class RsyncError extends Error {
  override readonly name = 'RsyncError'
  readonly code: RsyncErrorCode
  readonly hint: string | undefined
  readonly argv: readonly string[] | undefined
  readonly exitCode: number | undefined
  readonly signal: string | undefined
  readonly meaning: string | undefined
  readonly stderrTail: string | undefined

  constructor(code: RsyncErrorCode, message: string, details: RsyncErrorDetails = {}) {
    super(message, { cause: details.cause })
    this.code = code
    this.hint = details.hint
    this.argv = details.argv
    this.exitCode = details.exitCode
    this.signal = details.signal
    this.meaning = details.meaning
    this.stderrTail = details.stderrTail
  }
}

/** How rsb treats one of rsync's exit statuses. */
export interface RsyncExitStatus {
  /** The exit status. */
  readonly exitCode: number
  /** `success` (0), `warning` (23, 24: the run counts as a success) or `error`. */
  readonly outcome: 'success' | 'warning' | 'error'
  /** rsync's meaning of the status, from its man page (lower case, no full stop). */
  readonly meaning: string
  /** The error code for `error` outcomes. */
  readonly code: RsyncErrorCode | undefined
  /** What to do about it, for `error` outcomes where rsb can tell. */
  readonly hint: string | undefined
}

type Entry = readonly [meaning: string, code: RsyncErrorCode | undefined, hint?: string]

const EXIT_STATUSES: ReadonlyMap<number, Entry> = new Map<number, Entry>([
  [0, ['success', undefined]],
  [1, ['syntax or usage error', 'ERR_RSB_RSYNC_SYNTAX', 'Check the options passed to rsync (--rsync-option) and the rsync version.']],
  [
    2,
    [
      'protocol incompatibility',
      'ERR_RSB_RSYNC_PROTOCOL',
      'The rsync versions on both ends cannot talk to each other; upgrade the older one.',
    ],
  ],
  [
    3,
    [
      'errors selecting input/output files, directories',
      'ERR_RSB_RSYNC_FILE_SELECTION',
      'Check that the source exists and the destination directory can be created.',
    ],
  ],
  [
    4,
    [
      'requested action not supported',
      'ERR_RSB_RSYNC_UNSUPPORTED',
      'An option is not supported here (for example ACLs or xattrs on the receiving side).',
    ],
  ],
  [
    5,
    [
      'error starting client-server protocol',
      'ERR_RSB_RSYNC_START',
      "Check the module name, the daemon's configuration and its access rules.",
    ],
  ],
  [6, ['daemon unable to append to log-file', 'ERR_RSB_RSYNC_DAEMON_LOG', "Check the daemon's log file setting and permissions."]],
  [
    10,
    ['error in socket I/O', 'ERR_RSB_RSYNC_SOCKET_IO', 'Check that the host is reachable and the rsync daemon is listening on that port.'],
  ],
  [11, ['error in file I/O', 'ERR_RSB_RSYNC_FILE_IO', 'Check free space and permissions of the destination.']],
  [
    12,
    [
      'error in rsync protocol data stream',
      'ERR_RSB_RSYNC_DATA_STREAM',
      'The connection was lost or the other side failed (for an SSH destination: check that `ssh HOST` works non-interactively); see rsync’s messages.',
    ],
  ],
  [13, ['errors with program diagnostics', 'ERR_RSB_RSYNC_DIAGNOSTICS']],
  [14, ['error in IPC code', 'ERR_RSB_RSYNC_IPC']],
  [15, ['sibling process crashed', 'ERR_RSB_RSYNC_SIBLING_CRASHED']],
  [16, ['sibling process was killed by a signal', 'ERR_RSB_RSYNC_SIBLING_KILLED']],
  [19, ['received SIGUSR1', 'ERR_RSB_RSYNC_SIGNAL']],
  [20, ['received SIGINT, SIGTERM, or SIGHUP', 'ERR_RSB_RSYNC_SIGNAL']],
  [21, ['some error returned by waitpid()', 'ERR_RSB_RSYNC_WAITPID']],
  [22, ['error allocating core memory buffers', 'ERR_RSB_RSYNC_MEMORY']],
  [23, ['partial transfer due to error', undefined]],
  [24, ['partial transfer due to vanished source files', undefined]],
  [25, ['the --max-delete limit stopped deletions', 'ERR_RSB_RSYNC_MAX_DELETE']],
  [30, ['timeout in data send/receive', 'ERR_RSB_RSYNC_TIMEOUT', 'The other side stopped responding.']],
  [
    35,
    [
      'timeout waiting for daemon connection',
      'ERR_RSB_RSYNC_DAEMON_TIMEOUT',
      'Check that the host is reachable and the rsync daemon is running.',
    ],
  ],
  [
    255,
    [
      'unexplained error (usually: the remote shell, ssh, failed)',
      'ERR_RSB_RSYNC_SSH',
      'Check that `ssh HOST` works non-interactively (host key known, key-based login).',
    ],
  ],
])

/**
 * Looks up one of rsync's exit statuses: 0 is a success, 23 and 24 are a success with a warning, every other
 * status is an error with its own code and rsync's meaning.
 *
 * @param exitCode - rsync's exit status
 * @returns the outcome, the meaning from rsync's man page and the error code
 * @example
 * ```ts
 * describeRsyncExit(10) // { exitCode: 10, outcome: 'error', meaning: 'error in socket I/O', code: 'ERR_RSB_RSYNC_SOCKET_IO', … }
 * describeRsyncExit(24).outcome // 'warning'
 * ```
 */
export function describeRsyncExit(exitCode: number): RsyncExitStatus {
  const entry = EXIT_STATUSES.get(exitCode)
  if (entry === undefined) {
    return { exitCode, outcome: 'error', meaning: 'unknown exit status', code: 'ERR_RSB_RSYNC_EXIT', hint: undefined }
  }
  const [meaning, code, hint] = entry
  const outcome = exitCode === 0 ? 'success' : code === undefined ? 'warning' : 'error'
  return { exitCode, outcome, meaning, code, hint }
}

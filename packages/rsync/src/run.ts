import { performance } from 'node:perf_hooks'
import { debuglog } from 'node:util'
import {
  ExecError,
  explainSudoFailure,
  LocalContext,
  openTunnel,
  quoteCommandLine,
  tailLines,
  type Context,
  type IoniceClass,
  type RunOptions,
  type RunResult,
  type SshContext,
  type Tunnel,
} from '@rsb/exec'
import { parseDestination } from '@rsb/destination'
import { buildRsyncArgs, type RsyncArgsOptions } from './args.js'
import { describeRsyncExit, RsyncError } from './errors.js'
import { RsyncOutputParser, type RsyncEvent } from './output.js'
import type { RsyncStats } from './stats.js'

const debug = debuglog('rsb:rsync')

/** An SSH tunnel to the rsync daemon (`-t [user@]host[:port]`), opened around the transfer. */
export interface RsyncTunnelOptions {
  /** The SSH host that can reach the daemon (its connection is reused; the caller closes the context). */
  context: SshContext
  /** The daemon's port as seen from the SSH host. Default: 873. */
  remotePort?: number | undefined
  /** The daemon's host as seen from the SSH host. Default: `localhost`. */
  remoteHost?: string | undefined
}

/** Options of {@link runRsync}: the command line ({@link RsyncArgsOptions}) and how to run it. */
export interface RunRsyncOptions extends RsyncArgsOptions {
  /** Where rsync runs (the source side). Default: a new `LocalContext`. */
  context?: Context | undefined
  /** Run rsync with sudo when not root (`sudo -H rsync …`). Default: the context's `sudo`. */
  sudo?: boolean | undefined
  /** Run rsync under `ionice -c CLASS` (dropped where there is no ionice). Default: the context's. */
  ionice?: IoniceClass | undefined
  /**
   * More environment for rsync. rsync's own variables are given the way that needs no environment where one
   * exists, so that sudo with a least-privilege rule (no SETENV) runs rsync:
   *
   * - `RSYNC_RSH` becomes `--rsh=VALUE` for an SSH destination (unless the pass-through options give `-e` or
   *   `--rsh`, which win as they do in rsync); local and daemon destinations do not use it, so it is dropped.
   * - `RSYNC_PASSWORD` is never passed as environment: for a daemon destination rsync gets `--password-file=-`
   *   and reads it from standard input (unless the pass-through options name a password file), so it is in no
   *   argv, no `ps` output and no trace; for other destinations it is dropped.
   * - `RSYNC_PROXY` and `RSYNC_CONNECT_PROG` (no option says the same) stay environment for daemon destinations
   *   and are dropped for others; with sudo they reach rsync only where the sudoers rules let them through
   *   (`env_keep`, or SETENV), otherwise sudo refuses and the run fails with `ERR_RSB_EXEC_SUDO_DENIED`.
   * - `HOME` is the empty string without sudo and root's home with sudo (`sudo -H`): rsync never reads the
   *   invoking user's `~/.popt` (which can redefine rsync's options and run programs) or `~/.cvsignore`.
   * - Any other variable is passed as environment (with sudo: like `RSYNC_PROXY`).
   */
  env?: Readonly<Record<string, string>> | undefined
  /**
   * Open an SSH tunnel to the daemon for the transfer (over `@rsb/exec`'s ssh2 connection) and close it right
   * after: a daemon destination without an explicit port then uses the tunnel's local port.
   */
  tunnel?: RsyncTunnelOptions | undefined
  /** Stops rsync: SIGTERM, then SIGKILL after `killAfterMs`; the call then rejects with ERR_RSB_RSYNC_CANCELLED. */
  signal?: AbortSignal | undefined
  /** Grace period between SIGTERM and SIGKILL when cancelled, in milliseconds. Default: 5000. */
  killAfterMs?: number | undefined
  /** Receives {@link RsyncEvent}s: the command, progress, statistics, rsync's other output, the 23/24 warning. */
  onEvent?: ((event: RsyncEvent) => void) | undefined
}

/** The outcome of a successful rsync run (exit status 0, 23 or 24). */
export interface RsyncResult {
  /** The final argv that ran, with the sudo and ionice prefixes (it never holds a secret). */
  argv: readonly string[]
  /** 0, or 23/24 (a success with a warning). */
  exitCode: number
  /** For 23 and 24: rsync's meaning (`partial transfer due to vanished source files`); undefined for 0. */
  warning: string | undefined
  /** The statistics (with `stats: true`, or the summary lines of a `--verbose` run); undefined when rsync printed none. */
  stats: RsyncStats | undefined
  /** The last lines of rsync's standard error (warnings of a 23/24 run are here). */
  stderrTail: string
  /** The tunnel's local port, when a tunnel was used. */
  tunnelPort: number | undefined
  /** How long rsync ran, in milliseconds. */
  durationMs: number
}

const SUDO_NOT_FOUND = /^sudo: [^\n]*: command not found$/m

function destinationKind(destination: RsyncArgsOptions['destination']): string {
  return typeof destination === 'string' ? parseDestination(destination).kind : destination.kind
}

const SHORT_WITH_VALUE = 'BefMT'

/**
 * The base of the unit suffixes in rsync's numbers, from the pass-through options: rsync prints separators by
 * default (level 1), units of 1000 after one `-h` (level 2) and units of 1024 after two (level 3).
 */
function unitBaseOf(rsyncOptions: readonly string[]): number {
  let level = 1
  for (const option of rsyncOptions) {
    if (option === '--human-readable') level++
    else if (option === '--no-human-readable' || option === '--no-h') level = 0
    else if (/^-[A-Za-z]/.test(option)) {
      for (const letter of option.slice(1)) {
        if (SHORT_WITH_VALUE.includes(letter)) break
        if (letter === 'h') level++
      }
    }
  }
  return level >= 3 ? 1024 : 1000
}

/** Whether the pass-through options choose the remote shell (`-e CMD`, `-eCMD`, `-ave CMD`, `--rsh[=CMD]`). */
function choosesRemoteShell(rsyncOptions: readonly string[]): boolean {
  for (const option of rsyncOptions) {
    if (option === '--rsh' || option.startsWith('--rsh=')) return true
    if (/^-[A-Za-z]/.test(option)) {
      for (const letter of option.slice(1)) {
        if (letter === 'e') return true
        if (SHORT_WITH_VALUE.includes(letter)) break
      }
    }
  }
  return false
}

/** rsync's variables that only a daemon connection reads, and that no option can replace. */
const DAEMON_ENVIRONMENT = ['RSYNC_PROXY', 'RSYNC_CONNECT_PROG']

/**
 * Splits the caller's environment for rsync into options and environment (see {@link RunRsyncOptions.env}).
 * Nothing here needs sudo to accept `NAME=value`: rsb's own variables become options or standard input, and what
 * is left is environment that sudo passes only where its rules say so.
 */
function rsyncEnvironment(
  given: Readonly<Record<string, string>>,
  kind: string,
  rsyncOptions: readonly string[],
): { options: string[]; env: Record<string, string>; input: string | undefined } {
  const { RSYNC_PASSWORD: password, RSYNC_RSH: rsh, ...rest } = given
  const options: string[] = []
  let input: string | undefined
  // --rsh is exactly RSYNC_RSH for HOST:PATH (the command line beats the variable in rsync, so a -e of the
  // pass-through options still wins). Never for HOST::MODULE: an explicit --rsh makes that a daemon reached over
  // a remote shell, which RSYNC_RSH does not.
  if (rsh !== undefined && rsh !== '' && kind === 'ssh' && !choosesRemoteShell(rsyncOptions)) options.push(`--rsh=${rsh}`)
  // A daemon's password never travels in an environment (sudo would need SETENV for it, `ps` and traces would show
  // it) or in a file: rsync reads it from standard input. Elsewhere it means nothing.
  const ownPasswordFile = rsyncOptions.some((o) => o === '--password-file' || o.startsWith('--password-file='))
  if (password !== undefined && kind === 'daemon' && !ownPasswordFile) {
    options.push('--password-file=-')
    input = `${password}\n`
  }
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(rest)) {
    if (kind === 'daemon' || !DAEMON_ENVIRONMENT.includes(name)) env[name] = value
  }
  // HOME empty: rsync reads $HOME/.popt (aliases that rewrite its options, `exec` entries that run programs) and,
  // with --cvs-exclude, $HOME/.cvsignore. With sudo this becomes `sudo -H` (root's home, root's files only), the
  // one HOME sudo gives without SETENV (see buildCommandLine in @rsb/exec).
  env.HOME = ''
  return { options, env, input }
}

const NO_SPACE = /No space left on device|Disk quota exceeded/

/**
 * sudo's refusal is not rsync's exit status 1 ("syntax or usage error"). ERR_RSB_EXEC_SUDO_DENIED (no rule allows
 * rsync, or the environment it was given) goes on as it is, with its hint naming the sudoers rule; a password
 * prompt keeps rsync's own code, ERR_RSB_RSYNC_SUDO_PASSWORD. Other errors are returned unchanged.
 */
function sudoRefusal(error: ExecError): Error {
  if (error.code !== 'ERR_RSB_EXEC_SUDO_PASSWORD') return error
  const argv = error.argv ?? []
  return new RsyncError('ERR_RSB_RSYNC_SUDO_PASSWORD', `sudo asked for a password to run rsync: ${quoteCommandLine(argv)}`, {
    argv,
    exitCode: error.exitCode,
    signal: error.signal,
    stderrTail: error.stderrTail,
    cause: error,
    hint: 'Allow rsync without a password (a NOPASSWD rule in /etc/sudoers.d/), run as root, or turn sudo off.',
  })
}

function cancelled(argv: readonly string[], cause: unknown, stderrTail?: string): RsyncError {
  return new RsyncError('ERR_RSB_RSYNC_CANCELLED', 'rsync was cancelled.', { argv, cause, stderrTail })
}

/**
 * The most telling line of rsync's stderr for a one-line message: ssh's own complaint or the daemon's `@ERROR`,
 * else the last line that is not rsync's closing `rsync error: … (code N) at …` (which repeats the status).
 */
function reasonLine(stderrTail: string): string {
  const lines = stderrTail.split('\n').filter((line) => line.trim() !== '')
  return (
    lines.find((line) => line.startsWith('ssh: ') || line.startsWith('@ERROR')) ??
    // the receiver's "No space left on device" comes before the sender's consequential "Broken pipe"
    lines.find((line) => NO_SPACE.test(line)) ??
    lines.findLast((line) => !line.startsWith('rsync error: ')) ??
    lines.at(-1) ??
    ''
  )
}

function interpret(
  result: RunResult,
  argv: readonly string[],
  tunnel: Tunnel | undefined,
): { exitCode: number; warning: string | undefined } {
  const stderrTail = tailLines(result.stderr)
  const shown = quoteCommandLine(argv)
  const details = { argv, exitCode: result.exitCode, signal: result.signal, stderrTail }
  if (result.exitCode === undefined) {
    throw new RsyncError('ERR_RSB_RSYNC_KILLED', `rsync was killed by ${result.signal ?? 'a signal'}: ${shown}`, {
      ...details,
      hint: 'Something outside rsb stopped rsync (the OOM killer, an administrator, a service manager). Run the backup again.',
    })
  }
  const usedSudo = result.argv[0] === 'sudo'
  if (result.exitCode === 127 || (usedSudo && result.exitCode === 1 && SUDO_NOT_FOUND.test(result.stderr))) {
    throw new RsyncError('ERR_RSB_RSYNC_NOT_FOUND', `rsync could not be started (command not found): ${shown}`, {
      ...details,
      hint: 'Install rsync (for example `apt-get install rsync`) or check PATH.',
    })
  }
  const status = describeRsyncExit(result.exitCode)
  if (status.outcome !== 'error') {
    return { exitCode: result.exitCode, warning: status.outcome === 'warning' ? status.meaning : undefined }
  }
  const reason = stderrTail ? `: ${reasonLine(stderrTail)}` : ''
  const tunnelError = tunnel?.lastError
  throw new RsyncError(
    status.code ?? 'ERR_RSB_RSYNC_EXIT',
    `rsync failed with exit status ${result.exitCode} (${status.meaning})${reason}`,
    {
      ...details,
      meaning: status.meaning,
      cause: tunnelError,
      hint: tunnelError
        ? `${tunnelError.message} ${(tunnelError as ExecError).hint ?? ''}`.trim()
        : NO_SPACE.test(stderrTail)
          ? 'The destination filesystem is full (space or inodes): free space there, for example by keeping fewer snapshots (rsb --rotate with a smaller --rotation), then run the backup again.'
          : status.hint,
    },
  )
}

/**
 * Runs rsync the way rsync-system-backup did: the argv of {@link buildRsyncArgs}, in the given context (local
 * by default), with `sudo` when asked and not root (`sudo -H rsync …`: no `NAME=value` on sudo's command line, so a
 * NOPASSWD rule without SETENV runs it), under `ionice -c CLASS` when asked, and with `HOME` empty (root's home
 * with sudo). Exit status 0 is a success; 23 and 24 are a success with a warning (a `warning` event
 * and `result.warning`); every other status throws an {@link RsyncError} whose code names rsync's meaning and
 * which carries the tail of rsync's standard error.
 *
 * With `progress: true` rsync gets `--info=progress2` and each progress line becomes a `progress` event; with
 * `stats: true` it gets `--stats` and the statistics come back in the result (and a `stats` event).
 *
 * @param options - the command line and how to run it
 * @returns the exit status, the warning, the statistics
 * @throws {RsyncError} ERR_RSB_RSYNC_* for a failing exit status (`ERR_RSB_RSYNC_SOCKET_IO` for 10, …),
 *   ERR_RSB_RSYNC_NOT_FOUND, ERR_RSB_RSYNC_SUDO_PASSWORD, ERR_RSB_RSYNC_KILLED, ERR_RSB_RSYNC_CANCELLED (after
 *   rsync has stopped), ERR_RSB_RSYNC_INVALID_OPTION (see {@link buildRsyncArgs}; also a tunnel to a destination
 *   that is not a daemon)
 * @throws {ExecError} the SSH and tunnel errors of `@rsb/exec` when the tunnel cannot be opened;
 *   ERR_RSB_EXEC_SUDO_DENIED when sudo refuses to run rsync (no rule allows it, or the environment it was given)
 * @example
 * ```ts
 * import { runRsync } from '@rsb/rsync'
 * const result = await runRsync({
 *   source: '/home/me/documents',
 *   destination: '/mnt/backups/latest',
 *   progress: true,
 *   stats: true,
 *   onEvent: (event) => { if (event.type === 'progress') console.error(`${event.percent}% ${event.rate}`) },
 * })
 * console.log(result.exitCode, result.stats?.files?.total)
 * ```
 */
export async function runRsync(options: RunRsyncOptions): Promise<RsyncResult> {
  const context = options.context ?? new LocalContext()
  const onEvent = options.onEvent
  if (options.signal?.aborted) throw cancelled(['rsync'], options.signal.reason)
  // Check the command line before opening anything.
  buildRsyncArgs(options)
  if (options.tunnel && destinationKind(options.destination) !== 'daemon') {
    throw new RsyncError('ERR_RSB_RSYNC_INVALID_OPTION', 'An SSH tunnel only applies to an rsync daemon destination.', {
      hint: 'Give the destination as HOST::MODULE[/DIR] or rsync://HOST/MODULE[/DIR], or leave the tunnel out.',
    })
  }
  let tunnel: Tunnel | undefined
  if (options.tunnel) {
    tunnel = await openTunnel(options.tunnel.context, options.tunnel.remotePort ?? 873, { remoteHost: options.tunnel.remoteHost })
    debug('tunnel 127.0.0.1:%d → %s:%d via %s', tunnel.localPort, tunnel.remoteHost, tunnel.remotePort, options.tunnel.context.host)
  }
  try {
    const args = buildRsyncArgs({ ...options, tunnelPort: tunnel?.localPort ?? options.tunnelPort })
    const {
      options: envOptions,
      env,
      input,
    } = rsyncEnvironment(options.env ?? {}, destinationKind(options.destination), options.rsyncOptions ?? [])
    args.splice(args.length - 2, 0, ...envOptions)
    const parse = onEvent !== undefined || options.stats === true || options.dryRun === true
    const parser = parse ? new RsyncOutputParser({ onEvent, unitBase: unitBaseOf(options.rsyncOptions ?? []) }) : undefined
    const runOptions: RunOptions = {
      env,
      input,
      check: false,
      capture: false,
      killAfterMs: options.killAfterMs ?? 5000,
    }
    if (options.sudo !== undefined) runOptions.sudo = options.sudo
    if (options.ionice !== undefined) runOptions.ionice = options.ionice
    if (options.signal !== undefined) runOptions.signal = options.signal
    if (parser !== undefined) {
      runOptions.onStdout = (chunk) => parser.pushStdout(chunk)
      runOptions.onStderr = (chunk) => parser.pushStderr(chunk)
    }
    let argv: readonly string[] = args
    if (onEvent !== undefined) {
      argv = (await context.commandLine(args, runOptions)).argv
      onEvent({ type: 'command', argv })
    }
    const started = performance.now()
    let result: RunResult
    try {
      result = await context.run(args, runOptions)
    } catch (error) {
      if (error instanceof ExecError && error.code === 'ERR_RSB_EXEC_ABORTED') {
        throw cancelled(error.argv ?? argv, error, error.stderrTail)
      }
      // a context of @rsb/exec throws sudo's refusal although rsync runs unchecked
      if (error instanceof ExecError) throw sudoRefusal(error)
      throw error
    }
    const durationMs = performance.now() - started
    const stats = parser?.end()
    argv = result.argv
    if (options.signal?.aborted && result.exitCode !== 0) throw cancelled(argv, options.signal.reason, tailLines(result.stderr))
    // (and another implementation of Context may not)
    const refusal = await explainSudoFailure(context, result)
    if (refusal) throw sudoRefusal(refusal)
    const { exitCode, warning } = interpret(result, argv, tunnel)
    if (warning !== undefined) {
      onEvent?.({ type: 'warning', exitCode, meaning: warning, message: `rsync exited with ${exitCode} (${warning}).` })
    }
    return { argv, exitCode, warning, stats, stderrTail: tailLines(result.stderr), tunnelPort: tunnel?.localPort, durationMs }
  } finally {
    await tunnel?.close()
  }
}

import { performance } from 'node:perf_hooks'
import { debuglog } from 'node:util'
import {
  ExecError,
  explainSudoFailure,
  LocalContext,
  openTunnel,
  parseSshCommand,
  quoteCommandLine,
  resolveSshHost,
  tailLines,
  type Context,
  type IoniceClass,
  type RunOptions,
  type RunResult,
  type SshContext,
  type SshHostConfig,
  type Tunnel,
} from '@rsb/exec'
import { parseDestination } from '@rsb/destination'
import { buildRsyncArgs, type RsyncArgsOptions } from './args.js'
import { describeRsyncExit, RsyncError } from './errors.js'
import { RSYNC_SHORT_OPTIONS_WITH_VALUE } from './options.js'
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
   * A keepalive for the ssh that rsync starts for an SSH destination (`{ interval: 15, countMax: 4 }`, `@rsb/exec`'s
   * `SSH_KEEPALIVE`): rsync's remote shell (`RSYNC_RSH` of `env`, default `ssh`) gets `-o ServerAliveInterval=…`
   * and `-o ServerAliveCountMax=…` appended (so it becomes `--rsh=…`) where the user's own settings give none, as
   * {@link withSshKeepalive} decides from `ssh -G -o BatchMode=no` with the remote shell's options and the
   * destination's `[user@]host`, run in `context` without sudo (BatchMode=no: Debian's ssh makes BatchMode yes
   * imply ServerAliveInterval 300, a default and not a setting of the user's). Nothing is added for local and
   * daemon destinations (an explicit `--rsh` would make a daemon destination a daemon over a remote shell), when
   * `rsyncOptions` choose the remote shell (`-e`, `--rsh`), when `RSYNC_RSH` is another program than ssh or holds
   * what {@link parseSshCommand} cannot read, or when `ssh -G` fails (rsync's ssh then reports the problem itself).
   * Default: none.
   */
  sshKeepalive?: SshKeepalive | undefined
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

/**
 * How pass-through rsync options choose rsync's remote shell: `--rsh` (also `--rsh=CMD`), `-e` (anywhere in a cluster
 * of short options before one whose value is the rest: `-essh`, `-ae`), or undefined when they do not. Only the
 * option's name, never the command, which may hold a secret.
 *
 * @example
 * ```ts
 * remoteShellOption(['-avessh -p 2222']) // '-e'
 * remoteShellOption(['-Tessh']) // undefined: the e is -T's value
 * ```
 */
export function remoteShellOption(rsyncOptions: readonly string[]): '--rsh' | '-e' | undefined {
  for (const option of rsyncOptions) {
    if (option === '--rsh' || option.startsWith('--rsh=')) return '--rsh'
    if (!/^-[^-]/.test(option)) continue
    for (const letter of option.slice(1)) {
      if (letter === 'e') return '-e'
      if (RSYNC_SHORT_OPTIONS_WITH_VALUE.includes(letter)) break
    }
  }
  return undefined
}

function choosesRemoteShell(rsyncOptions: readonly string[]): boolean {
  return remoteShellOption(rsyncOptions) !== undefined
}

/** A keepalive for ssh, in ssh_config's terms: `ServerAliveInterval` (seconds) and `ServerAliveCountMax`. */
export interface SshKeepalive {
  /** ServerAliveInterval: seconds without data from the server before ssh sends a keepalive. */
  readonly interval: number
  /** ServerAliveCountMax: unanswered keepalives before ssh gives up. */
  readonly countMax: number
}

/** ssh's default ServerAliveCountMax, which `ssh -G` reports when nothing sets it. */
const SSH_DEFAULT_COUNT_MAX = 3
/** ServerAliveInterval and Debian's aliases of it (lower case). */
const INTERVAL_KEYWORDS = ['serveraliveinterval', 'protocolkeepalives', 'setuptimeout']

/** The keywords (lower case) that the `-o` options of an ssh command line set. */
function keywordsOf(sshArgs: readonly string[]): Set<string> {
  const keywords = new Set<string>()
  for (let index = 0; index < sshArgs.length - 1; index++) {
    if (sshArgs[index] !== '-o') continue
    const keyword = /^\s*([A-Za-z0-9]+)/.exec(sshArgs[++index] as string)?.[1]
    if (keyword !== undefined) keywords.add(keyword.toLowerCase())
  }
  return keywords
}

/**
 * rsync's remote shell with a keepalive, unless the user's own ssh settings have one. ssh takes the first value it
 * gets for an option, and its command line (`-o`) before any ssh_config file, so an appended `-o` beats whatever the
 * config files say: rsb appends only what no setting of the user's gives.
 *
 * - `-o ServerAliveInterval=INTERVAL` when `ssh -G` reports ServerAliveInterval 0 (ssh's default: no keepalive) and
 *   `rsh` has no `-o ServerAliveInterval` of its own (nor Debian's aliases ProtocolKeepAlives and SetupTimeOut;
 *   `-o ServerAliveInterval=0` keeps the keepalive off). An interval set anywhere (ssh_config, the `-F` file, `-o`)
 *   leaves `rsh` as it is, with the user's ServerAliveCountMax.
 * - `-o ServerAliveCountMax=COUNT` with it, only when `ssh -G` reports ssh's default 3 and `rsh` has no
 *   `-o ServerAliveCountMax`: a count of the user's stays, with rsb's interval. (`ssh -G` cannot tell a
 *   `ServerAliveCountMax 3` in a config file from the default: that one becomes COUNT.)
 * - Nothing when `rsh` is another program than ssh or holds what {@link parseSshCommand} cannot read the way
 *   rsync does (shell syntax, unbalanced quotes, `-J`, ProxyCommand…), or when `keepalive.interval` is 0.
 *
 * The values appended are plain words, so `rsh` keeps rsync's quoting (rsync splits `--rsh` at spaces, honouring
 * `'…'` and `"…"`). Pure: `settings` are what `ssh -G` said for the destination with `rsh`'s options.
 *
 * @param rsh - the remote shell as rsync reads `$RSYNC_RSH` (`ssh` when unset)
 * @param settings - `ssh -G`'s ServerAliveInterval and ServerAliveCountMax for the destination, with `rsh`'s options
 * @param keepalive - the values to add (`@rsb/exec`'s `SSH_KEEPALIVE`)
 * @returns `rsh` with the options appended, or `rsh` itself when nothing is added
 * @throws {RsyncError} ERR_RSB_RSYNC_INVALID_OPTION when `keepalive` is not whole numbers (the count at least 1)
 * @example
 * ```ts
 * const defaults = { serverAliveInterval: 0, serverAliveCountMax: 3 }
 * console.log(withSshKeepalive("ssh -i '/root/backup key'", defaults, { interval: 15, countMax: 4 }))
 * // ssh -i '/root/backup key' -o ServerAliveInterval=15 -o ServerAliveCountMax=4
 * console.log(withSshKeepalive('ssh', { ...defaults, serverAliveInterval: 5 }, { interval: 15, countMax: 4 })) // ssh
 * ```
 */
export function withSshKeepalive(
  rsh: string,
  settings: Pick<SshHostConfig, 'serverAliveInterval' | 'serverAliveCountMax'>,
  keepalive: SshKeepalive,
): string {
  if (
    !Number.isSafeInteger(keepalive.interval) ||
    keepalive.interval < 0 ||
    !Number.isSafeInteger(keepalive.countMax) ||
    keepalive.countMax < 1
  ) {
    throw new RsyncError('ERR_RSB_RSYNC_INVALID_OPTION', `Invalid SSH keepalive: ${keepalive.interval} s × ${keepalive.countMax}.`, {
      hint: 'Give ServerAliveInterval as whole seconds (0: none) and ServerAliveCountMax as a whole number of at least 1.',
    })
  }
  if (keepalive.interval === 0) return rsh
  const command = parseSshCommand(rsh)
  if (command.unsupported !== undefined) return rsh
  const own = keywordsOf(command.sshArgs)
  if (INTERVAL_KEYWORDS.some((keyword) => own.has(keyword)) || settings.serverAliveInterval !== 0) return rsh
  const added = [`-o ServerAliveInterval=${keepalive.interval}`]
  if (!own.has('serveralivecountmax') && settings.serverAliveCountMax === SSH_DEFAULT_COUNT_MAX) {
    added.push(`-o ServerAliveCountMax=${keepalive.countMax}`)
  }
  return `${rsh} ${added.join(' ')}`
}

/**
 * The remote shell with {@link RunRsyncOptions.sshKeepalive}, or undefined to leave `RSYNC_RSH` as it is: asks
 * `ssh -G` where rsync runs (without sudo) for an SSH destination whose remote shell rsb may extend.
 */
async function keepaliveShell(options: RunRsyncOptions, context: Context): Promise<string | undefined> {
  const keepalive = options.sshKeepalive
  if (keepalive === undefined) return undefined
  const destination = typeof options.destination === 'string' ? parseDestination(options.destination) : options.destination
  if (destination.kind !== 'ssh' || choosesRemoteShell(options.rsyncOptions ?? [])) return undefined
  const given = options.env?.RSYNC_RSH
  const rsh = given === undefined || given.trim() === '' ? 'ssh' : given
  const command = parseSshCommand(rsh)
  if (command.unsupported !== undefined) {
    debug('no keepalive for rsync’s ssh: $RSYNC_RSH %s', command.unsupported)
    return undefined
  }
  const hostname = destination.hostname ?? ''
  const target = destination.username ? `${destination.username}@${hostname}` : hostname
  let settings: SshHostConfig
  try {
    // BatchMode=no first: Debian's ssh makes ServerAliveInterval default to 300 with BatchMode yes, which ssh -G
    // reports like a setting; that default is no setting of the user's (and no Match criterion reads BatchMode)
    settings = await resolveSshHost(target, { sshArgs: ['-o', 'BatchMode=no', ...command.sshArgs], context })
  } catch (error) {
    debug('no keepalive for rsync’s ssh: %s', (error as Error).message)
    return undefined
  }
  const shell = withSshKeepalive(rsh, settings, keepalive)
  debug(
    'rsync’s ssh: ServerAliveInterval %d, ServerAliveCountMax %d from ssh -G; %s',
    settings.serverAliveInterval,
    settings.serverAliveCountMax,
    shell === rsh ? 'kept' : 'keepalive added',
  )
  return shell === rsh ? undefined : shell
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
    const shell = await keepaliveShell(options, context)
    const {
      options: envOptions,
      env,
      input,
    } = rsyncEnvironment(
      shell === undefined ? (options.env ?? {}) : { ...options.env, RSYNC_RSH: shell },
      destinationKind(options.destination),
      options.rsyncOptions ?? [],
    )
    // before the operands: every source and the destination
    args.splice(args.length - 1 - (options.sources?.length ?? 1), 0, ...envOptions)
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

import { debuglog } from 'node:util'
import { buildCommandLine, type IoniceClass } from './command.js'
import { ExecError } from './errors.js'
import { quoteCommandLine } from './quote.js'
import { explainSudoFailure } from './sudo.js'

const debug = debuglog('rsb:exec')

/** Options of one command. Per-call values override the context's defaults. */
export interface RunOptions {
  /** Run with `sudo` when the context is not root already. Default: the context's `sudo`. */
  sudo?: boolean | undefined
  /** Run under `ionice -c CLASS` (dropped silently where `ionice` does not exist). Default: the context's. */
  ionice?: IoniceClass | undefined
  /**
   * Environment overrides. With sudo never on sudo's command line: `HOME` becomes `sudo -H`, the others reach the
   * command only where the sudoers rules let them through (see {@link buildCommandLine}).
   */
  env?: Readonly<Record<string, string>> | undefined
  /** Standard input. Default: nothing (`/dev/null` locally). */
  input?: string | Uint8Array | undefined
  /**
   * Throw an {@link ExecError} when the command fails. Default: true. A command that sudo refused to start throws
   * either way (ERR_RSB_EXEC_SUDO_DENIED, ERR_RSB_EXEC_SUDO_PASSWORD): it never ran, so it has no status.
   */
  check?: boolean | undefined
  /** Keep standard output and error in the result. Default: true. Without it only stderr's tail is kept. */
  capture?: boolean | undefined
  /** Called with each chunk of standard output as it arrives (decoded as UTF-8). */
  onStdout?: ((chunk: string) => void) | undefined
  /** Called with each chunk of standard error as it arrives (decoded as UTF-8). */
  onStderr?: ((chunk: string) => void) | undefined
  /** Stops the command: SIGTERM, then SIGKILL after `killAfterMs`. The call then rejects with ERR_RSB_EXEC_ABORTED. */
  signal?: AbortSignal | undefined
  /** Grace period between SIGTERM and SIGKILL on abort, in milliseconds. Default: 5000. */
  killAfterMs?: number | undefined
  /**
   * Let the command talk to the user's terminal (standard input, output and error inherited, nothing captured):
   * for passphrase prompts in an interactive run. Local contexts only; ignored over SSH (no terminal there).
   */
  terminal?: boolean | undefined
}

/** The outcome of a command that ran. */
export interface RunResult {
  /** The final argv (with sudo and ionice prefixes). */
  argv: readonly string[]
  /** Exit status; undefined when a signal ended the command. 127 means "command not found". */
  exitCode: number | undefined
  /** The signal that ended the command (for example `SIGTERM`). */
  signal: string | undefined
  /** Standard output (empty unless captured). */
  stdout: string
  /** Standard error (its tail only, unless captured). */
  stderr: string
}

/** Defaults of a context, applied to every command unless the call overrides them. */
export interface ContextDefaults {
  /** Use sudo for commands when not root. Default: false. */
  sudo?: boolean | undefined
  /** Default I/O scheduling class. */
  ionice?: IoniceClass | undefined
  /**
   * Whether a person may answer prompts. When false, sudo gets `-n` and fails at once instead of
   * waiting for a password. Default: standard input is a terminal (local), false (SSH).
   */
  interactive?: boolean | undefined
}

/**
 * Where commands run: this machine ({@link LocalContext}) or one SSH host ({@link SshContext}).
 * Commands are argv arrays, never shell strings.
 */
export interface Context {
  /** `local` or `ssh`. */
  readonly kind: 'local' | 'ssh'
  /** `localhost`, or `[user@]host` for SSH. */
  readonly host: string
  /** The context's defaults. */
  readonly defaults: Readonly<ContextDefaults>
  /** Runs a command. @throws {ExecError} when `check` (the default) and the command fails. */
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>
  /** Runs a command and returns its standard output; one line of output is trimmed. @throws {ExecError} */
  capture(argv: readonly string[], options?: RunOptions): Promise<string>
  /** Runs a command without checking it; true when it exited 0. Output is discarded. */
  test(argv: readonly string[], options?: RunOptions): Promise<boolean>
  /** `test -e PATH` */
  exists(path: string, options?: RunOptions): Promise<boolean>
  /** `test -f PATH` */
  isFile(path: string, options?: RunOptions): Promise<boolean>
  /** `test -d PATH` */
  isDirectory(path: string, options?: RunOptions): Promise<boolean>
  /** `test -r PATH` */
  isReadable(path: string, options?: RunOptions): Promise<boolean>
  /** `test -w PATH` */
  isWritable(path: string, options?: RunOptions): Promise<boolean>
  /** `which NAME`: the program's path, or undefined. */
  which(name: string, options?: RunOptions): Promise<string | undefined>
  /** `cat FILE` as UTF-8 text. @throws {ExecError} */
  readFile(path: string, options?: RunOptions): Promise<string>
  /** `find DIR/ -mindepth 1 -maxdepth 1 -print0` (a symlink to a directory is followed): the entries' basenames, sorted. @throws {ExecError} */
  listEntries(directory: string, options?: RunOptions): Promise<string[]>
  /** `stat --format=%m PATH`: the mount point holding PATH. @throws {ExecError} */
  mountPointOf(path: string, options?: RunOptions): Promise<string>
  /** Whether commands here run as root (no sudo needed). */
  isPrivileged(): Promise<boolean>
  /** Whether `ionice` exists here (asked once per context). */
  hasIonice(): Promise<boolean>
  /** The final argv a call would run, with sudo and ionice prefixes (for logs and dry runs). */
  commandLine(argv: readonly string[], options?: RunOptions): Promise<{ argv: string[]; env: Record<string, string> }>
  /** Releases the context (closes an SSH connection). Safe to call twice. */
  close(): Promise<void>
}

/** What a context implementation is asked to run: the final argv and what to do with its streams. */
export interface SpawnRequest {
  argv: readonly string[]
  env: Readonly<Record<string, string>>
  input: string | Uint8Array | undefined
  onStdout: (chunk: Uint8Array) => void
  onStderr: (chunk: Uint8Array) => void
  signal: AbortSignal | undefined
  killAfterMs: number
  /** Inherit the terminal (see {@link RunOptions.terminal}). */
  terminal: boolean
}

/** What a context implementation reports back. `notFound` means the program did not exist. */
export interface SpawnOutcome {
  exitCode: number | undefined
  signal: string | undefined
  notFound?: boolean
  aborted?: boolean
}

const TAIL_BYTES = 8192

class OutputSink {
  readonly #decoder = new TextDecoder('utf-8')
  readonly #keep: 'all' | 'tail' | 'none'
  readonly #listener: ((chunk: string) => void) | undefined
  #text = ''

  constructor(keep: 'all' | 'tail' | 'none', listener: ((chunk: string) => void) | undefined) {
    this.#keep = keep
    this.#listener = listener
  }

  push = (chunk: Uint8Array): void => {
    this.#add(this.#decoder.decode(chunk, { stream: true }))
  }

  #add(text: string): void {
    if (text === '') return
    this.#listener?.(text)
    if (this.#keep === 'none') return
    this.#text += text
    if (this.#keep === 'tail' && this.#text.length > 2 * TAIL_BYTES) this.#text = this.#text.slice(-TAIL_BYTES)
  }

  finish(): string {
    this.#add(this.#decoder.decode())
    return this.#keep === 'tail' ? this.#text.slice(-TAIL_BYTES) : this.#text
  }
}

/** The last few lines of a text (for error messages). */
export function tailLines(text: string, lines = 10): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}

/**
 * The shared implementation of {@link Context}: prefixes, checks, errors and the helpers on top of one
 * primitive, {@link BaseContext.spawn}. Extend it to run commands somewhere else (tests use it for
 * recording fakes).
 */
export abstract class BaseContext implements Context {
  abstract readonly kind: 'local' | 'ssh'
  abstract readonly host: string
  readonly defaults: Readonly<ContextDefaults>
  #hasIonice: Promise<boolean> | undefined

  constructor(defaults: ContextDefaults = {}) {
    this.defaults = { ...defaults }
  }

  /** Runs a final argv. Must not throw for a non-zero exit; reports ENOENT as `notFound`. */
  protected abstract spawn(request: SpawnRequest): Promise<SpawnOutcome>
  abstract isPrivileged(): Promise<boolean>
  abstract close(): Promise<void>

  /** Whether sudo must not prompt (`sudo -n`). */
  protected nonInteractive(): boolean {
    return this.defaults.interactive !== true
  }

  hasIonice(): Promise<boolean> {
    this.#hasIonice ??= this.which('ionice', { sudo: false, ionice: undefined }).then((path) => path !== undefined)
    return this.#hasIonice
  }

  async commandLine(argv: readonly string[], options: RunOptions = {}): Promise<{ argv: string[]; env: Record<string, string> }> {
    if (argv.length === 0 || argv[0] === '') throw new ExecError('ERR_RSB_EXEC_INVALID_OPTION', 'Cannot run an empty command.')
    const sudo = options.sudo ?? this.defaults.sudo ?? false
    const ionice = 'ionice' in options ? options.ionice : this.defaults.ionice
    return buildCommandLine({
      argv,
      sudo,
      privileged: sudo ? await this.isPrivileged() : true,
      ionice,
      hasIonice: ionice === undefined ? false : await this.hasIonice(),
      env: options.env,
      nonInteractive: this.nonInteractive(),
    })
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const line = await this.commandLine(argv, options)
    const capture = options.capture ?? true
    const stdout = new OutputSink(capture ? 'all' : 'none', options.onStdout)
    const stderr = new OutputSink(capture ? 'all' : 'tail', options.onStderr)
    debug('%s: %s', this.host, quoteCommandLine(line.argv))
    if (options.signal?.aborted) throw this.#aborted(line.argv, '')
    const outcome = await this.spawn({
      argv: line.argv,
      env: line.env,
      input: options.input,
      onStdout: stdout.push,
      onStderr: stderr.push,
      signal: options.signal,
      killAfterMs: options.killAfterMs ?? 5000,
      terminal: options.terminal ?? false,
    })
    const result: RunResult = {
      argv: line.argv,
      exitCode: outcome.notFound ? 127 : outcome.exitCode,
      signal: outcome.signal,
      stdout: stdout.finish(),
      stderr: stderr.finish(),
    }
    debug('%s: exit %s %s', this.host, result.exitCode, result.signal ?? '')
    if (outcome.aborted) throw this.#aborted(line.argv, result.stderr)
    // A command sudo refused to start never ran, so even `check: false` has no status to return: sudo's exit 1 is
    // not the command's (`test -d` false, rsync's syntax error), it is ERR_RSB_EXEC_SUDO_DENIED or _PASSWORD.
    const refusal = await explainSudoFailure(this, result)
    if (refusal) throw refusal
    if ((options.check ?? true) && result.exitCode !== 0) throw this.#failure(result, outcome.notFound === true)
    return result
  }

  #aborted(argv: readonly string[], stderr: string): ExecError {
    return new ExecError('ERR_RSB_EXEC_ABORTED', `Command on ${this.host} was cancelled: ${quoteCommandLine(argv)}`, {
      argv,
      host: this.host,
      stderrTail: tailLines(stderr),
    })
  }

  #failure(result: RunResult, notFound: boolean): ExecError {
    const shown = quoteCommandLine(result.argv)
    const details = {
      argv: result.argv,
      host: this.host,
      exitCode: result.exitCode,
      signal: result.signal,
      stderrTail: tailLines(result.stderr),
    }
    if (notFound || result.exitCode === 127) {
      return new ExecError('ERR_RSB_EXEC_NOT_FOUND', `Command not found on ${this.host}: ${shown}`, {
        ...details,
        hint: `Install the program on ${this.host} or check PATH.`,
      })
    }
    const how = result.signal ? `was killed by ${result.signal}` : `failed with exit status ${result.exitCode}`
    const tail = details.stderrTail ? `: ${details.stderrTail.split('\n').at(-1)}` : ''
    return new ExecError('ERR_RSB_EXEC_COMMAND_FAILED', `Command on ${this.host} ${how}: ${shown}${tail}`, details)
  }

  async capture(argv: readonly string[], options: RunOptions = {}): Promise<string> {
    const { stdout } = await this.run(argv, { ...options, capture: true })
    const trimmed = stdout.replace(/\n$/, '')
    return trimmed.includes('\n') ? stdout : trimmed.trim()
  }

  async test(argv: readonly string[], options: RunOptions = {}): Promise<boolean> {
    const result = await this.run(argv, { ...options, check: false, capture: false })
    return result.exitCode === 0
  }

  exists(path: string, options?: RunOptions): Promise<boolean> {
    return this.test(['test', '-e', path], options)
  }

  isFile(path: string, options?: RunOptions): Promise<boolean> {
    return this.test(['test', '-f', path], options)
  }

  isDirectory(path: string, options?: RunOptions): Promise<boolean> {
    return this.test(['test', '-d', path], options)
  }

  isReadable(path: string, options?: RunOptions): Promise<boolean> {
    return this.test(['test', '-r', path], options)
  }

  isWritable(path: string, options?: RunOptions): Promise<boolean> {
    return this.test(['test', '-w', path], options)
  }

  async which(name: string, options: RunOptions = {}): Promise<string | undefined> {
    const result = await this.run(['which', name], { ionice: undefined, ...options, check: false, capture: true })
    const path = result.stdout.split('\n')[0]?.trim()
    return result.exitCode === 0 && path ? path : undefined
  }

  async readFile(path: string, options: RunOptions = {}): Promise<string> {
    const { stdout } = await this.run(['cat', path], { ionice: undefined, ...options, capture: true })
    return stdout
  }

  async listEntries(directory: string, options: RunOptions = {}): Promise<string[]> {
    // A trailing slash makes find follow a starting point that is a symlink to a directory (it lists nothing otherwise).
    const start = directory.endsWith('/') ? directory : `${directory}/`
    const { stdout } = await this.run(['find', start, '-mindepth', '1', '-maxdepth', '1', '-print0'], {
      ionice: undefined,
      ...options,
      capture: true,
    })
    return stdout
      .split('\0')
      .filter((entry) => entry !== '')
      .map((entry) => entry.slice(entry.lastIndexOf('/') + 1))
      .sort()
  }

  async mountPointOf(path: string, options: RunOptions = {}): Promise<string> {
    const { stdout } = await this.run(['stat', '--format=%m', path], { ionice: undefined, ...options, capture: true })
    return stdout.replace(/\n$/, '')
  }
}

import { BaseContext, type ContextDefaults, type SpawnOutcome, type SpawnRequest } from './context.js'
import { sudoCommand } from './sudo.js'

/** One command a {@link RecordingContext} was asked to run. */
export interface RecordedCommand {
  /** The final argv, with the sudo and ionice prefixes. */
  argv: string[]
  /** The argv without `sudo` and its options and `ionice -c CLASS`: the program and its arguments. */
  command: string[]
  /** Environment overrides given to the child (with sudo: to sudo, which passes those named in `--preserve-env`). */
  env: Record<string, string>
  /** Whether the command was given the user's terminal. */
  terminal: boolean
}

/** What a {@link RecordingContext}'s handler answers for one command (everything optional: exit 0, no output). */
export interface RecordedReply {
  exitCode?: number | undefined
  /** Standard output, in one chunk or several. */
  stdout?: string | readonly string[] | undefined
  stderr?: string | undefined
  /** The signal that ended the command. */
  signal?: string | undefined
  /** Report the command as cancelled. */
  aborted?: boolean | undefined
  /** Report the program as missing (spawn ENOENT). */
  notFound?: boolean | undefined
}

/** Answers a command; gets the {@link RecordedCommand} and the raw request (for its abort signal). */
export type RecordingHandler = (
  command: RecordedCommand,
  request: SpawnRequest,
) => RecordedReply | undefined | Promise<RecordedReply | undefined>

/** Options of a {@link RecordingContext}. */
export interface RecordingContextOptions extends ContextDefaults {
  /** Whether commands run as root (no sudo prefix). Default: true. */
  privileged?: boolean | undefined
  /** Default: `local`. */
  kind?: 'local' | 'ssh' | undefined
  /** Default: `localhost`. */
  host?: string | undefined
}

/** Strips `sudo` and its options (`-n`, `-H`, `-l`, `--preserve-env=…`, `KEY=VALUE`) from the front of a final argv. */
export function withoutSudo(argv: readonly string[]): string[] {
  return sudoCommand(argv)
}

/**
 * A context that starts no process: it records every command (with the prefixes a real context would add) and
 * answers from a handler. For tests of code that runs commands, to check command shapes a test machine cannot
 * produce for real (a non-root user's sudo prefixes, a remote host's answers).
 *
 * @example
 * ```ts
 * const context = new RecordingContext(({ command }) => (command[0] === 'mountpoint' ? { exitCode: 32 } : undefined), { privileged: false, sudo: true })
 * await context.test(['mountpoint', '/mnt/backups'])
 * context.commands // ['sudo -n mountpoint /mnt/backups']
 * ```
 */
export class RecordingContext extends BaseContext {
  readonly kind: 'local' | 'ssh'
  readonly host: string
  /** Every command asked for, in order. */
  readonly calls: RecordedCommand[] = []
  readonly #handler: RecordingHandler | undefined
  readonly #privileged: boolean

  constructor(handler?: RecordingHandler, options: RecordingContextOptions = {}) {
    const { privileged, kind, host, ...defaults } = options
    super({ interactive: false, ...defaults })
    this.#handler = handler
    this.#privileged = privileged ?? true
    this.kind = kind ?? 'local'
    this.host = host ?? 'localhost'
  }

  /** The recorded final argvs as single strings (arguments joined by spaces). */
  get commands(): string[] {
    return this.calls.map((call) => call.argv.join(' '))
  }

  isPrivileged(): Promise<boolean> {
    return Promise.resolve(this.#privileged)
  }

  close(): Promise<void> {
    return Promise.resolve()
  }

  protected async spawn(request: SpawnRequest): Promise<SpawnOutcome> {
    const bare = withoutSudo(request.argv)
    const command = bare[0] === 'ionice' && bare[1] === '-c' ? bare.slice(3) : bare
    const call: RecordedCommand = { argv: [...request.argv], command, env: { ...request.env }, terminal: request.terminal }
    this.calls.push(call)
    const reply = (await this.#handler?.(call, request)) ?? {}
    const encoder = new TextEncoder()
    const chunks = typeof reply.stdout === 'string' ? [reply.stdout] : (reply.stdout ?? [])
    for (const chunk of chunks) request.onStdout(encoder.encode(chunk))
    if (reply.stderr) request.onStderr(encoder.encode(reply.stderr))
    return {
      exitCode: reply.signal || reply.aborted || reply.notFound ? undefined : (reply.exitCode ?? 0),
      signal: reply.signal,
      aborted: reply.aborted ?? false,
      notFound: reply.notFound ?? false,
    }
  }
}

// A recording context for tier-2 tests: no process is started; a handler answers each command.
import { BaseContext, type SpawnOutcome, type SpawnRequest } from '@rsb/exec'

/** What the fake answers for one command. */
export interface FakeReply {
  exitCode?: number
  stdout?: string
  stderr?: string
}

/** One recorded command: the final argv (with sudo prefix) and the environment overrides given to the child. */
export interface FakeCall {
  argv: string[]
  env: Record<string, string>
  /** Whether the command was given the user's terminal (passphrase prompts). */
  terminal: boolean
}

/** Strips `sudo [-n] [KEY=VALUE…]` from a final argv. */
export function withoutSudo(argv: readonly string[]): string[] {
  if (argv[0] !== 'sudo') return [...argv]
  let i = 1
  if (argv[i] === '-n') i++
  while (argv[i] !== undefined && /^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[i] as string)) i++
  return argv.slice(i)
}

/** A context whose commands are answered by `handler` (given the argv without the sudo prefix). */
export class FakeContext extends BaseContext {
  readonly kind = 'local' as const
  readonly host = 'fake'
  readonly calls: FakeCall[] = []
  readonly #handler: (argv: string[]) => FakeReply
  readonly #privileged: boolean

  constructor(handler: (argv: string[]) => FakeReply, options: { privileged?: boolean; sudo?: boolean; interactive?: boolean } = {}) {
    super({ sudo: options.sudo ?? false, interactive: options.interactive ?? false })
    this.#handler = handler
    this.#privileged = options.privileged ?? true
  }

  /** The recorded commands as single strings (arguments joined by spaces). */
  get commands(): string[] {
    return this.calls.map((call) => call.argv.join(' '))
  }

  protected spawn(request: SpawnRequest): Promise<SpawnOutcome> {
    this.calls.push({ argv: [...request.argv], env: { ...request.env }, terminal: request.terminal })
    const reply = this.#handler(withoutSudo(request.argv))
    if (reply.stdout) request.onStdout(new TextEncoder().encode(reply.stdout))
    if (reply.stderr) request.onStderr(new TextEncoder().encode(reply.stderr))
    return Promise.resolve({ exitCode: reply.exitCode ?? 0, signal: undefined })
  }

  isPrivileged(): Promise<boolean> {
    return Promise.resolve(this.#privileged)
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}

/** A small simulated machine: files that exist, crypttab contents, installed programs, unlock behaviour. */
export interface FakeMachine {
  files: Map<string, string>
  programs: Set<string>
  /** Replies for commands the machine does not simulate itself (checked first). */
  override?: ((argv: string[]) => FakeReply | undefined) | undefined
}

/** A handler simulating `test`, `cat`, `which`, `cryptdisks_*` and `cryptsetup` on a {@link FakeMachine}. */
export function machineHandler(machine: FakeMachine): (argv: string[]) => FakeReply {
  return (argv) => {
    const special = machine.override?.(argv)
    if (special) return special
    const [program, ...args] = argv
    const mapper = (name: string) => `/dev/mapper/${name}`
    switch (program) {
      case 'test':
        return { exitCode: machine.files.has(args[1] as string) ? 0 : 1 }
      case 'cat': {
        const text = machine.files.get(args[0] as string)
        return text === undefined ? { exitCode: 1, stderr: `cat: ${args[0]}: No such file or directory\n` } : { stdout: text }
      }
      case 'which':
        return machine.programs.has(args[0] as string) ? { stdout: `/usr/sbin/${args[0]}\n` } : { exitCode: 1 }
      case 'cryptdisks_start':
        machine.files.set(mapper(args[0] as string), '')
        return { stdout: `Starting crypto disk...${args[0]} (starting)...${args[0]} (started)...done.\n` }
      case 'cryptdisks_stop':
        machine.files.delete(mapper(args[0] as string))
        return { stdout: `Stopping crypto disk...${args[0]} (stopping)...done.\n` }
      case 'cryptsetup': {
        const action = args.find((arg) => !arg.startsWith('-'))
        if (action === 'luksOpen') machine.files.set(mapper(args.at(-1) as string), '')
        if (action === 'luksClose') machine.files.delete(mapper(args.at(-1) as string))
        if (action === 'isLuks') return { exitCode: 1 }
        return {}
      }
      default:
        return { exitCode: 127 }
    }
  }
}

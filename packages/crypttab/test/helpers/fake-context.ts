// A recording context for tier-2 tests: no process is started; a handler answers each command.
import { RecordingContext } from '@rsb/exec'

/** What the fake answers for one command. */
export interface FakeReply {
  exitCode?: number
  stdout?: string
  stderr?: string
}

/** A recording context (no process is started) whose commands are answered by `handler`, given the argv without
 * the sudo prefix. Not interactive and root unless told otherwise. */
export class FakeContext extends RecordingContext {
  constructor(handler: (argv: string[]) => FakeReply, options: { privileged?: boolean; sudo?: boolean; interactive?: boolean } = {}) {
    super(({ command }) => handler(command), {
      privileged: options.privileged ?? true,
      sudo: options.sudo ?? false,
      interactive: options.interactive ?? false,
      host: 'fake',
    })
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

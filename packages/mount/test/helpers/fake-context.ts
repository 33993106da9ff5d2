// A recording context for tier-2 tests: no process is started; a handler answers each command.
import { BaseContext, type SpawnOutcome, type SpawnRequest } from '@rsb/exec'

/** What the fake answers for one command. */
export interface FakeReply {
  exitCode?: number
  stderr?: string
}

/** A context whose commands are answered by `handler` (given the argv without `sudo [-n]`). */
export class FakeContext extends BaseContext {
  readonly kind = 'local' as const
  readonly host = 'fake'
  readonly commands: string[] = []
  readonly #handler: (argv: string[]) => FakeReply
  readonly #privileged: boolean

  constructor(handler: (argv: string[]) => FakeReply, options: { privileged?: boolean; sudo?: boolean } = {}) {
    super({ sudo: options.sudo ?? false, interactive: false })
    this.#handler = handler
    this.#privileged = options.privileged ?? true
  }

  protected spawn(request: SpawnRequest): Promise<SpawnOutcome> {
    this.commands.push(request.argv.join(' '))
    const argv = request.argv[0] === 'sudo' ? request.argv.slice(request.argv[1] === '-n' ? 2 : 1) : [...request.argv]
    const reply = this.#handler(argv)
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

/** A simulated machine: the set of mounted directories; `mount DIR` mounts unless `failMount` says otherwise. */
export function mountMachine(
  mounted: Set<string>,
  behaviour: { mount?: (dir: string) => FakeReply; umount?: (dir: string) => FakeReply } = {},
) {
  return (argv: string[]): FakeReply => {
    const dir = argv.at(-1) as string
    switch (argv[0]) {
      case 'mountpoint':
        return { exitCode: mounted.has(dir) ? 0 : 32 }
      case 'mount': {
        const reply = behaviour.mount?.(dir) ?? {}
        if ((reply.exitCode ?? 0) === 0 && !behaviour.mount) mounted.add(dir)
        return reply
      }
      case 'umount': {
        if (!mounted.has(dir)) return { exitCode: 32, stderr: `umount: ${dir}: not mounted.\n` }
        const reply = behaviour.umount?.(dir) ?? {}
        if ((reply.exitCode ?? 0) === 0) mounted.delete(dir)
        return reply
      }
      default:
        return { exitCode: 127 }
    }
  }
}

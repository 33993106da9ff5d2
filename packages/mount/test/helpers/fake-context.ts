// A recording context for tier-2 tests: no process is started; a handler answers each command.
import { RecordingContext } from '@rsb/exec'

/** What the fake answers for one command. */
export interface FakeReply {
  exitCode?: number
  stderr?: string
}

/** A recording context (no process is started) whose commands are answered by `handler`, given the argv without
 * the sudo prefix. Root unless told otherwise. */
export class FakeContext extends RecordingContext {
  constructor(handler: (argv: string[]) => FakeReply, options: { privileged?: boolean; sudo?: boolean } = {}) {
    super(({ command }) => handler(command), { privileged: options.privileged ?? true, sudo: options.sudo ?? false, host: 'fake' })
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

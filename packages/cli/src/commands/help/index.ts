// `rsb help [COMMAND]`: rsb's help, or one command's.
import { wantsJson } from '../../args.js'
import { UsageError } from '../../errors.js'
import { helpText } from '../../help.js'
import type { MainIo } from '../../main.js'
import { refuseCommandLine } from '../../kit/render.js'
import { findCommand, unavailable } from '../registry.js'

export function help(): string {
  return 'Usage: rsb help [COMMAND]\n\nPrint the help of rsb, or of COMMAND.\n'
}

export async function run(argv: readonly string[], io: MainIo): Promise<number> {
  try {
    if (argv.length > 1) throw new UsageError(`rsb help takes one command at most (got ${argv.length} arguments).`)
    const [word] = argv
    if (word === undefined || word === '--help' || word === '-h') {
      io.stdout.write(helpText('rsb'))
      return 0
    }
    const command = findCommand(word)
    if (command === undefined) throw new UsageError(`There is no command '${word}'.`, { hint: "See 'rsb --help' for the commands." })
    if (command.load === undefined) throw unavailable(command.name)
    io.stdout.write((await command.load()).help())
    return 0
  } catch (error) {
    return refuseCommandLine(error, io, 'rsb', wantsJson(argv))
  }
}

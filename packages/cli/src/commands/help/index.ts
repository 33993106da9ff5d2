// `rsb help [COMMAND]`: the help of rsb, or of one command.
import { UsageError } from '../../errors.js'
import { helpText } from '../../help.js'
import type { MainIo } from '../../main.js'
import { commandHelp, findCommand, unavailable, type Parsed } from '../index.js'

/** `rsb help` takes no options (`rsb help --help` is its own help). */
export const options = []

export function help(): string {
  return 'Usage: rsb help [COMMAND]\n\nPrint the help of rsb, or of COMMAND.\n'
}

/** The command whose help to print (undefined: rsb's). */
export function parse(argv: readonly string[]): Parsed<{ readonly command: string | undefined }> {
  if (argv.length > 1) throw new UsageError(`rsb help takes one command at most (got ${argv.length} arguments).`)
  const [word] = argv
  if (word === '--help' || word === '-h') return { kind: 'help' }
  if (word === undefined) return { kind: 'run', args: { command: undefined } }
  const command = findCommand(word)
  if (command === undefined) throw new UsageError(`There is no command '${word}'.`, { hint: "See 'rsb --help' for the commands." })
  if (command.load === undefined) throw unavailable(command.name)
  return { kind: 'run', args: { command: command.name } }
}

export async function run(args: { readonly command: string | undefined }, io: MainIo): Promise<number> {
  const command = findCommand(args.command)
  io.stdout.write(command?.load ? commandHelp(command.name, await command.load()) : helpText('rsb'))
  return 0
}

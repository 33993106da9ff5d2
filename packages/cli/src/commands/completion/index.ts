// `rsb completion [bash]`: prints the bash completion script, made from the option registry (./script.ts). Hidden, for
// the script itself: `rsb completion --snapshots DESTINATION` prints DESTINATION's snapshot names, one a line, and
// nothing at all when it cannot (./snapshots.ts).
import { OPTIONS as BACKUP_OPTIONS } from '../../args.js'
import { UsageError } from '../../errors.js'
import { getopt, type OptionDefinition } from '../../kit/getopt.js'
import { formatOptions, paragraphs } from '../../kit/help.js'
import type { MainIo } from '../../main.js'
import { version } from '../../version.js'
import { commandOptions, COMMANDS, type Command, type Parsed } from '../index.js'
import { completionScript, positionalKinds, type CompletionCommand } from './script.js'

/** The shells `rsb completion` writes a script for. */
export const SHELLS = ['bash'] as const

/** The options of `rsb completion`. */
export const options: readonly OptionDefinition[] = [
  { name: 'version', description: 'Print the version and exit.' },
  { name: 'help', short: 'h', description: 'Print this help and exit.' },
]

/** Not in the help: what the script asks rsb for. */
const HIDDEN: readonly OptionDefinition[] = [{ name: 'snapshots', value: 'DESTINATION', description: 'The snapshot names of DESTINATION.' }]

/** What `rsb completion` prints: the script, or (hidden) the snapshot names of a destination. */
export type CompletionArgs =
  | { readonly kind: 'script'; readonly shell: 'bash' }
  | { readonly kind: 'snapshots'; readonly destination: string }

/**
 * `rsb completion ARGS` into typed arguments (pure).
 *
 * @throws {UsageError} ERR_RSB_CLI_USAGE for an unknown option, a shell other than bash, or more than one argument
 */
export function parse(argv: readonly string[]): Parsed<CompletionArgs> {
  const { options: given, positionals } = getopt(argv, [...options, ...HIDDEN])
  if (given.some((o) => o.name === 'help')) return { kind: 'help' }
  if (given.some((o) => o.name === 'version')) return { kind: 'version' }
  const snapshots = given.findLast((o) => o.name === 'snapshots')
  if (snapshots !== undefined) {
    if (positionals.length > 0) throw new UsageError(`--snapshots takes no other argument (got ${positionals.join(' ')}).`)
    return { kind: 'run', args: { kind: 'snapshots', destination: snapshots.value ?? '' } }
  }
  if (positionals.length > 1) throw new UsageError(`rsb completion takes one SHELL at most (got ${positionals.length} arguments).`)
  const [shell = 'bash'] = positionals
  if (shell !== 'bash') {
    throw new UsageError(`rsb completion has no script for the shell '${shell}'.`, {
      hint: `The shells: ${SHELLS.join(', ')} (zsh can load it with bashcompinit).`,
    })
  }
  return { kind: 'run', args: { kind: 'script', shell } }
}

/**
 * Every command as the completion sees it: its options (loaded from its module; the backup's OPTIONS for `backup`;
 * none for a command that is not available yet) and what its positionals are.
 */
export async function completionCommands(commands: readonly Command[] = COMMANDS): Promise<CompletionCommand[]> {
  const names = commands.map((command) => command.name)
  return Promise.all(
    commands.map(async (command) => ({
      name: command.name,
      options: commandOptions(command.name, command.name === 'backup' ? BACKUP_OPTIONS : ((await command.load?.())?.options ?? [])),
      positionals: positionalKinds(command.name, names),
    })),
  )
}

/** Prints the script (exit 0), or the snapshot names (exit 0 with names, 1 without: nothing is printed then). */
export async function run(args: CompletionArgs, io: MainIo): Promise<number> {
  if (args.kind === 'snapshots') {
    const { snapshotNames } = await import('./snapshots.js')
    const names = await snapshotNames(args.destination, io)
    if (names.length > 0) io.stdout.write(`${names.join('\n')}\n`)
    return names.length > 0 ? 0 : 1
  }
  io.stdout.write(completionScript(await completionCommands(), version()))
  return 0
}

/** `rsb completion --help`. */
export function help(): string {
  return [
    'Usage: rsb completion [bash]',
    '',
    ...paragraphs(
      'Print the bash completion script of rsb, rsync-system-backup and rsb-rotate: it completes the command words, ' +
        "each command's options, directories and files, the snapshot names of a local DESTINATION (--snapshot=, " +
        "rsb diff, rsb verify) and the configuration file's job names (rsb run, rsb systemd, --job=).",
      'Install it for one user as ~/.local/share/bash-completion/completions/rsb (rsb completion bash > that file), or ' +
        'load it in ~/.bashrc with: . <(rsb completion bash). scripts/install.sh installs it in ' +
        'PREFIX/share/bash-completion/completions/ for every user (the bash-completion package loads it).',
    ),
    '',
    'Options:',
    ...formatOptions(options),
    '',
    'Exit status:',
    '  0         printed',
    '  2         usage error (a shell other than bash)',
    '',
  ].join('\n')
}

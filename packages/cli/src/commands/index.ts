/**
 * rsb's commands: `rsb COMMAND [OPTIONS] [ARGS]`. Every word is reserved now, also for the commands that
 * are still to come, so that none of them ever means "back up `./WORD`": a bare command word as the first argument
 * is that command, a directory of that name is written `./WORD`. Each command lives in its own folder here and is
 * loaded only when it runs.
 */
import { UsageError } from '../errors.js'
import { JOB_OPTIONS } from '../config/expand.js'
import type { OptionDefinition } from '../kit/getopt.js'
import { formatOptions } from '../kit/help.js'
import type { MainIo } from '../main.js'

/** What a command's parse gives: its help, its version line, or the typed arguments to run with. */
export type Parsed<Args> = { readonly kind: 'help' } | { readonly kind: 'version' } | { readonly kind: 'run'; readonly args: Args }

/**
 * What a command's module exports (`src/commands/NAME/index.ts`): its option table, a pure parse into typed
 * arguments, and a run that returns the exit status.
 */
export interface CommandModule<Args = never> {
  /** The name it shows in errors and `--version` (default `rsb`). */
  readonly program?: string | undefined
  /** Its options (data: the kit's getopt, the help and completion read them). */
  readonly options: readonly OptionDefinition[]
  /**
   * The arguments after the command word into typed arguments (pure: reads nothing but `argv` and `env`).
   *
   * @throws a usage error (any rsb error): exit 2, nothing ran
   */
  parse(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Parsed<Args>
  /** Runs the command; returns the exit status (never prints to the process or exits it). */
  run(args: Args, io: MainIo): Promise<number>
  /** The text of `rsb help COMMAND` and `rsb COMMAND --help`. */
  help(): string
  /**
   * How it shows an error of its command line; returns the exit status. Default: the kit's `refuseCommandLine`
   * (`rsb: error: …`, exit 2, and the error in `--json`'s document).
   */
  refuse?(error: unknown, argv: readonly string[], io: MainIo): number
}

/** One entry of the registry: data, and a loader for the command's module. */
export interface Command {
  readonly name: string
  /** One line for `rsb --help`. */
  readonly summary: string
  /** Undefined for a command that is reserved but not available yet. */
  // oxlint-disable-next-line typescript/no-explicit-any -- each command has its own Args
  readonly load?: (() => Promise<CommandModule<any>>) | undefined
}

/** Every command word, in the order of `rsb --help`. */
export const COMMANDS: readonly Command[] = Object.freeze([
  {
    name: 'backup',
    summary: 'copy SOURCE into DESTINATION, then snapshot and rotate (the default command)',
    load: () => import('./backup/index.js'),
  },
  {
    name: 'rotate',
    summary: 'delete old timestamped backups by a retention scheme (as rsb-rotate, rotate-backups 8.1)',
    load: () => import('./rotate/index.js'),
  },
  { name: 'list', summary: 'the snapshots of a store: status, figures, what the rotation does', load: () => import('./list/index.js') },
  { name: 'status', summary: 'whether the newest backup is fresh and the last run succeeded', load: () => import('./status/index.js') },
  {
    name: 'restore',
    summary: 'copy files back from a snapshot (--to=DIR, or --in-place over SOURCE)',
    load: () => import('./restore/index.js'),
  },
  { name: 'diff', summary: 'what changed between two snapshots', load: () => import('./diff/index.js') },
  { name: 'du', summary: 'the space each snapshot holds alone', load: () => import('./du/index.js') },
  { name: 'versions', summary: 'every version of a file across the snapshots', load: () => import('./versions/index.js') },
  {
    name: 'verify',
    summary: 'check the snapshots against the content hashes recorded when they were made',
    load: () => import('./verify/index.js'),
  },
  { name: 'doctor', summary: 'check the machine and the store for known problems', load: () => import('./doctor/index.js') },
  { name: 'run', summary: 'run the jobs of the configuration file (all, or the ones named)', load: () => import('./run/index.js') },
  {
    name: 'config',
    summary: 'check the configuration file of jobs, list its jobs, print its schema',
    load: () => import('./config/index.js'),
  },
  { name: 'systemd', summary: 'systemd units or cron lines that run the jobs on a schedule', load: () => import('./systemd/index.js') },
  { name: 'completion', summary: 'the bash completion script of rsb', load: () => import('./completion/index.js') },
  { name: 'help', summary: 'the help of rsb or of one command', load: () => import('./help/index.js') },
])

/** The commands that take a DESTINATION, and so also `--job=NAME` and `--config=FILE` (../config/expand.ts). */
export const JOB_COMMANDS: ReadonlySet<string> = new Set([
  'backup',
  'list',
  'status',
  'restore',
  'diff',
  'du',
  'versions',
  'verify',
  'doctor',
])

/**
 * Every option a command takes on its command line: its module's table, and `--job`/`--config` for the commands of
 * {@link JOB_COMMANDS} (main.ts reads those two before the command's parse). For the man page and the completion.
 */
export function commandOptions(name: string, options: readonly OptionDefinition[]): readonly OptionDefinition[] {
  return JOB_COMMANDS.has(name) ? [...options, ...JOB_OPTIONS] : options
}

/** The help of a command as `rsb COMMAND --help` and `rsb help COMMAND` print it (with `--job` where it has it). */
export function commandHelp(name: string, module: CommandModule<unknown>): string {
  // rsb backup's help (src/help.ts) has the section already
  if (!JOB_COMMANDS.has(name) || name === 'backup') return module.help()
  return `${module.help().trimEnd()}\n\n${JOB_HELP}`
}

/** The section on jobs of the help of every command in {@link JOB_COMMANDS}. */
export const JOB_HELP = `${['Jobs:', ...formatOptions(JOB_OPTIONS)].join('\n')}\n`

/** The command of this word, if it is one. */
export function findCommand(word: string | undefined): Command | undefined {
  return word === undefined ? undefined : COMMANDS.find((command) => command.name === word)
}

/** The usage error of a command word whose command is not available yet (exit 2: nothing runs, nothing is backed up). */
export function unavailable(word: string): UsageError {
  return new UsageError(`'rsb ${word}' is not available yet in this version of rsb: the word is reserved for that command.`, {
    hint: `To back up a directory named ${word}, write ./${word}.`,
  })
}

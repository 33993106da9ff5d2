/**
 * rsb's commands (issue 11): `rsb COMMAND [OPTIONS] [ARGS]`. Every word is reserved now, also for the commands that
 * are still to come, so that none of them ever means "back up `./WORD`": a bare command word as the first argument
 * is that command, a directory of that name is written `./WORD`. Each command lives in its own folder here and is
 * loaded only when it runs.
 */
import { UsageError } from '../errors.js'
import type { MainIo } from '../main.js'

/** What a command's module exports. */
export interface CommandModule {
  /** Runs the command with the arguments after its word; returns the exit status (never exits the process). */
  run(argv: readonly string[], io: MainIo): Promise<number>
  /** The text of `rsb help COMMAND` and `rsb COMMAND --help`. */
  help(): string
}

/** One entry of the registry: data, and a loader for the command's module. */
export interface Command {
  readonly name: string
  /** One line for `rsb --help`. */
  readonly summary: string
  /** Undefined for a command that is reserved but not available yet. */
  readonly load?: (() => Promise<CommandModule>) | undefined
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
  { name: 'list', summary: 'the snapshots of a store (not yet available)' },
  { name: 'status', summary: 'whether the newest backup is fresh (not yet available)' },
  { name: 'restore', summary: 'copy files back from a snapshot (not yet available)' },
  { name: 'diff', summary: 'what changed between two snapshots (not yet available)' },
  { name: 'du', summary: 'the space each snapshot holds alone (not yet available)' },
  { name: 'versions', summary: 'every version of a file across the snapshots (not yet available)' },
  { name: 'verify', summary: 'check the snapshots against their recorded hashes (not yet available)' },
  { name: 'doctor', summary: 'check the machine and the store for known problems (not yet available)' },
  { name: 'run', summary: 'run the jobs of the configuration file (not yet available)' },
  { name: 'config', summary: 'check the configuration file (not yet available)' },
  { name: 'help', summary: 'the help of rsb or of one command', load: () => import('./help/index.js') },
])

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

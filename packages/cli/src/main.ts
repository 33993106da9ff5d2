import fs from 'node:fs'
import path from 'node:path'
import { OPTIONS, wantsJson } from './args.js'
import { commandHelp, findCommand, JOB_COMMANDS, unavailable, type CommandModule } from './commands/index.js'
import { UsageError } from './errors.js'
import { asksFor, getopt } from './kit/getopt.js'
import type { TextSink } from './kit/log.js'
import { refuseCommandLine } from './kit/render.js'

import { version } from './version.js'

export { version }

/** What {@link main} reads and writes. Tests pass buffers; `bin/rsb.ts` passes the process's streams. */
export interface MainIo {
  /** Help, version and the `--json` summary. */
  readonly stdout: TextSink
  /** Log lines, errors and the progress bar. */
  readonly stderr: TextSink
  /** The environment (`RSYNC_MODULE_PATH`, `PATH` for the programs rsb runs). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Aborted with reason `SIGINT` or `SIGTERM` to stop the run (cleanups still run). */
  readonly signal?: AbortSignal | undefined
}

/**
 * Runs `rsb` (or, with `program` `rsync-system-backup`, the original's grammar, which has no commands) with the given
 * arguments and returns the exit status; never exits the process. `rsb COMMAND ARGS` runs a command of the registry
 * (commands/index.ts); anything else is `rsb backup`'s command line, as before commands existed.
 *
 * @param argv - the arguments after the program name
 * @param io - streams, environment and an abort signal
 * @returns 0 success, 1 error, 2 usage error, 130/143 interrupted by SIGINT/SIGTERM
 * @example
 * ```ts
 * const code = await main(['backup', '--dry-run', '/srv', '/mnt/backups/latest'], { stdout: process.stdout, stderr: process.stderr, env: process.env })
 * ```
 */
export async function main(argv: readonly string[], io: MainIo, program: 'rsb' | 'rsync-system-backup' = 'rsb'): Promise<number> {
  if (program === 'rsync-system-backup') return (await import('./commands/backup/index.js')).runBackup(argv, io, program)
  const command = findCommand(argv[0])
  if (command !== undefined) {
    let rest = argv.slice(1)
    let module: CommandModule<unknown> | undefined
    try {
      if (command.load === undefined) throw unavailable(command.name)
      module = (await command.load()) as CommandModule<unknown>
      let fromJob = false
      if (JOB_COMMANDS.has(command.name)) {
        const { splitJobOptions, jobCommandLine } = await import('./config/expand.js')
        const selection = splitJobOptions(rest, module.options)
        const all = command.name === 'status' && selection?.job === undefined
        const code = all ? await (await import('./commands/status/jobs.js')).allJobsStatus(selection, rest, module, io) : undefined
        if (code !== undefined) return code
        if (selection !== undefined) {
          rest = await jobCommandLine(command.name, selection, module.options, io.env)
          fromJob = true
        }
      }
      if (command.name === 'backup' && !fromJob) refuseAmbiguousBackup(rest)
      const parsed = module.parse(rest, io.env)
      if (parsed.kind === 'help') {
        io.stdout.write(commandHelp(command.name, module))
        return 0
      }
      if (parsed.kind === 'version') {
        io.stdout.write(`${module.program ?? 'rsb'} ${version()}\n`)
        return 0
      }
      return await module.run(parsed.args, io)
    } catch (error) {
      if (module?.refuse) return module.refuse(error, rest, io)
      return refuseCommandLine(error, io, 'rsb', asksFor(rest, module?.options ?? OPTIONS, 'json'))
    }
  }
  let line = argv
  try {
    refuseMisplacedCommand(argv)
    const { splitJobOptions, jobCommandLine } = await import('./config/expand.js')
    const selection = splitJobOptions(argv, OPTIONS)
    if (selection !== undefined) line = await jobCommandLine('backup', selection, OPTIONS, io.env)
  } catch (error) {
    return refuseCommandLine(error, io, 'rsb', wantsJson(argv))
  }
  return (await import('./commands/backup/index.js')).runBackup(line, io, 'rsb')
}

/** The positional arguments of a backup command line, or undefined where getopt refuses it (the backup reports it). */
function positionalsOf(argv: readonly string[]): string[] | undefined {
  try {
    return getopt(argv, OPTIONS).positionals
  } catch {
    return undefined
  }
}

/**
 * A command word that is not the first argument (`rsb -v list /mnt/backups`) is refused: read as before commands
 * existed it would be a SOURCE to back up, and a command it cannot be (its options come first). An argument that
 * getopt cannot split is left to the backup command, which reports it.
 */
function refuseMisplacedCommand(argv: readonly string[]): void {
  const word = positionalsOf(argv)?.[0]
  if (findCommand(word) === undefined) return
  throw new UsageError(`'${word}' is a command of rsb: it comes first (rsb ${word} [OPTIONS] …).`, {
    hint: `To back up a directory named ${word}, write ./${word}.`,
  })
}

/**
 * `rsb backup DESTINATION` backs up `/`; before commands existed the same words backed up the directory `./backup`.
 * Where such a directory is here, which one was meant is asked rather than guessed.
 */
function refuseAmbiguousBackup(rest: readonly string[]): void {
  const positionals = positionalsOf(rest)
  if (positionals?.length !== 1) return
  let here = false
  try {
    here = fs.statSync(path.resolve('backup')).isDirectory()
  } catch {
    // no ./backup
  }
  if (!here) return
  throw new UsageError(
    `'rsb backup ${positionals[0]}' backs up / (the command backup, SOURCE left out), but there is a directory ./backup here.`,
    { hint: `Give SOURCE: 'rsb backup / ${positionals[0]}' for the whole system, or 'rsb ./backup ${positionals[0]}' for that directory.` },
  )
}

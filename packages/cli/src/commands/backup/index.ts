// `rsb backup [OPTIONS] [SOURCE] DESTINATION`: the workflow of rsync-system-backup (and rsb's default command).
// Its option table and pure parse are ../../args.ts; the workflow is ../../backup/run.ts.
import { OPTIONS, parseArgs, wantsJson, type RunOptions } from '../../args.js'
import { isRsbError } from '../../errors.js'
import { helpText } from '../../help.js'
import { createLogger, type Logger } from '../../kit/log.js'
import type { MainIo } from '../../main.js'
import { version } from '../../version.js'
import { errorLine, json, oneLine, refuseCommandLine } from '../../kit/render.js'

import type { RunSummary } from '../../backup/summary.js'
import type { Parsed } from '../index.js'

/** The options of `rsb backup`. */
export const options = OPTIONS

/** `rsb backup --help`. */
export function help(): string {
  return helpText('rsb backup')
}

/** `rsb backup ARGS`: no arguments at all (and no `$RSYNC_MODULE_PATH`) is the help, as the original. */
export function parse(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Parsed<RunOptions> {
  const parsed = parseArgs(argv, env)
  if (parsed.kind === 'usage') return { kind: 'help' }
  return parsed.kind === 'run' ? { kind: 'run', args: parsed.options } : parsed
}

/** Runs the backup workflow. */
export function run(args: RunOptions, io: MainIo): Promise<number> {
  return runWorkflow(args, io, 'rsb')
}

/**
 * The backup command line of `program`: `rsb` (where it is also the default command) or `rsync-system-backup`, the
 * original's grammar with no commands. Returns the exit status.
 */
export async function runBackup(
  argv: readonly string[],
  io: MainIo,
  program: 'rsb' | 'rsb backup' | 'rsync-system-backup',
): Promise<number> {
  const name = program === 'rsync-system-backup' ? program : 'rsb'
  let parsed
  try {
    parsed = parseArgs(argv, io.env, program === 'rsync-system-backup' ? 'rsync-system-backup' : 'rsb')
  } catch (error) {
    // parseArgs reads only the command line: whatever it refuses is a usage error (ERR_RSB_CLI_USAGE, and
    // @rsb/rsync's codes for --rsync-option), exit 2, nothing ran.
    return refuseCommandLine(error, io, name, wantsJson(argv))
  }
  switch (parsed.kind) {
    case 'help':
    case 'usage':
      io.stdout.write(helpText(program))
      return 0
    case 'version':
      io.stdout.write(`${name} ${version()}\n`)
      return 0
    case 'run':
      return runWorkflow(parsed.options, io, name)
  }
}

async function runWorkflow(options: RunOptions, io: MainIo, program: string): Promise<number> {
  const { exitCode, summary } = await backupOnce(options, io, program, createLogger(io.stderr, options.verbosity))
  if (options.json) io.stdout.write(json(summary))
  return exitCode
}

/**
 * One backup run (the workflow, its error logged as `rsb backup` logs it) and its exit status; prints nothing on
 * stdout (`rsb run` runs each job through it).
 */
export async function backupOnce(
  options: RunOptions,
  io: MainIo,
  program: string,
  logger: Logger,
): Promise<{ readonly exitCode: number; readonly summary: RunSummary }> {
  if (options.dryRunOption !== undefined) logger.log('info', `Performing a dry run (because of ${options.dryRunOption} option) ..`)
  const { runWorkflow: workflow } = await import('../../backup/run.js')
  const { summary, error } = await workflow(options, { logger, stdout: io.stdout, stderr: io.stderr, env: io.env, signal: io.signal })
  const exitCode = error === undefined ? 0 : reportError(error, options, logger, io, program)
  summary.exitCode = exitCode
  return { exitCode, summary }
}

/**
 * Codes of errors in the command line itself, found after option parsing: exit 2. The destination's
 * parse errors are usage errors; a destination without a parent or a command context is not. So are
 * @rsb/rsync's refusals of an option (parseArgs finds those first).
 */
function isUsageCode(code: string): boolean {
  if (code === 'ERR_RSB_CLI_USAGE' || code === 'ERR_RSB_RSYNC_UNSAFE_OPTION' || code === 'ERR_RSB_RSYNC_INVALID_OPTION') return true
  return code.startsWith('ERR_RSB_DESTINATION_') && code !== 'ERR_RSB_DESTINATION_NO_PARENT' && code !== 'ERR_RSB_DESTINATION_NO_CONTEXT'
}

/** Logs a failed run's error and returns its exit status. */
function reportError(error: unknown, options: RunOptions, logger: Logger, io: MainIo, program: string): number {
  const reason: unknown = io.signal?.aborted ? io.signal.reason : undefined
  if (reason === 'SIGINT' || reason === 'SIGTERM') {
    logger.log('warning', `Backup interrupted by ${reason}; the cleanups ran.`)
    return reason === 'SIGINT' ? 130 : 143
  }
  if (isRsbError(error)) {
    if (isUsageCode(error.code)) {
      io.stderr.write(`${program}: error: ${errorLine(error)}\n`)
      return 2
    }
    if (error.code === 'ERR_RSB_CRYPTTAB_MISSING_DISK' && io.stdout.isTTY !== true) {
      logger.log('info', `Skipping backup: ${error.message}`)
      return 0
    }
    logger.log('error', `Aborting due to error: ${errorLine(error)}`)
    if (options.verbosity > 0 && error.cause instanceof Error) logger.log('debug', `Caused by: ${error.cause.stack ?? error.cause.message}`)
    return 1
  }
  const message = oneLine(error instanceof Error ? error.message : String(error))
  if (options.verbosity > 0 && error instanceof Error && error.stack) {
    logger.log('error', `Aborting due to an internal error: ${message}`)
    logger.log('error', error.stack)
  } else {
    logger.log('error', `Aborting due to an internal error: ${message} Hint: run again with -v for details, and report it if it persists.`)
  }
  return 1
}

import fs from 'node:fs'
import { parseArgs, type RunOptions } from './args.js'
import { isRsbError } from './errors.js'
import { helpText } from './help.js'
import { createLogger, type Logger, type TextSink } from './log.js'

/** What {@link main} reads and writes. Tests pass buffers; `bin.ts` passes the process's streams. */
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

/** The version of `@rsb/cli`, from its package.json. */
export function version(): string {
  const manifest = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  return manifest.version
}

/**
 * Runs `rsb` with the given arguments and returns the exit status; never exits the process.
 *
 * @param argv - the arguments after the program name
 * @param io - streams, environment and an abort signal
 * @returns 0 success, 1 error, 2 usage error, 130/143 interrupted by SIGINT/SIGTERM
 * @example
 * ```ts
 * const code = await main(['--dry-run', '/srv', '/mnt/backups/latest'], { stdout: process.stdout, stderr: process.stderr, env: process.env })
 * ```
 */
export async function main(argv: readonly string[], io: MainIo): Promise<number> {
  let parsed
  try {
    parsed = parseArgs(argv, io.env)
  } catch (error) {
    if (isRsbError(error) && error.code === 'ERR_RSB_CLI_USAGE') {
      io.stderr.write(`rsb: error: ${error.message} (${error.code})\n`)
      if (error.hint) io.stderr.write(`rsb: hint: ${error.hint}\n`)
      io.stderr.write("Try 'rsb --help' for more information.\n")
      return 2
    }
    io.stderr.write(`rsb: internal error: ${error instanceof Error ? error.message : String(error)}\n`)
    return 1
  }
  switch (parsed.kind) {
    case 'help':
    case 'usage':
      io.stdout.write(helpText())
      return 0
    case 'version':
      io.stdout.write(`rsb ${version()}\n`)
      return 0
    case 'run':
      return run(parsed.options, io)
  }
}

async function run(options: RunOptions, io: MainIo): Promise<number> {
  const logger = createLogger(io.stderr, options.verbosity)
  if (options.dryRunOption !== undefined) logger.log('info', `Performing a dry run (because of ${options.dryRunOption} option) ..`)
  const { runWorkflow } = await import('./backup/run.js')
  const { summary, error } = await runWorkflow(options, { logger, stdout: io.stdout, stderr: io.stderr, env: io.env, signal: io.signal })
  const exitCode = error === undefined ? 0 : reportError(error, options, logger, io)
  summary.exitCode = exitCode
  if (options.json) io.stdout.write(`${JSON.stringify(summary, (_key, value: unknown) => (value === undefined ? null : value), 2)}\n`)
  return exitCode
}

/**
 * Codes of errors in the command line itself, found after option parsing: exit 2. The destination's
 * parse errors are usage errors; a destination without a parent or a command context is not.
 */
function isUsageCode(code: string): boolean {
  if (code === 'ERR_RSB_CLI_USAGE') return true
  return code.startsWith('ERR_RSB_DESTINATION_') && code !== 'ERR_RSB_DESTINATION_NO_PARENT' && code !== 'ERR_RSB_DESTINATION_NO_CONTEXT'
}

/** Logs a failed run's error and returns its exit status. */
function reportError(error: unknown, options: RunOptions, logger: Logger, io: MainIo): number {
  const reason: unknown = io.signal?.aborted ? io.signal.reason : undefined
  if (reason === 'SIGINT' || reason === 'SIGTERM') {
    logger.log('warning', `Backup interrupted by ${reason}; the cleanups ran.`)
    return reason === 'SIGINT' ? 130 : 143
  }
  if (isRsbError(error)) {
    if (isUsageCode(error.code)) {
      io.stderr.write(`rsb: error: ${error.message} (${error.code})\n`)
      if (error.hint) io.stderr.write(`rsb: hint: ${error.hint}\n`)
      return 2
    }
    if (error.code === 'ERR_RSB_CRYPTTAB_MISSING_DISK' && io.stdout.isTTY !== true) {
      logger.log('info', `Skipping backup: ${error.message}`)
      return 0
    }
    logger.log('error', `Aborting due to error: ${error.message} (${error.code})`)
    if (error.hint) logger.log('error', `Hint: ${error.hint}`)
    if (options.verbosity > 0 && error.cause instanceof Error) logger.log('debug', `Caused by: ${error.cause.stack ?? error.cause.message}`)
    return 1
  }
  const message = error instanceof Error ? error.message : String(error)
  logger.log('error', `Aborting due to an internal error: ${message}`)
  if (options.verbosity > 0 && error instanceof Error && error.stack) logger.log('error', error.stack)
  else logger.log('error', 'Hint: run again with -v for details, and report it if it persists.')
  return 1
}

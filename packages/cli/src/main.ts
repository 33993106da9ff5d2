import fs from 'node:fs'
import { parseArgs, wantsJson, type RunOptions } from './args.js'
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
    // parseArgs reads only the command line: whatever it refuses is a usage error (ERR_RSB_CLI_USAGE, and
    // @rsb/rsync's codes for --rsync-option), exit 2, nothing ran.
    const exitCode = isRsbError(error) ? 2 : 1
    const refusal = isRsbError(error)
      ? { code: error.code, message: error.message, hint: error.hint ?? "Try 'rsb --help' for more information." }
      : { code: 'ERR_RSB_CLI_INTERNAL', message: error instanceof Error ? error.message : String(error), hint: undefined }
    io.stderr.write(exitCode === 2 ? `rsb: error: ${errorLine(refusal)}\n` : `rsb: internal error: ${oneLine(refusal.message)}\n`)
    if (wantsJson(argv)) io.stdout.write(json({ schemaVersion: 1, exitCode, error: refusal }))
    return exitCode
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
  if (options.json) io.stdout.write(json(summary))
  return exitCode
}

/** A `--json` document: undefined fields as null, two-space indents, one trailing newline. */
function json(document: object): string {
  return `${JSON.stringify(document, (_key, value: unknown) => (value === undefined ? null : value), 2)}\n`
}

/** Line breaks in a message (a value, a file name) become spaces: an error is one line. */
function oneLine(text: string): string {
  return text.replace(/\r?\n|\r/g, ' ')
}

/** An error as one line: `MESSAGE (CODE)`, then ` Hint: HINT` when it has a hint (the shape rsb-rotate uses). */
function errorLine(error: { code: string; message: string; hint?: string | undefined }): string {
  return oneLine(`${error.message} (${error.code})${error.hint ? ` Hint: ${error.hint}` : ''}`)
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
function reportError(error: unknown, options: RunOptions, logger: Logger, io: MainIo): number {
  const reason: unknown = io.signal?.aborted ? io.signal.reason : undefined
  if (reason === 'SIGINT' || reason === 'SIGTERM') {
    logger.log('warning', `Backup interrupted by ${reason}; the cleanups ran.`)
    return reason === 'SIGINT' ? 130 : 143
  }
  if (isRsbError(error)) {
    if (isUsageCode(error.code)) {
      io.stderr.write(`rsb: error: ${errorLine(error)}\n`)
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

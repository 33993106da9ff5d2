import os from 'node:os'
import type { Context } from '@rsb/exec'
import { FREQUENCIES, formatScheme, formatTimestamp, RotationError, type RotationErrorCode, type TimestampPattern } from '@rsb/rotation'
import {
  describeRotationEvent,
  executeRotation,
  formatDuration,
  formatLocation,
  FsLocalContext,
  parseLocation,
  prepareRotation,
  type DescribeOptions,
  type Location,
  type PreparedRotation,
  type RotationEvent,
  type RotationResult,
} from '@rsb/rotation/io'
import { isRsbError } from '../../errors.js'
import { version } from '../../version.js'
import { parseArgs, type CliOptions } from './args.js'
import { defaultConfigFiles, findSection, loadConfig, resolveLocalDirectory, type RotationConfig, type SectionSettings } from './config.js'
import { helpText } from './help.js'
import { compilePythonTimestampPattern } from './python-regex.js'
import { createLogger, type Logger, type TextSink } from '../../kit/log.js'
import { SyslogWriter, withSyslog } from '../../alerts/syslog.js'
import { errorLine, errorReport } from '../../kit/render.js'
import { pythonListRepr } from './values.js'

// @rsb/exec is loaded on first use: a local run answers its checks and listing with node:fs (FsLocalContext), so
// a local dry run never loads it (nor execa, node:crypto and node:net, which it imports).
let exec: Promise<typeof import('@rsb/exec')> | undefined
function loadExec(): Promise<typeof import('@rsb/exec')> {
  exec ??= import('@rsb/exec')
  return exec
}

/** Codes that mean "the settings are wrong" (a usage error, exit 2). */
const SETTINGS_ERROR_CODES: readonly (RotationErrorCode | 'ERR_RSB_CLI_USAGE')[] = [
  'ERR_RSB_ROTATION_BAD_RETENTION',
  'ERR_RSB_ROTATION_EMPTY_SCHEME',
  'ERR_RSB_ROTATION_BAD_PATTERN',
  'ERR_RSB_ROTATION_BAD_OPTION',
  'ERR_RSB_ROTATION_USAGE',
  'ERR_RSB_CLI_USAGE',
]

/** What {@link main} reads and writes. Tests pass buffers; `bin/rsb-rotate.ts` passes the process's streams. */
export interface MainIo {
  /** Help, version and `--json`. */
  readonly stdout: TextSink
  /** Log lines and errors. */
  readonly stderr: TextSink
  /** The environment (HOME, XDG_CONFIG_HOME, RSB_SSH_CONFIG, RSB_SYSLOG_SOCKET). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Aborted with reason `SIGINT` or `SIGTERM` to stop. */
  readonly signal?: AbortSignal | undefined
  /** Working directory for relative paths (default: the process's). */
  readonly cwd?: string | undefined
  /** Where the system-wide configuration lives (default `/etc`; tests point it elsewhere). */
  readonly systemConfigDir?: string | undefined
}

/** One location to rotate, with its settings. */
interface Target {
  /** As given on the command line, or the configured location. */
  readonly given: string
  readonly location: Location
  /** The location as logged: the absolute directory, or `[user@]host:/dir`. */
  readonly label: string
}

function exitCodeOf(error: unknown): number {
  return isRsbError(error) && (SETTINGS_ERROR_CODES as readonly string[]).includes(error.code) ? 2 : 1
}

/**
 * Runs `rsb-rotate` with the given arguments and returns the exit status; never exits the process.
 *
 * @param argv - the arguments after the program name
 * @param io - streams, environment and an abort signal
 * @returns 0 success, 1 error, 2 usage error, 130/143 interrupted by SIGINT/SIGTERM
 * @example
 * ```ts
 * const code = await main(['--daily=7', '--dry-run', '/backups'], { stdout: process.stdout, stderr: process.stderr, env: process.env })
 * ```
 */
export async function main(argv: readonly string[], io: MainIo): Promise<number> {
  let parsed
  try {
    parsed = parseArgs(argv)
  } catch (error) {
    return refuse(error, io)
  }
  if (parsed.kind === 'help') {
    io.stdout.write(helpText())
    return 0
  }
  if (parsed.kind === 'version') {
    io.stdout.write(`rsb-rotate ${version()}\n`)
    return 0
  }
  return rotate(parsed.options, io)
}

/** Rotates with parsed options: every location given (or configured). Returns the exit status. */
export async function rotate(options: CliOptions, io: MainIo): Promise<number> {
  const stderr = createLogger(io.stderr, options.verbosity, { program: 'rsb-rotate', batch: true })
  // --syslog=yes: as rotate-backups 8.1, the log lines (INFO and above) also go to syslog, `rsb-rotate[PID]: LEVEL
  // message`, through logger(1) on /dev/log (or $RSB_SYSLOG_SOCKET). A failure to reach it is one warning on stderr.
  let syslogFailed = false
  const syslog = options.syslog
    ? new SyslogWriter({
        tag: 'rsb-rotate',
        socket: io.env.RSB_SYSLOG_SOCKET || undefined,
        onError: (detail) => {
          if (!syslogFailed) stderr.log('warning', `Could not log to syslog: ${detail}`)
          syslogFailed = true
        },
      })
    : undefined
  const logger = syslog ? withSyslog(stderr, syslog) : stderr
  const run = new Run(options, io, logger)
  try {
    return await run.start()
  } catch (error) {
    return run.report(error)
  } finally {
    await run.close()
    await syslog?.close()
    logger.flush()
    // Built only now and only for --json: the plans are final, and nothing is made that would be thrown away.
    if (options.json)
      io.stdout.write(`${JSON.stringify({ locations: run.planned.map(([given, prepared]) => jsonLocation(given, prepared)) })}\n`)
  }
}

/** An error of the command line: one line on stderr, exit 2 (1 for an error that is not rsb's). */
export function refuse(error: unknown, io: MainIo): number {
  io.stderr.write(errorReport(error, 'rsb-rotate'))
  return isRsbError(error) ? exitCodeOf(error) : 1
}

interface JsonLocation {
  directory: string
  backups: { name: string; timestamp: string; action: 'keep' | 'delete'; periods: string[] }[]
}

class Run {
  /** Each location as given, with its plan (for `--json`). */
  readonly planned: [given: string, prepared: PreparedRotation][] = []
  readonly #options: CliOptions
  readonly #io: MainIo
  readonly #logger: Logger
  readonly #contexts = new Map<string, Context>()
  readonly #cwd: string
  readonly #home: string

  constructor(options: CliOptions, io: MainIo, logger: Logger) {
    this.#options = options
    this.#io = io
    this.#logger = logger
    this.#cwd = io.cwd ?? process.cwd()
    this.#home = io.env.HOME || os.homedir()
  }

  async start(): Promise<number> {
    const { options } = this
    const log = this.#logger
    if (options.dryRun) log.log('info', `Performing a dry run (because of ${options.dryRunOption} option) ..`)
    if (options.removalCommand) log.log('info', `Using custom removal command: ${pythonListRepr(options.removalCommand)}`)
    if (Object.keys(options.scheme).length > 0)
      log.log('verbose', `Rotation scheme defined on command line: ${formatScheme(options.scheme)}`)

    const files = options.config === undefined ? defaultConfigFiles(this.#io.env, this.#io.systemConfigDir) : [options.config]
    const config = loadConfig(files, { explicit: options.config !== undefined, env: this.#io.env, cwd: this.#cwd })
    for (const warning of config.warnings) log.log('warning', warning)

    const targets = options.directories.length > 0 ? this.#commandLineTargets() : await this.#configuredTargets(config)
    if (targets.length === 0) {
      this.#io.stdout.write(helpText())
      return 0
    }
    const source = options.directories.length > 0 ? 'command line arguments' : 'configuration file'
    log.log('verbose', `Selected ${targets.length} location${targets.length === 1 ? '' : 's'} based on ${source}:`)
    targets.forEach((target, index) => log.log('verbose', ` ${index + 1}. ${target.label}`))

    const prepared: PreparedRotation[] = []
    const results: RotationResult[] = []
    for (const target of targets) {
      const one = await this.#prepare(target, config)
      this.planned.push([target.given, one])
      if (options.parallel) prepared.push(one)
      else results.push(...(await this.#execute([one])))
    }
    if (options.parallel) {
      const count = prepared.reduce((sum, p) => sum + p.removals.length, 0)
      const started = performance.now()
      if (count > 0 && !options.dryRun) log.log('info', `Preparing to rotate ${count} backup${count === 1 ? '' : 's'} (in parallel) ..`)
      results.push(...(await this.#execute(prepared)))
      const failed = results.reduce((sum, r) => sum + r.failures.length, 0)
      if (count > 0 && !options.dryRun && failed === 0) {
        log.log('info', `Successfully rotated ${count} backup${count === 1 ? '' : 's'} in ${formatDuration(performance.now() - started)}.`)
      }
    }
    if (this.#io.signal?.aborted) return this.report(this.#io.signal.reason)
    const failures = results.flatMap((r) => r.failures)
    if (failures.length > 0) {
      log.log(
        'error',
        `Failed to delete ${failures.length} backup${failures.length === 1 ? '' : 's'} (the other deletions ran). (ERR_RSB_ROTATION_REMOVAL_FAILED)`,
      )
      return 1
    }
    return 0
  }

  get options(): CliOptions {
    return this.#options
  }

  #commandLineTargets(): Target[] {
    return this.#options.directories.map((given) => this.#target(given, parseLocation(given)))
  }

  #target(given: string, parsed: Location): Target {
    const location: Location =
      parsed.kind === 'local' ? { kind: 'local', directory: resolveLocalDirectory(parsed.directory, this.#io.env, this.#cwd) } : parsed
    return { given, location, label: formatLocation(location) }
  }

  async #configuredTargets(config: RotationConfig): Promise<Target[]> {
    const targets: Target[] = []
    const seen = new Set<string>()
    const add = (target: Target) => {
      if (seen.has(target.label)) return
      seen.add(target.label)
      targets.push(target)
    }
    for (const section of config.sections) {
      if (!section.glob) {
        add(this.#target(formatLocation(section.location), section.location))
        continue
      }
      if (section.location.kind === 'ssh')
        this.#logger.log('notice', `Expanding ${section.name} on the remote system (this may be slow) ..`)
      const context = await this.#context(section.location, section.settings)
      for (const match of await expandGlob(context, section.location.directory, section.settings.useSudo ?? this.#options.useSudo)) {
        if (!match.directory) {
          this.#logger.log('verbose', `Ignoring match (not a directory): ${match.path}`)
          continue
        }
        const location: Location = { ...section.location, directory: match.path }
        add(this.#target(formatLocation(location), location))
      }
    }
    return targets
  }

  async #context(location: Location, settings: SectionSettings): Promise<Context> {
    if (location.kind === 'local') {
      let context = this.#contexts.get('')
      if (!context) this.#contexts.set('', (context = new FsLocalContext()))
      return context
    }
    const user = location.user ?? settings.sshUser
    const key = `${user ?? ''}@${location.host}`
    let context = this.#contexts.get(key)
    if (!context) {
      const { SshContext } = await loadExec()
      context = this.#contexts.get(key) ?? new SshContext({ host: location.host, user, sshConfigFile: this.#io.env.RSB_SSH_CONFIG })
      this.#contexts.set(key, context)
    }
    return context
  }

  async #prepare(target: Target, config: RotationConfig): Promise<PreparedRotation> {
    const { options } = this
    const log = this.#logger
    log.log('verbose', `Loading configuration for ${target.label} ..`)
    const section = findSection(config, target.location)
    if (section) log.log('verbose', `Using configuration section [${section.name}] for ${target.label}.`)
    else log.log('verbose', `No configuration found for ${target.label}.`)
    const s: SectionSettings = section?.settings ?? {}
    const scheme = s.scheme ?? options.scheme
    if (!FREQUENCIES.some((f) => scheme[f] !== undefined)) {
      throw new RotationError('ERR_RSB_ROTATION_EMPTY_SCHEME', 'Refusing to use empty rotation scheme! (all backups would be deleted)', {
        target: target.label,
        hint: 'Give at least one of --minutely, --hourly, --daily, --weekly, --monthly or --yearly (or set them in a configuration section).',
      })
    }
    if (FREQUENCIES.every((f) => scheme[f] === undefined || scheme[f] === 0)) {
      // rotate-backups 8.1 accepts such a scheme (and keeps the newest backup only); so does rsb-rotate, loudly.
      log.log(
        'warning',
        `The rotation scheme ${formatScheme(scheme)} keeps nothing but the newest backup in ${target.label} (every count is 0 and none is 'always'); rotating anyway, as rotate-backups 8.1 does.`,
      )
    }
    const context = await this.#context(target.location, s)
    const describe: DescribeOptions = { force: options.force, home: target.location.kind === 'local' ? this.#home : undefined }
    return prepareRotation(context, target.location.directory, {
      scheme,
      strict: options.relaxed ? false : (s.strict ?? true),
      preferRecent: s.preferRecent ?? options.preferRecent ?? false,
      legacyWeekBuckets: s.legacyWeekBuckets ?? options.legacyWeekBuckets ?? false,
      keepLatest: s.keepLatest ?? options.keepLatest ?? 0,
      timestampPattern: timestampPattern(s.timestampPattern ?? options.timestampPattern),
      include: s.include ?? options.include,
      exclude: s.exclude ?? options.exclude,
      removalCommand: s.removalCommand ?? options.removalCommand,
      useSudo: s.useSudo ?? options.useSudo ?? false,
      ionice: s.ionice ?? options.ionice,
      dryRun: options.dryRun,
      force: options.force,
      label: target.label,
      signal: this.#io.signal,
      onEvent: (event) => this.#render(event, describe),
    })
  }

  async #execute(prepared: PreparedRotation[]): Promise<RotationResult[]> {
    const results = await executeRotation(prepared, { parallel: this.#options.parallel })
    for (const result of results) {
      if (result.plan.decisions.length > 0 && result.removals.length === 0)
        this.#logger.log('info', 'Nothing to do! (all backups preserved)')
    }
    return results
  }

  #render(event: RotationEvent, describe: DescribeOptions): void {
    const line = describeRotationEvent(event, describe)
    if (line) this.#logger.log(line.level, line.message)
  }

  /** Logs an error and returns the exit status. */
  report(error: unknown): number {
    const reason: unknown = this.#io.signal?.aborted ? this.#io.signal.reason : undefined
    if (reason === 'SIGINT' || reason === 'SIGTERM') {
      this.#logger.log('warning', `Interrupted by ${reason}.`)
      return reason === 'SIGINT' ? 130 : 143
    }
    if (isRsbError(error)) {
      this.#logger.log('error', errorLine(error))
      if (this.#options.verbosity > 0 && error.cause instanceof Error)
        this.#logger.log('debug', `Caused by: ${error.cause.stack ?? error.cause.message}`)
      return exitCodeOf(error)
    }
    const message = error instanceof Error ? error.message : String(error)
    this.#logger.log('error', `Internal error: ${message}`)
    if (this.#options.verbosity > 0 && error instanceof Error && error.stack) this.#logger.log('error', error.stack)
    return 1
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#contexts.values()].map((context) => context.close()))
  }
}

function jsonLocation(directory: string, prepared: PreparedRotation): JsonLocation {
  const backups: JsonLocation['backups'] = []
  for (const d of prepared.plan.decisions) {
    backups.push({
      name: d.name,
      timestamp: formatTimestamp(d.timestamp),
      action: d.action,
      // Retention frequencies only (minutely … yearly): keep-latest and protect show in the log lines, not here.
      periods: d.periods,
    })
  }
  return { directory, backups }
}

/** Expands a glob section's directory on the target system (only `*` is special): `[{ path, directory }]`, sorted. */
async function expandGlob(context: Context, pattern: string, sudo: boolean | undefined): Promise<{ path: string; directory: boolean }[]> {
  const { quoteArgument } = await loadExec()
  const word = pattern
    .split('*')
    .map((part) => (part === '' ? '' : quoteArgument(part)))
    .join('*')
  const script = `for p in ${word}; do if [ -d "$p" ]; then printf 'd%s\\000' "$p"; elif [ -e "$p" ] || [ -L "$p" ]; then printf 'f%s\\000' "$p"; fi; done`
  const { stdout } = await context.run(['sh', '-c', script], { capture: true, ionice: undefined, ...(sudo === undefined ? {} : { sudo }) })
  return stdout
    .split('\0')
    .filter((item) => item.length > 1)
    .map((item) => ({ path: item.slice(1), directory: item[0] === 'd' }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/** The `--timestamp-pattern` (Python syntax, checked when the options were read), compiled. */
function timestampPattern(text: string | undefined): TimestampPattern | undefined {
  return text === undefined ? undefined : compilePythonTimestampPattern(text)
}

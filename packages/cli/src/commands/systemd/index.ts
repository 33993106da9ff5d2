// `rsb systemd JOB…|--all [--install [--dry-run] [--prune]] [--cron]`: the systemd units that run the jobs of the
// configuration file on their schedules (printed, or written and enabled with --install), or the lines of
// /etc/cron.d/rsb for machines without systemd. The units are ./units.ts, the cron lines ./cron.ts (both pure), the
// writing and systemctl ./install.ts.
import path from 'node:path'
import type { Context } from '@rsb/exec'
import { CliError, isRsbError, UsageError } from '../../errors.js'
import { findJob } from '../../config/expand.js'
import { ConfigError, configFile, formatProblem, loadConfig, type Config, type ConfigJob, type ConfigProblem } from '../../config/load.js'
import { getopt, type OptionDefinition } from '../../kit/getopt.js'
import { formatOptions, HELP_WIDTH, paragraphs, wrap } from '../../kit/help.js'
import { createLogger, type Logger } from '../../kit/log.js'
import { errorReport } from '../../kit/render.js'
import type { MainIo } from '../../main.js'
import type { Parsed } from '../index.js'
import { cronFields, normalizeCalendar, renderCrontab } from './cron.js'
import { DEFAULT_UNIT_DIR, renderUnits, unitsText, type UnitSettings } from './units.js'

/** The options of `rsb systemd`. */
export const options: readonly OptionDefinition[] = [
  {
    name: 'all',
    description: 'Every job of the configuration file (a daemon job, which its rsync daemon runs, is skipped and named).',
  },
  { name: 'config', value: 'FILE', description: 'The configuration file (default $RSB_CONFIG, else /etc/rsb/rsb.toml).' },
  {
    name: 'install',
    description:
      'Write the units into the unit directory (atomically, mode 0644), then systemctl daemon-reload and systemctl enable ' +
      '--now for each timer. Under ROOT/etc/systemd/system: systemctl --root=ROOT enable (nothing started). In any other ' +
      'directory the units are only written.',
  },
  { name: 'dry-run', short: 'n', description: 'With --install: print the units and the systemctl commands, write and run nothing.' },
  {
    name: 'prune',
    description:
      'With --install: disable and remove the rsb-NAME.timer and rsb-NAME.service that rsb wrote from this configuration ' +
      'file for jobs no longer in it (without it they are only named).',
  },
  {
    name: 'unit-dir',
    value: 'DIR',
    description: `Where the units go (default ${DEFAULT_UNIT_DIR}). It must not be writable by other users.`,
  },
  {
    name: 'rsb',
    value: 'PATH',
    description:
      'The rsb program the units run, an absolute path (default: this program, as it was started). With --install, it ' +
      "and every directory above it must be root's (or yours) and writable by nobody else: root runs it.",
  },
  {
    name: 'cron',
    description:
      'Print the lines of /etc/cron.d/rsb instead (for machines without systemd): one per job, its schedule as cron fields, ' +
      'its output to syslog through logger. A schedule cron cannot express is refused.',
  },
  { name: 'version', description: 'Print the version.' },
  { name: 'help', short: 'h', description: 'Print this help.' },
]

/** `rsb systemd`'s typed arguments. */
export interface SystemdArgs {
  /** The jobs named (empty with `all`). */
  readonly jobs: readonly string[]
  readonly all: boolean
  /** The configuration file, absolute. */
  readonly config: string
  readonly install: boolean
  readonly dryRun: boolean
  readonly prune: boolean
  readonly cron: boolean
  /** Absolute. */
  readonly unitDir: string
  /** `--rsb` PATH; undefined: the running program. */
  readonly rsb: string | undefined
}

// oxlint-disable-next-line no-control-regex -- control characters are what is refused (a unit has one setting a line)
const CONTROL = /[\0-\x1f\x7f]/

/**
 * `rsb systemd ARGS` into typed arguments (pure, but for resolving relative paths).
 *
 * @throws {UsageError} ERR_RSB_CLI_USAGE: no JOB and no --all (or both), --cron with --install or --unit-dir,
 *   --dry-run or --prune without --install, a --rsb PATH that is not absolute
 */
export function parse(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Parsed<SystemdArgs> {
  const { options: given, positionals } = getopt(argv, options)
  const has = (name: string) => given.some((o) => o.name === name)
  const last = (name: string) => given.findLast((o) => o.name === name)?.value
  if (has('help')) return { kind: 'help' }
  if (has('version')) return { kind: 'version' }
  const all = has('all')
  if (all && positionals.length > 0) throw new UsageError(`Give JOB names or --all, not both (got --all and ${positionals.join(' ')}).`)
  if (!all && positionals.length === 0)
    throw new UsageError('Name the jobs (rsb systemd JOB…), or give --all for every job of the configuration file.')
  const install = has('install')
  const cron = has('cron')
  if (cron && install) {
    throw new UsageError('--cron prints the lines of /etc/cron.d/rsb, --install writes systemd units: give one of them.', {
      hint: 'Without systemd: rsb systemd --all --cron > /etc/cron.d/rsb',
    })
  }
  if (cron && last('unit-dir') !== undefined) throw new UsageError('--unit-dir is where the systemd units go; --cron writes none.')
  for (const name of ['dry-run', 'prune'] as const) {
    if (has(name) && !install) throw new UsageError(`--${name} goes with --install (without it nothing is written).`)
  }
  const rsb = last('rsb')
  if (rsb !== undefined && (!path.isAbsolute(rsb) || CONTROL.test(rsb))) {
    throw new UsageError(`--rsb must be an absolute path without line breaks (got '${rsb}').`, {
      hint: 'Give the installed program, for example --rsb=/usr/local/bin/rsb.',
    })
  }
  const unitDir = last('unit-dir')
  if (unitDir === '') throw new UsageError('--unit-dir must not be empty.')
  return {
    kind: 'run',
    args: {
      jobs: [...new Set(positionals)],
      all,
      config: configFile(last('config'), env),
      install,
      dryRun: has('dry-run'),
      prune: has('prune'),
      cron,
      unitDir: path.resolve(unitDir ?? DEFAULT_UNIT_DIR),
      rsb: rsb === undefined ? undefined : path.normalize(rsb),
    },
  }
}

/** The jobs of a command line: those with a timer, and the daemon jobs `--all` skipped. */
export interface SelectedJobs {
  readonly jobs: readonly ConfigJob[]
  readonly daemons: readonly ConfigJob[]
}

/**
 * The jobs named (or every job with `all`), in the file's order for `all`, else in the order named. Pure.
 *
 * @throws {CliError} ERR_RSB_CLI_JOB_UNKNOWN for a name that is no job of the file (exit 2)
 * @throws {UsageError} ERR_RSB_CLI_USAGE for a daemon job named (its rsync daemon runs it: no timer)
 */
export function selectJobs(config: Config, names: readonly string[], all: boolean): SelectedJobs {
  if (all) return { jobs: config.jobs.filter((job) => !job.daemon), daemons: config.jobs.filter((job) => job.daemon) }
  const jobs = names.map((name) => {
    const job = findJob(config, name)
    if (job.daemon) {
      throw new UsageError(`Job '${name}' is a daemon job: its rsync daemon's hooks run it (rsb run --daemon-hook), it gets no timer.`, {
        hint: 'Leave it out (with --all it is skipped).',
      })
    }
    return job
  })
  return { jobs, daemons: [] }
}

/** Runs the command; returns the exit status. */
export async function run(args: SystemdArgs, io: MainIo): Promise<number> {
  const logger = createLogger(io.stderr, 0)
  try {
    return await runSystemd(args, io, logger)
  } catch (error) {
    const reason: unknown = io.signal?.aborted ? io.signal.reason : undefined
    io.stderr.write(errorReport(error, 'rsb'))
    if (reason === 'SIGINT') return 130
    if (reason === 'SIGTERM') return 143
    return isRsbError(error) && (error.code === 'ERR_RSB_CLI_USAGE' || error.code === 'ERR_RSB_CLI_JOB_UNKNOWN') ? 2 : 1
  }
}

async function runSystemd(args: SystemdArgs, io: MainIo, logger: Logger): Promise<number> {
  const config = loadConfig(args.config)
  const { jobs, daemons } = selectJobs(config, args.jobs, args.all)
  for (const job of daemons) logger.log('info', `Job '${job.name}' is a daemon job (its rsync daemon runs it): it gets no timer.`)
  const settings: UnitSettings = { rsb: args.rsb ?? path.resolve(process.argv[1] ?? 'rsb'), config: config.file }
  for (const [what, text] of [
    ['The rsb program', settings.rsb],
    ['The configuration file', settings.config],
  ] as const) {
    if (CONTROL.test(text)) throw new UsageError(`${what} ${JSON.stringify(text)} has a line break or another control character.`)
    if (args.cron && text.includes('\\')) throw new UsageError(`${what} ${text} has a backslash, which a cron line cannot hold with a %.`)
  }
  if (jobs.length === 0) {
    logger.log('warning', `No job of ${config.file} has a timer: nothing to do.`)
    return 0
  }
  const { LocalContext } = await import('@rsb/exec')
  const context = new LocalContext({ sudo: false })
  const normalized = await normalizeSchedules(config, jobs, context, io.signal)
  if (args.cron) {
    io.stdout.write(renderCrontab(cronEntries(jobs, normalized), settings))
    return 0
  }
  const units = renderUnits(jobs, settings)
  if (!args.install) {
    io.stdout.write(unitsText(units, args.unitDir))
    return 0
  }
  const { install } = await import('./run.js')
  return install({ args, config, jobs, units, settings, context, logger, io })
}

/**
 * Each job's schedule in `systemd-analyze calendar`'s normalized form; none where that program is missing (the
 * schedules are then not checked, and --cron reads the common forms itself).
 *
 * @throws {ConfigError} ERR_RSB_CLI_CONFIG_INVALID naming each job whose schedule systemd cannot read
 */
export async function normalizeSchedules(
  config: Config,
  jobs: readonly ConfigJob[],
  context: Context,
  signal: AbortSignal | undefined,
): Promise<ReadonlyMap<string, string>> {
  const normalized = new Map<string, string>()
  const problems: ConfigProblem[] = []
  for (const schedule of new Set(jobs.map((job) => job.schedule))) {
    const result = await context.run(['systemd-analyze', 'calendar', '--', schedule], {
      check: false,
      env: { LC_ALL: 'C', SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' },
      signal,
    })
    if (result.exitCode === 127) return new Map()
    const form = /^\s*Normalized form: (.+)$/m.exec(result.stdout)?.[1]
    if (result.exitCode === 0 && form !== undefined) {
      normalized.set(schedule, form.trim())
      continue
    }
    const why = result.stderr.trim().split('\n').at(-1) ?? ''
    for (const job of jobs.filter((job) => job.schedule === schedule)) {
      problems.push({
        file: config.file,
        line: job.keys.schedule?.line ?? job.line,
        key: job.keys.schedule?.key ?? `jobs.${job.name}`,
        message: `'${schedule}' is not a systemd OnCalendar expression (systemd-analyze calendar: ${why}).`,
      })
    }
  }
  if (problems.length > 0) {
    const first = problems[0] as ConfigProblem
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''
    throw new ConfigError('ERR_RSB_CLI_CONFIG_INVALID', `${formatProblem(first)}${more}`, {
      path: config.file,
      problems,
      hint: 'Write a calendar event of systemd.time(7): hourly, daily, weekly, *-*-* 03:00, Mon..Fri 02:30, *:0/15.',
    })
  }
  return normalized
}

/**
 * Each job with its cron fields. Pure.
 *
 * @param normalized - the schedules' normalized forms by `systemd-analyze calendar` (empty: read by normalizeCalendar)
 * @throws {CliError} ERR_RSB_CLI_SCHEDULE_UNSUPPORTED naming every job whose schedule cron cannot express
 */
export function cronEntries(
  jobs: readonly ConfigJob[],
  normalized: ReadonlyMap<string, string>,
): { readonly job: ConfigJob; readonly fields: string }[] {
  const refused: string[] = []
  const entries = jobs.flatMap((job) => {
    const form = normalized.get(job.schedule) ?? normalizeCalendar(job.schedule)
    if (form === undefined) {
      refused.push(`job '${job.name}' ('${job.schedule}'): without systemd-analyze, rsb reads only the common forms`)
      return []
    }
    const fields = cronFields(form)
    if (fields.kind === 'refused') {
      refused.push(`job '${job.name}' ('${job.schedule}'): ${fields.reason}`)
      return []
    }
    return [{ job, fields: fields.fields }]
  })
  if (refused.length > 0) {
    throw new CliError('ERR_RSB_CLI_SCHEDULE_UNSUPPORTED', `Cron cannot run on the schedule of ${refused.join('; ')}.`, {
      hint:
        'Cron takes hourly, daily, weekly, monthly, yearly and [WEEKDAYS] [*-MONTH-DAY] HOUR:MINUTE with values, lists, ' +
        'ranges and steps (Mon..Fri 02:30, *-*-01 04:00, *:0/15). Change the schedule, or name the other jobs.',
    })
  }
  return entries
}

const EXIT_STATUSES: readonly [string, string][] = [
  ['0', 'printed (or installed)'],
  [
    '1',
    'an error: no configuration file or a bad one (ERR_RSB_CLI_CONFIG_*, also a schedule systemd cannot read), a unit ' +
      'directory others could write (ERR_RSB_CLI_UNIT_DIR_UNSAFE), a unit not written, systemctl failing or ' +
      'a program for the units that others could change (ERR_RSB_CLI_INSTALL_FAILED), a schedule cron cannot express (ERR_RSB_CLI_SCHEDULE_UNSUPPORTED)',
  ],
  ['2', 'a wrong command line (ERR_RSB_CLI_USAGE; a JOB the file does not have: ERR_RSB_CLI_JOB_UNKNOWN): nothing written'],
]

/** `rsb systemd --help`. */
export function help(): string {
  return [
    'Usage: rsb systemd [OPTIONS] JOB…',
    '       rsb systemd [OPTIONS] --all',
    '',
    ...paragraphs(
      'Print the systemd units that run the jobs of the configuration file on their schedules, or with --install write ' +
        "and enable them. Each JOB gets rsb-JOB.service (a oneshot rsb run --config=FILE JOB at Nice=19, the job's " +
        'ionice class or idle, CPUSchedulingPolicy=batch, after the network is up) and rsb-JOB.timer (OnCalendar= its ' +
        'schedule, RandomizedDelaySec= its randomized-delay, Persistent=true: a run missed while the machine was off ' +
        'is made up at boot); the timer is what gets enabled. Once for all jobs: rsb-failure@.service, which a failed job ' +
        "starts through OnFailure= and which runs rsb run --report-failure JOB to send the job's alert. So a unit " +
        'directory takes the jobs of one configuration file: --install refuses one with units rsb wrote from another.',
      'A daemon job (daemon = true) gets no timer: its rsync daemon runs it. --all skips it and says so; named, it is ' +
        'refused. Timers rsb-NAME.timer in the unit directory whose NAME is no job of the file are named (removed with ' +
        '--prune).',
      'With --cron: the lines of /etc/cron.d/rsb instead, for machines without systemd (rsb systemd --all --cron > ' +
        '/etc/cron.d/rsb). Each job runs as root under nice and ionice after a random sleep of up to its ' +
        'randomized-delay, with its output sent to syslog (logger -t rsb-JOB). The schedule is read with ' +
        "systemd-analyze calendar where it is installed (else the common forms only) and written as cron's fields: " +
        'hourly, daily, weekly, monthly, yearly, [WEEKDAYS] [*-MONTH-DAY] HOUR:MINUTE with values, lists (1,13), ranges ' +
        '(Mon..Fri, 1..5) and steps (*:0/15). Refused: seconds, years, ~ (last days of a month), time zones, and a ' +
        'weekday together with a day of the month (systemd wants both, cron runs on either). Cron does not make up ' +
        'missed runs.',
    ),
    '',
    'Options:',
    ...formatOptions(options),
    '',
    'Exit status:',
    ...EXIT_STATUSES.flatMap(([code, meaning]) =>
      wrap(meaning, HELP_WIDTH, ' '.repeat(12)).map((line, i) => (i === 0 ? `  ${code.padEnd(10)}${line.trimStart()}` : line)),
    ),
    '',
    'Examples:',
    '  rsb systemd home',
    '  rsb systemd --all --install',
    '  rsb systemd --all --install --dry-run --rsb=/usr/local/bin/rsb',
    '  rsb systemd --all --cron > /etc/cron.d/rsb',
    '',
  ].join('\n')
}

import { RotationError, type Frequency, type RotationScheme } from '@rsb/rotation'
import { compilePythonTimestampPattern } from './python-regex.js'
import { getopt, type OptionDefinition } from '../../kit/getopt.js'
import { FREQUENCIES, parseCount, parseIonice, parseRetentionValue, type IoniceClass } from '../../kit/values.js'
import { parseBoolean, splitShellWords } from './values.js'

/** The options of `rsb-rotate` (rotate-backups 8.1's, plus rsb's own). */
export const OPTIONS: readonly OptionDefinition[] = [
  {
    name: 'minutely',
    short: 'M',
    value: 'COUNT',
    description: 'How many minutely backups to preserve (a count, arithmetic like "7 * 2", or "always").',
  },
  { name: 'hourly', short: 'H', value: 'COUNT', description: 'How many hourly backups to preserve.' },
  { name: 'daily', short: 'd', value: 'COUNT', description: 'How many daily backups to preserve.' },
  { name: 'weekly', short: 'w', value: 'COUNT', description: 'How many weekly backups to preserve (ISO weeks).' },
  { name: 'monthly', short: 'm', value: 'COUNT', description: 'How many monthly backups to preserve.' },
  { name: 'yearly', short: 'y', value: 'COUNT', description: 'How many yearly backups to preserve.' },
  {
    name: 'timestamp-pattern',
    short: 't',
    value: 'PATTERN',
    description:
      'Python regular expression (VERBOSE mode) with the named groups year, month and day (and optionally hour, minute, second) to find timestamps in names.',
  },
  { name: 'include', short: 'I', value: 'PATTERN', description: 'Only rotate backups whose name matches this shell pattern (repeatable).' },
  {
    name: 'exclude',
    short: 'x',
    value: 'PATTERN',
    description: "Don't rotate backups whose name matches this shell pattern (repeatable).",
  },
  {
    name: 'parallel',
    short: 'j',
    description: 'Remove backups in parallel, one command at a time per mount point (all locations are planned first).',
  },
  { name: 'prefer-recent', short: 'p', description: 'Preserve the newest backup of each time slot instead of the oldest.' },
  { name: 'relaxed', short: 'r', description: 'Keep the N newest time slots that hold backups, however old (no strict windows).' },
  {
    name: 'ionice',
    short: 'i',
    value: 'CLASS',
    description: 'I/O scheduling class of the removal commands: idle, best-effort, realtime (or 3, 2, 1).',
  },
  { name: 'config', short: 'c', value: 'FILE', description: 'Read only this configuration file.' },
  {
    name: 'removal-command',
    short: 'C',
    value: 'CMD',
    description: 'Command that removes a backup, split like a shell would; the path is appended (default: rm -fR).',
  },
  { name: 'use-sudo', short: 'u', description: 'Run every command with sudo (when not root).' },
  {
    name: 'syslog',
    short: 'S',
    value: 'CHOICE',
    description:
      'yes: also send the log lines (INFO and above) to syslog, as rsb-rotate[PID] through logger(1), on /dev/log or $RSB_SYSLOG_SOCKET; no (the default): standard error only.',
  },
  { name: 'force', short: 'f', description: 'Continue when a location is missing, unreadable or unwritable.' },
  { name: 'dry-run', short: 'n', description: 'Show what would be kept and deleted; delete nothing.' },
  { name: 'verbose', short: 'v', description: 'Log more (repeatable).' },
  { name: 'quiet', short: 'q', description: 'Log less (repeatable).' },
  { name: 'help', short: 'h', description: 'Show this help and exit.' },
  { name: 'version', description: 'Show the version and exit.' },
  { name: 'legacy-week-buckets', description: 'Key weekly buckets by calendar year and ISO week, exactly like rotate-backups 8.1.' },
  { name: 'keep-latest', value: 'N', description: 'Never delete the N newest backups of a location.' },
  { name: 'json', description: 'Print the plan as JSON on standard output.' },
]

/** What the command line asks for, before configuration files. */
export interface CliOptions {
  /** Frequencies given on the command line (last value wins). */
  scheme: RotationScheme
  timestampPattern: string | undefined
  include: string[]
  exclude: string[]
  parallel: boolean
  /** Undefined when the option was not given (a configuration section may then decide). */
  preferRecent: boolean | undefined
  relaxed: boolean
  ionice: IoniceClass | undefined
  config: string | undefined
  removalCommand: string[] | undefined
  useSudo: boolean | undefined
  syslog: boolean | undefined
  force: boolean
  dryRun: boolean
  /** How the dry-run option was typed (for the log line). */
  dryRunOption: string | undefined
  /** Count of -v minus count of -q. */
  verbosity: number
  legacyWeekBuckets: boolean | undefined
  keepLatest: number | undefined
  json: boolean
  directories: string[]
}

/** The result of {@link parseArgs}. */
export type ParsedArgs = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; options: CliOptions }

const FREQUENCY_OPTIONS: readonly string[] = FREQUENCIES

/**
 * Parses `rsb-rotate`'s command line (pure). Values are checked here: a bad retention value, ionice class,
 * syslog choice, count or pattern is a usage error even when no directory follows.
 *
 * @throws {UsageError} ERR_RSB_CLI_USAGE (the kit's option parser and value parsers)
 * @throws {RotationError} ERR_RSB_ROTATION_BAD_RETENTION, ERR_RSB_ROTATION_BAD_OPTION,
 *   ERR_RSB_ROTATION_BAD_PATTERN
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const { options: occurrences, positionals } = getopt(argv, OPTIONS)
  const options: CliOptions = {
    scheme: {},
    timestampPattern: undefined,
    include: [],
    exclude: [],
    parallel: false,
    preferRecent: undefined,
    relaxed: false,
    ionice: undefined,
    config: undefined,
    removalCommand: undefined,
    useSudo: undefined,
    syslog: undefined,
    force: false,
    dryRun: false,
    dryRunOption: undefined,
    verbosity: 0,
    legacyWeekBuckets: undefined,
    keepLatest: undefined,
    json: false,
    directories: positionals,
  }
  for (const { name, value = '', as } of occurrences) {
    if (FREQUENCY_OPTIONS.includes(name)) {
      options.scheme[name as Frequency] = parseRetentionValue(value)
      continue
    }
    switch (name) {
      case 'help':
        return { kind: 'help' }
      case 'version':
        return { kind: 'version' }
      case 'timestamp-pattern':
        compilePythonTimestampPattern(value)
        options.timestampPattern = value
        break
      case 'include':
        options.include.push(value)
        break
      case 'exclude':
        options.exclude.push(value)
        break
      case 'parallel':
        options.parallel = true
        break
      case 'prefer-recent':
        options.preferRecent = true
        break
      case 'relaxed':
        options.relaxed = true
        break
      case 'ionice':
        options.ionice = parseIonice(value)
        break
      case 'config':
        options.config = value
        break
      case 'removal-command': {
        const words = splitShellWords(value)
        if (words.length === 0)
          throw new RotationError('ERR_RSB_ROTATION_BAD_OPTION', 'The removal command is empty.', {
            hint: 'Give a program, e.g. --removal-command=rmdir.',
          })
        options.removalCommand = words
        break
      }
      case 'use-sudo':
        options.useSudo = true
        break
      case 'syslog':
        options.syslog = parseBoolean(value, as)
        break
      case 'force':
        options.force = true
        break
      case 'dry-run':
        options.dryRun = true
        options.dryRunOption ??= as
        break
      case 'verbose':
        options.verbosity++
        break
      case 'quiet':
        options.verbosity--
        break
      case 'legacy-week-buckets':
        options.legacyWeekBuckets = true
        break
      case 'keep-latest':
        options.keepLatest = parseCount(value, 'keep-latest count')
        break
      case 'json':
        options.json = true
        break
    }
  }
  return { kind: 'run', options }
}

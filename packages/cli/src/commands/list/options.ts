// The options and the shared parse of the commands that read a store (`rsb list`, `rsb status`): DESTINATION, the
// rotation options of `rsb backup` (the same words, the same values), sudo, `--json` and the verbosity.
import bytes from 'bytes'
import { DEFAULT_ROTATION_SCHEME, OPTIONS as BACKUP_OPTIONS, parseRotationSpec } from '../../args.js'
import { parseDestination } from '@rsb/destination'
import { CliError, UsageError } from '../../errors.js'
import { getopt, type OptionDefinition, type OptionOccurrence } from '../../kit/getopt.js'
import { parseCount } from '../../kit/values.js'
import type { RotationScheme } from '@rsb/rotation'
import { Settings } from 'luxon'

function backupOption(name: string): OptionDefinition {
  const option = BACKUP_OPTIONS.find((o) => o.name === name)
  if (option === undefined) throw new Error(`rsb backup has no option --${name}`)
  return option
}

/**
 * The options every reading command takes: `rsb backup`'s rotation options (the same words, descriptions and
 * values, so that the rotation column is the backup's), `--json` (described by the command), sudo and verbosity.
 */
export function readingOptions(json: string, extra: readonly OptionDefinition[] = []): OptionDefinition[] {
  return [
    ...extra,
    backupOption('rotation'),
    backupOption('keep-latest'),
    { name: 'json', description: json },
    { ...backupOption('no-sudo'), description: 'Do not use sudo for the commands that read the store (sudo is used when not root).' },
    backupOption('verbose'),
    backupOption('quiet'),
    backupOption('version'),
    backupOption('help'),
  ]
}

/** What every reading command is given. */
export interface ReadingArgs {
  readonly destination: string
  readonly scheme: Readonly<RotationScheme>
  readonly keepLatest: number
  readonly sudo: boolean
  readonly json: boolean
  readonly verbosity: number
}

/**
 * Parses a reading command's line: exactly one DESTINATION and the shared options; `other` gets the command's own.
 *
 * @throws {UsageError} ERR_RSB_CLI_USAGE (and the rotation's ERR_RSB_ROTATION_BAD_RETENTION, the destination's parse
 *   errors); {@link CliError} ERR_RSB_CLI_DESTINATION_DAEMON for an rsync daemon destination (exit 2 all)
 */
export function parseReading(
  command: string,
  argv: readonly string[],
  table: readonly OptionDefinition[],
  other: (option: OptionOccurrence) => void = () => undefined,
): { kind: 'help' } | { kind: 'version' } | { kind: 'run'; args: ReadingArgs } {
  const { options, positionals } = getopt(argv, table)
  if (options.some((o) => o.name === 'help')) return { kind: 'help' }
  if (options.some((o) => o.name === 'version')) return { kind: 'version' }
  let scheme: Readonly<RotationScheme> = DEFAULT_ROTATION_SCHEME
  let keepLatest = 0
  let sudo = true
  let json = false
  let verbosity = 0
  for (const option of options) {
    const value = option.value ?? ''
    switch (option.name) {
      case 'rotation':
        scheme = parseRotationSpec(value)
        break
      case 'keep-latest':
        keepLatest = parseCount(value, option.as)
        break
      case 'no-sudo':
        sudo = false
        break
      case 'json':
        json = true
        break
      case 'verbose':
        verbosity++
        break
      case 'quiet':
        verbosity--
        break
      default:
        other(option)
    }
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? `rsb ${command} needs a DESTINATION.`
        : `rsb ${command} takes one DESTINATION (got ${positionals.length}).`,
      { hint: `Usage: rsb ${command} [OPTIONS] DESTINATION; see 'rsb ${command} --help'.` },
    )
  }
  const destination = positionals[0]!
  if (destination === '') throw new UsageError('DESTINATION is empty.')
  if (parseDestination(destination).kind === 'daemon') {
    throw new CliError(
      'ERR_RSB_CLI_DESTINATION_DAEMON',
      `rsb ${command} cannot read the store of an rsync daemon destination (${destination}).`,
      {
        destination,
        hint: "The daemon does not show its module's store: run the command on the server, with the module's directory (…/latest) as DESTINATION, or reach the server over SSH (HOST:/PATH).",
      },
    )
  }
  return { kind: 'run', args: { destination, scheme, keepLatest, sudo, json, verbosity } }
}

/**
 * An age or a limit for people, in whole units and never rounded up: seconds below 2 minutes, minutes below 2 hours,
 * hours below 2 days, then days (`45s`, `65m`, `26h`, `9d`); `in …` for a moment ahead; `-` when unknown.
 */
export function formatAge(milliseconds: number | undefined): string {
  if (milliseconds === undefined || !Number.isFinite(milliseconds)) return '-'
  if (milliseconds < 0) return `in ${formatAge(-milliseconds)}`
  const seconds = Math.floor(milliseconds / 1000)
  if (seconds < 120) return `${seconds}s`
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`
  return `${Math.floor(seconds / 86_400)}d`
}

/** A size for people (`1.5MB`, powers of 1024 as `bytes` writes them), `-` when unknown. */
export function formatBytes(value: number | undefined): string {
  return value === undefined ? '-' : (bytes.format(value, { unitSeparator: ' ' }) ?? '-')
}

/**
 * The reading commands' choice, as rsb rotate's: a fixed locale spares luxon's first calendar arithmetic (reading
 * snapshot names) from asking Intl for the system locale (~20 ms); nothing is formatted with luxon.
 */
export function fixLocale(): void {
  Settings.defaultLocale = 'en-US'
}

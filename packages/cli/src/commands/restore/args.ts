// `rsb restore`'s option table and its pure parse: the command line into typed arguments, or a usage error (exit 2).
import path from 'node:path'
import { parseDestination } from '@rsb/destination'
import { isSnapshotName } from '@rsb/rotation'
import { DateTime } from 'luxon'
import { CliError, UsageError } from '../../errors.js'
import { getopt, type OptionDefinition } from '../../kit/getopt.js'
import { parseDuration } from '../../kit/values.js'

/** rsync's I/O timeout when `--timeout` is not given, in seconds (as the backup's). */
export const DEFAULT_RESTORE_TIMEOUT = 600

/** The options of `rsb restore`. */
export const OPTIONS: readonly OptionDefinition[] = [
  {
    name: 'snapshot',
    value: 'NAME',
    description: 'Restore from the snapshot NAME (its directory name in the store, YYYY-MM-DD HH:MM:SS).',
  },
  {
    name: 'at',
    value: 'TIME',
    description:
      'Restore from the newest snapshot taken at or before TIME: ISO 8601 (2026-11-30T12:00, 2026-11-30T12:00:00+01:00, ' +
      '2026-11-30 for its midnight) or a snapshot name (2026-11-30 12:00:00); local time when TIME has no zone.',
  },
  { name: 'latest', description: 'Restore from the newest snapshot of the mirror (the default).' },
  {
    name: 'to',
    value: 'DIR',
    description:
      'Put each PATH into DIR under its last component, as cp -a PATH… DIR does (--to=/tmp/r etc/ssh gives /tmp/r/ssh). ' +
      "DIR is made if it is missing (its parent must exist). PATH / puts the whole snapshot's contents into DIR.",
  },
  {
    name: 'in-place',
    description:
      'Without --to: restore each PATH over SOURCE/PATH, SOURCE being what the backup that made the snapshot backed up. ' +
      'Needed for every restore without --to; a whole system directory (/, /etc, /usr, /var, /home, …) is named in a warning first.',
  },
  {
    name: 'delete',
    description: 'Also delete what the restored directories hold that the snapshot does not (rsync --delete). Off by default.',
  },
  { name: 'dry-run', short: 'n', description: 'Change nothing: print what would change, one itemized line each (rsync -ni).' },
  {
    name: 'no-sudo',
    short: 'u',
    description: 'Do not use sudo for rsync and the commands that read the store (when not root).',
  },
  {
    name: 'timeout',
    value: 'TIME',
    description: `End the transfer when the other side sends no data for TIME (rsync --timeout), as the backup's. Default ${DEFAULT_RESTORE_TIMEOUT}; 0 turns it off.`,
  },
  { name: 'json', description: 'Print what was done as one JSON document on standard output (log lines stay on standard error).' },
  { name: 'verbose', short: 'v', repeatable: true, description: 'More log output (the rsync command line). Repeatable.' },
  { name: 'quiet', short: 'q', repeatable: true, description: 'Less log output. Repeatable.' },
  { name: 'version', description: 'Print the version.' },
  { name: 'help', short: 'h', description: 'Print this help.' },
]

/** Which snapshot to restore from. */
export type SnapshotChoice =
  | { readonly kind: 'latest' }
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'at'; readonly text: string; readonly moment: Date }

/** One PATH of the command line. */
export interface RestorePath {
  /** As given. */
  readonly given: string
  /** Relative to the snapshot's root, normalised (no leading `/`, no `.` or empty components); `''` is the root. */
  readonly relative: string
}

/** `rsb restore`'s typed arguments. */
export interface RestoreArgs {
  /** DESTINATION as given (what `rsb backup` was given: the mirror). */
  readonly destination: string
  readonly paths: readonly RestorePath[]
  readonly snapshot: SnapshotChoice
  /** `--to` DIR as given (made absolute when the command runs); undefined for a restore in place. */
  readonly to: string | undefined
  readonly inPlace: boolean
  readonly delete: boolean
  readonly dryRun: boolean
  readonly sudo: boolean
  /** rsync's I/O timeout in seconds (0: none). */
  readonly timeout: number
  readonly json: boolean
  /** Count of -v minus count of -q. */
  readonly verbosity: number
}

/** The result of {@link parseRestoreArgs}. */
export type ParsedRestore = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; args: RestoreArgs }

/**
 * PATH relative to the snapshot's root: `/etc/hosts`, `etc/hosts` and `./etc//hosts/` are `etc/hosts`; `/` and `.`
 * are the root (`''`). Pure.
 *
 * @throws {CliError} ERR_RSB_CLI_RESTORE_UNSAFE_PATH for an empty PATH, a `..` component or a NUL byte
 * @example
 * ```ts
 * normalizeRestorePath('/etc/ssh/') // 'etc/ssh'
 * ```
 */
export function normalizeRestorePath(given: string): string {
  const refuse = (why: string) =>
    new CliError('ERR_RSB_CLI_RESTORE_UNSAFE_PATH', `The PATH ${JSON.stringify(given)} ${why}.`, {
      path: given,
      hint: 'Give the path as it is in the snapshot, relative to the backed-up SOURCE, without .. (for example etc/hosts or /etc/hosts).',
    })
  if (given === '') throw refuse('is empty')
  if (given.includes('\0')) throw refuse('holds a NUL byte')
  const components = given.split('/').filter((part) => part !== '' && part !== '.')
  if (components.includes('..')) throw refuse('holds a .. component, which could lead out of the snapshot')
  return components.join('/')
}

/**
 * Reads `--at`'s TIME: ISO 8601 with or without a zone (local time without one), or the snapshot-name form
 * `YYYY-MM-DD HH:MM[:SS]` (local time, also with a zone as SQL writes it). Pure, but for the local time zone (`TZ`).
 *
 * @throws {UsageError} ERR_RSB_CLI_USAGE for anything else
 * @example
 * ```ts
 * parseRestoreTime('2026-11-30T12:00Z').toISOString() // '2026-11-30T12:00:00.000Z'
 * ```
 */
export function parseRestoreTime(text: string): Date {
  const trimmed = text.trim()
  let time = DateTime.fromISO(trimmed, { setZone: true })
  if (!time.isValid) time = DateTime.fromSQL(trimmed, { setZone: true })
  if (!time.isValid || trimmed === '') {
    throw new UsageError(`Invalid time for --at: '${text}'.`, {
      hint: "Give ISO 8601 (2026-11-30T12:00, 2026-11-30T12:00:00+01:00, 2026-11-30) or a snapshot name ('2026-11-30 12:00:00'); local time without a zone.",
    })
  }
  return time.toJSDate()
}

/** The name a PATH gets in `--to` DIR (its last component; the root: DIR itself). */
export function entryName(relative: string): string {
  return relative === '' ? '' : path.posix.basename(relative)
}

/**
 * Parses `rsb restore`'s command line (pure: reads only `argv`; `--at` reads the local time zone).
 *
 * @throws {UsageError} ERR_RSB_CLI_USAGE for unknown options, missing arguments, two snapshot choices, `--to` with
 *   `--in-place`, two PATHs that would land on one name, the mirror given as a snapshot
 * @throws {CliError} ERR_RSB_CLI_RESTORE_UNSAFE_PATH (see {@link normalizeRestorePath}); ERR_RSB_CLI_DESTINATION_DAEMON
 *   for a daemon destination; the parse errors of `@rsb/destination`
 */
export function parseRestoreArgs(argv: readonly string[]): ParsedRestore {
  const { options, positionals } = getopt(argv, OPTIONS)
  let snapshot: SnapshotChoice | undefined
  let chosenAs: string | undefined
  let to: string | undefined
  let inPlace = false
  let remove = false
  let dryRun = false
  let sudo = true
  let timeout = DEFAULT_RESTORE_TIMEOUT
  let json = false
  let verbosity = 0
  const choose = (choice: SnapshotChoice, as: string) => {
    if (snapshot !== undefined) {
      throw new UsageError(`${chosenAs} and ${as} both choose the snapshot.`, {
        hint: 'Give one of --snapshot=NAME, --at=TIME and --latest (the default).',
      })
    }
    snapshot = choice
    chosenAs = as
  }
  for (const { name, value = '', as } of options) {
    switch (name) {
      case 'help':
        return { kind: 'help' }
      case 'version':
        return { kind: 'version' }
      case 'snapshot':
        if (!isSnapshotName(value)) {
          throw new UsageError(`'${value}' is not a snapshot name: snapshots are named YYYY-MM-DD HH:MM:SS.`, {
            hint:
              value.includes('/') || !/^\d{4}-/.test(value)
                ? 'A mirror (latest) is not a snapshot: restore from one of its snapshots, --latest picks the newest.'
                : "Quote the name, which holds a space: --snapshot='2026-11-30 12:00:00'.",
          })
        }
        choose({ kind: 'name', name: value }, `${as}=${value}`)
        break
      case 'at':
        choose({ kind: 'at', text: value, moment: parseRestoreTime(value) }, `${as}=${value}`)
        break
      case 'latest':
        choose({ kind: 'latest' }, as)
        break
      case 'to':
        if (value === '') throw new UsageError('--to needs a directory.', { hint: 'Give --to=DIR, for example --to=./restored.' })
        to = value
        break
      case 'in-place':
        inPlace = true
        break
      case 'delete':
        remove = true
        break
      case 'dry-run':
        dryRun = true
        break
      case 'no-sudo':
        sudo = false
        break
      case 'timeout':
        timeout = parseDuration(value, '--timeout')
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
    }
  }
  const [destination, ...given] = positionals
  if (destination === undefined || given.length === 0) {
    throw new UsageError(destination === undefined ? 'DESTINATION and PATH are missing.' : 'PATH is missing.', {
      hint: "Give the mirror the backups go to and what to restore: rsb restore /mnt/backups/latest etc/hosts --to=./restored (see 'rsb restore --help').",
    })
  }
  if (parseDestination(destination).kind === 'daemon') {
    throw new CliError(
      'ERR_RSB_CLI_DESTINATION_DAEMON',
      `rsb restore cannot read the snapshots of an rsync daemon destination (${destination}).`,
      {
        destination,
        hint: "The daemon does not show its module's snapshots: run rsb restore on the server, with the module's directory (…/latest) as DESTINATION.",
      },
    )
  }
  if (to !== undefined && inPlace) {
    throw new UsageError('--to and --in-place contradict each other.', {
      hint: 'Give --to=DIR to restore into DIR, or --in-place (without --to) to restore over SOURCE/PATH.',
    })
  }
  const paths = given.map((text) => ({ given: text, relative: normalizeRestorePath(text) }))
  if (paths.length > 1 && paths.some((p) => p.relative === '')) {
    throw new UsageError('PATH / (the whole snapshot) cannot be combined with other paths.', { hint: 'Give / alone, or only the paths.' })
  }
  if (to !== undefined) {
    const seen = new Map<string, string>()
    for (const p of paths) {
      const name = entryName(p.relative)
      const other = seen.get(name)
      if (other !== undefined) {
        throw new UsageError(`${JSON.stringify(other)} and ${JSON.stringify(p.given)} would both be restored to ${name} in ${to}.`, {
          hint: 'Restore them into different directories (two runs with other --to values).',
        })
      }
      seen.set(name, p.given)
    }
  }
  return {
    kind: 'run',
    args: {
      destination,
      paths,
      snapshot: snapshot ?? { kind: 'latest' },
      to,
      inPlace,
      delete: remove,
      dryRun,
      sudo,
      timeout,
      json,
      verbosity,
    },
  }
}

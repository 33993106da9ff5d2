import { RsyncError } from './errors.js'

/**
 * An rsync option that {@link checkRsyncOptions} refuses, because it writes into files that older hard-link
 * snapshots share, changes SOURCE, or makes DESTINATION something other than a copy of SOURCE.
 */
export interface UnsafeRsyncOption {
  /** The long name without dashes (`inplace`). */
  readonly name: string
  /** The short letter, if rsync has one (`b` for `--backup`). */
  readonly short?: string
  /** Whether it takes a value (`--link-dest=DIR`, or the next argument). */
  readonly takesValue: boolean
  /** Why it is refused: completes a sentence that starts with the option's name. */
  readonly reason: string
  /** What to do instead, when it is not "leave it out, the snapshots keep the older versions". */
  readonly instead?: string
}

const WRITES_IN_PLACE = 'which older snapshots share (hard links): it would change them'

const FILTER_REASON =
  "adds filter rules after rsb's own, where a rule that clears the list ('!', 'clear') or a merge file could take away rsb's system excludes and the exclusion of the backup store; give excludes with -x PATTERN"

/**
 * The rsync options refused in pass-through options, in rsync's help order. rsync (3.x, popt) accepts only
 * these exact spellings: no abbreviations, no other case; `--no-OPTION` turns an option off and is allowed.
 */
export const UNSAFE_RSYNC_OPTIONS: readonly UnsafeRsyncOption[] = Object.freeze([
  {
    name: 'backup',
    short: 'b',
    takesValue: false,
    reason:
      "keeps replaced and deleted files as extra copies (NAME~) inside DESTINATION or in --backup-dir, which every snapshot would then hold; rsb's snapshots are the older versions",
  },
  {
    name: 'backup-dir',
    takesValue: true,
    reason: 'moves replaced and deleted files into another directory (it implies --backup), which may be a snapshot',
  },
  { name: 'suffix', takesValue: true, reason: 'only names the extra copies of --backup, which rsb refuses' },
  { name: 'inplace', takesValue: false, reason: `writes into existing files, ${WRITES_IN_PLACE}` },
  { name: 'append', takesValue: false, reason: `appends to existing files, ${WRITES_IN_PLACE}` },
  { name: 'append-verify', takesValue: false, reason: `appends to existing files, ${WRITES_IN_PLACE}` },
  { name: 'write-devices', takesValue: false, reason: `writes into existing files (it implies --inplace), ${WRITES_IN_PLACE}` },
  {
    name: 'remove-source-files',
    takesValue: false,
    reason: 'deletes files from SOURCE after copying them: a backup never changes what it backs up',
  },
  {
    name: 'remove-sent-files',
    takesValue: false,
    reason: '(the old name of --remove-source-files) deletes files from SOURCE after copying them: a backup never changes what it backs up',
  },
  {
    name: 'compare-dest',
    takesValue: true,
    reason: 'leaves files that match another directory out of DESTINATION, so the snapshot would miss them',
  },
  {
    name: 'copy-dest',
    takesValue: true,
    reason: 'takes unchanged files from another directory instead of SOURCE, so DESTINATION would not be a copy of SOURCE',
  },
  {
    name: 'link-dest',
    takesValue: true,
    reason: 'makes files in DESTINATION hard links to the files of another directory, so snapshots would share them with it',
  },
  {
    name: 'only-write-batch',
    takesValue: true,
    reason: 'writes a batch file instead of updating DESTINATION, so the snapshot would not hold this backup',
  },
  {
    name: 'read-batch',
    takesValue: true,
    reason: 'replays a recorded batch instead of copying SOURCE, so DESTINATION would not be a copy of SOURCE',
  },
  ...(['filter', 'exclude', 'include', 'exclude-from', 'include-from'] as const).map((name) => ({
    name,
    ...(name === 'filter' ? { short: 'f' } : {}),
    takesValue: true,
    reason: FILTER_REASON,
  })),
  ...(
    [
      ['existing', 'skips files that DESTINATION does not hold'],
      ['ignore-non-existing', '(another name of --existing) skips files that DESTINATION does not hold'],
      ['max-size', 'skips the files above a size'],
      ['min-size', 'skips the files below a size'],
    ] as const
  ).map(([name, what]) => ({
    name,
    takesValue: name.endsWith('-size'),
    reason: `${what}, also those that rsb moved out of DESTINATION just before rsync so that no snapshot changes (exact snapshots): they would be missing from DESTINATION and from the snapshot`,
    instead: "leave out what should not be backed up with -x PATTERN (rsb's --exclude)",
  })),
  { name: 'server', takesValue: false, reason: "is rsync's internal server mode, not an option of an rsync client" },
  { name: 'sender', takesValue: false, reason: "is rsync's internal server mode, not an option of an rsync client" },
  { name: 'daemon', takesValue: false, reason: 'starts an rsync daemon instead of copying SOURCE' },
])

/**
 * The short options of rsync that take a value: in a cluster (`-avT/tmp`), the rest of the cluster after one
 * of these is its value, not more options. From `rsync --help` (3.x): `-B SIZE`, `-e COMMAND`, `-f RULE`,
 * `-M OPTION`, `-T DIR`, `-@ NUM`.
 */
export const RSYNC_SHORT_OPTIONS_WITH_VALUE: readonly string[] = Object.freeze(['B', 'e', 'f', 'M', 'T', '@'])

const BY_NAME = new Map(UNSAFE_RSYNC_OPTIONS.map((option) => [option.name, option]))
const BY_SHORT = new Map(UNSAFE_RSYNC_OPTIONS.filter((option) => option.short).map((option) => [option.short as string, option]))

function refuse(option: UnsafeRsyncOption, spelling: string, given: string, via: string): never {
  const label = spelling.startsWith('--') ? spelling : `${spelling} (--${option.name})`
  const where = given === spelling ? '' : ` in '${given}'${via}`
  const whole = given === spelling || given.startsWith(`${spelling}=`)
  throw new RsyncError('ERR_RSB_RSYNC_UNSAFE_OPTION', `${label}${where} ${option.reason}.`, {
    hint: `Leave out ${whole ? `--rsync-option=${given}` : `${spelling} from --rsync-option=${given}`}: ${option.instead ?? "rsb's hard-link snapshots already keep the older versions of every file"}.`,
  })
}

/** Checks one argv element as rsync's option parser reads it; `-M`/`--remote-option` values are checked too. */
function checkOne(element: string, given: string, via: string): void {
  if (element.startsWith('--')) {
    const eq = element.indexOf('=')
    const name = eq === -1 ? element.slice(2) : element.slice(2, eq)
    const unsafe = BY_NAME.get(name)
    if (unsafe) refuse(unsafe, `--${name}`, given, via)
    if (name === 'remote-option' && eq !== -1) checkOne(element.slice(eq + 1), given, ' (sent to the other side by --remote-option)')
    return
  }
  if (!element.startsWith('-')) return
  for (let i = 1; i < element.length; i++) {
    const letter = element[i] as string
    const unsafe = BY_SHORT.get(letter)
    if (unsafe) refuse(unsafe, `-${letter}`, given, via)
    if (RSYNC_SHORT_OPTIONS_WITH_VALUE.includes(letter)) {
      // The rest of the cluster is the value; -M's value is an option for the other side.
      if (letter === 'M' && i + 1 < element.length) checkOne(element.slice(i + 1), given, ' (sent to the other side by -M)')
      return
    }
  }
}

/**
 * Checks pass-through rsync options (rsb's `--rsync-option=OPT`, one argv element each): every element must be
 * an option, and none may be one of {@link UNSAFE_RSYNC_OPTIONS} in any spelling rsync accepts: `--name`,
 * `--name=VALUE`, a short letter anywhere in a cluster (`-ab`, but not the value of `-e` in `-eb`), or inside
 * the value of `-M`/`--remote-option` (which rsync passes to the other side). An element that is the separate
 * value of the previous option (`--rsync-option=-M --rsync-option=--inplace`) is checked like an option too.
 * Pure, dependency-free: `rsb` checks its command line with it before anything runs.
 *
 * @param options - the pass-through options, in order
 * @throws {RsyncError} ERR_RSB_RSYNC_UNSAFE_OPTION for a refused option (the message names it and says why);
 *   ERR_RSB_RSYNC_INVALID_OPTION for an element that is not an option (`/etc`, `-`, `--`, empty)
 * @example
 * ```ts
 * checkRsyncOptions(['--bwlimit=10M', '--no-acls']) // fine
 * checkRsyncOptions(['--inplace'])
 * // RsyncError ERR_RSB_RSYNC_UNSAFE_OPTION: --inplace writes into existing files, which older snapshots share
 * // (hard links): it would change them.
 * ```
 */
export function checkRsyncOptions(options: readonly string[]): void {
  for (const option of options) {
    if (!option.startsWith('-') || option === '-' || option === '--') {
      throw new RsyncError('ERR_RSB_RSYNC_INVALID_OPTION', `The rsync option '${option}' is not an option.`, {
        hint: 'Give one rsync option per --rsync-option, with its value attached: --rsync-option=--bwlimit=10M.',
      })
    }
    checkOne(option, option, '')
  }
}

/**
 * rsync's argument for an exclude pattern: `--exclude=PATTERN`, except for the forms that rsync's `--exclude`
 * reads as rules rather than as a name: exactly `!` (clears the whole filter list, rsb's system excludes
 * included), and a `- ` or `+ ` prefix (an exclude or an include of the rest). Those are passed as
 * `--filter=- PATTERN`, which excludes the name literally (`-x '+ secret'` excludes a file named `+ secret`
 * and includes nothing).
 *
 * @param pattern - the pattern as given (`-x PATTERN`)
 * @returns one argv element
 * @throws {RsyncError} ERR_RSB_RSYNC_INVALID_OPTION for an empty pattern
 * @example
 * ```ts
 * formatExcludeArgument('*.log')    // '--exclude=*.log'
 * formatExcludeArgument('!')        // '--filter=- !'
 * formatExcludeArgument('+ secret') // '--filter=- + secret'
 * ```
 */
export function formatExcludeArgument(pattern: string): string {
  if (pattern === '') {
    throw new RsyncError('ERR_RSB_RSYNC_INVALID_OPTION', 'An exclude pattern is empty.', {
      hint: "Give a pattern, for example -x '*.tmp', or leave the option out.",
    })
  }
  if (pattern === '!' || pattern.startsWith('- ') || pattern.startsWith('+ ')) return `--filter=- ${pattern}`
  return `--exclude=${pattern}`
}

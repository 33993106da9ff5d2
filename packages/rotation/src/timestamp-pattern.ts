import { RotationError } from './errors.js'
import { invalidTimestampReason, type Timestamp } from './timestamp.js'

/** A compiled timestamp pattern: a regex with the named groups `year`, `month`, `day` (and optionally `hour`, `minute`, `second`). */
export interface TimestampPattern {
  /** The pattern as the user wrote it (for messages). */
  readonly source: string
  /** The JavaScript regex, applied with `exec` (a match may start anywhere, like Python's `search`). */
  readonly regex: RegExp
}

/**
 * rotate-backups' default pattern: year, month, day, optionally hour and minute (and seconds), with at most one
 * non-digit character between the components. `\d` is ASCII only.
 */
export const DEFAULT_TIMESTAMP_PATTERN: TimestampPattern = {
  source: String.raw`(?P<year>\d{4}) \D? (?P<month>\d{2}) \D? (?P<day>\d{2}) \D? (?: (?P<hour>\d{2}) \D? (?P<minute>\d{2}) \D? (?P<second>\d{2})? )?`,
  regex:
    /(?<year>[0-9]{4})[^0-9]?(?<month>[0-9]{2})[^0-9]?(?<day>[0-9]{2})[^0-9]?(?:(?<hour>[0-9]{2})[^0-9]?(?<minute>[0-9]{2})[^0-9]?(?<second>[0-9]{2})?)?/u,
}

const REQUIRED_GROUPS = ['year', 'month', 'day'] as const

/**
 * Makes a timestamp pattern of a JavaScript regex whose named groups are the components: `year`, `month` and
 * `day` are required; `hour`, `minute` and `second` are optional (0 when absent or empty). A match may start
 * anywhere in a name (the regex is applied with `exec`; the `g` and `y` flags are dropped). For rotate-backups'
 * Python syntax, `rsb rotate --timestamp-pattern` translates first.
 *
 * @param regex - the pattern
 * @param source - how the user wrote it, for messages (default: the regex's source)
 * @returns the compiled pattern
 * @throws {RotationError} ERR_RSB_ROTATION_BAD_PATTERN when a required group is missing
 * @example
 * ```ts
 * const pattern = compileTimestampPattern(/(?<day>\d{2})-(?<month>\d{2})-(?<year>\d{4})/)
 * parseTimestamp('grafana-09-04-2020.tar.gz', pattern) // { kind: 'timestamp', timestamp: { year: 2020, month: 4, day: 9, … } }
 * ```
 */
export function compileTimestampPattern(regex: RegExp, source: string = regex.source): TimestampPattern {
  if (!(regex instanceof RegExp)) {
    throw new RotationError('ERR_RSB_ROTATION_BAD_PATTERN', `A timestamp pattern must be a RegExp (got ${typeof regex}).`, {
      hint: 'Pass a regex with the named groups year, month and day, for example /(?<year>\\d{4})-(?<month>\\d{2})-(?<day>\\d{2})/.',
    })
  }
  const flags = regex.flags.replaceAll(/[gy]/g, '')
  const compiled = flags === regex.flags ? regex : new RegExp(regex.source, flags)
  // An alternative that matches the empty string makes every named group appear (undefined) in `groups`.
  const groupNames = Object.keys(new RegExp(`${compiled.source}|`, flags).exec('')?.groups ?? {})
  const missing = REQUIRED_GROUPS.filter((group) => !groupNames.includes(group))
  if (missing.length > 0) {
    throw new RotationError(
      'ERR_RSB_ROTATION_BAD_PATTERN',
      `Timestamp pattern ${JSON.stringify(source)} is missing the required capture group${missing.length > 1 ? 's' : ''} ${missing.map((g) => `'${g}'`).join(', ')}.`,
      { target: source, hint: 'Name the date components with (?<year>…), (?<month>…) and (?<day>…).' },
    )
  }
  return { source, regex: compiled }
}

/** What {@link parseTimestamp} found in a name. */
export type TimestampMatch =
  | { readonly kind: 'timestamp'; readonly timestamp: Timestamp }
  | { readonly kind: 'no-match' }
  | { readonly kind: 'invalid-date'; readonly reason: string }

const NO_MATCH: TimestampMatch = { kind: 'no-match' }
const PYTHON_INT = /^\s*([+-]?[0-9]+(?:_[0-9]+)*)\s*$/

function component(text: string | undefined): number | string {
  if (text === undefined || text === '') return 0
  // Fast path: plain ASCII digits (always the case with the default pattern).
  let value = 0
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 48
    if (digit < 0 || digit > 9) return slowComponent(text)
    value = value * 10 + digit
  }
  return value
}

// What Python's int(text, 10) accepts besides plain digits: surrounding whitespace, a sign, underscores.
function slowComponent(text: string): number | string {
  const match = PYTHON_INT.exec(text)
  if (!match) return `invalid literal for int() with base 10: '${text}'`
  return Number.parseInt(match[1]!.replaceAll('_', ''), 10)
}

/**
 * Per built-in regex: the same regex with unnamed groups (year … second at 1 … 6), whose matches have no `groups`
 * object.
 */
const POSITIONAL = new WeakMap<RegExp, RegExp>()

/**
 * Registers the positional twin of a built-in pattern whose named groups appear in the order year, month, day,
 * hour, minute, second, each matching ASCII digits only (`[0-9]{n}`), with no backreference: the twin only drops
 * the names, so it matches exactly the same.
 *
 * @internal
 */
export function withPositionalTwin<T extends TimestampPattern>(pattern: T): T {
  POSITIONAL.set(pattern.regex, new RegExp(pattern.regex.source.replaceAll(/\(\?<[a-z]+>/g, '('), pattern.regex.flags))
  return pattern
}

withPositionalTwin(DEFAULT_TIMESTAMP_PATTERN)

/**
 * {@link parseTimestamp} without the wrapper object: the timestamp, the reason the date is invalid (a string), or
 * undefined when the pattern does not match.
 *
 * @internal
 */
export function matchTimestamp(name: string, pattern: TimestampPattern): Timestamp | string | undefined {
  const positional = POSITIONAL.get(pattern.regex)
  let timestamp: Timestamp
  if (positional) {
    const match = positional.exec(name)
    if (!match) return undefined
    // Every group is ASCII digits or absent: Number() is exactly component() here.
    timestamp = {
      year: Number(match[1]),
      month: Number(match[2]),
      day: Number(match[3]),
      hour: match[4] ? Number(match[4]) : 0,
      minute: match[5] ? Number(match[5]) : 0,
      second: match[6] ? Number(match[6]) : 0,
    }
  } else {
    const match = pattern.regex.exec(name)
    if (!match) return undefined
    const groups: Partial<Record<string, string>> = match.groups ?? {}
    // The components in this order: the first bad one is reported.
    const year = component(groups.year)
    if (typeof year === 'string') return year
    const month = component(groups.month)
    if (typeof month === 'string') return month
    const day = component(groups.day)
    if (typeof day === 'string') return day
    const hour = component(groups.hour)
    if (typeof hour === 'string') return hour
    const minute = component(groups.minute)
    if (typeof minute === 'string') return minute
    const second = component(groups.second)
    if (typeof second === 'string') return second
    timestamp = { year, month, day, hour, minute, second }
  }
  return invalidTimestampReason(timestamp) ?? timestamp
}

/**
 * Finds a timestamp in a name: the leftmost match of the pattern; missing hour, minute or second are 0. The
 * date is validated afterwards and a failed validation never retries at another position.
 *
 * @param name - an entry's basename
 * @param pattern - default: {@link DEFAULT_TIMESTAMP_PATTERN}
 * @example
 * ```ts
 * parseTimestamp('backup-2024-01-02_03-04-05') // { kind: 'timestamp', timestamp: { year: 2024, …, second: 5 } }
 * parseTimestamp('host1234-2024-01-02')        // { kind: 'invalid-date', reason: 'month must be in 1..12' }
 * ```
 */
export function parseTimestamp(name: string, pattern: TimestampPattern = DEFAULT_TIMESTAMP_PATTERN): TimestampMatch {
  const result = matchTimestamp(name, pattern)
  if (result === undefined) return NO_MATCH
  return typeof result === 'string' ? { kind: 'invalid-date', reason: result } : { kind: 'timestamp', timestamp: result }
}

import { compileShellPatterns } from './fnmatch.js'
import { compareCodePoints } from './order.js'
import { timestampSeconds, type Timestamp } from './timestamp.js'
import { compileTimestampPattern, DEFAULT_TIMESTAMP_PATTERN, matchTimestamp, type TimestampPattern } from './timestamp-pattern.js'

/** A collected backup: an entry name and the timestamp found in it. */
export interface Backup {
  readonly name: string
  readonly timestamp: Timestamp
}

/** Why an entry is not a backup (it is never touched). */
export type SkipReason = 'no-timestamp' | 'excluded' | 'not-included' | 'invalid-date'

/** An entry that was not collected, and why. */
export interface SkippedEntry {
  readonly name: string
  readonly reason: SkipReason
  /** For `invalid-date`: Python's reason, e.g. `month must be in 1..12`. */
  readonly detail?: string
}

/** Options of {@link collectBackups}. */
export interface CollectOptions {
  /** Timestamp pattern: compiled, or a regex (see {@link compileTimestampPattern}). Default: {@link DEFAULT_TIMESTAMP_PATTERN}. */
  pattern?: TimestampPattern | RegExp | undefined
  /** Shell patterns (fnmatch); when not empty, only matching names are backups. */
  include?: readonly string[] | undefined
  /** Shell patterns (fnmatch); matching names are never backups. Checked before `include`. */
  exclude?: readonly string[] | undefined
}

/** The result of {@link collectBackups}. */
export interface Collection {
  /** The backups, oldest first (by timestamp, then name in code point order). */
  readonly backups: Backup[]
  /** The other entries, in input order. */
  readonly skipped: SkippedEntry[]
}

/**
 * Orders backups like rotate-backups: by timestamp, then by name (code point order).
 *
 * @example
 * ```ts
 * backups.sort(compareBackups)
 * ```
 */
export function compareBackups(a: Backup, b: Backup): number {
  return timestampSeconds(a.timestamp) - timestampSeconds(b.timestamp) || compareCodePoints(a.name, b.name)
}

/** Sorts backups oldest first in O(n log n) (precomputing the sort keys). */
export function sortBackups<T extends Backup>(backups: Iterable<T>): T[] {
  const { sorted } = orderBackups(backups)
  return sorted === backups ? sorted.slice() : sorted
}

/**
 * Backups oldest first with their {@link timestampSeconds}. An array that is in order already (a collection's
 * backups) is checked in one pass and returned as it is (not copied).
 *
 * @internal
 */
export function orderBackups<T extends Backup>(backups: Iterable<T>): { sorted: T[]; seconds: Float64Array } {
  const list = Array.isArray(backups) ? (backups as T[]) : Array.from(backups)
  const count = list.length
  const seconds = new Float64Array(count)
  let ordered = true
  for (let i = 0; i < count; i++) {
    const value = timestampSeconds(list[i]!.timestamp)
    seconds[i] = value
    if (ordered && i > 0) {
      const previous = seconds[i - 1]!
      ordered = previous < value || (previous === value && compareCodePoints(list[i - 1]!.name, list[i]!.name) <= 0)
    }
  }
  if (ordered) return { sorted: list, seconds }
  const order = Array.from({ length: count }, (_, i) => i)
  order.sort((a, b) => seconds[a]! - seconds[b]! || compareCodePoints(list[a]!.name, list[b]!.name))
  return { sorted: order.map((i) => list[i]!), seconds: Float64Array.from(order, (i) => seconds[i]!) }
}

/**
 * The default, a compiled pattern, or a RegExp compiled here; anything else (a string, as earlier versions took in
 * Python syntax) is refused by compileTimestampPattern with ERR_RSB_ROTATION_BAD_PATTERN.
 */
function resolvePattern(given: unknown): TimestampPattern {
  if (given === undefined) return DEFAULT_TIMESTAMP_PATTERN
  if (typeof given === 'object' && given !== null && (given as { regex?: unknown }).regex instanceof RegExp)
    return given as TimestampPattern
  return compileTimestampPattern(given as RegExp)
}

/**
 * Picks the backups out of a directory's entry names: names with a timestamp (the pattern), minus excluded and
 * not-included names, minus invalid dates.
 *
 * @param names - basenames
 * @param options - pattern and include/exclude lists
 * @returns the backups (sorted) and the skipped entries with their reasons
 * @throws {RotationError} ERR_RSB_ROTATION_BAD_PATTERN for a regex without the required groups
 * @example
 * ```ts
 * const { backups, skipped } = collectBackups(['2024-01-01', 'notes.txt'], { exclude: ['*.tmp'] })
 * // backups: [{ name: '2024-01-01', timestamp: … }], skipped: [{ name: 'notes.txt', reason: 'no-timestamp' }]
 * ```
 */
export function collectBackups(names: Iterable<string>, options: CollectOptions = {}): Collection {
  const pattern = resolvePattern(options.pattern)
  const exclude = options.exclude && options.exclude.length > 0 ? compileShellPatterns(options.exclude) : undefined
  const include = options.include && options.include.length > 0 ? compileShellPatterns(options.include) : undefined
  const backups: Backup[] = []
  const skipped: SkippedEntry[] = []
  const consider = (name: string) => {
    const match = matchTimestamp(name, pattern)
    if (match === undefined) skipped.push({ name, reason: 'no-timestamp' })
    else if (exclude?.matches(name)) skipped.push({ name, reason: 'excluded' })
    else if (include && !include.matches(name)) skipped.push({ name, reason: 'not-included' })
    else if (typeof match === 'string') skipped.push({ name, reason: 'invalid-date', detail: match })
    else backups.push({ name, timestamp: match })
  }
  if (Array.isArray(names)) for (let i = 0; i < names.length; i++) consider(names[i] as string)
  else for (const name of names) consider(name)
  return { backups: orderBackups(backups).sorted, skipped }
}

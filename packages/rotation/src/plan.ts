import { DateTime } from 'luxon'
import { orderBackups, type Backup } from './collect.js'
import { RotationError } from './errors.js'
import { FREQUENCIES, parseRetention, validateScheme, type Frequency, type Retention, type RotationScheme } from './retention.js'
import { isoWeek, timestampSeconds, type Timestamp } from './timestamp.js'

const KEEP_LATEST = 1 << FREQUENCIES.length
const PROTECTED = 1 << (FREQUENCIES.length + 1)

/** Settings of {@link planRotation}. */
export interface PlanOptions {
  /** Retention per frequency; at least one frequency. */
  scheme: RotationScheme
  /** Strict windows measured from the newest backup (default true); false is rotate-backups' `--relaxed`. */
  strict?: boolean | undefined
  /** The newest backup of a bucket represents it (default: the oldest). */
  preferRecent?: boolean | undefined
  /** Weekly buckets keyed by (calendar year, ISO week) exactly like rotate-backups 8.1 (default: ISO week-year). */
  legacyWeekBuckets?: boolean | undefined
  /** Never delete the N newest backups (default 0). */
  keepLatest?: number | undefined
  /** Names that are always kept (for example the snapshot just created). */
  protect?: Iterable<string> | undefined
}

/** Why a backup is kept: a frequency, `keep-latest`, or `protected`. */
export type KeepReason = Frequency | 'keep-latest' | 'protected'

/** The decision for one backup. */
export interface BackupDecision {
  readonly name: string
  readonly timestamp: Timestamp
  readonly action: 'keep' | 'delete'
  /** The frequencies that keep it, in the order minutely … yearly (empty when deleted). */
  readonly periods: Frequency[]
  /** Everything that keeps it: its periods, then `keep-latest`, then `protected` (empty when deleted). */
  readonly reasons: KeepReason[]
}

/** How one frequency was applied. */
export interface FrequencyWindow {
  readonly frequency: Frequency
  readonly retention: Retention
  /** Strict mode: representatives older than this were dropped (undefined: no lower bound). */
  readonly minimum: Timestamp | undefined
  /** How many buckets held backups. */
  readonly buckets: number
  /** How many buckets were kept. */
  readonly kept: number
}

/** The result of {@link planRotation}: a decision for every backup, oldest first. */
export interface RotationPlan {
  readonly decisions: BackupDecision[]
  /** The newest backup; all windows are measured from its timestamp. Undefined when there are no backups. */
  readonly mostRecent: Backup | undefined
  /** One entry per frequency of the scheme. */
  readonly windows: FrequencyWindow[]
}

const LUXON_UNITS = { minutely: 'minutes', hourly: 'hours', daily: 'days', weekly: 'weeks', monthly: 'months', yearly: 'years' } as const

/**
 * `most_recent − count × unit` with luxon's calendar arithmetic in the UTC zone (naive timestamps: no DST, no
 * system zone to load; the rsb-rotate program also fixes luxon's default locale, so no `Intl` set-up): minutes, hours, days and weeks are fixed lengths; months and years move the
 * calendar month and clamp the day to that month's length (03-31 minus one month is 02-28 or 02-29). Undefined
 * when before year 1. Called once per frequency and location, never per backup.
 */
export function windowMinimum(mostRecent: Timestamp, frequency: Frequency, count: number): Timestamp | undefined {
  const { year, month, day, hour, minute, second } = mostRecent
  const minimum = DateTime.fromObject({ year, month, day, hour, minute, second }, { zone: 'utc', locale: 'en-US' }).minus({
    [LUXON_UNITS[frequency]]: count,
  })
  if (!minimum.isValid || minimum.year < 1) return undefined
  return { year: minimum.year, month: minimum.month, day: minimum.day, hour: minimum.hour, minute: minimum.minute, second: minimum.second }
}

/**
 * The bucket of a backup (by its index in `sorted`, oldest first) for a frequency, as a number: equal numbers share
 * a bucket and a larger number is a later bucket. Weekly buckets are ISO weeks (Monday to Sunday), numbered from
 * the week of 1970-01-01; legacy weekly buckets are (calendar year, ISO week), which is not in time order.
 */
function bucketKey(
  frequency: Frequency,
  legacyWeekBuckets: boolean,
  sorted: readonly Backup[],
  seconds: Float64Array,
): (i: number) => number {
  switch (frequency) {
    case 'minutely':
      return (i) => Math.floor(seconds[i]! / 60)
    case 'hourly':
      return (i) => Math.floor(seconds[i]! / 3600)
    case 'daily':
      return (i) => Math.floor(seconds[i]! / 86400)
    case 'weekly':
      if (legacyWeekBuckets) {
        return (i) => {
          const t = sorted[i]!.timestamp
          return t.year * 100 + isoWeek(t.year, t.month, t.day)[1]
        }
      }
      // 1970-01-01 was a Thursday: day + 3 counts from the Monday before it.
      return (i) => Math.floor((Math.floor(seconds[i]! / 86400) + 3) / 7)
    case 'monthly':
      return (i) => sorted[i]!.timestamp.year * 12 + sorted[i]!.timestamp.month
    case 'yearly':
      return (i) => sorted[i]!.timestamp.year
  }
}

/**
 * The representative (an index) of every bucket, newest bucket first: its oldest backup, or its newest. Buckets
 * in time order are runs of equal keys; out of order (legacy weeks), the runs of one key are merged.
 */
function representatives(key: (i: number) => number, count: number, preferRecent: boolean): number[] {
  const runKeys: number[] = []
  const runs: number[] = []
  let inOrder = true
  let last = -1
  for (let i = 0; i < count; i++) {
    const k = key(i)
    if (last >= 0 && runKeys[last] === k) {
      if (preferRecent) runs[last] = i
      continue
    }
    if (last >= 0 && k < runKeys[last]!) inOrder = false
    runKeys.push(k)
    runs.push(i)
    last++
  }
  if (inOrder) return runs.reverse()
  const byKey = new Map<number, number>()
  for (let r = 0; r < runs.length; r++) if (preferRecent || !byKey.has(runKeys[r]!)) byKey.set(runKeys[r]!, runs[r]!)
  return [...byKey].sort((a, b) => b[0] - a[0]).map(([, index]) => index)
}

function checkCount(value: number | undefined, what: string): number {
  if (value === undefined) return 0
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RotationError(
      'ERR_RSB_ROTATION_BAD_OPTION',
      `Invalid ${what} ${JSON.stringify(value)}: must be a whole number of 0 or more.`,
      {
        target: String(value),
      },
    )
  }
  return value
}

/**
 * Decides which backups to keep, as rotate-backups 8.1 does: per frequency of the scheme, group the backups into
 * buckets, take one representative per bucket (the oldest, or the newest with `preferRecent`), drop in strict mode
 * the buckets whose representative lies before `newest − count × unit`, keep the `count` newest buckets (count 0:
 * all that remain; `always`: all). A backup is kept when any frequency keeps it (or `keepLatest`, or `protect`).
 * Pure and O(n log n).
 *
 * @param backups - the collected backups, in any order (see {@link collectBackups})
 * @param options - scheme and settings
 * @returns a decision per backup, oldest first
 * @throws {RotationError} ERR_RSB_ROTATION_EMPTY_SCHEME, ERR_RSB_ROTATION_BAD_RETENTION, ERR_RSB_ROTATION_BAD_OPTION
 * @example
 * ```ts
 * const { backups } = collectBackups(['backup-2016-01-10_21-15-00', 'backup-2016-01-10_21-45-00'])
 * planRotation(backups, { scheme: { hourly: 1 } }).decisions.map((d) => d.action) // ['keep', 'delete']
 * ```
 */
export function planRotation(backups: Iterable<Backup>, options: PlanOptions): RotationPlan {
  validateScheme(options.scheme)
  const strict = options.strict ?? true
  const preferRecent = options.preferRecent ?? false
  const legacyWeekBuckets = options.legacyWeekBuckets ?? false
  const keepLatest = checkCount(options.keepLatest, 'keep-latest count')
  const { sorted, seconds } = orderBackups(backups)
  const count = sorted.length
  // One bit per reason: the frequencies (FREQUENCIES order), then keep-latest, then protected.
  const flags = new Uint8Array(count)
  const mostRecent = sorted[count - 1]
  const windows: FrequencyWindow[] = []

  FREQUENCIES.forEach((frequency, bit) => {
    const value = options.scheme[frequency]
    if (value === undefined) return
    const retention = parseRetention(value)
    const buckets = representatives(bucketKey(frequency, legacyWeekBuckets, sorted, seconds), count, preferRecent)
    let minimum: Timestamp | undefined
    let limit = -Infinity
    // A count of 0 keeps every bucket that remains (rotate-backups slices with [-0:]), like `always`.
    let wanted = buckets.length
    if (retention !== 'always' && mostRecent) {
      if (strict) {
        minimum = windowMinimum(mostRecent.timestamp, frequency, retention)
        if (minimum) limit = timestampSeconds(minimum)
      }
      if (retention > 0) wanted = retention
    }
    // The newest `wanted` buckets whose representative is in the window.
    let kept = 0
    for (let b = 0; b < buckets.length && kept < wanted; b++) {
      const index = buckets[b]!
      if (seconds[index]! < limit) continue
      flags[index]! |= 1 << bit
      kept++
    }
    windows.push({ frequency, retention, minimum, buckets: buckets.length, kept })
  })

  for (let i = Math.max(0, count - keepLatest); i < count; i++) flags[i]! |= KEEP_LATEST
  if (options.protect) {
    const protect = new Set(options.protect)
    if (protect.size > 0) for (let i = 0; i < count; i++) if (protect.has(sorted[i]!.name)) flags[i]! |= PROTECTED
  }

  const decisions: BackupDecision[] = []
  for (let i = 0; i < count; i++) {
    const { name, timestamp } = sorted[i]!
    const mask = flags[i]!
    if (mask === 0) {
      decisions.push({ name, timestamp, action: 'delete', periods: [], reasons: [] })
      continue
    }
    const periods = FREQUENCIES.filter((_, bit) => (mask & (1 << bit)) !== 0)
    const reasons: KeepReason[] = [...periods]
    if (mask & KEEP_LATEST) reasons.push('keep-latest')
    if (mask & PROTECTED) reasons.push('protected')
    decisions.push({ name, timestamp, action: 'keep', periods, reasons })
  }
  return { decisions, mostRecent, windows }
}

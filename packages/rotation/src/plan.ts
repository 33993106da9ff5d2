import { DateTime, type DurationLikeObject } from 'luxon'
import type { Backup } from './collect.js'
import { compareCodePoints } from './order.js'
import { RotationError } from './errors.js'
import { FREQUENCIES, parseRetention, validateScheme, type Frequency, type Retention, type RotationScheme } from './retention.js'
import { isoWeek, timestampSeconds, type Timestamp } from './timestamp.js'

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

const UNITS: Record<Frequency, keyof DurationLikeObject> = {
  minutely: 'minutes',
  hourly: 'hours',
  daily: 'days',
  weekly: 'weeks',
  monthly: 'months',
  yearly: 'years',
}

type BucketKey = (t: Timestamp, seconds: number) => number

function bucketKey(frequency: Frequency, legacyWeekBuckets: boolean): BucketKey {
  switch (frequency) {
    case 'minutely':
      return (_, s) => Math.floor(s / 60)
    case 'hourly':
      return (_, s) => Math.floor(s / 3600)
    case 'daily':
      return (_, s) => Math.floor(s / 86400)
    case 'weekly':
      return legacyWeekBuckets
        ? (t) => t.year * 100 + isoWeek(t.year, t.month, t.day)[1]
        : (t) => {
            const [weekYear, week] = isoWeek(t.year, t.month, t.day)
            return weekYear * 100 + week
          }
    case 'monthly':
      return (t) => t.year * 12 + t.month
    case 'yearly':
      return (t) => t.year
  }
}

/** `most_recent − count × unit` with calendar arithmetic (luxon, UTC zone); undefined when before year 1. */
function windowMinimum(mostRecent: Timestamp, frequency: Frequency, count: number): Timestamp | undefined {
  const start = DateTime.fromObject({ ...mostRecent }, { zone: 'utc' })
  const minimum = start.minus({ [UNITS[frequency]]: count })
  if (!minimum.isValid || minimum.year < 1) return undefined
  const { year, month, day, hour, minute, second } = minimum
  return { year, month, day, hour, minute, second }
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
  const keyed = Array.from(backups, (backup) => ({ backup, seconds: timestampSeconds(backup.timestamp) }))
  keyed.sort((a, b) => a.seconds - b.seconds || compareCodePoints(a.backup.name, b.backup.name))
  const sorted = keyed.map((entry) => entry.backup)
  const seconds = keyed.map((entry) => entry.seconds)
  const count = sorted.length
  const kept = new Map<number, Set<KeepReason>>()
  const keep = (index: number, reason: KeepReason) => {
    const reasons = kept.get(index)
    if (reasons) reasons.add(reason)
    else kept.set(index, new Set([reason]))
  }
  const mostRecent = sorted[count - 1]
  const windows: FrequencyWindow[] = []

  for (const frequency of FREQUENCIES) {
    const value = options.scheme[frequency]
    if (value === undefined) continue
    const retention = parseRetention(value)
    const key = bucketKey(frequency, legacyWeekBuckets)
    const representatives = new Map<number, number>()
    for (let i = 0; i < count; i++) {
      const k = key(sorted[i]!.timestamp, seconds[i]!)
      if (preferRecent || !representatives.has(k)) representatives.set(k, i)
    }
    let buckets = [...representatives].sort((a, b) => b[0] - a[0])
    const total = buckets.length
    let minimum: Timestamp | undefined
    if (retention !== 'always' && mostRecent) {
      if (strict) {
        minimum = windowMinimum(mostRecent.timestamp, frequency, retention)
        if (minimum) {
          const limit = timestampSeconds(minimum)
          buckets = buckets.filter(([, index]) => seconds[index]! >= limit)
        }
      }
      // A count of 0 keeps every remaining bucket (rotate-backups slices with [-0:]).
      if (retention > 0) buckets = buckets.slice(0, retention)
    }
    for (const [, index] of buckets) keep(index, frequency)
    windows.push({ frequency, retention, minimum, buckets: total, kept: buckets.length })
  }

  for (let i = Math.max(0, count - keepLatest); i < count; i++) keep(i, 'keep-latest')
  if (options.protect) {
    const protect = new Set(options.protect)
    for (let i = 0; i < count; i++) if (protect.has(sorted[i]!.name)) keep(i, 'protected')
  }

  const decisions = sorted.map((backup, i): BackupDecision => {
    const reasons = kept.get(i)
    if (!reasons) return { name: backup.name, timestamp: backup.timestamp, action: 'delete', periods: [], reasons: [] }
    const periods = FREQUENCIES.filter((f) => reasons.has(f))
    const extra = (['keep-latest', 'protected'] as const).filter((r) => reasons.has(r))
    return { name: backup.name, timestamp: backup.timestamp, action: 'keep', periods, reasons: [...periods, ...extra] }
  })
  return { decisions, mostRecent, windows }
}

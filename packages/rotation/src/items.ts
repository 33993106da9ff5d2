import type { Backup } from './collect.js'
import { RotationError } from './errors.js'
import { planRotation, type KeepReason, type PlanOptions } from './plan.js'
import type { Frequency } from './retention.js'
import { invalidTimestampReason, type Timestamp } from './timestamp.js'

/** Options of {@link planItems}: those of {@link planRotation}, with items instead of names. */
export interface ItemPlanOptions<T> extends Omit<PlanOptions, 'protect'> {
  /** The moment of an item (default: the item itself, for a list of `Date`s). */
  timestamp?: ((item: T) => Date | Timestamp) | undefined
  /**
   * The wall clock a `Date` is read on for the calendar buckets (which day, week, month it belongs to): `'local'`
   * (the process's time zone, default) or `'utc'`. A {@link Timestamp} is wall-clock time already.
   */
  timeZone?: 'local' | 'utc' | undefined
  /** Items that are always kept (compared with `===`). */
  protect?: Iterable<T> | undefined
}

/** The decision for one item. */
export interface ItemDecision<T> {
  readonly item: T
  /** Its moment as the planner saw it (wall-clock time). */
  readonly timestamp: Timestamp
  readonly action: 'keep' | 'delete'
  /** The frequencies that keep it, in the order minutely … yearly (empty when deleted). */
  readonly periods: Frequency[]
  /** Everything that keeps it: its periods, then `keep-latest`, then `protected` (empty when deleted). */
  readonly reasons: KeepReason[]
}

/** The result of {@link planItems}. */
export interface ItemPlan<T> {
  /** A decision for every item, oldest first (items with the same moment in input order). */
  readonly decisions: ItemDecision<T>[]
  /** The items to keep, oldest first. */
  readonly keep: T[]
  /** The items to delete, oldest first. */
  readonly delete: T[]
}

/**
 * The wall-clock time of a `Date` in the process's time zone (`'local'`) or in UTC, to the second (milliseconds
 * are dropped, as in snapshot names).
 *
 * @throws {RotationError} ERR_RSB_ROTATION_BAD_OPTION for an invalid date
 * @example
 * ```ts
 * timestampFromDate(new Date('2024-01-02T03:04:05.678Z'), 'utc') // { year: 2024, month: 1, day: 2, hour: 3, minute: 4, second: 5 }
 * ```
 */
export function timestampFromDate(date: Date, timeZone: 'local' | 'utc' = 'local'): Timestamp {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new RotationError('ERR_RSB_ROTATION_BAD_OPTION', `Not a valid date: ${String(date)}.`, {
      hint: 'Give every item a valid Date (or a Timestamp) through the timestamp accessor.',
    })
  }
  return timeZone === 'utc'
    ? {
        year: date.getUTCFullYear(),
        month: date.getUTCMonth() + 1,
        day: date.getUTCDate(),
        hour: date.getUTCHours(),
        minute: date.getUTCMinutes(),
        second: date.getUTCSeconds(),
      }
    : {
        year: date.getFullYear(),
        month: date.getMonth() + 1,
        day: date.getDate(),
        hour: date.getHours(),
        minute: date.getMinutes(),
        second: date.getSeconds(),
      }
}

/**
 * Plans a rotation of anything with a moment: `Date`s, or items with a timestamp accessor (database dumps,
 * cloud snapshots, rows of a table). The same decisions as {@link planRotation}, which works on names.
 *
 * @param items - the items, in any order
 * @param options - scheme and settings, and how to read an item's moment
 * @throws {RotationError} ERR_RSB_ROTATION_EMPTY_SCHEME, ERR_RSB_ROTATION_BAD_RETENTION, ERR_RSB_ROTATION_BAD_OPTION
 *   (also for an item whose moment is not a valid date)
 * @example
 * ```ts
 * const dumps = [{ file: 'a.sql', at: new Date(2024, 0, 1) }, { file: 'b.sql', at: new Date(2024, 0, 1, 12) }]
 * planItems(dumps, { scheme: { daily: 7 }, timestamp: (d) => d.at }).delete // [{ file: 'b.sql', … }]
 * ```
 */
export function planItems(items: Iterable<Date>, options: ItemPlanOptions<Date>): ItemPlan<Date>
export function planItems<T>(items: Iterable<T>, options: ItemPlanOptions<T> & { timestamp: (item: T) => Date | Timestamp }): ItemPlan<T>
export function planItems<T>(items: Iterable<T>, options: ItemPlanOptions<T>): ItemPlan<T> {
  const list = [...items]
  const accessor = options.timestamp ?? ((item: T) => item as unknown as Date)
  const timeZone = options.timeZone ?? 'local'
  // Names the planner orders by code points after the timestamp: zero-padded indexes keep the input order for ties.
  const width = String(list.length).length
  const backups: Backup[] = list.map((item, index) => {
    const moment = accessor(item)
    const timestamp = moment instanceof Date ? timestampFromDate(moment, timeZone) : moment
    const fields = [timestamp.year, timestamp.month, timestamp.day, timestamp.hour, timestamp.minute, timestamp.second]
    const invalid = fields.every(Number.isInteger) ? invalidTimestampReason(timestamp) : 'every field must be a whole number'
    if (invalid !== undefined) {
      throw new RotationError('ERR_RSB_ROTATION_BAD_OPTION', `Item ${index} has an invalid timestamp: ${invalid}.`, {
        hint: 'Give every item a valid Date (or a Timestamp) through the timestamp accessor.',
      })
    }
    return { name: String(index).padStart(width, '0'), timestamp }
  })
  let protect: string[] | undefined
  if (options.protect) {
    const kept = new Set(options.protect)
    protect = backups.filter((_, index) => kept.has(list[index] as T)).map((backup) => backup.name)
  }
  const { timestamp: _accessor, timeZone: _zone, protect: _protect, ...planOptions } = options
  const plan = planRotation(backups, { ...planOptions, protect })
  const decisions = plan.decisions.map((d) => ({
    item: list[Number(d.name)] as T,
    timestamp: d.timestamp,
    action: d.action,
    periods: d.periods,
    reasons: d.reasons,
  }))
  return {
    decisions,
    keep: decisions.filter((d) => d.action === 'keep').map((d) => d.item),
    delete: decisions.filter((d) => d.action === 'delete').map((d) => d.item),
  }
}

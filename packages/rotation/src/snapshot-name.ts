import { invalidTimestampReason, type Timestamp } from './timestamp.js'
import { withPositionalTwin, type TimestampPattern } from './timestamp-pattern.js'

const SNAPSHOT_NAME = /^(?<year>[0-9]{4})-(?<month>[0-9]{2})-(?<day>[0-9]{2}) (?<hour>[0-9]{2}):(?<minute>[0-9]{2}):(?<second>[0-9]{2})$/

/**
 * The timestamp pattern of rsb snapshot names: the **whole** name is `YYYY-MM-DD HH:MM:SS` (ASCII digits).
 * Use it as `collectBackups`' pattern to consider snapshots only.
 */
export const SNAPSHOT_NAME_PATTERN: TimestampPattern = withPositionalTwin({
  source: String.raw`^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\ (?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})$`,
  regex: SNAPSHOT_NAME,
})

const pad = (value: number, width = 2): string => String(value).padStart(width, '0')

/**
 * Formats a snapshot name: `YYYY-MM-DD HH:MM:SS` in the process's local time zone (`TZ`).
 *
 * @param date - the moment of the snapshot (default: now)
 * @example
 * ```ts
 * formatSnapshotName(new Date(2024, 0, 2, 3, 4, 5)) // '2024-01-02 03:04:05'
 * ```
 */
export function formatSnapshotName(date: Date = new Date()): string {
  return (
    `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  )
}

/**
 * Reads the naive timestamp of a snapshot name, or undefined when the whole name is not a valid
 * `YYYY-MM-DD HH:MM:SS`.
 *
 * @example
 * ```ts
 * parseSnapshotTimestamp('2024-01-02 03:04:05') // { year: 2024, month: 1, day: 2, hour: 3, minute: 4, second: 5 }
 * parseSnapshotTimestamp('latest')              // undefined
 * ```
 */
export function parseSnapshotTimestamp(name: string): Timestamp | undefined {
  const match = SNAPSHOT_NAME.exec(name)
  if (!match) return undefined
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  const timestamp: Timestamp = { year, month, day, hour, minute, second }
  return invalidTimestampReason(timestamp) === undefined ? timestamp : undefined
}

/**
 * Reads a snapshot name back into a `Date` in the local time zone (the inverse of {@link formatSnapshotName}),
 * or undefined when the whole name is not a valid `YYYY-MM-DD HH:MM:SS`.
 *
 * @example
 * ```ts
 * parseSnapshotName('2024-01-02 03:04:05')?.getHours() // 3
 * ```
 */
export function parseSnapshotName(name: string): Date | undefined {
  const t = parseSnapshotTimestamp(name)
  if (!t) return undefined
  const date = new Date(t.year, t.month - 1, t.day, t.hour, t.minute, t.second)
  date.setFullYear(t.year) // years 1–99 would otherwise mean 1901–1999
  return date
}

/** Whether a name is a valid snapshot name (`YYYY-MM-DD HH:MM:SS`). */
export function isSnapshotName(name: string): boolean {
  return parseSnapshotTimestamp(name) !== undefined
}

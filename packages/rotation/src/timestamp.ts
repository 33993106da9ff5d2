/**
 * A naive wall-clock date and time: no time zone, no DST. `2024-03-31 02:30:00` is a value like any other.
 * Fields are integers; months and days start at 1.
 */
export interface Timestamp {
  readonly year: number
  readonly month: number
  readonly day: number
  readonly hour: number
  readonly minute: number
  readonly second: number
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
}

/** Days in a month of the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0)
}

/**
 * Why fields do not make a valid timestamp, in the words of Python's `datetime` (what rotate-backups logs);
 * undefined when they do. Years 1–9999 are valid.
 */
export function invalidTimestampReason(fields: Timestamp): string | undefined {
  const { year, month, day, hour, minute, second } = fields
  if (year < 1 || year > 9999) return `year ${year} is out of range`
  if (month < 1 || month > 12) return 'month must be in 1..12'
  if (day < 1 || day > daysInMonth(year, month)) return 'day is out of range for month'
  if (hour < 0 || hour > 23) return 'hour must be in 0..23'
  if (minute < 0 || minute > 59) return 'minute must be in 0..59'
  if (second < 0 || second > 59) return 'second must be in 0..59'
  return undefined
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

/** Seconds since 1970-01-01 00:00:00 of a naive timestamp (for ordering and window comparisons). */
export function timestampSeconds(t: Timestamp): number {
  return daysFromCivil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second
}

const pad = (value: number, width: number): string => String(value).padStart(width, '0')
const TWO_DIGITS = Array.from({ length: 100 }, (_, value) => pad(value, 2))
const isSmall = (value: number, max: number) => Number.isInteger(value) && value >= 0 && value <= max
// Consecutive backups share their date, and a few times of day recur: both parts are reused.
let lastDate = Number.NaN
let lastDateText = ''
const timeTexts = new Map<number, string>()

/**
 * Formats a timestamp as `YYYY-MM-DDTHH:MM:SS` (the `--json` form).
 *
 * @example
 * ```ts
 * formatTimestamp({ year: 2024, month: 1, day: 2, hour: 3, minute: 4, second: 5 }) // '2024-01-02T03:04:05'
 * ```
 */
export function formatTimestamp(t: Timestamp): string {
  const { year, month, day, hour, minute, second } = t
  if (!(isSmall(year, 9999) && isSmall(month, 99) && isSmall(day, 99) && isSmall(hour, 99) && isSmall(minute, 99) && isSmall(second, 99))) {
    return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}`
  }
  const date = (year * 100 + month) * 100 + day
  if (date !== lastDate) {
    lastDate = date
    lastDateText = `${pad(year, 4)}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}T`
  }
  const time = (hour * 100 + minute) * 100 + second
  let timeText = timeTexts.get(time)
  if (timeText === undefined) {
    timeText = `${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[second]}`
    if (timeTexts.size >= 4096) timeTexts.clear()
    timeTexts.set(time, timeText)
  }
  return lastDateText + timeText
}

/**
 * The ISO 8601 week of a date: `[week-year, week]` (weeks start on Monday; week 1 holds the year's first
 * Thursday).
 */
export function isoWeek(year: number, month: number, day: number): [weekYear: number, week: number] {
  const days = daysFromCivil(year, month, day)
  const weekday = (((days + 3) % 7) + 7) % 7 // Monday 0 … Sunday 6 (1970-01-01 was a Thursday)
  const thursday = days - weekday + 3
  const weekYear = yearOfDays(thursday)
  const week = Math.floor((thursday - daysFromCivil(weekYear, 1, 1)) / 7) + 1
  return [weekYear, week]
}

function yearOfDays(days: number): number {
  // Inverse of daysFromCivil for the year only.
  const z = days + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const month = mp < 10 ? mp + 3 : mp - 9
  return yoe + era * 400 + (month <= 2 ? 1 : 0)
}

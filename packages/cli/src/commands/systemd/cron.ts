// `rsb systemd --cron` (pure): a job's schedule, a systemd OnCalendar= expression, as the five time fields of a cron
// line, and the lines of /etc/cron.d/rsb.
//
// The translation reads the normalized form that `systemd-analyze calendar` prints (`Mon..Fri *-*-* 02:30:00`);
// where that program is missing (a machine without systemd, which is where cron lines are wanted), the common short
// forms are normalized here (see normalizeCalendar). Each field of the normalized form becomes a cron field: values,
// lists (`1,13`), ranges (`01..05`) and steps (`00/15`, `02..06/2`); weekdays as cron's 0-7. What cron cannot express
// is refused: seconds other than :00, a year, the last days of a month (`~`), a time zone, and a weekday together with
// a day of the month (systemd wants both, cron runs on either).
import { quoteCommandLine, type IoniceClass } from '@rsb/exec'
import type { ConfigJob } from '../../config/load.js'
import { parseIonice } from '../../kit/values.js'
import { runArgv, type UnitSettings } from './units.js'

/** The PATH line of /etc/cron.d/rsb (cron's own is /usr/bin:/bin, without the sbin directories rsb's programs are in). */
export const CRON_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** systemd.time(7)'s shorthands, normalized as `systemd-analyze calendar` prints them. */
const SHORTHANDS: Readonly<Record<string, string>> = {
  minutely: '*-*-* *:*:00',
  hourly: '*-*-* *:00:00',
  daily: '*-*-* 00:00:00',
  weekly: 'Mon *-*-* 00:00:00',
  monthly: '*-*-01 00:00:00',
  yearly: '*-01-01 00:00:00',
  annually: '*-01-01 00:00:00',
  quarterly: '*-01,04,07,10-01 00:00:00',
  semiannually: '*-01,07-01 00:00:00',
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const
const WEEKDAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const

/**
 * The normalized form of the common OnCalendar expressions, for machines without `systemd-analyze`: the shorthands
 * (`hourly`, `daily`, `weekly`, `monthly`, `yearly`, `quarterly`, `semiannually`, `minutely`) and
 * `[WEEKDAYS] [[YEAR-]MONTH-DAY] [HOUR:MINUTE[:SECOND]]` (a missing date is every day, a missing time midnight, a
 * missing second :00). Anything else (time zones, `~`, `.5` seconds) gives undefined: only `systemd-analyze` can read
 * it. Pure.
 *
 * @example
 * ```ts
 * normalizeCalendar('mon..fri 2:30') // 'Mon..Fri *-*-* 2:30:00'
 * ```
 */
export function normalizeCalendar(text: string): string | undefined {
  const words = text.trim().split(/\s+/)
  if (words.length === 1 && (words[0] as string).toLowerCase() in SHORTHANDS) return SHORTHANDS[(words[0] as string).toLowerCase()]
  let weekdays: string | undefined
  let date = '*-*-*'
  let time = '00:00:00'
  let at = 0
  if (words[at] !== undefined && /^[A-Za-z]/.test(words[at] as string)) {
    weekdays = normalizeWeekdays(words[at] as string)
    if (weekdays === undefined) return undefined
    at++
  }
  if (words[at] !== undefined && /^[0-9*][0-9*,./]*-/.test(words[at] as string)) {
    const parts = (words[at] as string).split('-')
    if (parts.length === 2) parts.unshift('*')
    if (parts.length !== 3 || !parts.every(isDateField)) return undefined
    date = parts.join('-')
    at++
  }
  if (words[at] !== undefined && (words[at] as string).includes(':')) {
    const parts = (words[at] as string).split(':')
    if (parts.length === 2) parts.push('00')
    if (parts.length !== 3 || !parts.every(isDateField)) return undefined
    time = parts.join(':')
    at++
  }
  if (at !== words.length || at === 0) return undefined
  return `${weekdays === undefined ? '' : `${weekdays} `}${date} ${time}`
}

function isDateField(text: string): boolean {
  return /^(\*|[0-9]+(\.\.[0-9]+)?)(\/[0-9]+)?(,[0-9]+(\.\.[0-9]+)?(\/[0-9]+)?)*$/.test(text)
}

function weekdayName(text: string): string | undefined {
  const lower = text.toLowerCase()
  const index = WEEKDAY_NAMES.findIndex((name) => name === lower || name.slice(0, 3) === lower)
  return index === -1 ? undefined : WEEKDAYS[index]
}

function normalizeWeekdays(text: string): string | undefined {
  const items = text.split(',').map((item) => {
    const range = item.split('..')
    if (range.length > 2) return undefined
    const names = range.map(weekdayName)
    return names.includes(undefined) ? undefined : names.join('..')
  })
  return items.includes(undefined) ? undefined : items.join(',')
}

/** The five time fields of a cron line, or why cron cannot express the schedule. */
export type CronFields = { readonly kind: 'fields'; readonly fields: string } | { readonly kind: 'refused'; readonly reason: string }

/**
 * A normalized OnCalendar expression (`systemd-analyze calendar`'s "Normalized form", or {@link normalizeCalendar}'s)
 * as cron's minute, hour, day of month, month and day of week. Pure.
 *
 * @example
 * ```ts
 * cronFields('Mon..Fri *-*-* 02:30:00') // { kind: 'fields', fields: '30 2 * * 1-5' }
 * cronFields('*-*-* *:*:00/30') // { kind: 'refused', reason: 'cron runs at whole minutes, not at the seconds *:*:00/30' }
 * ```
 */
export function cronFields(normalized: string): CronFields {
  const refused = (reason: string): CronFields => ({ kind: 'refused', reason })
  const words = normalized.trim().split(/\s+/)
  const weekdays = words[0] !== undefined && /^[A-Za-z]/.test(words[0]) ? words.shift() : undefined
  const [date, time, ...rest] = words
  if (rest.length > 0) return refused(`cron has no time zones (${rest.join(' ')}): it runs in the system's own`)
  if (date === undefined || time === undefined) return refused(`'${normalized}' is not a normalized OnCalendar expression`)
  if (date.includes('~')) return refused('cron cannot count days from the end of a month (~)')
  const [year, month, day, ...moreDate] = date.split('-')
  const [hour, minute, second, ...moreTime] = time.split(':')
  if (year === undefined || month === undefined || day === undefined || moreDate.length > 0)
    return refused(`'${date}' is not a normalized date`)
  if (hour === undefined || minute === undefined || second === undefined || moreTime.length > 0)
    return refused(`'${time}' is not a normalized time`)
  if (year !== '*') return refused(`cron has no years (${year})`)
  if (!/^0+$/.test(second)) return refused(`cron runs at whole minutes, not at the seconds ${time}`)
  const fields: string[] = []
  for (const [text, min, max, what] of [
    [minute, 0, 59, 'minute'],
    [hour, 0, 23, 'hour'],
    [day, 1, 31, 'day'],
    [month, 1, 12, 'month'],
  ] as const) {
    const field = cronField(text, min, max)
    if (field === undefined) return refused(`the ${what} ${text} is not a cron field`)
    fields.push(field)
  }
  let dayOfWeek = '*'
  if (weekdays !== undefined) {
    const field = cronWeekdays(weekdays)
    if (field === undefined) return refused(`the weekdays ${weekdays} are not a cron field`)
    dayOfWeek = field
    if (day !== '*')
      return refused(`systemd runs on the days ${day} that are ${weekdays}, cron would run on either (a day of the month or a weekday)`)
  }
  fields.push(dayOfWeek)
  return { kind: 'fields', fields: fields.join(' ') }
}

function cronField(text: string, min: number, max: number): string | undefined {
  if (text === '*') return '*'
  const items: string[] = []
  for (const item of text.split(',')) {
    const match = /^(\*|[0-9]+)(?:\.\.([0-9]+))?(?:\/([0-9]+))?$/.exec(item)
    if (match === null) return undefined
    const [, first = '', last, step] = match
    if (first === '*' && (last !== undefined || step === undefined)) return undefined
    const start = first === '*' ? min : Number(first)
    const end = last === undefined ? undefined : Number(last)
    if (start < min || start > max || (end !== undefined && (end < start || end > max))) return undefined
    if (step === undefined) {
      items.push(end === undefined ? String(start) : `${start}-${end}`)
      continue
    }
    if (Number(step) === 0) return undefined
    // systemd's A/N is A, A+N, … up to the field's end; cron's is written as a range (or * from the field's start)
    const range = end === undefined ? (start === min ? '*' : `${start}-${max}`) : `${start}-${end}`
    items.push(`${range}/${Number(step)}`)
  }
  return items.join(',')
}

/** systemd's weekdays (Mon first, Sun last) as cron's (Sun 0, or 7 at the end of a range). */
function cronWeekdays(text: string): string | undefined {
  const items: string[] = []
  for (const item of text.split(',')) {
    const names = item.split('..')
    const days = names.map((name) => WEEKDAYS.indexOf(name as (typeof WEEKDAYS)[number]) + 1)
    if (names.length > 2 || days.some((day) => day === 0)) return undefined
    if (days.length === 1) items.push(String((days[0] as number) % 7))
    else if ((days[0] as number) > (days[1] as number)) return undefined
    else items.push(`${days[0]}-${days[1]}`)
  }
  return items.join(',')
}

const IONICE_NUMBER: Readonly<Record<IoniceClass, string>> = { realtime: '1', '1': '1', 'best-effort': '2', '2': '2', idle: '3', '3': '3' }

/** The I/O class number (`ionice -c`) of a job: its `ionice` value, idle by default (as the service's). */
function ioniceNumber(job: ConfigJob): string {
  const given = job.values.ionice
  return typeof given === 'string' ? IONICE_NUMBER[parseIonice(given)] : '3'
}

/**
 * One line of /etc/cron.d/rsb: the time fields, the user `root`, then (as the service does) the random delay,
 * `nice -n 19 ionice -c CLASS`, `RSB run --config=FILE JOB`, its output to syslog (`logger -t rsb-JOB`). `%` is `\%`
 * (cron reads a bare `%` as a line break).
 *
 * @example
 * ```ts
 * cronLine(job, '0 3 * * *', { rsb: '/usr/local/bin/rsb', config: '/etc/rsb/rsb.toml' })
 * // '0 3 * * * root sleep $(shuf -i 0-300 -n 1); nice -n 19 ionice -c 3 /usr/local/bin/rsb run --config=/etc/rsb/rsb.toml home 2>&1 | logger -t rsb-home'
 * ```
 */
export function cronLine(job: ConfigJob, fields: string, settings: UnitSettings): string {
  const delay = job.randomizedDelay > 0 ? `sleep $(shuf -i 0-${job.randomizedDelay} -n 1); ` : ''
  const run = quoteCommandLine(['nice', '-n', '19', 'ionice', '-c', ioniceNumber(job), ...runArgv(job.name, settings)])
  return `${fields} root ${delay}${run} 2>&1 | logger -t rsb-${job.name}`.replaceAll('%', '\\%')
}

/** The text of /etc/cron.d/rsb: a header, `SHELL=` and `PATH=`, then each job's schedule as a comment and its line. */
export function renderCrontab(entries: readonly { readonly job: ConfigJob; readonly fields: string }[], settings: UnitSettings): string {
  return [
    `# /etc/cron.d/rsb: the jobs of ${settings.config}, written by 'rsb systemd --cron' (cron does not make up a run`,
    '# missed while the machine was off, as the systemd timers of rsb systemd --install do).',
    'SHELL=/bin/sh',
    `PATH=${CRON_PATH}`,
    ...entries.flatMap(({ job, fields }) => [`# job ${job.name}: OnCalendar=${job.schedule}`, cronLine(job, fields, settings)]),
    '',
  ].join('\n')
}

import { describe, expect, it } from 'vitest'
import { DateTime } from 'luxon'
import {
  collectBackups,
  FREQUENCIES,
  isoWeek,
  planRotation,
  sortBackups,
  timestampSeconds,
  type Backup,
  type Frequency,
  type PlanOptions,
  type Timestamp,
} from '../src/index.ts'
import { windowMinimum } from '../src/plan.ts'

function deleted(names: readonly string[], options: PlanOptions): string[] {
  return planRotation(collectBackups(names).backups, options)
    .decisions.filter((d) => d.action === 'delete')
    .map((d) => d.name)
}

function kept(names: readonly string[], options: PlanOptions): string[] {
  return planRotation(collectBackups(names).backups, options)
    .decisions.filter((d) => d.action === 'keep')
    .map((d) => d.name)
}

describe('weekly buckets across New Year (rotate-backups issue #31)', () => {
  const saturdays = ['2020-12-26', '2021-01-02', '2021-01-09', '2021-01-16', '2021-01-23', '2021-01-30']

  it.each([
    [{ scheme: { weekly: 4 } }, ['2020-12-26', '2021-01-02'], ['2020-12-26', '2021-01-09']],
    [{ scheme: { weekly: 5 } }, ['2020-12-26'], ['2020-12-26']],
    [{ scheme: { weekly: 4 }, strict: false, preferRecent: true }, ['2020-12-26', '2021-01-02'], ['2020-12-26', '2021-01-09']],
  ])('%o: ISO deletes %o, legacy deletes %o', (options, iso, legacy) => {
    expect(deleted(saturdays, options)).toEqual(iso)
    expect(deleted(saturdays, { ...options, legacyWeekBuckets: true })).toEqual(legacy)
  })

  it('nightly backups, --weekly=8: ISO keeps one Monday per ISO week, legacy splits 2020-W53', () => {
    const nights: string[] = []
    for (let day = new Date(Date.UTC(2020, 9, 1)); day <= new Date(Date.UTC(2021, 0, 6)); day.setUTCDate(day.getUTCDate() + 1)) {
      nights.push(`${day.toISOString().slice(0, 10)}_03-00`)
    }
    const dates = (names: string[]) => names.map((name) => name.slice(0, 10))
    expect(dates(kept(nights, { scheme: { weekly: 8 } }))).toEqual([
      '2020-11-16',
      '2020-11-23',
      '2020-11-30',
      '2020-12-07',
      '2020-12-14',
      '2020-12-21',
      '2020-12-28',
      '2021-01-04',
    ])
    expect(dates(kept(nights, { scheme: { weekly: 8 }, legacyWeekBuckets: true }))).toEqual([
      '2020-11-23',
      '2020-11-30',
      '2020-12-07',
      '2020-12-14',
      '2020-12-21',
      '2020-12-28',
      '2021-01-01',
      '2021-01-04',
    ])
  })

  it('legacy mode puts 2019-12-30/31 in (2019, 1), the oldest week of 2019', () => {
    const names = ['2019-01-01', '2019-12-30', '2019-12-31']
    expect(kept(names, { scheme: { weekly: 'always' }, legacyWeekBuckets: true })).toEqual(['2019-01-01'])
    expect(kept(names, { scheme: { weekly: 'always' } })).toEqual(['2019-01-01', '2019-12-30'])
  })
})

describe('strict windows', () => {
  it('keeps a representative exactly at the minimum (observed: --daily=2)', () => {
    expect(deleted(['2024-01-01_00-00', '2024-01-03_00-00'], { scheme: { daily: 2 } })).toEqual([])
    expect(deleted(['2024-01-01_00-00', '2024-01-03_00-01'], { scheme: { daily: 2 } })).toEqual(['2024-01-01_00-00'])
  })

  it('measures months and years with the day clamped to the end of the month', () => {
    const plan = planRotation(collectBackups(['2024-03-31']).backups, { scheme: { monthly: 1, yearly: 1 } })
    expect(plan.windows.map((w) => w.minimum)).toEqual([
      { year: 2024, month: 2, day: 29, hour: 0, minute: 0, second: 0 },
      { year: 2023, month: 3, day: 31, hour: 0, minute: 0, second: 0 },
    ])
    const leap = planRotation(collectBackups(['2024-02-29']).backups, { scheme: { yearly: 1 } })
    expect(leap.windows[0]?.minimum).toEqual({ year: 2023, month: 2, day: 28, hour: 0, minute: 0, second: 0 })
  })

  it('has no lower bound when the window reaches before year 1', () => {
    const names = ['0005-01-01', '2024-01-01']
    expect(deleted(names, { scheme: { yearly: 2024 } })).toEqual([])
    expect(deleted(names, { scheme: { daily: 1_000_000 } })).toEqual([])
    expect(planRotation(collectBackups(names).backups, { scheme: { daily: 1e15 } }).windows[0]?.minimum).toBeUndefined()
  })

  it('never guarantees the newest backup (rotate-backups issue #5), but keepLatest does', () => {
    const names = ['backup-2016-01-10_21-15-00', 'backup-2016-01-10_21-30-00', 'backup-2016-01-10_21-45-00']
    expect(kept(names, { scheme: { hourly: 1 } })).toEqual([names[0]])
    const plan = planRotation(collectBackups(names).backups, { scheme: { hourly: 1 }, keepLatest: 1 })
    expect(plan.decisions.map((d) => [d.action, d.periods, d.reasons])).toEqual([
      ['keep', ['hourly'], ['hourly']],
      ['delete', [], []],
      ['keep', [], ['keep-latest']],
    ])
    expect(kept(names, { scheme: { hourly: 1 }, keepLatest: 5 })).toEqual(names)
  })
})

describe('count 0 (rotate-backups issue #34)', () => {
  const names = ['2024-01-01_10-00', '2024-01-02_10-00', '2024-01-03_10-00', '2024-01-03_11-00']

  it('strict: keeps only buckets whose representative is at the newest timestamp', () => {
    expect(kept(names, { scheme: { hourly: 0 } })).toEqual(['2024-01-03_11-00'])
    expect(kept(names, { scheme: { daily: 0 } })).toEqual([])
  })

  it('relaxed: keeps every bucket, like always', () => {
    expect(kept(names, { scheme: { daily: 0 }, strict: false })).toEqual(['2024-01-01_10-00', '2024-01-02_10-00', '2024-01-03_10-00'])
  })
})

describe('settings', () => {
  it('refuses an empty scheme', () => {
    expect(() => planRotation([], { scheme: {} })).toThrow(expect.objectContaining({ code: 'ERR_RSB_ROTATION_EMPTY_SCHEME' }))
  })

  it('refuses bad retention values and keep-latest counts', () => {
    expect(() => planRotation([], { scheme: { daily: -1 } })).toThrow(expect.objectContaining({ code: 'ERR_RSB_ROTATION_BAD_RETENTION' }))
    expect(() => planRotation([], { scheme: { daily: 1.5 } })).toThrow(expect.objectContaining({ code: 'ERR_RSB_ROTATION_BAD_RETENTION' }))
    expect(() => planRotation([], { scheme: { daily: 1 }, keepLatest: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_ROTATION_BAD_OPTION' }),
    )
  })

  it('plans nothing for no backups', () => {
    expect(planRotation([], { scheme: { daily: 1 } })).toMatchObject({ decisions: [], mostRecent: undefined })
  })

  it('always keeps protected names and says so', () => {
    const names = ['2024-01-01 10:00:00', '2024-01-01 10:30:00']
    const plan = planRotation(collectBackups(names).backups, { scheme: { hourly: 24 }, protect: ['2024-01-01 10:30:00'] })
    expect(plan.decisions.map((d) => [d.name, d.action, d.reasons])).toEqual([
      ['2024-01-01 10:00:00', 'keep', ['hourly']],
      ['2024-01-01 10:30:00', 'keep', ['protected']],
    ])
  })

  it('orders equal timestamps by name, which decides the representative', () => {
    const names = ['b-2024-01-01', 'a-2024-01-01']
    expect(kept(names, { scheme: { daily: 1 } })).toEqual(['a-2024-01-01'])
    expect(kept(names, { scheme: { daily: 1 }, preferRecent: true })).toEqual(['b-2024-01-01'])
  })

  it('orders names by code point, not UTF-16 unit', () => {
    const names = ['2024-01-01 \u{1F600}', '2024-01-01 \uFF01']
    expect(kept(names, { scheme: { daily: 1 } })).toEqual(['2024-01-01 \uFF01'])
  })

  it('lists periods in the fixed order and only once per frequency', () => {
    const plan = planRotation(collectBackups(['2024-01-01']).backups, {
      scheme: { yearly: 'always', minutely: 1, weekly: 1, hourly: 1, monthly: 1, daily: 1 },
    })
    expect(plan.decisions[0]?.periods).toEqual(['minutely', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'])
  })

  it('is independent of input order', () => {
    const names = Array.from(
      { length: 200 },
      (_, i) => `2024-01-${String((i % 28) + 1).padStart(2, '0')}_${String(i % 24).padStart(2, '0')}-00`,
    )
    const reversed = [...names].reverse()
    const options = { scheme: { hourly: 24, daily: 7, weekly: 4, monthly: 'always' as const } }
    expect(planRotation(collectBackups(reversed).backups, options)).toEqual(planRotation(collectBackups(names).backups, options))
  })
})

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const LUXON_UNITS = { minutely: 'minutes', hourly: 'hours', daily: 'days', weekly: 'weeks', monthly: 'months', yearly: 'years' } as const

/** The window minimum as luxon computes it (the reference for the integer arithmetic). */
function luxonMinimum(t: Timestamp, frequency: Frequency, count: number): Timestamp | undefined {
  const minimum = DateTime.fromObject({ ...t }, { zone: 'utc' }).minus({ [LUXON_UNITS[frequency]]: count })
  if (!minimum.isValid || minimum.year < 1) return undefined
  const { year, month, day, hour, minute, second } = minimum
  return { year, month, day, hour, minute, second }
}

/** A straightforward planner (maps of buckets, luxon windows) to compare the optimised one with. */
function referencePlan(backups: readonly Backup[], options: PlanOptions): [string, string, string[]][] {
  const sorted = sortBackups(backups)
  const reasons = sorted.map(() => new Set<string>())
  const mostRecent = sorted.at(-1)
  for (const frequency of FREQUENCIES) {
    const value = options.scheme[frequency]
    if (value === undefined) continue
    const key = (t: Timestamp): string => {
      const [weekYear, week] = isoWeek(t.year, t.month, t.day)
      return {
        minutely: `${(timestampSeconds(t) / 60) | 0}`,
        hourly: `${t.year}-${t.month}-${t.day} ${t.hour}`,
        daily: `${t.year}-${t.month}-${t.day}`,
        weekly: options.legacyWeekBuckets ? `${t.year}-${week}` : `${weekYear}-${week}`,
        monthly: `${t.year}-${t.month}`,
        yearly: `${t.year}`,
      }[frequency]
    }
    const representatives = new Map<string, number>()
    sorted.forEach((backup, i) => {
      const k = key(backup.timestamp)
      if (options.preferRecent || !representatives.has(k)) representatives.set(k, i)
    })
    const order = (k: string) => k.split(/[- ]/).map(Number)
    let buckets = [...representatives].sort(([a], [b]) => {
      const [x, y] = [order(a), order(b)]
      const i = x.findIndex((n, j) => n !== y[j])
      return i < 0 ? 0 : y[i]! - x[i]!
    })
    if (value !== 'always' && mostRecent) {
      const minimum = options.strict === false ? undefined : luxonMinimum(mostRecent.timestamp, frequency, value)
      if (minimum) buckets = buckets.filter(([, i]) => timestampSeconds(sorted[i]!.timestamp) >= timestampSeconds(minimum))
      if (value > 0) buckets = buckets.slice(0, value)
    }
    for (const [, i] of buckets) reasons[i]!.add(frequency)
  }
  sorted.forEach((_, i) => i >= sorted.length - (options.keepLatest ?? 0) && reasons[i]!.add('keep-latest'))
  const protect = new Set(options.protect ?? [])
  sorted.forEach((backup, i) => protect.has(backup.name) && reasons[i]!.add('protected'))
  return sorted.map((backup, i) => [backup.name, reasons[i]!.size > 0 ? 'keep' : 'delete', [...reasons[i]!]])
}

describe('window minimums (luxon calendar arithmetic, UTC)', () => {
  const t = (year: number, month: number, day: number, hour = 0, minute = 0, second = 0): Timestamp => ({
    year,
    month,
    day,
    hour,
    minute,
    second,
  })
  it.each([
    ['month end clamps to February (leap year)', t(2024, 3, 31, 23, 59, 59), 'monthly', 1, t(2024, 2, 29, 23, 59, 59)],
    ['month end clamps to February', t(2023, 3, 31), 'monthly', 1, t(2023, 2, 28)],
    ['months cross the year', t(2024, 1, 15, 6), 'monthly', 13, t(2022, 12, 15, 6)],
    ['leap day minus a year', t(2024, 2, 29, 12), 'yearly', 1, t(2023, 2, 28, 12)],
    ['weeks are 7 days', t(2024, 1, 3, 1, 2, 3), 'weekly', 2, t(2023, 12, 20, 1, 2, 3)],
    ['days across a DST change are 24 h (no zone)', t(2024, 3, 31, 12), 'daily', 1, t(2024, 3, 30, 12)],
    ['hours across midnight', t(2024, 1, 1, 1), 'hourly', 24, t(2023, 12, 31, 1)],
    ['minutes', t(2024, 1, 1, 0, 0, 30), 'minutely', 61, t(2023, 12, 31, 22, 59, 30)],
    ['zero', t(2024, 5, 5, 5, 5, 5), 'daily', 0, t(2024, 5, 5, 5, 5, 5)],
  ] as const)('%s', (_, from, frequency, count, expected) => {
    expect(windowMinimum(from, frequency, count)).toEqual(expected)
  })

  it('is undefined before year 1 and for counts beyond the calendar', () => {
    expect(windowMinimum(t(1, 1, 1), 'hourly', 1)).toBeUndefined()
    expect(windowMinimum(t(1, 12, 31, 12), 'yearly', 1)).toBeUndefined()
    expect(windowMinimum(t(2024, 1, 1), 'yearly', 2023)).toEqual(t(1, 1, 1))
    expect(windowMinimum(t(2024, 1, 1), 'yearly', 2024)).toBeUndefined()
    expect(windowMinimum(t(2024, 1, 1), 'hourly', 1e15)).toBeUndefined()
  })
})

describe('the optimised planner', () => {
  it('decides like a straightforward one (random sets, every setting, any input order)', () => {
    const next = random(7)
    const int = (below: number) => Math.floor(next() * below)
    const pad = (n: number) => String(n).padStart(2, '0')
    const retention = (): number | 'always' => (int(5) === 0 ? 'always' : int(12))
    for (let round = 0; round < 80; round++) {
      const names = new Set<string>()
      const size = int(300)
      const start = Date.UTC(2018 + int(4), int(12), 1)
      const span = [3_600_000, 86_400_000, 30 * 86_400_000, 800 * 86_400_000][int(4)]!
      for (let i = 0; i < size; i++) {
        const d = new Date(start + Math.floor(next() * span))
        const stamp = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}_${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}`
        names.add(int(4) === 0 ? `${'abc'[int(3)]}-${stamp}` : stamp)
      }
      const { backups } = collectBackups(names)
      const scheme: PlanOptions['scheme'] = {}
      for (const frequency of FREQUENCIES) if (int(2) === 0) scheme[frequency] = retention()
      if (Object.keys(scheme).length === 0) scheme.weekly = retention()
      const options: PlanOptions = {
        scheme,
        strict: int(3) !== 0,
        preferRecent: int(2) === 0,
        legacyWeekBuckets: int(2) === 0,
        keepLatest: int(3) === 0 ? int(5) : 0,
        protect: backups.filter(() => int(40) === 0).map((b) => b.name),
      }
      const shuffled = [...backups].sort(() => next() - 0.5)
      const expected = referencePlan(backups, options)
      for (const input of [backups, shuffled]) {
        const plan = planRotation(input, options)
        expect(
          plan.decisions.map((d) => [d.name, d.action, d.reasons]),
          JSON.stringify(options),
        ).toEqual(expected)
        for (const d of plan.decisions) expect(d.periods).toEqual(d.reasons.filter((r) => (FREQUENCIES as readonly string[]).includes(r)))
      }
      expect(shuffled.length).toBe(backups.length)
    }
  })
})

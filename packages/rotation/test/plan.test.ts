import { describe, expect, it } from 'vitest'
import { collectBackups, planRotation, type PlanOptions } from '../src/index.ts'

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

describe('weekly buckets across New Year (rotate-backups.md 18, issue #31)', () => {
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

  it('never guarantees the newest backup (issue #5), but keepLatest does', () => {
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

describe('count 0 (issue #34)', () => {
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

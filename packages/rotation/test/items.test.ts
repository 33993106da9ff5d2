import { afterEach, describe, expect, it } from 'vitest'
import {
  collectBackups,
  formatSnapshotName,
  planItems,
  planRotation,
  timestampFromDate,
  type PlanOptions,
  type Timestamp,
} from '../src/index.ts'

const savedTz = process.env.TZ
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ
  else process.env.TZ = savedTz
})

describe('planItems: the planner for Dates and any item with a moment', () => {
  it('takes plain Dates and decides like planRotation on the same moments written as names', () => {
    // pseudo-random but fixed: 400 moments over three years, some on the same second
    let seed = 7
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31)
    const start = new Date(2022, 0, 1).getTime()
    const dates = Array.from({ length: 400 }, () => new Date(start + (next() % (3 * 365 * 86400)) * 1000))
    dates.push(new Date(dates[5]!.getTime()))
    const options: Omit<PlanOptions, 'protect'> = {
      scheme: { hourly: 24, daily: 7, weekly: 4, monthly: 12, yearly: 'always' },
      keepLatest: 2,
    }
    for (const preferRecent of [false, true]) {
      for (const strict of [true, false]) {
        const byDates = planItems(dates, { ...options, preferRecent, strict })
        const byNames = planRotation(collectBackups(dates.map((d) => formatSnapshotName(d))).backups, { ...options, preferRecent, strict })
        expect(byDates.decisions.map((d) => [formatSnapshotName(d.item), d.action, d.reasons])).toEqual(
          byNames.decisions.map((d) => [d.name, d.action, d.reasons]),
        )
        expect(byDates.keep.length + byDates.delete.length).toBe(dates.length)
        expect(byDates.keep.length).toBeGreaterThan(10)
        expect(byDates.delete.length).toBeGreaterThan(10)
      }
    }
  })

  it('reads items through an accessor (Date or Timestamp), keeps ties in input order, and protects items', () => {
    const dumps = [
      { file: 'c.sql', at: new Date(2024, 0, 2, 9) },
      { file: 'a.sql', at: new Date(2024, 0, 1, 0) },
      { file: 'b.sql', at: new Date(2024, 0, 1, 0) },
      { file: 'd.sql', at: { year: 2024, month: 1, day: 1, hour: 12, minute: 0, second: 0 } satisfies Timestamp },
    ]
    const plan = planItems(dumps, { scheme: { daily: 7 }, timestamp: (d) => d.at })
    expect(plan.decisions.map((d) => `${d.action} ${d.item.file}`)).toEqual(['keep a.sql', 'delete b.sql', 'delete d.sql', 'keep c.sql'])
    expect(plan.keep.map((d) => d.file)).toEqual(['a.sql', 'c.sql'])
    expect(plan.delete).toEqual([dumps[2], dumps[3]])
    const protectedPlan = planItems(dumps, { scheme: { daily: 7 }, timestamp: (d) => d.at, protect: [dumps[3]!] })
    expect(protectedPlan.decisions.find((d) => d.item === dumps[3])).toMatchObject({ action: 'keep', periods: [], reasons: ['protected'] })
  })

  it("buckets Dates by the process's wall clock, or by UTC when asked", () => {
    process.env.TZ = 'America/New_York'
    // 03:30 UTC on Jan 2 is 22:30 on Jan 1 in New York: one day locally, two days in UTC
    const dates = [new Date('2024-01-01T18:00:00Z'), new Date('2024-01-02T03:30:00Z')]
    expect(planItems(dates, { scheme: { daily: 7 } }).delete).toEqual([dates[1]])
    expect(planItems(dates, { scheme: { daily: 7 }, timeZone: 'utc' }).delete).toEqual([])
    expect(timestampFromDate(dates[1]!)).toEqual({ year: 2024, month: 1, day: 1, hour: 22, minute: 30, second: 0 })
    expect(timestampFromDate(dates[1]!, 'utc')).toEqual({ year: 2024, month: 1, day: 2, hour: 3, minute: 30, second: 0 })
  })

  it('refuses an invalid Date or Timestamp, and an empty scheme, with a code', () => {
    const bad = expect.objectContaining({ code: 'ERR_RSB_ROTATION_BAD_OPTION' })
    expect(() => planItems([new Date('soon')], { scheme: { daily: 1 } })).toThrow(bad)
    expect(() =>
      planItems([{ t: { year: 2024, month: 13, day: 1, hour: 0, minute: 0, second: 0 } }], { scheme: { daily: 1 }, timestamp: (x) => x.t }),
    ).toThrow(bad)
    expect(() =>
      planItems([{ t: { year: 2024, month: 1.5, day: 1, hour: 0, minute: 0, second: 0 } }], {
        scheme: { daily: 1 },
        timestamp: (x) => x.t,
      }),
    ).toThrow(bad)
    expect(() => planItems([new Date()], { scheme: {} })).toThrow(expect.objectContaining({ code: 'ERR_RSB_ROTATION_EMPTY_SCHEME' }))
    expect(planItems([], { scheme: { daily: 1 } })).toEqual({ decisions: [], keep: [], delete: [] })
  })
})

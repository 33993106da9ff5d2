// rotate-backups 8.1's own test cases, on the pure planner.
import { describe, expect, it } from 'vitest'
import {
  collectBackups,
  compileTimestampPattern,
  parseRetention,
  planRotation,
  RotationError,
  type CollectOptions,
  type PlanOptions,
} from '../src/index.ts'
import { FULL, FULL_KEPT, SAMPLE_BACKUPS, SAMPLE_SET } from './sample-set.ts'

function rotate(names: readonly string[], plan: PlanOptions, collect: CollectOptions = {}) {
  const { backups } = collectBackups(names, collect)
  const { decisions } = planRotation(backups, plan)
  const deleted = new Set(decisions.filter((d) => d.action === 'delete').map((d) => d.name))
  const kept = Object.fromEntries(decisions.filter((d) => d.action === 'keep').map((d) => [d.name, d.periods]))
  return { remaining: names.filter((name) => !deleted.has(name)), deleted: [...deleted], kept }
}

// The sample set never reaches a week near New Year, so both week modes give the same results.
describe.each([
  ['ISO week buckets (default)', false],
  ['legacy week buckets', true],
])('upstream rotation tests, %s', (_, legacyWeekBuckets) => {
  it('test_rotate_backups / test_rotate_concurrent: FULL keeps 19 dated names with their periods', () => {
    const { remaining, kept, deleted } = rotate(SAMPLE_SET, { scheme: FULL, legacyWeekBuckets })
    expect(kept).toEqual(FULL_KEPT)
    expect(remaining).toEqual([...Object.keys(FULL_KEPT), 'some-random-directory'])
    expect(deleted).toHaveLength(247)
  })

  it('test_include_list: only 2014 names are rotated', () => {
    const { remaining, kept } = rotate(SAMPLE_SET, { scheme: FULL, legacyWeekBuckets }, { include: ['2014-*'] })
    const from2013 = SAMPLE_BACKUPS.filter((name) => name.startsWith('2013-'))
    expect(from2013).toHaveLength(83)
    const expected2014 = Object.keys(FULL_KEPT).filter((name) => name.startsWith('2014-'))
    expect(remaining).toEqual([...from2013, ...expected2014, 'some-random-directory'])
    expect(remaining).toHaveLength(100)
    expect(kept['2014-01-01@20:07']).toEqual(['monthly', 'yearly'])
  })

  it('test_exclude_list: excluded May backups are invisible and remain', () => {
    const { remaining, kept } = rotate(SAMPLE_SET, { scheme: FULL, legacyWeekBuckets }, { exclude: ['2014-05-*'] })
    const may = SAMPLE_BACKUPS.filter((name) => name.startsWith('2014-05-'))
    expect(may).toHaveLength(31)
    const others = [
      '2013-10-10@20:07',
      '2013-11-01@20:06',
      '2013-12-01@20:07',
      '2014-01-01@20:07',
      '2014-02-01@20:05',
      '2014-03-01@20:04',
      '2014-04-01@20:03',
      '2014-06-01@20:01',
      '2014-06-09@20:01',
      '2014-06-16@20:02',
      '2014-06-23@20:04',
      '2014-06-26@20:04',
      '2014-06-27@20:02',
      '2014-06-28@20:02',
      '2014-06-29@20:01',
      '2014-06-30@20:03',
      '2014-07-01@20:02',
      '2014-07-02@20:03',
    ]
    expect(new Set(remaining)).toEqual(new Set([...may, ...others, 'some-random-directory']))
    expect(remaining).toHaveLength(50)
    expect(Object.keys(kept)).toEqual(others)
  })

  it('test_dry_run scheme: --daily=7 --weekly=7 --monthly=12 --yearly=always keeps 23 (ISO weeks 21-27)', () => {
    const { remaining, deleted } = rotate(SAMPLE_SET, {
      scheme: { daily: 7, weekly: 7, monthly: 12, yearly: 'always' },
      legacyWeekBuckets,
    })
    expect(remaining).toEqual([
      '2013-10-10@20:07',
      '2013-11-01@20:06',
      '2013-12-01@20:07',
      '2014-01-01@20:07',
      '2014-02-01@20:05',
      '2014-03-01@20:04',
      '2014-04-01@20:03',
      '2014-05-01@20:06',
      '2014-05-19@20:02',
      '2014-05-26@20:05',
      '2014-06-01@20:01',
      '2014-06-02@20:05',
      '2014-06-09@20:01',
      '2014-06-16@20:02',
      '2014-06-23@20:04',
      '2014-06-26@20:04',
      '2014-06-27@20:02',
      '2014-06-28@20:02',
      '2014-06-29@20:01',
      '2014-06-30@20:03',
      '2014-07-01@20:02',
      '2014-07-02@20:03',
      'some-random-directory',
    ])
    expect(deleted).toHaveLength(244)
  })

  it('FULL --relaxed --prefer-recent keeps the last day of each month and the last 24 days', () => {
    const { remaining } = rotate(SAMPLE_SET, { scheme: FULL, strict: false, preferRecent: true, legacyWeekBuckets })
    const lastDays = [
      '2013-10-31@20:07',
      '2013-11-30@20:06',
      '2013-12-31@20:06',
      '2014-01-31@20:04',
      '2014-02-28@20:03',
      '2014-03-31@20:04',
      '2014-04-30@20:05',
      '2014-05-31@20:02',
    ]
    const last24 = SAMPLE_BACKUPS.slice(SAMPLE_BACKUPS.indexOf('2014-06-09@20:01'))
    expect(last24).toHaveLength(24)
    expect(remaining).toEqual([...lastDays, ...last24, 'some-random-directory'])
    expect(remaining).toHaveLength(33)
  })
})

describe('test_strict_rotation / test_relaxed_rotation', () => {
  const names = [
    'galera_backup_db4.sl.example.lab_2016-03-17_10-00',
    'galera_backup_db4.sl.example.lab_2016-03-17_12-00',
    'galera_backup_db4.sl.example.lab_2016-03-17_16-00',
  ]
  const scheme = { hourly: 3, daily: 1 }

  it('strict: the 12:00 backup is deleted', () => {
    const { remaining, kept } = rotate(names, { scheme })
    expect(remaining).toEqual([names[0], names[2]])
    expect(kept).toEqual({ [names[0]!]: ['daily'], [names[2]!]: ['hourly'] })
  })

  it('relaxed: nothing is deleted', () => {
    expect(rotate(names, { scheme, strict: false }).remaining).toEqual(names)
  })

  it('strict with prefer-recent: only 16:00 remains', () => {
    expect(rotate(names, { scheme, preferRecent: true }).remaining).toEqual([names[2]])
  })
})

describe('test_prefer_old / test_prefer_new / test_minutely_rotation', () => {
  const names = ['backup-2016-01-10_21-15-00', 'backup-2016-01-10_21-30-00', 'backup-2016-01-10_21-45-00']

  it('--hourly=1 keeps the oldest of the hour', () => {
    expect(rotate(names, { scheme: { hourly: 1 } }).remaining).toEqual([names[0]])
  })

  it('--hourly=1 --prefer-recent keeps the newest of the hour', () => {
    expect(rotate(names, { scheme: { hourly: 1 }, preferRecent: true }).remaining).toEqual([names[2]])
  })

  it('--prefer-recent --relaxed --minutely=2 keeps the two newest minutes', () => {
    expect(rotate(names, { scheme: { minutely: 2 }, preferRecent: true, strict: false }).remaining).toEqual([names[1], names[2]])
  })

  it('strict --minutely=2 keeps only the newest', () => {
    expect(rotate(names, { scheme: { minutely: 2 } }).remaining).toEqual([names[2]])
  })
})

describe('retention value parsing (upstream)', () => {
  it('accepts always in any case and counts, with arithmetic', () => {
    expect(parseRetention('always')).toBe('always')
    expect(parseRetention('Always')).toBe('always')
    expect(parseRetention(42)).toBe(42)
    expect(parseRetention('42')).toBe(42)
    expect(parseRetention('21 * 2')).toBe(42)
  })

  it('rejects None and lists', () => {
    expect(() => parseRetention('None')).toThrow(RotationError)
    expect(() => parseRetention([] as unknown as string)).toThrow(RotationError)
  })
})

describe('invalid dates (upstream)', () => {
  it('collects only the valid one of snapshot-201808030034 and snapshot-180731150101', () => {
    const { backups, skipped } = collectBackups(['snapshot-201808030034.tar.gz', 'snapshot-180731150101.tar.gz'])
    expect(backups).toEqual([
      { name: 'snapshot-201808030034.tar.gz', timestamp: { year: 2018, month: 8, day: 3, hour: 0, minute: 34, second: 0 } },
    ])
    expect(skipped).toEqual([{ name: 'snapshot-180731150101.tar.gz', reason: 'invalid-date', detail: 'month must be in 1..12' }])
    expect(rotate(['snapshot-201808030034.tar.gz', 'snapshot-180731150101.tar.gz'], { scheme: { monthly: 'always' } }).deleted).toEqual([])
  })
})

describe('custom timestamp patterns (upstream)', () => {
  it('parses My-File--2009-12-31--23-59-59.txt with a custom pattern (upstream: VERBOSE Python syntax, see rsb rotate)', () => {
    const pattern = compileTimestampPattern(
      /(?<year>\d{4})-(?<month>\d{2})-(?<day>\d{2})--(?<hour>\d{2})-(?<minute>\d{2})-(?<second>\d{2})/,
    )
    const { backups } = collectBackups(['My-File--2009-12-31--23-59-59.txt'], { pattern })
    expect(backups[0]?.timestamp).toEqual({ year: 2009, month: 12, day: 31, hour: 23, minute: 59, second: 59 })
  })

  it('rejects a pattern without a day group', () => {
    expect(() => compileTimestampPattern(/(?<year>\d{4})-(?<month>\d{2})/)).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_ROTATION_BAD_PATTERN', message: expect.stringContaining("'day'") }),
    )
  })

  it('optional captures: day-month-year without a time gives exactly one backup, 2020-04-09', () => {
    const { backups } = collectBackups(['prometheus-grafana-production-09-04-2020.tar.gz'], {
      pattern: /(?<day>\d{2})-(?<month>\d{2})-(?<year>\d{4})/,
    })
    expect(backups).toEqual([
      {
        name: 'prometheus-grafana-production-09-04-2020.tar.gz',
        timestamp: { year: 2020, month: 4, day: 9, hour: 0, minute: 0, second: 0 },
      },
    ])
  })
})

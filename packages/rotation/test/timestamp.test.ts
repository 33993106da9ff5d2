import { describe, expect, it } from 'vitest'
import {
  collectBackups,
  compileTimestampPattern,
  DEFAULT_TIMESTAMP_PATTERN,
  formatTimestamp,
  isoWeek,
  parseTimestamp,
  SNAPSHOT_NAME_PATTERN,
  type Timestamp,
  type TimestampPattern,
} from '../src/index.ts'

const at = (year: number, month: number, day: number, hour = 0, minute = 0, second = 0): Timestamp => ({
  year,
  month,
  day,
  hour,
  minute,
  second,
})

describe("the default timestamp pattern (rotate-backups')", () => {
  it.each([
    ['2024-01-02', at(2024, 1, 2)],
    ['20240102', at(2024, 1, 2)],
    ['2024-01-02_03-04-05', at(2024, 1, 2, 3, 4, 5)],
    ['2024-01-02T030405', at(2024, 1, 2, 3, 4, 5)],
    ['20240102030405', at(2024, 1, 2, 3, 4, 5)],
    ['2024-01-02 03:04:05', at(2024, 1, 2, 3, 4, 5)],
    ['x2024y01z02w03v04u05', at(2024, 1, 2, 3, 4, 5)],
    ['2024-01-02_03-04', at(2024, 1, 2, 3, 4)],
    ['202401020304', at(2024, 1, 2, 3, 4)],
    ['2013-10-10@20:07', at(2013, 10, 10, 20, 7)],
    ['2024-01-02_03', at(2024, 1, 2)],
    ['2024010203', at(2024, 1, 2)],
    ['2024-01-0203', at(2024, 1, 2)],
    ['2024_01_02__03_04', at(2024, 1, 2)],
    ['backup-2024-01-02-12345', at(2024, 1, 2, 12, 34)],
    ['2024-01-02_03:04:5', at(2024, 1, 2, 3, 4)],
    ['a.20220202.121213.gz', at(2022, 2, 2, 12, 12, 13)],
    ['snapshot-201808030034.tar.gz', at(2018, 8, 3, 0, 34)],
    ['sxx-01-00.1.1build133003_2019-07-23_04:00:01.zip', at(1330, 3, 20, 19, 7, 23)],
    ['.hidden-2024-06-15_12-00-00', at(2024, 6, 15, 12)],
    ['2024😀01-02', at(2024, 1, 2)],
  ])('%s → %o', (name, timestamp) => {
    expect(parseTimestamp(name)).toEqual({ kind: 'timestamp', timestamp })
  })

  it.each(['2024-1-02', '24-01-02', '2024--01-02', '٢٠٢٤-٠١-٠٢', 'some-random-directory'])('%s is not a backup', (name) => {
    expect(parseTimestamp(name)).toEqual({ kind: 'no-match' })
  })

  it.each([
    ['snapshot-180731150101.tar.gz', 'month must be in 1..12'],
    ['host1234-2024-01-02', 'month must be in 1..12'],
    ['2024-02-30', 'day is out of range for month'],
    ['2023-02-29', 'day is out of range for month'],
    ['0000-01-01', 'year 0 is out of range'],
    ['2024-01-01_24-00-00', 'hour must be in 0..23'],
    ['2024-01-01_23-60-00', 'minute must be in 0..59'],
    ['2024-12-31_23-59-60', 'second must be in 0..59'],
  ])('%s has an invalid date (%s)', (name, reason) => {
    expect(parseTimestamp(name)).toEqual({ kind: 'invalid-date', reason })
  })

  it('accepts 29 February in leap years only', () => {
    expect(parseTimestamp('2024-02-29').kind).toBe('timestamp')
    expect(parseTimestamp('2000-02-29').kind).toBe('timestamp')
    expect(parseTimestamp('1900-02-29').kind).toBe('invalid-date')
  })
})

describe('custom patterns', () => {
  it('treats absent, non-participating and empty time groups as 0', () => {
    const pattern = compileTimestampPattern(/(?<year>\d{4})(?<month>\d\d)(?<day>\d\d)(?:T(?<hour>\d\d))?(?<minute>\d*)/)
    expect(parseTimestamp('20240102', pattern)).toEqual({ kind: 'timestamp', timestamp: at(2024, 1, 2) })
    expect(parseTimestamp('20240102T0759', pattern)).toEqual({ kind: 'timestamp', timestamp: at(2024, 1, 2, 7, 59) })
  })

  it('reports a non-numeric capture as an invalid date, like int() would', () => {
    const pattern = compileTimestampPattern(/(?<year>\w{4})-(?<month>\d\d)-(?<day>\d\d)/)
    expect(parseTimestamp('abcd-01-02', pattern)).toEqual({
      kind: 'invalid-date',
      reason: "invalid literal for int() with base 10: 'abcd'",
    })
  })

  it('honours the regex flags, and drops g and y (a match may start anywhere, every time)', () => {
    const pattern = compileTimestampPattern(/backup-(?<year>\d{4})(?<month>\d\d)(?<day>\d\d)/giy)
    expect(pattern.regex.flags).toBe('i')
    expect(parseTimestamp('old BACKUP-20240102', pattern).kind).toBe('timestamp')
    expect(parseTimestamp('old BACKUP-20240102', pattern).kind).toBe('timestamp')
  })

  it('refuses a regex without the year, month or day group, and a pattern that is not a RegExp', () => {
    expect(() => compileTimestampPattern(/(?<year>\d{4})-(?<month>\d{2})/)).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_ROTATION_BAD_PATTERN', message: expect.stringContaining("'day'") }),
    )
    expect(() => compileTimestampPattern('(?<year>x)' as unknown as RegExp)).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_ROTATION_BAD_PATTERN' }),
    )
    // a string, as earlier versions took (Python syntax): refused with the code of a bad pattern, not a TypeError
    expect(() => collectBackups(['2024-01-01'], { pattern: '(?P<year>\\d{4})' as unknown as RegExp })).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_ROTATION_BAD_PATTERN' }),
    )
  })
})

describe('calendar helpers', () => {
  it('formats timestamps for --json', () => {
    expect(formatTimestamp(at(2024, 1, 2, 3, 4, 5))).toBe('2024-01-02T03:04:05')
    expect(formatTimestamp(at(5, 1, 2))).toBe('0005-01-02T00:00:00')
    // The reused date and time parts never leak into the next timestamp.
    const sequence = [
      at(2024, 1, 2, 3, 4, 5),
      at(2024, 1, 2, 23, 59, 59),
      at(2024, 1, 3, 3, 4, 5),
      at(2024, 1, 2, 3, 4, 5),
      at(999, 12, 31, 0, 0, 1),
    ]
    expect(sequence.map(formatTimestamp)).toEqual([
      '2024-01-02T03:04:05',
      '2024-01-02T23:59:59',
      '2024-01-03T03:04:05',
      '2024-01-02T03:04:05',
      '0999-12-31T00:00:01',
    ])
    // Out-of-range fields are printed as they are.
    expect(formatTimestamp(at(10000, 100, 1, 2.5, -1, 0))).toBe('10000-100-01T2.5:-1:00')
  })

  it.each([
    [2019, 12, 30, 2020, 1],
    [2024, 12, 31, 2025, 1],
    [2021, 1, 1, 2020, 53],
    [2021, 1, 3, 2020, 53],
    [2021, 1, 4, 2021, 1],
    [2022, 1, 2, 2021, 52],
    [2014, 6, 30, 2014, 27],
    [2014, 6, 2, 2014, 23],
  ])('ISO week of %i-%i-%i is %i-W%i', (year, month, day, weekYear, week) => {
    expect(isoWeek(year, month, day)).toEqual([weekYear, week])
  })
})

describe('the positional twins of the built-in patterns', () => {
  it('parse exactly like the named-group regexes they come from', () => {
    const names = [
      '2024-01-02',
      '2024-01-02 03:04:05',
      '2024-01-02 03:04:05 ',
      'x2024y01z02w03v04u05',
      '2024-13-02',
      '2023-02-29_03-04',
      '0000-01-01',
      '20240102030405',
      '2024-01-02_03:04:5',
      '2024\u{1F600}01\u{1F600}02',
      '2024\uFF0101\uFF0102 03:04:05',
      '٢٠٢٤-01-02',
      'notes.txt',
      '',
    ]
    for (const pattern of [DEFAULT_TIMESTAMP_PATTERN, SNAPSHOT_NAME_PATTERN]) {
      const plain: TimestampPattern = { source: pattern.source, regex: new RegExp(pattern.regex.source, pattern.regex.flags) }
      for (const name of names) expect(parseTimestamp(name, pattern), `${pattern.source} on ${name}`).toEqual(parseTimestamp(name, plain))
    }
    expect(parseTimestamp('2024-01-02 03:04:05', SNAPSHOT_NAME_PATTERN)).toEqual({ kind: 'timestamp', timestamp: at(2024, 1, 2, 3, 4, 5) })
    expect(parseTimestamp('2024-01-02x03:04:05', SNAPSHOT_NAME_PATTERN)).toEqual({ kind: 'no-match' })
  })
})

import { describe, expect, it } from 'vitest'
import {
  collectBackups,
  compileShellPatterns,
  formatScheme,
  formatSnapshotName,
  isSnapshotName,
  parseRetention,
  parseSnapshotName,
  parseSnapshotTimestamp,
  SNAPSHOT_NAME_PATTERN,
} from '../src/index.ts'

describe('retention values (as rotate-backups reads them)', () => {
  it.each([
    [' ALWAYS ', 'always'],
    ['7', 7],
    ['0', 0],
    ['07', 7],
    ['7 * 2', 14],
    ['8/2', 4],
    ['(1 + 2) * 3', 9],
    ['2 ** 3', 8],
    ['7 // 2', 3],
    ['-7 % 3 + 1', 3],
    ['-(-3)', 3],
    ['10 - 2 - 3', 5],
    ['2 ** 3 ** 2', 512],
  ] as const)('%s → %s', (text, value) => {
    expect(parseRetention(text)).toBe(value)
  })

  it.each(['-1', '7/2', '1.5', 'abc', '', 'None', 'True', '1 +', '(1', '1/0', '2 ** -1', '-2 ** 2', '10 ** 20', '7 # x'])(
    'rejects %j',
    (text) => {
      expect(() => parseRetention(text)).toThrow(expect.objectContaining({ code: 'ERR_RSB_ROTATION_BAD_RETENTION' }))
    },
  )

  it('formats a scheme like rotate-backups logs it', () => {
    expect(formatScheme({ monthly: 'always', hourly: 24 })).toBe("{'hourly': 24, 'monthly': 'always'}")
  })
})

describe('include and exclude lists (fnmatch)', () => {
  it.each([
    ['2014-*', '2014-01-01@20:07', true],
    ['2014-*', 'x2014-01-01', false],
    ['*', '.hidden', true],
    ['a*b', 'a/x/b', true],
    ['?', 'é', true],
    ['[ab]*', 'b1', true],
    ['[!ab]*', 'b1', false],
    ['[]]x', ']x', true],
    ['[!]]x', 'ax', true],
    ['[a', '[a', true],
    ['a\\b', 'a\\b', true],
    ['[a-c]', 'b', true],
    ['[c-a]', 'b', false],
    ['{a,b}', 'a', false],
    ['DB-*', 'db-1', false],
    ['[\\]', '\\', true],
    ['[a-]', '-', true],
    ['a.b', 'axb', false],
    ['x(y)|z+', 'x(y)|z+', true],
  ])('%s against %s → %s', (pattern, name, expected) => {
    expect(compileShellPatterns([pattern]).matches(name)).toBe(expected)
  })

  it('exclude wins over include, and both apply only to names with timestamps', () => {
    const { backups, skipped } = collectBackups(['db-2024-01-01', 'db-2024-01-02.tmp', 'files-2024-01-01', 'db-notes'], {
      include: ['db-*'],
      exclude: ['*.tmp'],
    })
    expect(backups.map((b) => b.name)).toEqual(['db-2024-01-01'])
    expect(skipped).toEqual([
      { name: 'db-2024-01-02.tmp', reason: 'excluded' },
      { name: 'files-2024-01-01', reason: 'not-included' },
      { name: 'db-notes', reason: 'no-timestamp' },
    ])
  })
})

describe('snapshot names', () => {
  it('formats and parses YYYY-MM-DD HH:MM:SS in local time', () => {
    const date = new Date(2024, 0, 2, 3, 4, 5)
    expect(formatSnapshotName(date)).toBe('2024-01-02 03:04:05')
    expect(parseSnapshotName('2024-01-02 03:04:05')).toEqual(date)
    expect(parseSnapshotName(formatSnapshotName(new Date(2099, 11, 31, 23, 59, 59)))?.getFullYear()).toBe(2099)
  })

  it('recognises whole valid names only', () => {
    expect(isSnapshotName('2024-01-02 03:04:05')).toBe(true)
    for (const name of [
      'latest',
      '2024-01-02_03-04-05',
      ' 2024-01-02 03:04:05',
      '2024-01-02 03:04:05\n',
      '2024-02-30 00:00:00',
      '2024-01-02 24:00:00',
      '.rsb-2024-01-02 03:04:05',
    ]) {
      expect(isSnapshotName(name)).toBe(false)
    }
    expect(parseSnapshotTimestamp('2024-01-02 03:04:05')).toEqual({ year: 2024, month: 1, day: 2, hour: 3, minute: 4, second: 5 })
  })

  it('serves as a timestamp pattern that collects snapshots only', () => {
    const { backups } = collectBackups(['2024-01-02 03:04:05', 'photos-2019-01-01', 'latest', '2024-01-02 03:04:05.tmp'], {
      pattern: SNAPSHOT_NAME_PATTERN,
    })
    expect(backups.map((b) => b.name)).toEqual(['2024-01-02 03:04:05'])
  })
})

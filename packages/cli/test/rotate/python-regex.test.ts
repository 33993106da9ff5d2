import { describe, expect, it } from 'vitest'
import { parseTimestamp } from '@rsb/rotation'
import { compilePythonRegex, compilePythonTimestampPattern, translatePythonRegex } from '../../src/commands/rotate/python-regex.ts'

const match = (pattern: string, text: string) => compilePythonRegex(pattern).regex.exec(text)?.[0]

describe('translating Python regexes (VERBOSE, as rotate-backups compiles them)', () => {
  it('renames named groups and back-references', () => {
    expect(translatePythonRegex('(?P<year>a)(?P=year)')).toEqual({ source: '(?<year>a)\\k<year>', flags: 'u', groupNames: ['year'] })
  })

  it('drops unescaped whitespace and comments outside classes, keeps escaped spaces and spaces in classes', () => {
    expect(translatePythonRegex('a b # comment\n c\\ d[ ]').source).toBe('abc d[ ]')
    expect(match('a \\  b', 'xa by')).toBe('a b')
    expect(translatePythonRegex('a b', { verbose: false }).source).toBe('a b')
  })

  it('keeps Python meanings of ., ^, $, \\A, \\Z', () => {
    expect(match('a.c', 'a\rc')).toBe('a\rc')
    expect(match('a.c', 'a\nc')).toBeUndefined()
    expect(match('(?s)a.c', 'a\nc')).toBe('a\nc')
    expect(match('c$', 'abc\n')).toBe('c')
    expect(match('c\\Z', 'abc\n')).toBeUndefined()
    expect(match('\\Aa', 'ba')).toBeUndefined()
    expect(match('(?m)^b', 'a\nb')).toBe('b')
  })

  it('matches \\d as ASCII digits only, \\w and \\b as Unicode words', () => {
    expect(match('\\d+', '٢٠24')).toBe('24')
    expect(match('\\w+', 'über_1')).toBe('über_1')
    expect(match('\\bx', 'éx x')).toBe('x')
    expect(compilePythonRegex('\\bx').regex.exec('éx x')?.index).toBe(3)
    expect(match('(?a)\\w+', 'über')).toBe('ber')
  })

  it('handles classes: a leading ], escapes, ranges', () => {
    expect(match('[]a]+', 'x]a]')).toBe(']a]')
    expect(match('[^]]+', ']ab]')).toBe('ab')
    expect(match('[\\d-]+', 'a1-2b')).toBe('1-2')
    expect(match('[\\s]', 'a\u3000b')).toBe('\u3000')
  })

  it('handles quantifiers: {,n}, literal braces, lazy', () => {
    expect(match('a{,2}', 'aaa')).toBe('aa')
    expect(match('a{x}', 'a{x}')).toBe('a{x}')
    expect(match('a{}', 'a{}')).toBe('a{}')
    expect(match('a+?', 'aaa')).toBe('a')
    expect(match('a{2,}', 'aaaa')).toBe('aaaa')
  })

  it('handles escapes: punctuation, octal, hex, unicode, numbered groups', () => {
    expect(match('\\-\\#\\@\\:', '-#@:')).toBe('-#@:')
    expect(match('\\x41\\u0042\\U00000043\\101', 'ABCA')).toBe('ABCA')
    expect(match('(a)\\1', 'aa')).toBe('aa')
    expect(match('\\ ', ' ')).toBe(' ')
  })

  it.each([
    ['(?>a)', 'atomic group'],
    ['a*+', 'possessive quantifier'],
    ['a{2}+', 'possessive quantifier'],
    ['(?(1)a|b)', 'conditional'],
    ['(?i:a)', 'scoped inline flag'],
    ['a(?i)', 'not at the start'],
    ['\\N{DIGIT ONE}', 'named character escape'],
    ['(?L)a', 'LOCALE'],
    ['[\\W]', '\\W inside a character class'],
  ])('rejects %s (%s) with a clear error', (pattern, words) => {
    expect(() => translatePythonRegex(pattern)).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_ROTATION_BAD_PATTERN', message: expect.stringContaining(words) }),
    )
  })

  it.each(['(a', 'a)', '[a', '*a', '\\q', '(?P<1>a)', '(?P=nope)', '(?P<a>x)(?P<a>y)', 'a\\'])(
    'rejects the invalid pattern %s',
    (pattern) => {
      expect(() => compilePythonRegex(pattern)).toThrow(expect.objectContaining({ code: 'ERR_RSB_ROTATION_BAD_PATTERN' }))
    },
  )
})

describe('--timestamp-pattern in Python syntax (rotate-backups 8.1 test cases)', () => {
  const at = (year: number, month: number, day: number, hour = 0, minute = 0, second = 0) => ({ year, month, day, hour, minute, second })

  it('VERBOSE: parses My-File--2009-12-31--23-59-59.txt', () => {
    const pattern = compilePythonTimestampPattern(
      String.raw`(?P<year>\d{4}) - (?P<month>\d{2}) - (?P<day>\d{2}) -- (?P<hour>\d{2}) - (?P<minute>\d{2}) - (?P<second>\d{2})`,
    )
    expect(parseTimestamp('My-File--2009-12-31--23-59-59.txt', pattern)).toEqual({
      kind: 'timestamp',
      timestamp: at(2009, 12, 31, 23, 59, 59),
    })
    expect(pattern.source).toContain('(?P<year>')
  })

  it('optional captures, absent, non-participating and empty time groups are 0', () => {
    const pattern = compilePythonTimestampPattern(
      String.raw`(?P<year>\d{4})(?P<month>\d\d)(?P<day>\d\d) (?: T (?P<hour>\d\d) )? (?P<minute>\d*)`,
    )
    expect(parseTimestamp('20240102', pattern)).toEqual({ kind: 'timestamp', timestamp: at(2024, 1, 2) })
    expect(parseTimestamp('20240102T0759', pattern)).toEqual({ kind: 'timestamp', timestamp: at(2024, 1, 2, 7, 59) })
  })

  it('honours a leading (?i); a non-numeric capture is an invalid date, like int() would say', () => {
    expect(
      parseTimestamp('BACKUP-20240102', compilePythonTimestampPattern(String.raw`(?i)backup-(?P<year>\d{4})(?P<month>\d\d)(?P<day>\d\d)`))
        .kind,
    ).toBe('timestamp')
    expect(parseTimestamp('abcd-01-02', compilePythonTimestampPattern(String.raw`(?P<year>\w{4})-(?P<month>\d\d)-(?P<day>\d\d)`))).toEqual({
      kind: 'invalid-date',
      reason: "invalid literal for int() with base 10: 'abcd'",
    })
  })

  it('refuses a pattern without a day group, naming the pattern as written', () => {
    expect(() => compilePythonTimestampPattern(String.raw`(?P<year>\d{4})-(?P<month>\d{2})`)).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_ROTATION_BAD_PATTERN', message: expect.stringContaining('(?P<year>') }),
    )
  })
})

import { describe, expect, it } from 'vitest'
import { decodeCrypttabField, parseCrypttab } from '../src/index.ts'

describe('decodeCrypttabField (dash printf %b)', () => {
  it.each([
    ['\\040', ' '],
    ['\\0040', ' '],
    ['\\011', '\t'],
    ['\\054', ','],
    ['\\134', '\\'],
    ['\\0134', '\\'],
    ['\\12', '\n'],
    ['\\\\', '\\'],
    ['\\t\\n\\r\\a\\b\\f\\v', '\t\n\r\x07\x08\x0c\x0b'],
    ['\\x41', '\\x41'],
    ['\\q', '\\q'],
    ['My\\040Disk', 'My Disk'],
    ['trailing\\', 'trailing\\'],
    ['\\0', '\0'],
    ['\\303\\251t\\303\\251', 'été'],
    ['plain', 'plain'],
    ['\\1234', 'S4'],
  ])('%s → %j', (written, decoded) => {
    expect(decodeCrypttabField(written)).toBe(decoded)
  })
})

describe('parseCrypttab', () => {
  it('parses key files, none, LABEL= and UUID= sources, comments, blanks and a broken line', () => {
    const text = [
      'backups UUID=1012dd1a-a455-40c4-914f-f3b1b2cf5b86 /etc/keys/backups.key luks,discard,noauto',
      'usb /dev/sdb1 none luks',
      'disk LABEL=My\\040Disk none luks',
      'img /srv/backup.img /etc/keys/img.key',
      '  # img /x y luks',
      'oops!',
      '',
    ].join('\n')
    const { entries, warnings } = parseCrypttab(text)
    expect(entries.map((e) => [e.line, e.target, e.source, e.keyFile, { ...e.options }])).toEqual([
      [1, 'backups', 'UUID=1012dd1a-a455-40c4-914f-f3b1b2cf5b86', '/etc/keys/backups.key', { luks: true, discard: true, noauto: true }],
      [2, 'usb', '/dev/sdb1', undefined, { luks: true }],
      [3, 'disk', 'LABEL=My Disk', undefined, { luks: true }],
      [4, 'img', '/srv/backup.img', '/etc/keys/img.key', {}],
    ])
    expect(warnings).toEqual([{ line: 6, message: "Line 'oops!' is missing fields (target source [key-file [options]]); skipped." }])
  })

  it('parses a single line without a final newline', () => {
    const { entries, warnings } = parseCrypttab(
      'backups UUID=1012dd1a-a455-40c4-914f-f3b1b2cf5b86 /root/keys/backups.key luks,discard,noauto',
    )
    expect(warnings).toEqual([])
    expect(entries).toHaveLength(1)
    expect(entries[0]).toMatchObject({
      line: 1,
      target: 'backups',
      source: 'UUID=1012dd1a-a455-40c4-914f-f3b1b2cf5b86',
      keyFile: '/root/keys/backups.key',
      optionsText: 'luks,discard,noauto',
      problems: [],
    })
  })

  it('skips the oops! line with a warning', () => {
    const { entries, warnings } = parseCrypttab(
      'linux-utils-invalid UUID=36c44011-999d-4e4d-98cd-43e169b839e7 /root/keys/backups.key luks,discard,noauto\noops!\n',
    )
    expect(entries).toHaveLength(1)
    expect(entries[0]).toMatchObject({
      target: 'linux-utils-invalid',
      source: 'UUID=36c44011-999d-4e4d-98cd-43e169b839e7',
      keyFile: '/root/keys/backups.key',
    })
    expect(Object.keys(entries[0]?.options ?? {})).toEqual(['luks', 'discard', 'noauto'])
    expect(warnings.map((w) => w.line)).toEqual([2])
  })

  it('treats only a first field starting with # as a comment', () => {
    const { entries } = parseCrypttab('#x a b\n\t  #y a b\nx#y /dev/a none luks,#z\n')
    expect(entries.map((e) => [e.target, e.optionsText])).toEqual([['x#y', 'luks,#z']])
  })

  it('takes the rest of the line as the options field (a fifth word becomes an unknown option)', () => {
    const { entries, warnings } = parseCrypttab('a /dev/a none luks,discard  extra words  \n')
    expect(entries[0]?.optionsText).toBe('luks,discard  extra words')
    expect({ ...entries[0]?.options }).toEqual({ luks: true })
    expect(warnings).toEqual([{ line: 1, message: "Ignoring unknown option 'discard  extra words' of 'a'." }])
  })

  it('accepts 2 to 4 fields; none, - and a missing key field all mean no key file', () => {
    const { entries, warnings } = parseCrypttab('a /dev/a\nb /dev/b none\nc /dev/c -\nd /dev/d /k\n')
    expect(warnings).toEqual([])
    expect(entries.map((e) => [e.target, e.keyFile, e.optionsText])).toEqual([
      ['a', undefined, ''],
      ['b', undefined, ''],
      ['c', undefined, ''],
      ['d', '/k', ''],
    ])
    // `none` is exact and lower case
    expect(parseCrypttab('e /dev/e NONE\n').entries[0]?.keyFile).toBe('NONE')
  })

  it('splits options at raw commas and decodes only the values (\\054 stays inside a value)', () => {
    const { entries } = parseCrypttab('a /dev/a none luks,header=/h\\054x,keyslot=1,read-only,key-slot=2,,tries=0\n')
    expect({ ...entries[0]?.options }).toEqual({ luks: true, header: '/h,x', keyslot: '2', readonly: true, tries: '0' })
  })

  it('decodes target, source and key file; spaces and quotes survive', () => {
    const { entries } = parseCrypttab('my\\040disk /srv/it\'s\\040a\\040"$(x)".img /k\\011ey luks\n')
    expect(entries[0]).toMatchObject({ target: 'my disk', source: '/srv/it\'s a "$(x)".img', keyFile: '/k\tey' })
  })

  it('records malformed option values as problems, and warns about unknown options', () => {
    const { entries, warnings } = parseCrypttab('a /dev/a none luks,tries=x,size=0,cipher=,bogus,keyscript\nb/c /dev/b none luks\n')
    expect(entries[0]?.problems).toEqual([
      "invalid value for option 'tries': 'x'",
      "invalid value for option 'size': '0'",
      "invalid value for option 'cipher': ''",
      "invalid value for option 'keyscript' (a value is required)",
    ])
    expect(entries[1]?.problems).toEqual(["the target 'b/c' is not a plain name"])
    expect(warnings.map((w) => w.line)).toEqual([1, 1, 1, 1, 1, 2])
    expect(warnings[3]?.message).toBe("Ignoring unknown option 'bogus' of 'a'.")
  })

  it('keeps the file order and duplicates (lookups take the first)', () => {
    const { entries } = parseCrypttab('x /dev/first none\nx /dev/second none\n')
    expect(entries.find((e) => e.target === 'x')?.source).toBe('/dev/first')
    expect(entries).toHaveLength(2)
  })

  it('survives garbage: binary junk, NUL bytes, CRLF, huge lines, only blanks', () => {
    const junk = ['\u0000\u0001\u0002 a b', 'a\u0000 /dev/a none', '\uFFFD\uFFFD', '\t \t', 'ok /dev/ok none luks\r', 'x'.repeat(100_000)]
    const { entries, warnings } = parseCrypttab(junk.join('\n'))
    expect(entries.map((e) => [e.line, e.target, { ...e.options }])).toEqual([[5, 'ok', { luks: true }]])
    expect(warnings.map((w) => w.line)).toEqual([1, 2, 3, 6])
    expect(warnings[3]?.message.length).toBeLessThan(200)
    expect(parseCrypttab('')).toEqual({ entries: [], warnings: [] })
    for (let seed = 0; seed < 200; seed++) {
      let text = ''
      for (let i = 0; i < 200; i++) text += String.fromCharCode((seed * 7919 + i * 104729) % 128)
      expect(() => parseCrypttab(text)).not.toThrow()
    }
  })
})

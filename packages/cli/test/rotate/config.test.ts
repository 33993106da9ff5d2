import { describe, expect, it } from 'vitest'
import { buildConfig, findSection, resolveLocalDirectory } from '../../src/commands/rotate/config.ts'
import { parseIni } from '../../src/commands/rotate/ini.ts'
import { parseLocation } from '@rsb/rotation/io'

const env = { HOME: '/home/u', BACKUPS: '/srv/backups' }
const config = (text: string, warnings: string[] = []) => buildConfig(parseIni(text, 'test.ini'), { env, cwd: '/cwd', warnings })

describe('INI files (RawConfigParser)', () => {
  it('reads sections, both delimiters, comments, continuations, case-insensitive keys', () => {
    const data = parseIni('# comment\n; other\n[/a]\nDaily = 7\nweekly: 4\nexclude-list = x*,\n  y*\n\n[b:/c]\ninclude-list=\n', 'f.ini')
    expect([...data.keys()]).toEqual(['/a', 'b:/c'])
    expect(Object.fromEntries([...data.get('/a')!].map(([k, v]) => [k, v.value]))).toEqual({
      daily: '7',
      weekly: '4',
      'exclude-list': 'x*,\ny*',
    })
  })

  it('keeps inline comments as part of the value, which then fails as a retention value', () => {
    expect(() => config('[/a]\ndaily = 7 # x\n')).toThrow(
      expect.objectContaining({
        code: 'ERR_RSB_ROTATION_BAD_CONFIG',
        message: expect.stringContaining("'daily' in section [/a] (test.ini, line 2)"),
      }),
    )
  })

  it.each([
    ['[/a]\n[/a]\n', 'Duplicate section [/a] (f.ini, line 2)'],
    ['[/a]\ndaily = 1\nDaily = 2\n', "Duplicate key 'daily' in section [/a] (f.ini, line 3)"],
    ['daily = 1\n', 'does not start with a [section] header (f.ini, line 1)'],
    ['[/a]\njust words\n', 'Cannot parse the line "just words" (f.ini, line 2)'],
  ])('refuses %j', (text, message) => {
    expect(() => parseIni(text, 'f.ini')).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_ROTATION_BAD_CONFIG', message: expect.stringContaining(message) }),
    )
  })
})

describe('sections', () => {
  it('reads every key, strict = no included', () => {
    const c = config(
      '[/a]\nhourly = 24\nmonthly = Always\ninclude-list = a*, b* ,\nexclude-list = c*\nprefer-recent = yes\nstrict = no\nuse-sudo = no\n' +
        'ssh-user = backup\nionice = Idle\nremoval-command = rm -f\ntimestamp-pattern = (?P<year>\\d{4})(?P<month>\\d\\d)(?P<day>\\d\\d)\n' +
        'legacy-week-buckets = 1\nkeep-latest = 3\n',
    )
    expect(c.sections[0]).toEqual({
      name: '/a',
      location: { kind: 'local', directory: '/a' },
      glob: false,
      settings: {
        scheme: { hourly: 24, monthly: 'always' },
        include: ['a*', 'b*'],
        exclude: ['c*'],
        preferRecent: true,
        strict: false,
        useSudo: false,
        sshUser: 'backup',
        ionice: 'idle',
        removalCommand: ['rm', '-f'],
        timestampPattern: '(?P<year>\\d{4})(?P<month>\\d\\d)(?P<day>\\d\\d)',
        legacyWeekBuckets: true,
        keepLatest: 3,
      },
    })
  })

  it('inherits [DEFAULT] in every section and expands $VAR and ~ in local directories', () => {
    const c = config('[DEFAULT]\ndaily = 7\n[$BACKUPS/x]\nweekly = 1\n[~/y]\n[server:/z]\n')
    expect(c.sections.map((s) => [s.name, s.location, s.settings.scheme])).toEqual([
      ['$BACKUPS/x', { kind: 'local', directory: '/srv/backups/x' }, { daily: 7, weekly: 1 }],
      ['server:/z', { kind: 'ssh', host: 'server', user: undefined, directory: '/z' }, { daily: 7 }],
      ['~/y', { kind: 'local', directory: '/home/u/y' }, { daily: 7 }],
    ])
  })

  it('warns about unknown keys, with suggestions', () => {
    const warnings: string[] = []
    config('[/a]\ninclude = a*\nrelaxed = yes\ncolour = blue\n', warnings)
    expect(warnings).toEqual([
      "Ignoring unknown key 'include' in section [/a] of test.ini (line 2); did you mean 'include-list'?",
      "Ignoring unknown key 'relaxed' in section [/a] of test.ini (line 3); did you mean 'strict = no'?",
      "Ignoring unknown key 'colour' in section [/a] of test.ini (line 4)",
    ])
  })

  it('prefers a specific section to a glob one, then the first glob in sorted order', () => {
    const c = config('[/backups/*]\ndaily = 1\n[/backups/laptop]\ndaily = 2\n[/backups/l*]\ndaily = 3\n[host:/backups/*]\ndaily = 4\n')
    const daily = (text: string) => findSection(c, parseLocation(text))?.settings.scheme?.daily
    expect(daily('/backups/laptop')).toBe(2)
    expect(daily('/backups/laptop/')).toBe(2)
    expect(daily('/backups/vps')).toBe(1)
    expect(daily('/backups/deep/er')).toBe(1)
    expect(daily('host:/backups/x')).toBe(4)
    expect(daily('user@host:/backups/x')).toBe(4)
    expect(daily('/elsewhere')).toBeUndefined()
  })

  it('resolves local directories like expandvars + expanduser + abspath', () => {
    expect(resolveLocalDirectory('$NOPE/a', env, '/cwd')).toBe('/cwd/$NOPE/a')
    expect(resolveLocalDirectory('${BACKUPS}/../b', env, '/cwd')).toBe('/srv/b')
    expect(resolveLocalDirectory('~', env, '/cwd')).toBe('/home/u')
    expect(resolveLocalDirectory('rel', env, '/cwd')).toBe('/cwd/rel')
  })
})

describe('locations (upstream)', () => {
  it.each([
    ['some-host:/some/directory', { kind: 'ssh', host: 'some-host', user: undefined, directory: '/some/directory' }],
    ['user@host:/path', { kind: 'ssh', host: 'host', user: 'user', directory: '/path' }],
    ['host:relative', { kind: 'ssh', host: 'host', user: undefined, directory: 'relative' }],
    ['/a:b', { kind: 'local', directory: '/a:b' }],
    ['foo:', { kind: 'local', directory: 'foo:' }],
    [':/x', { kind: 'local', directory: ':/x' }],
  ])('%s', (text, location) => {
    expect(parseLocation(text)).toEqual(location)
  })
})

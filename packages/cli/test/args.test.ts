import { describe, expect, it } from 'vitest'
import {
  DEFAULT_ROTATION_SCHEME,
  MAX_COUNT,
  OPTIONS,
  formatRotationSpec,
  getopt,
  parseArgs,
  parseIoniceOption,
  parseRotationSpec,
  parseTunnelSpec,
  wantsJson,
} from '../src/index.ts'
import type { RunOptions } from '../src/index.ts'
import { parseExcludeLines } from '../src/backup/excludes.ts'

function run(argv: string[], env: Record<string, string> = {}): RunOptions {
  const parsed = parseArgs(argv, env)
  if (parsed.kind !== 'run') throw new Error(`expected a run, got ${parsed.kind}`)
  return parsed.options
}

function usageError(argv: string[], env: Record<string, string> = {}): Error & { code: string } {
  try {
    parseArgs(argv, env)
  } catch (error) {
    return error as Error & { code: string }
  }
  throw new Error(`no usage error for ${JSON.stringify(argv)}`)
}

describe('getopt', () => {
  it('splits clusters, attached and separate values, long forms and positionals in any order', () => {
    const result = getopt(['-nu', 'src', '-xfoo', '-x', 'bar', '--exclude=baz', '--exclude', 'qux', 'dst', '-sr'], OPTIONS)
    expect(result.positionals).toEqual(['src', 'dst'])
    expect(result.options.map((o) => [o.name, o.value, o.as])).toEqual([
      ['dry-run', undefined, '-n'],
      ['no-sudo', undefined, '-u'],
      ['exclude', 'foo', '-x'],
      ['exclude', 'bar', '-x'],
      ['exclude', 'baz', '--exclude'],
      ['exclude', 'qux', '--exclude'],
      ['snapshot', undefined, '-s'],
      ['rotate', undefined, '-r'],
    ])
  })

  it('takes a cluster ending in a value option: -nxfoo and -nx foo', () => {
    expect(getopt(['-nxfoo'], OPTIONS).options.map((o) => [o.name, o.value])).toEqual([
      ['dry-run', undefined],
      ['exclude', 'foo'],
    ])
    expect(getopt(['-nx', 'foo'], OPTIONS).options.map((o) => [o.name, o.value])).toEqual([
      ['dry-run', undefined],
      ['exclude', 'foo'],
    ])
  })

  it('takes the next argument as a value even when it starts with a dash (GNU)', () => {
    expect(getopt(['-x', '-weird', '--mount', '--x'], OPTIONS).options.map((o) => o.value)).toEqual(['-weird', '--x'])
  })

  it('ends options at --, and keeps a lone - as a positional', () => {
    const result = getopt(['-n', '--', '-x', '--help', '-'], OPTIONS)
    expect(result.options.map((o) => o.name)).toEqual(['dry-run'])
    expect(result.positionals).toEqual(['-x', '--help', '-'])
    expect(getopt(['-'], OPTIONS).positionals).toEqual(['-'])
  })

  it('accepts unique prefixes of long options and remembers how they were typed', () => {
    const result = getopt(['--dry', '--no-s', '--disable', '--multi', '--j', '--ion=idle', '--excl', 'a'], OPTIONS)
    expect(result.options.map((o) => [o.name, o.value, o.as])).toEqual([
      ['dry-run', undefined, '--dry'],
      ['no-sudo', undefined, '--no-s'],
      ['disable-notifications', undefined, '--disable'],
      ['multi-fs', undefined, '--multi'],
      ['json', undefined, '--j'],
      ['ionice', 'idle', '--ion'],
      ['exclude', 'a', '--excl'],
    ])
  })

  it("keeps the original's abbreviations when rsb's new options share their prefix", () => {
    expect(getopt(['--rot', '--r', '--no', '--ver', '--v', '--j'], OPTIONS).options.map((o) => o.name)).toEqual([
      'rotate',
      'rotate',
      'no-sudo',
      'verbose',
      'verbose',
      'json',
    ])
    expect(getopt(['--rotati=daily=1', '--no-p', '--vers', '--k=1', '--rs=-a'], OPTIONS).options.map((o) => o.name)).toEqual([
      'rotation',
      'no-progress',
      'version',
      'keep-latest',
      'rsync-option',
    ])
  })

  it('prefers an exact name to a longer one with the same prefix', () => {
    const table = [
      { name: 'no', description: '' },
      { name: 'no-sudo', description: '' },
    ]
    expect(getopt(['--no'], table).options[0]?.name).toBe('no')
  })

  it.each([
    [['--bogus'], 'option --bogus not recognized'],
    [['-Z'], 'option -Z not recognized'],
    [['--d'], 'option --d not a unique prefix'],
    [['--m'], 'option --m not a unique prefix'],
    [['-m'], 'option -m requires argument'],
    [['-nm'], 'option -m requires argument'],
    [['--tunnel'], 'option --tunnel requires argument'],
    [['--backup=yes'], 'option --backup must not have an argument'],
    [['--=x'], 'option -- not recognized'],
  ])('rejects %j: %s', (argv, message) => {
    expect(() => getopt(argv, OPTIONS)).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE', message }))
  })
})

describe('parseArgs', () => {
  it('defaults: all three actions, source /, sudo, notifications, the default scheme', () => {
    expect(run(['/mnt/backups/latest'])).toEqual({
      source: '/',
      sources: ['/'],
      destination: '/mnt/backups/latest',
      destinationFromEnv: false,
      backup: true,
      snapshot: true,
      rotate: true,
      explicitActions: [],
      mount: undefined,
      crypto: undefined,
      tunnel: undefined,
      ionice: undefined,
      sudo: true,
      dryRun: false,
      dryRunOption: undefined,
      multiFs: false,
      exclude: [],
      excludeFrom: [],
      force: false,
      notifications: true,
      verbosity: 0,
      json: false,
      progress: true,
      rotation: DEFAULT_ROTATION_SCHEME,
      keepLatest: 0,
      timeout: 600,
      connectTimeout: 60,
      rsyncOptions: [],
      allowEmptySource: false,
      acceptDestination: false,
      argv: ['/mnt/backups/latest'],
    })
    expect(DEFAULT_ROTATION_SCHEME).toEqual({ hourly: 24, daily: 7, weekly: 4, monthly: 'always' })
  })

  it.each([
    [[], [true, true, true]],
    [['-b'], [true, false, false]],
    [['-s'], [false, true, false]],
    [['-r'], [false, false, true]],
    [
      ['-b', '-s'],
      [true, true, false],
    ],
    [
      ['-s', '-b'],
      [true, true, false],
    ],
    [['-sr'], [false, true, true]],
    [['-bsr'], [true, true, true]],
    [
      ['--snap', '--rot'],
      [false, true, true],
    ],
  ])('explicit actions %j → backup, snapshot, rotate = %j', (flags, expected) => {
    const options = run([...flags, 'dest/latest'])
    expect([options.backup, options.snapshot, options.rotate]).toEqual(expected)
  })

  it('takes SOURCE and DESTINATION, options anywhere', () => {
    const options = run(['/srv', '-n', '/mnt/backups/latest', '-u'])
    expect(options).toMatchObject({ source: '/srv', sources: ['/srv'], destination: '/mnt/backups/latest', dryRun: true, sudo: false })
    // one SOURCE may be relative (resolved on disk, as always)
    expect(run(['srv', 'd/x'])).toMatchObject({ source: 'srv', sources: ['srv'] })
  })

  it('takes several SOURCEs before DESTINATION: source is then /, the root their whole paths are kept from', () => {
    const options = run(['/etc', '-n', '/home', '/srv/data/', '/mnt/backups/latest'])
    expect(options).toMatchObject({ source: '/', sources: ['/etc', '/home', '/srv/data/'], destination: '/mnt/backups/latest' })
    expect(run(['/a b', "/it's", 'd/x']).sources).toEqual(['/a b', "/it's"])
  })

  it.each([
    [['/etc', 'home', 'd/x'], "SOURCE 'home' is a relative path"],
    [['./etc', '/home', 'd/x'], "SOURCE './etc' is a relative path"],
    [['/etc', '/etc', 'd/x'], "SOURCE '/etc' is given twice (as '/etc')."],
    [['/etc', '/etc/', 'd/x'], "SOURCE '/etc/' is given twice (as '/etc')."],
    [['/etc', '/x/../etc', 'd/x'], "SOURCE '/x/../etc' is given twice (as '/etc')."],
    [['/home', '/home/alice', 'd/x'], "SOURCE '/home/alice' is inside SOURCE '/home'"],
    [['/home//alice/.', '/home', 'd/x'], "SOURCE '/home//alice/.' is inside SOURCE '/home'"],
    [['/etc', '/', 'd/x'], "SOURCE '/etc' is inside SOURCE '/'"],
    [['/etc', '', 'd/x'], 'SOURCE is empty.'],
    [['--', '/etc', '-weird', 'd/x'], "SOURCE '-weird' starts with '-'"],
  ])('several SOURCEs: usage error for %j', (argv, message) => {
    const error = usageError(argv)
    expect(error.code).toBe('ERR_RSB_CLI_USAGE')
    expect(error.message).toContain(message)
  })

  it('keeps /home and /homes apart, and /a-b beside /a (a prefix is not a parent)', () => {
    expect(run(['/home', '/homes', '/a', '/a-b', 'd/x']).sources).toEqual(['/home', '/homes', '/a', '/a-b'])
  })

  it("rsync-system-backup's grammar keeps the original's error for more than two positional arguments", () => {
    expect(() => parseArgs(['/etc', '/home', 'd/x'], {}, 'rsync-system-backup')).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE', message: 'Expected one or two positional arguments! (got 3)' }),
    )
    const parsed = parseArgs(['/etc', 'd/x'], {}, 'rsync-system-backup')
    expect(parsed.kind === 'run' && parsed.options.sources).toEqual(['/etc'])
  })

  it('records --exclude-from FILEs for a backup into $RSYNC_MODULE_PATH (-b) as well', () => {
    expect(run(['-b', '--exclude-from=/etc/rsb.excludes'], { RSYNC_MODULE_PATH: '/srv/module' })).toMatchObject({
      destination: '/srv/module',
      destinationFromEnv: true,
      backup: true,
      excludeFrom: ['/etc/rsb.excludes'],
    })
  })

  it('records --exclude-from FILEs as given, in order, without reading them', () => {
    const options = run(['--exclude-from=/no/such/file', '--exclude-from', 'rel ative', '--exclude-f=x', '-x', 'a', 'd/x'])
    expect(options.excludeFrom).toEqual(['/no/such/file', 'rel ative', 'x'])
    expect(options.exclude).toEqual(['a'])
    // --excl is still --exclude (the original's option wins over rsb's longer one)
    expect(run(['--excl=a', 'd/x'])).toMatchObject({ exclude: ['a'], excludeFrom: [] })
  })

  it.each([
    [['--exclude-from=', 'd/x'], 'option --exclude-from requires a non-empty argument'],
    [['--exclude-from=-', 'd/x'], '--exclude-from=- would read standard input in rsync; rsb reads exclude patterns from files only.'],
  ])('--exclude-from: usage error for %j', (argv, message) => {
    expect(usageError(argv)).toMatchObject({ code: 'ERR_RSB_CLI_USAGE', message })
  })

  it('records the dry-run option as typed and turns notifications off in a dry run', () => {
    expect(run(['--dry', 'd/x'])).toMatchObject({ dryRun: true, dryRunOption: '--dry', notifications: false })
    expect(run(['-nu', 'd/x'])).toMatchObject({ dryRunOption: '-n' })
    expect(run(['--disable-notifications', 'd/x']).notifications).toBe(false)
  })

  it('collects repeatable options in order and counts -v/-q', () => {
    const options = run(['-x', 'a', '--exclude=*.log', '-vvv', '-q', '--rsync-option=--no-acls', '--rsync-option', '--bwlimit=1M', 'd/x'])
    expect(options.exclude).toEqual(['a', '*.log'])
    expect(options.verbosity).toBe(2)
    expect(options.rsyncOptions).toEqual(['--no-acls', '--bwlimit=1M'])
    expect(run(['-qq', 'd/x']).verbosity).toBe(-2)
  })

  it('reads the remaining options', () => {
    const options = run([
      '-m',
      '/mnt/b',
      '-c',
      'disk',
      '-i',
      ' Idle ',
      '-f',
      '--multi-fs',
      '--json',
      '--no-progress',
      '--keep-latest=3',
      '--rotation=daily=3',
      'd/x',
    ])
    expect(options).toMatchObject({
      mount: '/mnt/b',
      crypto: 'disk',
      ionice: 'idle',
      force: true,
      multiFs: true,
      json: true,
      progress: false,
      keepLatest: 3,
      rotation: { daily: 3 },
    })
  })

  it('-h and --help win over everything after parsing; --version too', () => {
    expect(parseArgs(['-h'])).toEqual({ kind: 'help' })
    expect(parseArgs(['--help', 'a', 'b', 'c'])).toEqual({ kind: 'help' })
    expect(parseArgs(['--ionice=foo', '--help'])).toEqual({ kind: 'help' })
    expect(parseArgs(['--version'])).toEqual({ kind: 'version' })
    expect(parseArgs(['--vers'])).toEqual({ kind: 'version' })
  })

  it('without any argument and without $RSYNC_MODULE_PATH asks for the usage (exit 0, as the original)', () => {
    expect(parseArgs([], {})).toEqual({ kind: 'usage' })
    expect(parseArgs([], { RSYNC_MODULE_PATH: '' })).toEqual({ kind: 'usage' })
  })

  it.each([
    [['-s', '-r'], {}, 'unset'],
    [['-s', '-r'], { RSYNC_MODULE_PATH: '' }, 'empty'],
    [['-n'], { RSYNC_MODULE_PATH: '' }, 'empty'],
    [['--'], {}, 'unset'],
  ])('options %j without DESTINATION and with $RSYNC_MODULE_PATH %j are a usage error (not the help)', (argv, env, state) => {
    expect(usageError(argv, env)).toMatchObject({
      code: 'ERR_RSB_CLI_USAGE',
      message: `No DESTINATION given and $RSYNC_MODULE_PATH is ${state}.`,
      hint: expect.stringContaining('Give DESTINATION'),
    })
  })

  it('uses $RSYNC_MODULE_PATH when no DESTINATION is given, with explicit actions', () => {
    expect(run(['--snapshot', '--rotate'], { RSYNC_MODULE_PATH: '/srv/module' })).toMatchObject({
      destination: '/srv/module',
      destinationFromEnv: true,
      backup: false,
      snapshot: true,
      rotate: true,
    })
    expect(run(['/x/latest'], { RSYNC_MODULE_PATH: '/srv/module' }).destination).toBe('/x/latest')
  })

  it.each([
    [
      ['a', 'b', 'c'],
      `SOURCE 'a' is a relative path: with several SOURCEs each is backed up under its absolute path, so each must be given as one ("$PWD/a" in a shell).`,
    ],
    [[''], 'Failed to parse expression! ()'],
    [['', 'dest/x'], 'SOURCE is empty.'],
    [['--ionice=foo'], "Invalid I/O scheduling class! (got 'foo' while valid options are idle, best-effort, realtime, 1, 2 and 3)"],
    [['--', '-weird', 'dest/x'], "SOURCE '-weird' starts with '-', so rsync would read it as an option."],
    [['--', '-weird'], "DESTINATION '-weird' starts with '-', so rsync would read it as an option."],
    [['--tunnel=gw:abc', 'localhost::m'], "Invalid tunnel port 'abc' in 'gw:abc'."],
    [['--keep-latest=-1', 'd/x'], "Invalid value for --keep-latest: '-1'."],
    [['--keep-latest=1e30', 'd/x'], "Invalid value for --keep-latest: '1e30'."],
    [['--keep-latest=1000001', 'd/x'], "Invalid value for --keep-latest: '1000001'."],
    [['--keep-latest=99999999999999999999', 'd/x'], "Invalid value for --keep-latest: '99999999999999999999'."],
    [['--keep-latest=0x10', 'd/x'], "Invalid value for --keep-latest: '0x10'."],
    [['-x', '', 'd/x'], 'option -x requires a non-empty argument'],
    [['--exclude=', 'd/x'], 'option --exclude requires a non-empty argument'],
    [['-m', '', 'd/x'], 'option -m requires a non-empty argument'],
  ])('usage error for %j', (argv, message) => {
    expect(usageError(argv)).toMatchObject({ code: 'ERR_RSB_CLI_USAGE', message })
  })

  it.each([
    ['daily=99999999999999999999', '"99999999999999999999": too large'],
    ['daily=1e3', '"1e3": not a number'],
    ['daily=x', '"x": not a number'],
    ['daily', '"": empty'],
    ['daily=1.5', '"1.5": not a number'],
    ['daily=3-4', '"3-4": negative'],
  ])('--rotation=%s: the retention error of @rsb/rotation (the one rsb rotate gives), with where it was', (spec, what) => {
    expect(usageError([`--rotation=${spec}`, 'd/x'])).toMatchObject({
      code: 'ERR_RSB_ROTATION_BAD_RETENTION',
      message: `Invalid retention value ${what} (${spec.split('=')[0]} in --rotation=${spec}).`,
      hint: expect.stringContaining("arithmetic such as '7 * 2'"),
    })
  })

  it('--rotation counts are retention values as everywhere: arithmetic (daily=7*2 is 14, as rsb rotate --daily=7*2), no upper limit but a safe integer', () => {
    expect(run(['--rotation=daily=7*2,weekly=(2+2)', 'd/x']).rotation).toEqual({ daily: 14, weekly: 4 })
    expect(run(['--rotation=daily=1000001', 'd/x']).rotation).toEqual({ daily: 1_000_001 })
  })

  it('refuses $RSYNC_MODULE_PATH without explicit actions, and a tunnel to it', () => {
    expect(usageError([], { RSYNC_MODULE_PATH: '/srv/m' }).message).toContain('refusing to back up into $RSYNC_MODULE_PATH')
    expect(usageError(['-s', '-t', 'gw'], { RSYNC_MODULE_PATH: '/srv/m' }).message).toContain('--tunnel only applies')
  })
})

describe('option values', () => {
  it('ionice: lower-cased and stripped, six classes', () => {
    for (const value of ['idle', 'best-effort', 'realtime', '1', '2', '3']) expect(parseIoniceOption(value)).toBe(value)
    expect(parseIoniceOption(' REALTIME ')).toBe('realtime')
    expect(() => parseIoniceOption('4')).toThrow(/Invalid I\/O scheduling class/)
  })

  it('tunnel: user before the last @, host and port split at the first colon', () => {
    expect(parseTunnelSpec('gateway')).toEqual({ user: undefined, host: 'gateway', port: undefined })
    expect(parseTunnelSpec('me@gateway:2222')).toEqual({ user: 'me', host: 'gateway', port: 2222 })
    expect(parseTunnelSpec('a@b@gw')).toEqual({ user: 'a@b', host: 'gw', port: undefined })
    expect(() => parseTunnelSpec('@gw')).toThrow(/empty user/)
    expect(() => parseTunnelSpec('me@')).toThrow(/no host/)
    expect(() => parseTunnelSpec('gw:0')).toThrow(/Invalid tunnel port/)
    expect(() => parseTunnelSpec('gw:65536')).toThrow(/Invalid tunnel port/)
  })

  it('rotation spec: counts, always in any case, last value wins, empty refused', () => {
    expect(parseRotationSpec('hourly=24,daily=7,weekly=4,monthly=always')).toEqual(DEFAULT_ROTATION_SCHEME)
    expect(parseRotationSpec(' Daily = 3 , yearly=ALWAYS,daily=5')).toEqual({ daily: 5, yearly: 'always' })
    expect(parseRotationSpec('minutely=0,daily=1')).toEqual({ minutely: 0, daily: 1 })
    expect(parseRotationSpec('daily=0,monthly=always')).toEqual({ daily: 0, monthly: 'always' })
    expect(parseRotationSpec(`daily=${MAX_COUNT}`)).toEqual({ daily: 1_000_000 })
    expect(() => parseRotationSpec('')).toThrow(/Refusing to use empty rotation scheme/)
    expect(() => parseRotationSpec('fortnightly=2')).toThrow(/Unknown rotation frequency 'fortnightly'/)
    expect(() => parseRotationSpec('daily')).toThrow(/Invalid retention value "": empty \(daily in --rotation=daily\)/)
    expect(() => parseRotationSpec('daily=1.5')).toThrow(/Invalid retention/)
    expect(formatRotationSpec({ monthly: 'always', hourly: 24 })).toBe('hourly=24,monthly=always')
  })
})

describe('refusals at parse time', () => {
  it.each(['daily=0', 'minutely=0,hourly=0,daily=0,weekly=0,monthly=0,yearly=0', 'daily=3,daily=0'])(
    '--rotation=%s keeps nothing but the newest snapshot: usage error',
    (spec) => {
      expect(usageError([`--rotation=${spec}`, 'd/x'])).toMatchObject({
        code: 'ERR_RSB_CLI_USAGE',
        message: `--rotation=${spec} keeps nothing but the newest snapshot (every count is 0 and none is "always").`,
        hint: expect.stringContaining('--rotation=daily=7'),
      })
    },
  )

  it('the count limit is documented in the help texts of --keep-latest and --rotation', () => {
    expect(MAX_COUNT).toBe(1_000_000)
    expect(OPTIONS.find((o) => o.name === 'keep-latest')?.description).toContain('at most 1000000')
    expect(OPTIONS.find((o) => o.name === 'rotation')?.description).toContain('from 0 to 1000000')
    expect(run([`--keep-latest=${MAX_COUNT}`, 'd/x']).keepLatest).toBe(MAX_COUNT)
  })

  it.each([
    [
      ['--rsync-option=--inplace', 'd/x'],
      '--inplace writes into existing files, which older snapshots share (hard links): it would change them.',
    ],
    [['--rsync-option', '-ab', 'd/x'], "-b (--backup) in '-ab' keeps replaced and deleted files"],
    [['--rsync-option=--link-dest=/b/2024-01-01 00:00:00', 'd/x'], "--link-dest in '--link-dest=/b/2024-01-01 00:00:00' makes files"],
    [['--rs=--remove-source-files', 'd/x'], '--remove-source-files deletes files from SOURCE'],
  ])('--rsync-option refusals come from @rsb/rsync, at parse time: %j', (argv, message) => {
    const error = usageError(argv)
    expect(error.code).toBe('ERR_RSB_RSYNC_UNSAFE_OPTION')
    expect(error.message).toContain(message)
    expect((error as Error & { hint?: string }).hint).toMatch(/^Leave out /)
  })

  it('a pass-through value that is not an option is refused at parse time too', () => {
    expect(usageError(['--rsync-option=/etc', 'd/x']).code).toBe('ERR_RSB_RSYNC_INVALID_OPTION')
    expect(run(['--rsync-option=--no-inplace', '--rsync-option=-avz', '--rsync-option=-eb', 'd/x']).rsyncOptions).toEqual([
      '--no-inplace',
      '-avz',
      '-eb',
    ])
  })

  it('keeps special exclude patterns as given (buildRsyncArgs makes them literal)', () => {
    expect(run(['-x', '!', '-x', '+ secret', '--exclude=- x', 'd/x']).exclude).toEqual(['!', '+ secret', '- x'])
  })

  it.each([
    [['/src\uFFFD', 'd/x'], 'Argument 1'],
    [['-n', 'd/\uFFFD/latest'], 'Argument 2'],
    [['--exclude=a\uFFFD', 'd/x'], 'Argument 1'],
    [['-x', 'a\uFFFD', 'd/x'], 'Argument 2'],
    [['--mount', '/mnt/\uFFFD', 'd/x'], 'Argument 2'],
  ])('refuses an argument that was not valid UTF-8 (U+FFFD after decoding): %j', (argv, which) => {
    const error = usageError(argv)
    expect(error).toMatchObject({ code: 'ERR_RSB_CLI_USAGE' })
    expect(error.message).toMatch(new RegExp(`^${which} \\('.*\uFFFD.*'\\) is not valid UTF-8`))
  })

  it('refuses a $RSYNC_MODULE_PATH that was not valid UTF-8, and only when it is used', () => {
    expect(usageError(['-s'], { RSYNC_MODULE_PATH: '/srv/\uFFFD' }).message).toMatch(
      /^\$RSYNC_MODULE_PATH \('\/srv\/\uFFFD'\) is not valid UTF-8/,
    )
    expect(run(['-s', '/b/latest'], { RSYNC_MODULE_PATH: '/srv/\uFFFD' }).destination).toBe('/b/latest')
  })

  it('parses --allow-empty-source and --accept-destination (and their unique prefixes)', () => {
    expect(run(['--allow-empty-source', '--accept-destination', 'd/x'])).toMatchObject({ allowEmptySource: true, acceptDestination: true })
    expect(run(['--al', '--ac', 'd/x'])).toMatchObject({ allowEmptySource: true, acceptDestination: true })
    expect(run(['d/x'])).toMatchObject({ allowEmptySource: false, acceptDestination: false })
    expect(usageError(['--a', 'd/x']).message).toBe('option --a not a unique prefix')
    expect(usageError(['--accept-destination=yes', 'd/x']).message).toBe('option --accept-destination must not have an argument')
  })
})

describe('wantsJson', () => {
  it.each([
    [['--json'], true],
    [['--j', '--bogus'], true],
    [['--jso=1'], true],
    [['x', '--json', '--', 'y'], true],
    [['--', '--json'], false],
    [['-j'], false],
    [['--jsonx'], false],
    [['--ju'], false],
    [[], false],
  ])('%j → %s', (argv, expected) => {
    expect(wantsJson(argv)).toBe(expected)
  })
})

describe('parseExcludeLines (--exclude-from)', () => {
  it("reads lines as rsync's --exclude-from: empty lines and # or ; comments skipped, the rest verbatim", () => {
    expect(parseExcludeLines('*.log\n# comment\n\n; also\n- literal\n+ plus\n!\n  spaced \n#\n')).toEqual([
      '*.log',
      '- literal',
      '+ plus',
      '!',
      '  spaced ',
    ])
  })

  it('ends lines at CR as well (CRLF files), and reads a last line without a newline', () => {
    expect(parseExcludeLines('a\r\nb\rc')).toEqual(['a', 'b', 'c'])
    expect(parseExcludeLines('')).toEqual([])
  })
})

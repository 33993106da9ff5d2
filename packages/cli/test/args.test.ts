import { describe, expect, it } from 'vitest'
import {
  DEFAULT_ROTATION_SCHEME,
  OPTIONS,
  formatRotationSpec,
  getopt,
  parseArgs,
  parseIoniceOption,
  parseRotationSpec,
  parseTunnelSpec,
} from '../src/index.ts'
import type { RunOptions } from '../src/index.ts'

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
      force: false,
      notifications: true,
      verbosity: 0,
      json: false,
      progress: true,
      rotation: DEFAULT_ROTATION_SCHEME,
      keepLatest: 0,
      rsyncOptions: [],
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
    expect(options).toMatchObject({ source: '/srv', destination: '/mnt/backups/latest', dryRun: true, sudo: false })
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

  it('without arguments and without $RSYNC_MODULE_PATH asks for the usage', () => {
    expect(parseArgs([], {})).toEqual({ kind: 'usage' })
    expect(parseArgs(['-n'], { RSYNC_MODULE_PATH: '' })).toEqual({ kind: 'usage' })
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
    [['a', 'b', 'c'], 'Expected one or two positional arguments! (got 3)'],
    [[''], 'Failed to parse expression! ()'],
    [['', 'dest/x'], 'SOURCE is empty.'],
    [['--ionice=foo'], "Invalid I/O scheduling class! (got 'foo' while valid options are idle, best-effort, realtime, 1, 2 and 3)"],
    [['--', '-weird', 'dest/x'], "SOURCE '-weird' starts with '-', so rsync would read it as an option."],
    [['--', '-weird'], "DESTINATION '-weird' starts with '-', so rsync would read it as an option."],
    [['--tunnel=gw:abc', 'localhost::m'], "Invalid tunnel port 'abc' in 'gw:abc'."],
    [['--keep-latest=-1', 'd/x'], "option --keep-latest expects a whole number, got '-1'"],
    [['--rotation=daily=x', 'd/x'], "Invalid retention 'x' for daily in --rotation=daily=x."],
    [['-m', '', 'd/x'], 'option -m requires a non-empty argument'],
  ])('usage error for %j', (argv, message) => {
    expect(usageError(argv)).toMatchObject({ code: 'ERR_RSB_CLI_USAGE', message })
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
    expect(parseRotationSpec('minutely=0')).toEqual({ minutely: 0 })
    expect(() => parseRotationSpec('')).toThrow(/Refusing to use empty rotation scheme/)
    expect(() => parseRotationSpec('fortnightly=2')).toThrow(/Unknown rotation frequency 'fortnightly'/)
    expect(() => parseRotationSpec('daily')).toThrow(/Invalid retention '' for daily/)
    expect(() => parseRotationSpec('daily=1.5')).toThrow(/Invalid retention/)
    expect(formatRotationSpec({ monthly: 'always', hourly: 24 })).toBe('hourly=24,monthly=always')
  })
})

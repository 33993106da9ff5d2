import { describe, expect, it } from 'vitest'
import { parseArgs, type CliOptions } from '../../src/commands/rotate/args.ts'
import { splitShellWords, parseBoolean } from '../../src/commands/rotate/values.ts'

function options(argv: string[]): CliOptions {
  const parsed = parseArgs(argv)
  if (parsed.kind !== 'run') throw new Error(`expected a run, got ${parsed.kind}`)
  return parsed.options
}

describe('parseArgs', () => {
  it('reads every rotate-backups option, short and long', () => {
    const o = options([
      '-M',
      '1',
      '-H2',
      '--daily=3',
      '--weekly',
      '4',
      '-m',
      'always',
      '-y',
      '7 * 2',
      '-t',
      String.raw`(?P<year>\d{4})(?P<month>\d\d)(?P<day>\d\d)`,
      '-I',
      'a*',
      '--include=b*',
      '-x',
      'c*',
      '-jpr',
      '-i',
      ' IDLE ',
      '-c',
      'f.ini',
      '-C',
      'rm -f',
      '-u',
      '-S',
      'no',
      '-f',
      '-n',
      '-vv',
      '-q',
      '--legacy-week-buckets',
      '--keep-latest=2',
      '--json',
      'dir1',
    ])
    expect(o).toMatchObject({
      scheme: { minutely: 1, hourly: 2, daily: 3, weekly: 4, monthly: 'always', yearly: 14 },
      include: ['a*', 'b*'],
      exclude: ['c*'],
      parallel: true,
      preferRecent: true,
      relaxed: true,
      ionice: 'idle',
      config: 'f.ini',
      removalCommand: ['rm', '-f'],
      useSudo: true,
      syslog: false,
      force: true,
      dryRun: true,
      dryRunOption: '-n',
      verbosity: 1,
      legacyWeekBuckets: true,
      keepLatest: 2,
      json: true,
      directories: ['dir1'],
    })
  })

  it('accepts options after directories (GNU style) and stops at --', () => {
    const o = options(['/b', '--daily=7', '/c', '-n', '--', '--weekly=1'])
    expect(o.directories).toEqual(['/b', '/c', '--weekly=1'])
    expect(o.scheme).toEqual({ daily: 7 })
    expect(o.dryRun).toBe(true)
  })

  it('accepts unique prefixes, the last frequency value wins', () => {
    const o = options(['--dai=1', '--dry', '--daily', '5', '--pref', '--rel', '--keep=3'])
    expect(o).toMatchObject({ scheme: { daily: 5 }, dryRun: true, dryRunOption: '--dry', preferRecent: true, relaxed: true, keepLatest: 3 })
  })

  it('answers help and version', () => {
    expect(parseArgs(['-h'])).toEqual({ kind: 'help' })
    expect(parseArgs(['/b', '--help', '--daily=x'])).toEqual({ kind: 'help' })
    expect(parseArgs(['--vers'])).toEqual({ kind: 'version' })
  })

  it.each([
    [['--d=1'], 'ERR_RSB_CLI_USAGE', 'not a unique prefix'],
    [['--re'], 'ERR_RSB_CLI_USAGE', 'not a unique prefix'],
    [['--nope'], 'ERR_RSB_CLI_USAGE', 'option --nope not recognized'],
    [['-Z'], 'ERR_RSB_CLI_USAGE', 'option -Z not recognized'],
    [['--daily'], 'ERR_RSB_CLI_USAGE', 'option --daily requires argument'],
    [['-d'], 'ERR_RSB_CLI_USAGE', 'option -d requires argument'],
    [['--json=1'], 'ERR_RSB_CLI_USAGE', 'option --json must not have an argument'],
    [['--hourly=not-a-number'], 'ERR_RSB_ROTATION_BAD_RETENTION', 'not-a-number'],
    [['--daily=-1'], 'ERR_RSB_ROTATION_BAD_RETENTION', 'negative'],
    [['--daily=7/2'], 'ERR_RSB_ROTATION_BAD_RETENTION', 'whole number'],
    [['--ionice=unsupported-class'], 'ERR_RSB_CLI_USAGE', 'Invalid I/O scheduling class'],
    [['--syslog=maybe'], 'ERR_RSB_ROTATION_BAD_OPTION', 'maybe'],
    [['--keep-latest=-1'], 'ERR_RSB_CLI_USAGE', 'keep-latest'],
    [['-t', '(?P<year>\\d{4})'], 'ERR_RSB_ROTATION_BAD_PATTERN', "'month', 'day'"],
    [['-t', '(?P<year>'], 'ERR_RSB_ROTATION_BAD_PATTERN', 'Invalid timestamp pattern'],
    [['-C', ''], 'ERR_RSB_ROTATION_BAD_OPTION', 'empty'],
    [['-C', '"rm'], 'ERR_RSB_ROTATION_BAD_OPTION', 'no closing quotation'],
  ])('%j → %s', (argv, code, words) => {
    expect(() => parseArgs(argv)).toThrow(expect.objectContaining({ code, message: expect.stringContaining(words) }))
  })
})

describe('values', () => {
  it.each([
    ['rmdir', ['rmdir']],
    [`rm -fR --one-file-system`, ['rm', '-fR', '--one-file-system']],
    [`echo 'a b' "c \\"d\\" \\x" e\\ f`, ['echo', 'a b', 'c "d" \\x', 'e f']],
    [`a''b ""`, ['ab', '']],
    ['  ', []],
  ])('splits %j like a shell', (text, words) => {
    expect(splitShellWords(text)).toEqual(words)
  })

  it('reads booleans like rotate-backups', () => {
    expect(['1', 'YES', 'true', 'On'].map((v) => parseBoolean(v, 'x'))).toEqual([true, true, true, true])
    expect(['0', 'no', 'False', 'off', ''].map((v) => parseBoolean(v, 'x'))).toEqual([false, false, false, false, false])
    expect(() => parseBoolean('maybe', 'x')).toThrow(expect.objectContaining({ code: 'ERR_RSB_ROTATION_BAD_OPTION' }))
  })
})

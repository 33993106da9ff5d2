// The CLI kit: one option parser, logger, error renderer, help formatter and set of value parsers for every rsb
// command and program (rsb, rsb rotate / rsb-rotate, rsync-system-backup).
import { describe, expect, it } from 'vitest'
import { FREQUENCIES } from '@rsb/rotation'
import { parseArgs as parseBackupArgs } from '../src/args.ts'
import { main as rotateMain } from '../src/commands/rotate/main.ts'
import { parseArgs as parseRotateArgs } from '../src/commands/rotate/args.ts'
import { helpText as rotateHelp } from '../src/commands/rotate/help.ts'
import { helpText } from '../src/help.ts'
import { formatOptions, wrap } from '../src/kit/help.ts'
import { createLogger } from '../src/kit/log.ts'
import { errorReport } from '../src/kit/render.ts'
import {
  FREQUENCIES as KIT_FREQUENCIES,
  parseCount,
  parseDuration,
  parseIonice,
  parseRetentionValue,
  parseRotationSpec,
  parseSize,
} from '../src/kit/values.ts'
import { main } from '../src/main.ts'

function buffers() {
  const out = { stdout: '', stderr: '' }
  return {
    out,
    io: {
      stdout: { write: (text: string) => (out.stdout += text) },
      stderr: { write: (text: string) => (out.stderr += text) },
      env: { HOME: '/nonexistent', PATH: process.env.PATH },
      systemConfigDir: '/nonexistent',
    },
  }
}

async function both(argv: string[]): Promise<{ rsb: string; rotate: string }> {
  const a = buffers()
  await main(argv, a.io)
  const b = buffers()
  await rotateMain(argv, b.io)
  return { rsb: a.out.stderr, rotate: b.out.stderr }
}

describe('value parsers: one for every program, on the libraries’ own validators', () => {
  it('a retention is read the same way by rsb --rotation and rsb rotate --daily (7*2 is 14 in both)', () => {
    const backup = parseBackupArgs(['--rotation=daily=7*2,weekly=always', 'd/x'])
    const rotate = parseRotateArgs(['--daily=7*2', '--weekly=always', 'd'])
    if (backup.kind !== 'run' || rotate.kind !== 'run') throw new Error('expected runs')
    expect(backup.options.rotation).toEqual({ daily: 14, weekly: 'always' })
    expect(rotate.options.scheme).toEqual(backup.options.rotation)
    // and they refuse the same values with the same error
    const refusal = (f: () => unknown) => {
      try {
        f()
      } catch (error) {
        return (error as { code: string }).code
      }
      return 'accepted'
    }
    for (const bad of ['-1', '1.5', 'x', '1e3', '99999999999999999999'])
      expect([
        refusal(() => parseBackupArgs([`--rotation=daily=${bad}`, 'd/x'])),
        refusal(() => parseRotateArgs([`--daily=${bad}`])),
      ]).toEqual(['ERR_RSB_ROTATION_BAD_RETENTION', 'ERR_RSB_ROTATION_BAD_RETENTION'])
  })

  it('retention, rotation specs, ionice classes and counts', () => {
    expect(parseRetentionValue(' Always ')).toBe('always')
    expect(() => parseRetentionValue('x', 'daily in --rotation=daily=x')).toThrow(
      expect.objectContaining({
        code: 'ERR_RSB_ROTATION_BAD_RETENTION',
        message: 'Invalid retention value "x": not a number (daily in --rotation=daily=x).',
      }),
    )
    expect(parseRotationSpec('Hourly=24 , daily=7*2,monthly=ALWAYS')).toEqual({ hourly: 24, daily: 14, monthly: 'always' })
    expect(() => parseRotationSpec('fortnightly=1')).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE' }))
    expect(() => parseRotationSpec('daily=0', '--rotation', { daily: 7 })).toThrow(
      expect.objectContaining({ hint: expect.stringContaining('leave --rotation out for the default daily=7') }),
    )
    expect(parseIonice(' IDLE ')).toBe('idle')
    expect(() => parseIonice('fast')).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE', message: expect.stringContaining("Invalid I/O scheduling class! (got 'fast'") }),
    )
    expect(parseCount(' 12 ', 'x')).toBe(12)
    expect(() => parseCount('11', '--keep-latest', 10)).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE', hint: 'Use a whole number from 0 to 10.' }),
    )
    expect(() => parseCount('0x10', 'x')).toThrow(/Invalid x: '0x10'/)
    expect(KIT_FREQUENCIES).toBe(FREQUENCIES)
  })
})

describe('durations and sizes (ms and bytes, behind one strict syntax)', () => {
  it.each([
    ['600', 600],
    ['0', 0],
    ['90s', 90],
    ['10m', 600],
    ['10 minutes', 600],
    ['1.5h', 5400],
    ['2d', 172_800],
    ['1w', 604_800],
  ])('duration %j is %d s', (text, seconds) => expect(parseDuration(text, '--timeout')).toBe(seconds))

  it('1.1h is 3960 s (floating point rounding is not a fraction of a second)', () => expect(parseDuration('1.1h', 'x')).toBe(3960))

  it.each(['', 'abc', '-5m', '1h 30m', '100ms', '1.5s', '1e3s', '10x', '2d', '5 m m', '10M', '10MIN'])(
    'duration %j is refused (or over the limit)',
    (text) => {
      expect(() => parseDuration(text, '--timeout', 100_000)).toThrow(
        expect.objectContaining({
          code: 'ERR_RSB_CLI_USAGE',
          message: `Invalid duration for --timeout: '${text}'.`,
          hint: expect.stringContaining('at most 100000 s'),
        }),
      )
    },
  )

  it.each([
    ['1048576', 1_048_576],
    ['512K', 524_288],
    ['512KB', 524_288],
    ['10G', 10_737_418_240],
    ['10g', 10_737_418_240],
    ['1.5TiB', 1_649_267_441_664],
    ['1 GB', 1_073_741_824],
  ])('size %j is %d bytes', (text, size) => expect(parseSize(text, 'x')).toBe(size))

  it.each(['', '10X', '-1K', '0.5B', '0.5', 'G', '10 G B', '10ib', '1.3K', '0.0001K'])('size %j is refused', (text) => {
    expect(() => parseSize(text, '--min-free')).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE', message: `Invalid size for --min-free: '${text}'.` }),
    )
  })

  it('rsb --timeout and --connect-timeout take durations (rsync still gets seconds)', () => {
    const parsed = parseBackupArgs(['--timeout=10m', '--connect-timeout=90s', 'd/x'])
    if (parsed.kind !== 'run') throw new Error('expected a run')
    expect([parsed.options.timeout, parsed.options.connectTimeout]).toEqual([600, 90])
    expect(() => parseBackupArgs(['--timeout=12d', 'd/x'])).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE', hint: expect.stringContaining('at most 1000000 s') }),
    )
  })
})

describe('option parser and error renderer: the same words and format in every program', () => {
  it.each([
    [['--bogus'], 'option --bogus not recognized'],
    [['-Z'], 'option -Z not recognized'],
    [['--json=1'], 'option --json must not have an argument'],
    [['--ionice'], 'option --ionice requires argument'],
  ])('%j', async (argv, message) => {
    const { rsb, rotate } = await both(argv)
    expect(rsb).toBe(`rsb: error: ${message} (ERR_RSB_CLI_USAGE) Hint: Try 'rsb --help' for more information.\n`)
    expect(rotate).toBe(`rsb-rotate: error: ${message} (ERR_RSB_CLI_USAGE) Hint: Try 'rsb-rotate --help' for more information.\n`)
  })

  it('an ionice class both programs refuse: one line, the same message and hint', async () => {
    const a = buffers()
    await main(['--ionice=fast', 'd/x'], a.io)
    const b = buffers()
    await rotateMain(['--ionice=fast', '--daily=1', 'd'], b.io)
    const [rsb, rotate] = [a.out.stderr, b.out.stderr]
    expect(rsb.replace(/^rsb:/, 'PROGRAM:')).toBe(rotate.replace(/^rsb-rotate:/, 'PROGRAM:'))
    expect(rsb.split('\n')).toHaveLength(2)
  })

  it('renders rsb errors and bugs alike everywhere', () => {
    expect(errorReport(Object.assign(new Error('a\nb'), { code: 'ERR_RSB_X_Y', hint: 'do it' }), 'p')).toBe(
      'p: error: a b (ERR_RSB_X_Y) Hint: do it\n',
    )
    expect(errorReport(new TypeError('boom'), 'p')).toBe('p: internal error: boom\n')
  })
})

describe('logger: one format for every program', () => {
  const line = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+ (\S+)\[\d+\] (\w+) (.*)$/

  it('writes a line per line of a message at once, or batched until the next turn (rsb-rotate)', async () => {
    let direct = ''
    createLogger({ write: (text: string) => (direct += text) }, 0).log('warning', 'one\ntwo')
    expect(
      direct
        .split('\n')
        .slice(0, 2)
        .map((l) => line.exec(l)?.slice(1)),
    ).toEqual([
      ['rsb', 'WARNING', 'one'],
      ['rsb', 'WARNING', 'two'],
    ])
    let batched = ''
    let writes = 0
    const logger = createLogger({ write: (text: string) => ((batched += text), writes++) }, -1, { program: 'rsb-rotate', batch: true })
    for (let i = 0; i < 1000; i++) logger.log('notice', `line ${i}`)
    logger.log('info', 'below the threshold of -q')
    expect(batched).toBe('')
    await new Promise((resolve) => setImmediate(resolve))
    expect(writes).toBe(1)
    expect(batched.split('\n')).toHaveLength(1001)
    expect(line.exec(batched.split('\n')[999]!)?.slice(1)).toEqual(['rsb-rotate', 'NOTICE', 'line 999'])
    logger.log('error', 'now')
    logger.flush()
    expect(writes).toBe(2)
  })
})

describe('help formatter: one layout for every program', () => {
  it('wraps at 80 columns and shows every option as a heading with its description below', () => {
    expect(wrap('aaa bbb ccc', 7, '  ')).toEqual(['  aaa', '  bbb', '  ccc'])
    expect(formatOptions([{ name: 'exclude', short: 'x', value: 'PATTERN', description: 'Leave it out.' }])).toEqual([
      '  -x PATTERN, --exclude=PATTERN',
      '      Leave it out.',
    ])
    for (const text of [helpText('rsb'), rotateHelp()]) {
      expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80)
      expect(text).toMatch(/^ {2}-n, --dry-run\n {6}\S/m)
      expect(text).toMatch(/^Exit status:\n {2}0 {4}success/m)
    }
  })
})

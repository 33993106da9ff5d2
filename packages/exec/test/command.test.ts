import { describe, expect, it } from 'vitest'
import { buildCommandLine, parseIoniceClass, quoteArgument, quoteCommandLine } from '../src/index.ts'

describe('quoteArgument (shlex.quote)', () => {
  it.each([
    ['HOME=', 'HOME='],
    ['/backups/2024-01-01 12:00:00', "'/backups/2024-01-01 12:00:00'"],
    ['', "''"],
    ["it's", `'it'"'"'s'`],
    ['$(reboot)', "'$(reboot)'"],
    ['a\nb', "'a\nb'"],
    ['plain/path_1.2@host:x,y+z%=-', 'plain/path_1.2@host:x,y+z%=-'],
    ['ünï', "'ünï'"],
  ])('%j → %s', (input, expected) => {
    expect(quoteArgument(input)).toBe(expected)
  })

  it('joins quoted arguments with spaces', () => {
    expect(
      quoteCommandLine(['sudo', 'ionice', '-c', 'idle', 'cp', '--archive', '--link', '/backups/latest', '/backups/2024-01-01 12:00:00']),
    ).toBe("sudo ionice -c idle cp --archive --link /backups/latest '/backups/2024-01-01 12:00:00'")
  })
})

describe('buildCommandLine', () => {
  it('puts environment overrides on sudo’s command line, sorted by key', () => {
    expect(buildCommandLine({ argv: ['rsync', '-a'], sudo: true, privileged: false, env: { HOME: '', A: '1' } })).toEqual({
      argv: ['sudo', 'A=1', 'HOME=', 'rsync', '-a'],
      env: {},
    })
  })

  it('never prefixes sudo when privileged, and keeps the environment for the child', () => {
    expect(buildCommandLine({ argv: ['rsync'], sudo: true, privileged: true, env: { HOME: '' } })).toEqual({
      argv: ['rsync'],
      env: { HOME: '' },
    })
  })

  it('adds -n to sudo in non-interactive runs and ionice after sudo', () => {
    expect(
      buildCommandLine({ argv: ['cp', 'a', 'b'], sudo: true, privileged: false, nonInteractive: true, ionice: 'idle', hasIonice: true })
        .argv,
    ).toEqual(['sudo', '-n', 'ionice', '-c', 'idle', 'cp', 'a', 'b'])
  })

  it('drops the ionice prefix where ionice does not exist', () => {
    expect(buildCommandLine({ argv: ['rm', '-fR', 'x'], privileged: true, ionice: 'idle', hasIonice: false }).argv).toEqual([
      'rm',
      '-fR',
      'x',
    ])
  })

  it('accepts the six ionice classes and rejects others with a typed error', () => {
    for (const c of ['idle', 'best-effort', 'realtime', '1', '2', '3']) expect(parseIoniceClass(c)).toBe(c)
    expect(() => parseIoniceClass('fast')).toThrowError(expect.objectContaining({ code: 'ERR_RSB_EXEC_INVALID_OPTION' }))
  })
})

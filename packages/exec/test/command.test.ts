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
  it('puts no NAME=value on sudo’s command line (a rule without SETENV refuses it): HOME is -H, others --preserve-env', () => {
    expect(buildCommandLine({ argv: ['rsync', '-a'], sudo: true, privileged: false, env: { HOME: '', B: '2', A: '1' } })).toEqual({
      argv: ['sudo', '-H', '--preserve-env=A,B', 'rsync', '-a'],
      env: { A: '1', B: '2' },
    })
    expect(buildCommandLine({ argv: ['rsync'], sudo: true, privileged: false, nonInteractive: true, env: { HOME: '/root' } })).toEqual({
      argv: ['sudo', '-n', '-H', 'rsync'],
      env: {},
    })
    expect(buildCommandLine({ argv: ['cp', 'a', 'b'], sudo: true, privileged: false }).argv).toEqual(['sudo', 'cp', 'a', 'b'])
  })

  it('refuses an environment name that is not a variable name (it would break --preserve-env=)', () => {
    for (const name of ['A,B', 'A=B', '', '1A'])
      expect(() => buildCommandLine({ argv: ['x'], privileged: true, env: { [name]: 'v' } })).toThrowError(
        expect.objectContaining({ code: 'ERR_RSB_EXEC_INVALID_OPTION' }),
      )
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

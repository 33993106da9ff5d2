import { describe, expect, it } from 'vitest'
import { classifySudoRefusal, explainSudoFailure, RecordingContext, sudoCommand, type RecordedReply } from '../src/index.ts'

// sudo 1.9.13's own words (recorded on Debian 12 as a user whose rule is `NOPASSWD: /usr/bin/rsync`, and as a user
// without any rule).
const PASSWORD = 'sudo: a password is required\n'
const ENVIRONMENT = 'sudo: sorry, you are not allowed to set the following environment variables: HOME\n'
const NOT_ALLOWED = "Sorry, user backup is not allowed to execute '/usr/bin/cp --version' as root on nas.\n"
const NO_SUDO = 'Sorry, user backup may not run sudo on nas.\n'

describe('classifySudoRefusal', () => {
  it.each([
    [PASSWORD, { kind: 'password' }],
    ['sudo: a terminal is required to read the password; either use the -S option to read from standard input\n', { kind: 'password' }],
    [ENVIRONMENT, { kind: 'environment', names: ['HOME'] }],
    [
      'sudo: sorry, you are not allowed to set the following environment variables: RSYNC_PROXY, TZ\n',
      { kind: 'environment', names: ['RSYNC_PROXY', 'TZ'] },
    ],
    ['sudo: sorry, you are not allowed to preserve the environment\n', { kind: 'environment', names: [] }],
    [NOT_ALLOWED, { kind: 'command' }],
    [NO_SUDO, { kind: 'command' }],
    ['sudo: sorry, you must have a tty to run sudo\n', { kind: 'tty' }],
  ])('%j', (stderr, expected) => {
    expect(classifySudoRefusal(stderr)).toEqual(expected)
  })

  it('is undefined for what the command itself printed', () => {
    expect(classifySudoRefusal('rsync: [Receiver] mkdir "/x" failed: Permission denied (13)\n')).toBeUndefined()
    expect(classifySudoRefusal('')).toBeUndefined()
  })
})

describe('sudoCommand', () => {
  it('is the command sudo runs', () => {
    expect(sudoCommand(['sudo', '-n', '-H', '--preserve-env=A,B', 'ionice', '-c', 'idle', 'rsync', '-a'])).toEqual([
      'ionice',
      '-c',
      'idle',
      'rsync',
      '-a',
    ])
    expect(sudoCommand(['sudo', '-n', 'HOME=', 'rsync', '-n'])).toEqual(['rsync', '-n'])
    expect(sudoCommand(['rsync', '-a'])).toEqual(['rsync', '-a'])
  })
})

/** A non-root context whose commands fail as `reply` says and whose `sudo -n -l` answers `listed`. */
function refusing(reply: RecordedReply, listed: RecordedReply): RecordingContext {
  return new RecordingContext(({ argv }) => (argv[0] === 'sudo' && argv[2] === '-l' ? listed : reply), { privileged: false, sudo: true })
}

describe('explainSudoFailure and a context’s checked run', () => {
  it('a password is required, and sudo -n -l says no rule allows the command: ERR_RSB_EXEC_SUDO_DENIED naming the program', async () => {
    const context = refusing({ exitCode: 1, stderr: PASSWORD }, { exitCode: 1 })
    const error = await context.run(['cp', '--archive', '--link', 'a', 'b']).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'ERR_RSB_EXEC_SUDO_DENIED',
      exitCode: 1,
      argv: ['sudo', '-n', 'cp', '--archive', '--link', 'a', 'b'],
      message: 'sudo on localhost does not allow this user to run cp: sudo -n cp --archive --link a b',
    })
    expect((error as { hint: string }).hint).toMatch(/Add cp .*NOPASSWD sudoers rule.*\/etc\/sudoers\.d\/.*Running with sudo/)
    expect(context.commands.at(-1)).toBe('sudo -n -l -- cp --archive --link a b')
  })

  it('a password is required for a command the rules allow (or sudo cannot tell): ERR_RSB_EXEC_SUDO_PASSWORD', async () => {
    const allowed = refusing({ exitCode: 1, stderr: PASSWORD }, { exitCode: 0, stdout: '/usr/bin/cp a b\n' })
    await expect(allowed.run(['cp', 'a', 'b'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_SUDO_PASSWORD' })
    const noRuleAtAll = refusing({ exitCode: 1, stderr: PASSWORD }, { exitCode: 1, stderr: PASSWORD })
    await expect(noRuleAtAll.run(['cp', 'a', 'b'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_SUDO_PASSWORD' })
  })

  it('a refused environment is ERR_RSB_EXEC_SUDO_DENIED with an env_keep hint; not allowed / may not run sudo likewise', async () => {
    const environment = refusing({ exitCode: 1, stderr: ENVIRONMENT }, { exitCode: 1 })
    const error = await environment.run(['rsync', '-a'], { env: { RSYNC_PROXY: 'p:1' } }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_RSB_EXEC_SUDO_DENIED', message: expect.stringContaining('refused to pass HOME to rsync') })
    expect((error as { hint: string }).hint).toContain('Defaults!/path/to/rsync env_keep += "HOME"')
    for (const stderr of [NOT_ALLOWED, NO_SUDO]) {
      await expect(refusing({ exitCode: 1, stderr }, { exitCode: 1 }).run(['cp', 'a', 'b'])).rejects.toMatchObject({
        code: 'ERR_RSB_EXEC_SUDO_DENIED',
      })
    }
  })

  it('a refused command never ran: check: false, test() and which() throw instead of answering false', async () => {
    const denied = refusing({ exitCode: 1, stderr: PASSWORD }, { exitCode: 1 })
    await expect(denied.test(['test', '-d', '/backups/latest'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_SUDO_DENIED' })
    await expect(denied.which('cryptdisks_start')).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_SUDO_DENIED' })
    await expect(denied.run(['sh', '-c', 'exit 1'], { check: false })).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_SUDO_DENIED' })
    const plainFalse = refusing({ exitCode: 1 }, { exitCode: 0 })
    expect(await plainFalse.isDirectory('/backups/latest')).toBe(false)
    expect(plainFalse.commands).toEqual(['sudo -n test -d /backups/latest'])
  })

  it('says nothing about commands that did not go through sudo or failed on their own', async () => {
    const root = new RecordingContext(() => ({ exitCode: 1, stderr: PASSWORD }), { privileged: true, sudo: true })
    const result = await root.run(['cp', 'a', 'b'], { check: false })
    expect(await explainSudoFailure(root, result)).toBeUndefined()
    const own = refusing({ exitCode: 1, stderr: 'cp: cannot stat a: No such file or directory\n' }, { exitCode: 0 })
    await expect(own.run(['cp', 'a', 'b'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_COMMAND_FAILED' })
    const status2 = refusing({ exitCode: 2, stderr: PASSWORD }, { exitCode: 0 })
    await expect(status2.run(['cp', 'a', 'b'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_COMMAND_FAILED' })
    expect(own.commands.some((c) => c.includes(' -l '))).toBe(false)
  })
})

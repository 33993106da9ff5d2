import { describe, expect, it } from 'vitest'
import { RecordingContext, withoutSudo } from '../src/index.ts'

describe('RecordingContext', () => {
  it('records final argvs with the prefixes a real context adds, and answers from the handler', async () => {
    const context = new RecordingContext(
      ({ command }) => {
        if (command[0] === 'which') return { exitCode: 0, stdout: '/usr/bin/ionice\n' }
        if (command[0] === 'mountpoint') return { exitCode: 32 }
        if (command[0] === 'cat') return { stdout: ['line 1\n', 'line 2\n'] }
        return undefined
      },
      { privileged: false, sudo: true, ionice: 'idle' },
    )
    expect(await context.test(['mountpoint', '/mnt/b'])).toBe(false)
    expect(await context.readFile('/etc/crypttab')).toBe('line 1\nline 2\n')
    await context.run(['rsync', '-a'], { env: { HOME: '', RSYNC_PROXY: 'proxy:3128' } })
    expect(context.commands).toEqual([
      'which ionice',
      'sudo -n ionice -c idle mountpoint /mnt/b',
      'sudo -n cat /etc/crypttab',
      'sudo -n -H --preserve-env=RSYNC_PROXY ionice -c idle rsync -a',
    ])
    expect(context.calls.at(-1)).toMatchObject({ command: ['rsync', '-a'], env: { RSYNC_PROXY: 'proxy:3128' }, terminal: false })
  })

  it('reports failures, signals and cancellation like a real context', async () => {
    const context = new RecordingContext(({ command }) =>
      command[0] === 'false' ? { exitCode: 1, stderr: 'nope\n' } : command[0] === 'killed' ? { signal: 'SIGKILL' } : { aborted: true },
    )
    await expect(context.run(['false'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_COMMAND_FAILED', exitCode: 1, stderrTail: 'nope' })
    await expect(context.run(['killed'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_COMMAND_FAILED', signal: 'SIGKILL' })
    await expect(context.run(['sleep', '9'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_ABORTED' })
  })

  it('withoutSudo strips sudo and its options (-n, -H, -l, --preserve-env=, KEY=VALUE) only', () => {
    expect(withoutSudo(['sudo', '-n', 'HOME=', 'A=b c', 'rsync', 'X=1'])).toEqual(['rsync', 'X=1'])
    expect(withoutSudo(['sudo', '-n', '-H', '--preserve-env=A,B', 'rsync', '-H'])).toEqual(['rsync', '-H'])
    expect(withoutSudo(['sudo', '-n', '-l', '--', 'cp', '-a'])).toEqual(['cp', '-a'])
    expect(withoutSudo(['rsync'])).toEqual(['rsync'])
  })
})

// rsb's keepalive for the ssh that rsync starts (so that a dead server ends the run): the pure rule (withSshKeepalive) and where
// runRsync applies it, with a recording context that answers `ssh -G` (tier 2: no real process).
import { parseSshCommand, RecordingContext, SSH_KEEPALIVE, type RecordedCommand } from '@rsb/exec'
import { describe, expect, it } from 'vitest'
import { buildRsyncArgs, runRsync, withSshKeepalive } from '../src/index.ts'

const OURS = '-o ServerAliveInterval=15 -o ServerAliveCountMax=4'
const DEFAULTS = { serverAliveInterval: 0, serverAliveCountMax: 3 }

describe('withSshKeepalive: rsb’s ServerAliveInterval/ServerAliveCountMax only where the user’s settings give none', () => {
  it('ssh’s defaults (interval 0, count 3): both appended, the user’s words and quotes untouched', () => {
    expect(withSshKeepalive('ssh', DEFAULTS, SSH_KEEPALIVE)).toBe(`ssh ${OURS}`)
    const rsh = `ssh -F '/etc/rsb/ssh config' -i "/root/it's key" -o 'IdentityFile "/root/a b"' -p2222`
    const shell = withSshKeepalive(rsh, DEFAULTS, SSH_KEEPALIVE)
    expect(shell).toBe(`${rsh} ${OURS}`)
    // rsync splits it into the user's words, then ours
    expect(parseSshCommand(shell).words).toEqual([
      ...parseSshCommand(rsh).words,
      '-o',
      'ServerAliveInterval=15',
      '-o',
      'ServerAliveCountMax=4',
    ])
  })

  it.each([
    ['an interval from ssh_config or the -F file (ssh -G says 5)', 'ssh -F cfg', { serverAliveInterval: 5, serverAliveCountMax: 3 }],
    ['an interval and a count from ssh_config', 'ssh', { serverAliveInterval: 30, serverAliveCountMax: 10 }],
    ['-o ServerAliveInterval=7', 'ssh -o ServerAliveInterval=7', { serverAliveInterval: 7, serverAliveCountMax: 3 }],
    ['-o ServerAliveInterval=0 (keepalive off on purpose)', 'ssh -o ServerAliveInterval=0', DEFAULTS],
    ['-oserveraliveinterval 0 (any case, attached, space-separated)', 'ssh "-oserveraliveinterval 0"', DEFAULTS],
    ['Debian’s alias -o ProtocolKeepAlives=0', 'ssh -o ProtocolKeepAlives=0', DEFAULTS],
    ['another program', 'sshpass -p hunter2 ssh', DEFAULTS],
    ['shell syntax rsync reads differently', 'ssh -i $HOME/key', DEFAULTS],
    ['a jump host', 'ssh -J jump', DEFAULTS],
  ])('the user’s setting is kept, nothing appended: %s', (_, rsh, settings) => {
    expect(withSshKeepalive(rsh, settings, SSH_KEEPALIVE)).toBe(rsh)
  })

  it('a ServerAliveCountMax of the user’s (ssh_config or -o) stays: only the interval is appended', () => {
    expect(withSshKeepalive('ssh', { serverAliveInterval: 0, serverAliveCountMax: 10 }, SSH_KEEPALIVE)).toBe(
      'ssh -o ServerAliveInterval=15',
    )
    expect(withSshKeepalive('ssh -o ServerAliveCountMax=3', DEFAULTS, SSH_KEEPALIVE)).toBe(
      'ssh -o ServerAliveCountMax=3 -o ServerAliveInterval=15',
    )
  })

  it('an interval of 0 adds nothing; values that are not whole numbers are refused', () => {
    expect(withSshKeepalive('ssh', DEFAULTS, { interval: 0, countMax: 4 })).toBe('ssh')
    for (const keepalive of [
      { interval: 1.5, countMax: 4 },
      { interval: -1, countMax: 4 },
      { interval: 15, countMax: 0 },
    ]) {
      expect(() => withSshKeepalive('ssh', DEFAULTS, keepalive)).toThrow(expect.objectContaining({ code: 'ERR_RSB_RSYNC_INVALID_OPTION' }))
    }
  })
})

/** A context that answers `ssh -G` with `sshG(argv)` (ssh_config lines) and records every command. */
function recording(sshG: (command: RecordedCommand) => string | { exitCode: number; stderr: string }) {
  return new RecordingContext(
    (command) => {
      if (command.command[0] !== 'ssh') return undefined
      const answer = sshG(command)
      return typeof answer === 'string' ? { stdout: answer } : answer
    },
    { privileged: false, sudo: true },
  )
}

const ssh = { source: '/src', destination: 'backup@nas:/backups/latest' }
const rsyncArgv = (context: RecordingContext) => context.calls.find((call) => call.command[0] === 'rsync')?.command ?? []
const rshOf = (context: RecordingContext) => rsyncArgv(context).find((arg) => arg.startsWith('--rsh'))

describe('runRsync sshKeepalive: asks ssh -G where rsync runs, without sudo, and gives the result as --rsh', () => {
  it('RSYNC_RSH unset: ssh -G -l backup -- nas (rsync’s order), then --rsh=ssh -o …=15 -o …=4 before SOURCE and DESTINATION', async () => {
    const context = recording(() => 'hostname nas\nserveraliveinterval 0\nserveralivecountmax 3\n')
    await runRsync({ ...ssh, context, sshKeepalive: SSH_KEEPALIVE })
    // BatchMode=no: Debian's ssh reports ServerAliveInterval 300 for BatchMode yes, a default and not the user's
    expect(context.calls[0]?.argv).toEqual(['ssh', '-G', '-o', 'BatchMode=no', '-l', 'backup', '--', 'nas'])
    const args = buildRsyncArgs(ssh)
    expect(rsyncArgv(context)).toEqual([...args.slice(0, -2), `--rsh=ssh ${OURS}`, ...args.slice(-2)])
    // rsync itself still through sudo
    expect(context.calls.at(-1)?.argv.slice(0, 3)).toEqual(['sudo', '-n', '-H'])
  })

  it('the options of RSYNC_RSH go to ssh -G; a setting it reports is kept', async () => {
    const rsh = `ssh -F '/etc/my config' -o ServerAliveInterval=7`
    const context = recording(() => 'serveraliveinterval 7\nserveralivecountmax 3\n')
    await runRsync({ ...ssh, context, env: { RSYNC_RSH: rsh }, sshKeepalive: SSH_KEEPALIVE })
    expect(context.calls[0]?.argv).toEqual([
      'ssh',
      '-G',
      '-o',
      'BatchMode=no',
      '-F',
      '/etc/my config',
      '-o',
      'ServerAliveInterval=7',
      '-l',
      'backup',
      '--',
      'nas',
    ])
    expect(rshOf(context)).toBe(`--rsh=${rsh}`)
    const plain = recording(() => 'serveraliveinterval 5\nserveralivecountmax 3\n')
    await runRsync({ ...ssh, context: plain, sshKeepalive: SSH_KEEPALIVE })
    expect(rshOf(plain)).toBeUndefined()
  })

  it('nothing asked or added: local and daemon destinations, -e/--rsh in rsyncOptions, another program, no sshKeepalive', async () => {
    const cases = [
      { destination: '/dst/latest' },
      { destination: 'nas::laptop/latest' },
      { rsyncOptions: ['-avessh -p 22'] },
      { rsyncOptions: ['--rsh=ssh'] },
      { env: { RSYNC_RSH: 'sshpass -p hunter2 ssh' } },
      { sshKeepalive: undefined },
    ]
    for (const extra of cases) {
      const context = recording(() => 'serveraliveinterval 0\n')
      await runRsync({ ...ssh, context, sshKeepalive: SSH_KEEPALIVE, ...extra })
      expect(
        context.calls.map((call) => call.command[0]),
        JSON.stringify(extra),
      ).toEqual(['rsync'])
      expect(rsyncArgv(context).join(' ')).not.toContain('ServerAlive')
    }
  })

  it('ssh -G failing: no keepalive and no error (rsync’s own ssh reports the problem)', async () => {
    const context = recording(() => ({ exitCode: 255, stderr: 'command-line line 0: garbage\n' }))
    const result = await runRsync({ ...ssh, context, env: { RSYNC_RSH: 'ssh -o Garbage=1' }, sshKeepalive: SSH_KEEPALIVE })
    expect(result.exitCode).toBe(0)
    expect(rshOf(context)).toBe('--rsh=ssh -o Garbage=1')
  })
})

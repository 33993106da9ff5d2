import { RecordingContext, type ContextDefaults, type SpawnOutcome, type SpawnRequest } from '@rsb/exec'
import { describe, expect, it } from 'vitest'
import { buildRsyncArgs, runRsync, RsyncError, type RsyncEvent } from '../src/index.ts'
import { fixture } from './fixtures.ts'

interface Script {
  stdout?: string[]
  stderr?: string
  outcome?: SpawnOutcome
  /** Wait for the abort signal and report an aborted run. */
  hang?: boolean
}

/** A context that records what it is asked to run and plays back recorded rsync output (tier 2: no real process). */
function scripted(script: Script, options: ContextDefaults & { root?: boolean } = {}): RecordingContext & { requests: SpawnRequest[] } {
  const { root, ...defaults } = options
  const requests: SpawnRequest[] = []
  const context = new RecordingContext(
    async ({ argv }, request) => {
      if (argv[0] === 'which') return { stdout: `/usr/bin/${argv[1]}\n` }
      requests.push(request)
      if (script.hang) {
        await new Promise((resolve) => request.signal?.addEventListener('abort', resolve))
        return { stdout: script.stdout, stderr: script.stderr, signal: 'SIGTERM', aborted: true }
      }
      const outcome = script.outcome ?? { exitCode: 0, signal: undefined }
      return { stdout: script.stdout, stderr: script.stderr, ...outcome }
    },
    { interactive: undefined, ...defaults, privileged: root ?? true },
  )
  return Object.assign(context, { requests })
}

const base = { source: '/src', destination: '/dst/latest' }
const args = buildRsyncArgs(base)

describe('runRsync: command line', () => {
  it('as root: no sudo, HOME empty in the real environment', async () => {
    const context = scripted({}, { root: true, sudo: true })
    const result = await runRsync({ ...base, context })
    expect(context.requests[0]?.argv).toEqual(args)
    expect(context.requests[0]?.env).toEqual({ HOME: '' })
    expect(result).toMatchObject({ exitCode: 0, warning: undefined, argv: args, stats: undefined })
  })

  it('not root with sudo: sudo -H ionice -c idle rsync … (no NAME=value on sudo’s command line, RSYNC_RSH as --rsh)', async () => {
    const context = scripted({}, { root: false, sudo: true, interactive: true })
    const ssh = { ...base, destination: 'backup@nas:/backups/latest' }
    await runRsync({ ...ssh, context, ionice: 'idle', env: { RSYNC_RSH: 'ssh -F /tmp/my config' } })
    const sshArgs = buildRsyncArgs(ssh)
    expect(context.requests[0]?.argv).toEqual([
      'sudo',
      '-H',
      'ionice',
      '-c',
      'idle',
      ...sshArgs.slice(0, -2),
      '--rsh=ssh -F /tmp/my config',
      ...sshArgs.slice(-2),
    ])
    expect(context.requests[0]?.env).toEqual({})
  })

  it('RSYNC_RSH: --rsh only for SSH destinations, and a -e or --rsh of the pass-through options wins', async () => {
    const env = { RSYNC_RSH: 'ssh -p 2222' }
    const ssh = { ...base, destination: 'nas:/backups/latest' }
    for (const rsyncOptions of [['-essh -p 22'], ['--rsh=ssh'], ['-avessh']]) {
      const own = scripted({})
      await runRsync({ ...ssh, rsyncOptions, context: own, env })
      expect(own.requests[0]?.argv).not.toContain('--rsh=ssh -p 2222')
    }
    const cluster = scripted({})
    await runRsync({ ...ssh, rsyncOptions: ['-T/tmp/e'], context: cluster, env })
    expect(cluster.requests[0]?.argv).toContain('--rsh=ssh -p 2222')
    // a local destination does not use it; for HOST::MODULE an explicit --rsh would mean "daemon over a remote shell"
    for (const destination of ['/dst/latest', 'nas::laptop/latest']) {
      const context = scripted({})
      await runRsync({ ...base, destination, context, env })
      expect(context.requests[0]?.argv.some((a) => a.startsWith('--rsh'))).toBe(false)
      expect(context.requests[0]?.env).toEqual({ HOME: '' })
    }
  })

  it('RSYNC_PROXY and RSYNC_CONNECT_PROG: daemons only; through sudo named in --preserve-env (no value in argv)', async () => {
    const env = { RSYNC_PROXY: 'proxy:3128', RSYNC_CONNECT_PROG: 'ssh nas nc %H 873' }
    const daemon = scripted({}, { root: false, sudo: true })
    await runRsync({ ...base, destination: 'nas::laptop/latest', context: daemon, env })
    expect(daemon.requests[0]?.argv.slice(0, 4)).toEqual(['sudo', '-n', '-H', '--preserve-env=RSYNC_CONNECT_PROG,RSYNC_PROXY'])
    expect(daemon.requests[0]?.env).toEqual(env)
    const local = scripted({}, { root: false, sudo: true })
    await runRsync({ ...base, context: local, env })
    expect(local.requests[0]?.argv).toEqual(['sudo', '-n', '-H', ...args])
    expect(local.requests[0]?.env).toEqual({})
  })

  it('RSYNC_PASSWORD reaches a daemon through standard input (--password-file=-), never argv or environment', async () => {
    const events: RsyncEvent[] = []
    const daemon = { ...base, destination: 'rsync://backup@nas:873/laptop/latest' }
    const ok = scripted({}, { root: false, sudo: true, interactive: true })
    const result = await runRsync({ ...daemon, context: ok, env: { RSYNC_PASSWORD: 's3cret' }, onEvent: (e) => events.push(e) })
    const request = ok.requests[0]
    expect(request?.argv.slice(0, 2)).toEqual(['sudo', '-H'])
    expect(request?.argv.slice(-3)).toEqual(['--password-file=-', '/src/', 'rsync://backup@nas:873/laptop/latest/'])
    expect(request?.input).toBe('s3cret\n')
    expect(JSON.stringify({ argv: request?.argv, env: request?.env, result, events })).not.toContain('s3cret')
    const failing = scripted({ outcome: { exitCode: undefined, signal: 'SIGKILL' } }, { root: false, sudo: true, interactive: true })
    const error = (await runRsync({ ...daemon, context: failing, env: { RSYNC_PASSWORD: 's3cret' } }).catch(
      (e: unknown) => e,
    )) as RsyncError
    expect(error.message).not.toContain('s3cret')
    expect(error.argv?.join(' ')).not.toContain('s3cret')
  })

  it('a password file of the pass-through options wins; for a non-daemon destination RSYNC_PASSWORD is dropped', async () => {
    const own = scripted({}, { root: true })
    const file = '--password-file=/etc/rsb/nas.secret'
    await runRsync({ ...base, destination: 'nas::laptop', rsyncOptions: [file], context: own, env: { RSYNC_PASSWORD: 'x' } })
    expect(own.requests[0]?.argv).toContain(file)
    expect(own.requests[0]?.argv).not.toContain('--password-file=-')
    expect(own.requests[0]?.env).toEqual({ HOME: '' })
    const local = scripted({}, { root: true })
    await runRsync({ ...base, context: local, env: { RSYNC_PASSWORD: 'x' } })
    expect(local.requests[0]?.argv).toEqual(args)
    expect(local.requests[0]?.input).toBeUndefined()
  })

  it('non-interactive sudo gets -n', async () => {
    const context = scripted({}, { root: false, sudo: true })
    await runRsync({ ...base, context })
    expect(context.requests[0]?.argv.slice(0, 3)).toEqual(['sudo', '-n', '-H'])
  })

  it('sudo: false overrides the context', async () => {
    const context = scripted({}, { root: false, sudo: true })
    await runRsync({ ...base, context, sudo: false })
    expect(context.requests[0]?.argv).toEqual(args)
    expect(context.requests[0]?.env).toEqual({ HOME: '' })
  })

  it('HOME is always emptied, whatever env says', async () => {
    const context = scripted({})
    await runRsync({ ...base, context, env: { HOME: '/root', TZ: 'UTC' } })
    expect(context.requests[0]?.env).toEqual({ HOME: '', TZ: 'UTC' })
  })

  it('reports the final command first, then progress, then the statistics', async () => {
    const text = fixture('initial.stdout')
    const context = scripted({ stdout: [text.slice(0, 5000), text.slice(5000)] }, { root: false, sudo: true, interactive: true })
    const events: RsyncEvent[] = []
    const result = await runRsync({ ...base, context, progress: true, stats: true, onEvent: (e) => events.push(e) })
    expect(events[0]).toEqual({ type: 'command', argv: ['sudo', '-H', ...buildRsyncArgs({ ...base, progress: true, stats: true })] })
    expect(events.filter((e) => e.type === 'progress').length).toBeGreaterThan(300)
    expect(events.at(-1)).toMatchObject({ type: 'stats', stats: { files: { total: 306 } } })
    expect(result.stats).toEqual((events.at(-1) as Extract<RsyncEvent, { type: 'stats' }>).stats)
  })

  it('returns the statistics without onEvent when stats are asked for', async () => {
    const context = scripted({ stdout: [fixture('no-change.stdout')] })
    expect((await runRsync({ ...base, context, stats: true })).stats).toMatchObject({ regularFilesTransferred: 0 })
  })
})

describe('runRsync: exit statuses', () => {
  it('a full destination is named as such, not by the sender’s consequential Broken pipe (rsync 3.x stderr)', async () => {
    const stderr = [
      'rsync: [receiver] write failed on "/dst/latest/big.bin": No space left on device (28)',
      'rsync error: error in file IO (code 11) at receiver.c(380) [receiver=3.2.7]',
      'rsync: [sender] write error: Broken pipe (32)',
      'rsync error: error in file IO (code 11) at io.c(848) [sender=3.2.7]',
      '',
    ].join('\n')
    const context = scripted({ outcome: { exitCode: 11, signal: undefined }, stderr })
    const error = (await runRsync({ ...base, context }).catch((e: unknown) => e)) as RsyncError
    expect(error.code).toBe('ERR_RSB_RSYNC_FILE_IO')
    expect(error.message).toContain('No space left on device')
    expect(error.message).not.toContain('Broken pipe')
    expect(error.hint).toMatch(/filesystem is full/)
  })

  it.each([23, 24])('%i is a success with a warning event', async (status) => {
    const context = scripted({ outcome: { exitCode: status, signal: undefined }, stderr: 'file has vanished: "/src/x"\n' })
    const events: RsyncEvent[] = []
    const result = await runRsync({ ...base, context, onEvent: (e) => events.push(e) })
    expect(result.exitCode).toBe(status)
    expect(result.warning).toMatch(/^partial transfer/)
    expect(result.stderrTail).toBe('file has vanished: "/src/x"')
    expect(events).toContainEqual({
      type: 'warning',
      exitCode: status,
      meaning: result.warning,
      message: `rsync exited with ${status} (${result.warning}).`,
    })
    expect(events).toContainEqual({ type: 'output', stream: 'stderr', line: 'file has vanished: "/src/x"' })
  })

  it('any other status throws the RsyncError naming its meaning, with the tail of stderr', async () => {
    const stderr = fixture('connection-refused.stderr')
    const context = scripted({ outcome: { exitCode: 10, signal: undefined }, stderr })
    const error = await runRsync({ ...base, context }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RsyncError)
    expect(error).toMatchObject({
      code: 'ERR_RSB_RSYNC_SOCKET_IO',
      exitCode: 10,
      meaning: 'error in socket I/O',
      stderrTail: stderr.trimEnd(),
      argv: args,
      hint: expect.stringContaining('listening'),
    })
    expect((error as Error).message).toBe(
      'rsync failed with exit status 10 (error in socket I/O): rsync: [sender] failed to connect to 127.0.0.1 (127.0.0.1): Connection refused (111)',
    )
  })

  it.each([
    [
      'ssh: connect to host h port 22: Connection refused\nrsync: connection unexpectedly closed (0 bytes received so far) [sender]\nrsync error: x (code 12) at io.c(285)\n',
      12,
      'ssh: connect to host h port 22: Connection refused',
    ],
    [fixture('unknown-module.stderr'), 5, "@ERROR: Unknown module 'nosuchmodule'"],
    ['rsync error: error in file IO (code 11) at main.c(808)\n', 11, 'rsync error: error in file IO (code 11) at main.c(808)'],
  ])('names the most telling stderr line in the message (%#)', async (stderr, status, reason) => {
    const context = scripted({ outcome: { exitCode: status, signal: undefined }, stderr })
    const error = (await runRsync({ ...base, context }).catch((e: unknown) => e)) as RsyncError
    expect(error.message.endsWith(`): ${reason}`)).toBe(true)
  })

  it('keeps only the last lines of a long stderr', async () => {
    const stderr = Array.from({ length: 500 }, (_, i) => `line ${i}`).join('\n')
    const context = scripted({ outcome: { exitCode: 11, signal: undefined }, stderr })
    const error = (await runRsync({ ...base, context }).catch((e: unknown) => e)) as RsyncError
    expect(error.code).toBe('ERR_RSB_RSYNC_FILE_IO')
    expect(error.stderrTail?.split('\n')).toEqual(Array.from({ length: 10 }, (_, i) => `line ${490 + i}`))
  })

  it('an unknown status is ERR_RSB_RSYNC_EXIT', async () => {
    const context = scripted({ outcome: { exitCode: 42, signal: undefined } })
    await expect(runRsync({ ...base, context })).rejects.toMatchObject({
      code: 'ERR_RSB_RSYNC_EXIT',
      exitCode: 42,
      meaning: 'unknown exit status',
    })
  })

  it('a missing rsync is ERR_RSB_RSYNC_NOT_FOUND (directly, and behind sudo)', async () => {
    const missing = scripted({ outcome: { exitCode: undefined, signal: undefined, notFound: true } })
    await expect(runRsync({ ...base, context: missing })).rejects.toMatchObject({ code: 'ERR_RSB_RSYNC_NOT_FOUND' })
    const behindSudo = scripted(
      { outcome: { exitCode: 1, signal: undefined }, stderr: 'sudo: rsync: command not found\n' },
      { root: false, sudo: true },
    )
    await expect(runRsync({ ...base, context: behindSudo })).rejects.toMatchObject({ code: 'ERR_RSB_RSYNC_NOT_FOUND' })
  })

  it('sudo asking for a password is ERR_RSB_RSYNC_SUDO_PASSWORD, not a syntax error', async () => {
    const context = scripted(
      { outcome: { exitCode: 1, signal: undefined }, stderr: 'sudo: a password is required\n' },
      { root: false, sudo: true },
    )
    await expect(runRsync({ ...base, context })).rejects.toMatchObject({ code: 'ERR_RSB_RSYNC_SUDO_PASSWORD', exitCode: 1 })
  })

  it('sudo refusing rsync is ERR_RSB_EXEC_SUDO_DENIED (with the sudoers hint), never an rsync status 1', async () => {
    const denied = new RecordingContext(
      ({ argv }) => (argv.includes('-l') ? { exitCode: 1 } : { exitCode: 1, stderr: 'sudo: a password is required\n' }),
      { privileged: false, sudo: true },
    )
    const error = await runRsync({ ...base, context: denied }).catch((e: unknown) => e)
    expect(error).not.toBeInstanceOf(RsyncError)
    expect(error).toMatchObject({ code: 'ERR_RSB_EXEC_SUDO_DENIED', hint: expect.stringContaining('sudoers') })
    expect(denied.commands.at(-1)).toBe(`sudo -n -l -- ${args.join(' ')}`)
    const environment = scripted(
      {
        outcome: { exitCode: 1, signal: undefined },
        stderr: 'sudo: sorry, you are not allowed to set the following environment variables: RSYNC_PROXY\n',
      },
      { root: false, sudo: true },
    )
    await expect(runRsync({ ...base, destination: 'nas::m', context: environment, env: { RSYNC_PROXY: 'p:1' } })).rejects.toMatchObject({
      code: 'ERR_RSB_EXEC_SUDO_DENIED',
      hint: expect.stringContaining('env_keep += "RSYNC_PROXY"'),
    })
  })

  it('a signal from elsewhere is ERR_RSB_RSYNC_KILLED', async () => {
    const context = scripted({ outcome: { exitCode: undefined, signal: 'SIGKILL' } })
    await expect(runRsync({ ...base, context })).rejects.toMatchObject({ code: 'ERR_RSB_RSYNC_KILLED', signal: 'SIGKILL' })
  })
})

describe('runRsync: cancellation', () => {
  it('an abort while rsync runs is ERR_RSB_RSYNC_CANCELLED', async () => {
    const context = scripted({ hang: true, stderr: 'rsync error: received SIGINT, SIGTERM, or SIGHUP (code 20)\n' })
    const controller = new AbortController()
    const running = runRsync({ ...base, context, signal: controller.signal, killAfterMs: 100 })
    setTimeout(() => controller.abort(), 20)
    const error = await running.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RsyncError)
    expect(error).toMatchObject({ code: 'ERR_RSB_RSYNC_CANCELLED', stderrTail: expect.stringContaining('code 20') })
    expect(context.requests[0]?.killAfterMs).toBe(100)
  })

  it('an already aborted signal runs nothing', async () => {
    const context = scripted({})
    await expect(runRsync({ ...base, context, signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_RSB_RSYNC_CANCELLED' })
    expect(context.requests).toEqual([])
  })

  it('a failing exit after the abort counts as cancelled, not as the exit status', async () => {
    const controller = new AbortController()
    const context = scripted({ outcome: { exitCode: 20, signal: undefined } })
    const originalRun = context.run.bind(context)
    context.run = async (argv, options) => {
      controller.abort()
      return originalRun(argv, { ...options, signal: undefined })
    }
    await expect(runRsync({ ...base, context, signal: controller.signal })).rejects.toMatchObject({ code: 'ERR_RSB_RSYNC_CANCELLED' })
  })

  it('reads -hh byte counts with units of 1024', async () => {
    const block = 'Number of files: 3 (reg: 2, dir: 1)\nTotal file size: 2.00M bytes\n'
    for (const [rsyncOptions, size] of [
      [['-h'], 2_000_000],
      [['-hh'], 2 * 1024 * 1024],
      [['-avhh'], 2 * 1024 * 1024],
      [['-h', '--human-readable'], 2 * 1024 * 1024],
      [['-hh', '--no-h', '-h'], 1_000_000 * 2],
      [['-essh-h', '-h'], 2_000_000],
    ] as const) {
      const context = scripted({ stdout: ['\n', block] })
      const result = await runRsync({ ...base, context, stats: true, rsyncOptions })
      expect(result.stats?.totalFileSize, rsyncOptions.join(' ')).toBe(size)
    }
  })

  it('rejects a tunnel to a destination that is not a daemon, before opening it', async () => {
    const context = scripted({})
    const tunnel = { context: undefined as never }
    await expect(runRsync({ ...base, context, tunnel })).rejects.toMatchObject({ code: 'ERR_RSB_RSYNC_INVALID_OPTION' })
    await expect(runRsync({ ...base, destination: 'host:/dir', context, tunnel })).rejects.toMatchObject({
      code: 'ERR_RSB_RSYNC_INVALID_OPTION',
    })
    expect(context.requests).toEqual([])
  })

  it('rejects a bad command line before running anything', async () => {
    const context = scripted({})
    await expect(runRsync({ source: '-x', destination: '/d', context })).rejects.toMatchObject({ code: 'ERR_RSB_RSYNC_INVALID_OPTION' })
    expect(context.requests).toEqual([])
  })
})

// rsb as an rsync daemon module's hooks (--daemon-hook=pre in pre-xfer exec, --daemon-hook=post in post-xfer
// exec, and the one-line post-xfer recipe without a pre hook), against a real `rsync --daemon` on 127.0.0.1 that
// runs the built rsb. The daemon runs as root (uid = root), so those tests need root (CI runs as root).
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { isRoot, runChecked, startRsyncDaemon, testdir, type RsyncDaemon } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { checkModulePath, classifyConnection } from '../src/backup/hook.ts'
import { parseArgs } from '../src/index.ts'
import { BIN, eventually, runRsb, snapshotsIn } from './helpers.ts'

const RSB = `${process.execPath} ${BIN}`
const QUIET = '--no-sudo --disable-notifications'
/** Old snapshots of an original store beside `latest`: adopted on the first snapshot, then rotated with daily=1. */
const OLD = ['2020-01-01 00:00:00', '2020-01-02 00:00:00', '2020-01-03 00:00:00']

/** The hook lines of a module: rsb's log lines (both hooks) appended to `log`. */
function hooks(log: string): { pre: string; post: string; original: string } {
  return {
    // standard output stays with the daemon: it shows it to the client when the hook refuses
    pre: `${RSB} --daemon-hook=pre 2>> ${log}`,
    post: `${RSB} --daemon-hook=post --snapshot --rotate --rotation=daily=1 ${QUIET} >> ${log} 2>&1`,
    original: `${RSB} --snapshot --rotate --rotation=daily=1 ${QUIET} >> ${log} 2>&1`,
  }
}

/** Waits until `log` holds `count` lines matching `pattern`, and returns the log. */
async function waitForLines(log: string, pattern: RegExp, count = 1): Promise<string> {
  return eventually(async () => {
    const text = await fs.readFile(log, 'utf8').catch(() => '')
    return text.split('\n').filter((line) => pattern.test(line)).length >= count ? text : undefined
  }, `${count} line(s) matching ${pattern} in ${log}`)
}

async function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    () => false,
  )
}

/** The entries of `.rsb/daemon-hooks/` of a store (none when it does not exist). */
async function records(store: string): Promise<string[]> {
  return fs.readdir(path.join(store, '.rsb/daemon-hooks')).catch(() => [])
}

/** A server tree: T/server/latest (the module) beside the snapshots of an original store. */
async function serverTree(t: string): Promise<{ server: string; latest: string; url: (d: RsyncDaemon) => string }> {
  const server = path.join(t, 'server')
  await fs.mkdir(path.join(server, 'latest'), { recursive: true })
  await fs.writeFile(path.join(server, 'latest/old.txt'), 'old\n')
  for (const name of OLD) {
    await fs.mkdir(path.join(server, name))
    await fs.writeFile(path.join(server, name, 'old.txt'), 'old\n')
  }
  return { server, latest: path.join(server, 'latest'), url: (d) => `rsync://127.0.0.1:${d.port}/m/` }
}

/** A source tree with a file big enough to kill its push half-way. */
async function sourceTree(t: string): Promise<string> {
  const source = path.join(t, 'source')
  await fs.mkdir(source)
  await fs.writeFile(path.join(source, 'big.bin'), Buffer.alloc(16 * 1024 * 1024, 1))
  await fs.writeFile(path.join(source, 'small.txt'), 'small\n')
  return source
}

describe('classifyConnection: the server-side arguments rsync 3.5.0 gives pre-xfer exec (RSYNC_ARG1…)', () => {
  it.each([
    ['a push', ['--server', '-logDtpre.iLsfxCIvu', '.', '.'], 'push'],
    ['a push whose path is named -n', ['--server', '-logDtpre.iLsfxCIvu', '.', '-n'], 'push'],
    ['a push whose capability string holds an n', ['--server', '-logDtpre.nLsfx', '.', '.'], 'push'],
    ['a push with -B SIZE', ['--server', '-logDtprB', '-n', '-e.iLsfxCIvu', '.', '.'], 'push'],
    ['a listing', ['--server', '--sender', '-de.LsfxCIvu', '.', '.'], 'read'],
    ['a pull', ['--server', '--sender', '-logDtpre.iLsfxCIvu', '.', '.'], 'read'],
    ['a pull with --remove-source-files', ['--server', '--sender', '-logDtpre.iLsfxCIvu', '--remove-source-files', '.', '.'], 'read'],
    ['a dry run (-n, also for --dry-run)', ['--server', '-nlogDtpre.iLsfxCIvu', '.', '.'], 'dry-run'],
    ['a dry run spelled --dry-run', ['--server', '--dry-run', '-logDtpre.iLsfxCIvu', '.', '.'], 'dry-run'],
    ['a push that only writes a batch', ['--server', '-logDtpre.iLsfxCIvu', '--only-write-batch=X', '.', '.'], 'dry-run'],
    // the client sends these options' values as separate arguments: a value is never read as an option
    ['a push with -T -ntmp', ['--server', '-logDtpre.iLsfxCIvu', '--temp-dir', '-ntmp', '.', '.'], 'push'],
    ['a push with -T ntmp (or --temp-dir=ntmp, -Tntmp)', ['--server', '-logDtpre.iLsfxCIvu', '--temp-dir', 'ntmp', '.', '.'], 'push'],
    ['a push with -T -n', ['--server', '-logDtpre.iLsfxCIvu', '--temp-dir', '-n', '.', '.'], 'push'],
    ['a push with -T --sender', ['--server', '-logDtpre.iLsfxCIvu', '--temp-dir', '--sender', '.', '.'], 'push'],
    ['a push with -T --dry-run', ['--server', '-logDtpre.iLsfxCIvu', '--temp-dir', '--dry-run', '.', '.'], 'push'],
    ['a push with -T .', ['--server', '-logDtpre.iLsfxCIvu', '--temp-dir', '.', '.', '.'], 'push'],
    [
      'a push with -T ntmp --backup-dir=-n -b --partial-dir=-n',
      ['--server', '-blogDtpre.iLsfxCIvu', '--backup-dir', '-n', '--partial-dir', '-n', '--temp-dir', 'ntmp', '.', '.'],
      'push',
    ],
    ['a push with --compare-dest=-n', ['--server', '-logDtpre.iLsfxCIvu', '--compare-dest', '-n', '.', '.'], 'push'],
    ['a push with --copy-dest=-n', ['--server', '-logDtpre.iLsfxCIvu', '--copy-dest', '-n', '.', '.'], 'push'],
    ['a push with --link-dest=--sender', ['--server', '-logDtpre.iLsfxCIvu', '--link-dest', '--sender', '.', '.'], 'push'],
    ['a push with --files-from=:-nlist', ['--server', '-logDtpRe.LsfxCIvu', '--files-from', '-nlist', '.', '.'], 'push'],
    ['a push with -M--temp-dir -M-ntmp', ['--server', '-logDtpre.iLsfxCIvu', '--temp-dir', '-ntmp', '.', '.'], 'push'],
    ['a push with --suffix=-n -b (sent attached)', ['--server', '-blogDtpre.iLsfxCIvu', '--suffix=-n', '.', '.'], 'push'],
    ['a dry run with -T -ntmp', ['--server', '-nlogDtpre.iLsfxCIvu', '--temp-dir', '-ntmp', '.', '.'], 'dry-run'],
    ['a push with -M-T -M-n (the server’s -T takes -n as its value)', ['--server', '-logDtpre.iLsfxCIvu', '-T', '-n', '.', '.'], 'push'],
    ['a dry run sent by --remote-option=-n', ['--server', '-logDtpre.iLsfxCIvu', '-n', '.', '.'], 'dry-run'],
  ] as const)('%s', (_what, args, kind) => {
    expect(classifyConnection(args).kind).toBe(kind)
  })
})

describe('checkModulePath and --daemon-hook on the command line', () => {
  it.each(['/', '/home', '/etc/', '//srv', '/srv/..', '/srv/../etc'])('refuses %j', (modulePath) => {
    expect(() => checkModulePath(modulePath)).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_MODULE_PATH_UNSAFE' }))
  })

  it('refuses a deeper path that resolves to a directory directly under /, and accepts a deep one', async () => {
    const t = await testdir({ 'backups/latest/a': 'a' })
    await fs.symlink('/tmp', path.join(t, 'link'))
    expect(() => checkModulePath(path.join(t, 'link'))).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_MODULE_PATH_UNSAFE' }))
    expect(checkModulePath(path.join(t, 'backups/latest'))).toBe(await fs.realpath(path.join(t, 'backups/latest')))
  })

  it.each([
    [['--daemon-hook=pre', '-s'], '--daemon-hook=pre only records the connection'],
    [['--daemon-hook=post', '-b', '-s'], 'cannot run the backup action'],
    [['--daemon-hook=post', '-s', '/srv/b/latest'], 'works on $RSYNC_MODULE_PATH'],
    [['--daemon-hook=during'], "Invalid --daemon-hook 'during'"],
    [['--daemon-hook=post'], 'no action chosen'],
  ])('%j is a usage error', (argv, text) => {
    expect(() => parseArgs(argv, { RSYNC_MODULE_PATH: '/srv/b/latest' })).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE', message: expect.stringContaining(text) }),
    )
  })

  it('--daemon-hook=pre runs no action; --daemon-hook=post runs the ones given', () => {
    const pre = parseArgs(['--daemon-hook=pre'], { RSYNC_MODULE_PATH: '/srv/b/latest' })
    expect(pre).toMatchObject({ kind: 'run', options: { daemonHook: 'pre', backup: false, snapshot: false, rotate: false } })
    const post = parseArgs(['--daemon-h', 'post', '-sr'], { RSYNC_MODULE_PATH: '/srv/b/latest' })
    expect(post).toMatchObject({ kind: 'run', options: { daemonHook: 'post', backup: false, snapshot: true, rotate: true } })
  })

  it.each([
    ['--daemon-hook=pre', ['--daemon-hook=pre'], '/'],
    ['--daemon-hook=post', ['--daemon-hook=post', '-s', '-r'], '/etc'],
    ['the one-line recipe', ['-s', '-r'], '/home'],
  ])('%s (%j) refuses the module path %s with ERR_RSB_CLI_MODULE_PATH_UNSAFE (exit 1)', async (_what, argv, modulePath) => {
    const result = await runRsb([...argv, '--no-sudo', '--disable-notifications'], {
      env: { RSYNC_MODULE_PATH: modulePath, RSYNC_PID: String(process.pid), RSYNC_ARG0: 'rsyncd', RSYNC_EXIT_STATUS: '0' },
    })
    expect(result.code, result.stderr).toBe(1)
    expect(result.stderr).toContain('(ERR_RSB_CLI_MODULE_PATH_UNSAFE)')
    expect(result.stderr).not.toContain('Creating snapshot')
  })
})

describe.skipIf(!isRoot)('the daemon hooks against a real rsync daemon (needs root: the daemon runs as root)', () => {
  it(
    'with both hooks a listing, a pull, a dry run, a batch-only push and a push killed half-way make no snapshot and rotate nothing; a good push makes exactly one; every record is cleaned up',
    { timeout: 240_000 },
    async () => {
      const t = await testdir()
      const source = await sourceTree(t)
      const { server, latest, url } = await serverTree(t)
      const log = path.join(t, 'hooks.log')
      const line = hooks(log)
      // a record left by a connection whose process is gone (its post-xfer exec never ran)
      const dead = spawn('true')
      await new Promise((r) => dead.once('close', r))
      await fs.mkdir(path.join(server, '.rsb/daemon-hooks'), { recursive: true, mode: 0o700 })
      await fs.chmod(path.join(server, '.rsb/daemon-hooks'), 0o700)
      const stale = path.join(server, `.rsb/daemon-hooks/${dead.pid}.json`)
      await fs.writeFile(
        stale,
        `${JSON.stringify({ format: 'rsb-daemon-hook', version: 1, pid: dead.pid, modulePath: latest, kind: 'push', reason: 'a push', created: new Date().toISOString() })}\n`,
        { mode: 0o600 },
      )
      const daemon = await startRsyncDaemon({
        modules: { m: { path: latest, postXferExec: line.post, extra: { 'pre-xfer exec': line.pre } } },
      })
      onTestFinished(() => daemon.stop())
      const unchanged = async () => {
        expect(await snapshotsIn(server)).toEqual(OLD)
        for (const name of OLD) expect(await fs.readFile(path.join(server, name, 'old.txt'), 'utf8')).toBe('old\n')
        expect(await records(server)).toEqual([])
      }

      await runChecked('rsync', [url(daemon)])
      await waitForLines(log, /was a listing or a pull \(--sender\) \(recorded by the pre-xfer exec\): no snapshot and no rotation/)
      expect(await exists(stale)).toBe(false)
      await unchanged()

      await runChecked('rsync', ['-a', url(daemon), path.join(t, 'pulled')])
      await waitForLines(log, /was a listing or a pull \(--sender\) \(recorded by the pre-xfer exec\): no snapshot and no rotation/, 2)
      expect(await fs.readFile(path.join(t, 'pulled/old.txt'), 'utf8')).toBe('old\n')
      await unchanged()

      await runChecked('rsync', ['-a', '-n', `${source}/`, url(daemon)])
      await waitForLines(log, /was a client's dry run \(-n\) \(recorded by the pre-xfer exec\): no snapshot and no rotation/)
      await runChecked('rsync', ['-a', '--dry-run', `${source}/`, url(daemon)])
      await waitForLines(log, /was a client's dry run \(-n\) \(recorded by the pre-xfer exec\): no snapshot and no rotation/, 2)
      await runChecked('rsync', ['-a', `--only-write-batch=${path.join(t, 'batch')}`, `${source}/`, url(daemon)])
      await waitForLines(log, /only writes the client's batch file .*: no snapshot and no rotation/)
      expect(await fs.readdir(latest)).toEqual(['old.txt'])
      await unchanged()

      // a push killed half-way: once part of big.bin has arrived (rsync's temporary file in the module)
      const killed = spawn('rsync', ['-a', '--bwlimit=1000', `${source}/`, url(daemon)], { stdio: 'ignore' })
      onTestFinished(() => {
        if (killed.exitCode === null && killed.signalCode === null) killed.kill('SIGKILL')
      })
      await waitForLines(log, /\(RSYNC_PID \d+\) is a push: the post-xfer exec snapshots it if it succeeds/)
      await eventually(async () => {
        const names = await fs.readdir(latest)
        return names.some((name) => name.startsWith('.big.bin.')) ? true : undefined
      }, 'part of big.bin in the module')
      killed.kill('SIGKILL')
      await new Promise((r) => killed.once('close', r))
      await waitForLines(log, /ended with status [1-9]\d* \(\$RSYNC_EXIT_STATUS\): no snapshot and no rotation/)
      await unchanged()

      // a good push: exactly one snapshot, and the rotation ran (daily=1 keeps only the newest day: the new snapshot)
      await runChecked('rsync', ['-a', `${source}/`, url(daemon)])
      const text = await waitForLines(log, /to create snapshot and rotate old snapshots/)
      const snapshots = await snapshotsIn(server)
      const made = snapshots.filter((name) => !OLD.includes(name))
      expect(made).toHaveLength(1)
      expect((await fs.stat(path.join(server, made[0] as string, 'big.bin'))).size).toBe(16 * 1024 * 1024)
      expect(snapshots).toEqual(made)
      // its manifest: no rsync statistics on the server's side (the client ran rsync), the snapshot counted instead
      const record = JSON.parse(await fs.readFile(path.join(server, '.rsb/snapshots', `${made[0]}.json`), 'utf8')) as {
        manifest: { entries: number; bytes: number; statistics: unknown; source: unknown }
      }
      expect(record.manifest.statistics).toBeUndefined()
      expect(record.manifest.source).toBeUndefined()
      expect(record.manifest.entries).toBeGreaterThan(1)
      expect(record.manifest.bytes).toBeGreaterThanOrEqual(16 * 1024 * 1024)
      expect(text).not.toContain('No pre-xfer exec record')
      expect(await records(server)).toEqual([])
      expect((await fs.stat(path.join(server, '.rsb/daemon-hooks'))).mode & 0o777).toBe(0o700)
    },
  )

  it(
    'a push with -T -ntmp (rsync sends --temp-dir and -ntmp apart) makes exactly one snapshot; the same with -n makes none',
    { timeout: 120_000 },
    async () => {
      const t = await testdir()
      const source = await sourceTree(t)
      const { server, latest, url } = await serverTree(t)
      // the temporary directory, relative to the module: its name starts with -n
      await fs.mkdir(path.join(latest, '-ntmp'))
      const log = path.join(t, 'hooks.log')
      const line = hooks(log)
      const daemon = await startRsyncDaemon({
        modules: { m: { path: latest, postXferExec: line.post, extra: { 'pre-xfer exec': line.pre } } },
      })
      onTestFinished(() => daemon.stop())

      await runChecked('rsync', ['-a', '-n', '-T', '-ntmp', `${source}/`, url(daemon)])
      await waitForLines(log, /was a client's dry run \(-n\) \(recorded by the pre-xfer exec\): no snapshot and no rotation/)
      expect(await snapshotsIn(server)).toEqual(OLD)

      await runChecked('rsync', ['-a', '-T', '-ntmp', `${source}/`, url(daemon)])
      const text = await waitForLines(log, /to create snapshot and rotate old snapshots/)
      expect(text.match(/\(RSYNC_PID \d+\) is a push: the post-xfer exec snapshots it if it succeeds/g)).toHaveLength(1)
      expect(text.match(/is a client's dry run/g)).toHaveLength(1)
      const snapshots = await snapshotsIn(server)
      const made = snapshots.filter((name) => !OLD.includes(name))
      expect(made).toHaveLength(1)
      expect((await fs.stat(path.join(server, made[0] as string, 'big.bin'))).size).toBe(16 * 1024 * 1024)
      expect(snapshots).toEqual(made)
      expect(await records(server)).toEqual([])
    },
  )

  it(
    'with only the post-xfer exec (the one-line recipe) a good push makes one snapshot as before, saying that a pre-xfer exec is needed to skip listings; a listing then makes one too',
    { timeout: 120_000 },
    async () => {
      const t = await testdir()
      const source = await sourceTree(t)
      const { server, url } = await serverTree(t)
      const log = path.join(t, 'hooks.log')
      const daemon = await startRsyncDaemon({ modules: { m: { path: path.join(server, 'latest'), postXferExec: hooks(log).original } } })
      onTestFinished(() => daemon.stop())
      await runChecked('rsync', ['-a', `${source}/`, url(daemon)])
      const text = await waitForLines(log, /to create snapshot and rotate old snapshots/)
      expect(text).toMatch(
        /No pre-xfer exec record of this connection to module m \(.*\) \(RSYNC_PID \d+\): snapshotting it as any transfer that succeeded\. A pre-xfer exec 'rsb --daemon-hook=pre' is needed to skip listings, pulls and clients' dry runs/,
      )
      const made = (await snapshotsIn(server)).filter((name) => !OLD.includes(name))
      expect(made).toHaveLength(1)
      expect((await fs.stat(path.join(server, made[0] as string, 'big.bin'))).size).toBe(16 * 1024 * 1024)
      // what this recipe cannot tell apart: a listing also ends with status 0 and makes a snapshot (a new second)
      await new Promise((r) => setTimeout(r, 1100))
      await runChecked('rsync', [url(daemon)])
      await waitForLines(log, /to create snapshot and rotate old snapshots/, 2)
      expect((await snapshotsIn(server)).filter((name) => !OLD.includes(name))).toHaveLength(2)
      expect(await records(server)).toEqual([])
    },
  )

  it(
    'a planted .rsb/daemon-hooks symlink is not written through: the pre hook warns and lets the push go on, the post hook refuses the store (ERR_RSB_CLI_STORE_UNSAFE: no snapshot, no rotation)',
    { timeout: 120_000 },
    async () => {
      const t = await testdir({ elsewhere: null })
      const source = await sourceTree(t)
      const { server, latest, url } = await serverTree(t)
      await fs.mkdir(path.join(server, '.rsb'))
      await fs.symlink(path.join(t, 'elsewhere'), path.join(server, '.rsb/daemon-hooks'))
      const log = path.join(t, 'hooks.log')
      const line = hooks(log)
      const daemon = await startRsyncDaemon({
        modules: { m: { path: latest, postXferExec: line.post, extra: { 'pre-xfer exec': line.pre } } },
      })
      onTestFinished(() => daemon.stop())
      await runChecked('rsync', ['-a', `${source}/`, url(daemon)])
      // a link in .rsb/ is a store another user could steer: every run refuses it, the post hook's snapshot too
      const text = await waitForLines(log, /\(ERR_RSB_CLI_STORE_UNSAFE\)/)
      expect(text).toMatch(
        /The pre-xfer exec could not record the connection to module m .*daemon-hooks is a symbolic link.*The transfer goes on/,
      )
      expect(text).toContain(`${path.join(server, '.rsb/daemon-hooks')} is a symbolic link.`)
      expect(text).not.toMatch(/Creating snapshot|to create snapshot/)
      expect(await fs.readdir(path.join(t, 'elsewhere'))).toEqual([])
      expect((await snapshotsIn(server)).filter((name) => !OLD.includes(name))).toHaveLength(0)
    },
  )

  describe('a module whose path is directly under / (like /home)', () => {
    const root = `/rsbtest-${randomBytes(6).toString('hex')}`
    let rootHadMetadata = true
    let rootSnapshots: string[] = []
    beforeAll(async () => {
      rootHadMetadata = await exists('/.rsb')
      rootSnapshots = await snapshotsIn('/')
      await fs.mkdir(root, { mode: 0o755 })
    })
    afterAll(async () => {
      await fs.rm(root, { recursive: true, force: true })
    })

    it(
      'is refused with ERR_RSB_CLI_MODULE_PATH_UNSAFE: the pre hook refuses the push (the client is told why), the one-line recipe makes no snapshot; nothing is written in /',
      { timeout: 120_000 },
      async () => {
        const t = await testdir({ 'source/a.txt': 'a\n' })
        const log = path.join(t, 'hooks.log')
        const line = hooks(log)
        const daemon = await startRsyncDaemon({
          modules: {
            both: { path: root, postXferExec: line.post, extra: { 'pre-xfer exec': line.pre } },
            original: { path: root, postXferExec: line.original },
          },
        })
        onTestFinished(() => daemon.stop())

        const refused = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = spawn('rsync', ['-a', `${path.join(t, 'source')}/`, `rsync://127.0.0.1:${daemon.port}/both/`], {
            stdio: ['ignore', 'ignore', 'pipe'],
          })
          let stderr = ''
          child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
          child.once('close', (code) => resolve({ code, stderr }))
        })
        expect(refused.code).not.toBe(0)
        expect(refused.stderr).toContain('(ERR_RSB_CLI_MODULE_PATH_UNSAFE)')
        // the daemon runs the post-xfer exec after a refused pre-xfer exec too: it refuses as well
        await waitForLines(log, /\(ERR_RSB_CLI_MODULE_PATH_UNSAFE\)/, 2)
        expect(await fs.readdir(root)).toEqual([])

        await runChecked('rsync', ['-a', `${path.join(t, 'source')}/`, `rsync://127.0.0.1:${daemon.port}/original/`])
        const text = await waitForLines(log, /\(ERR_RSB_CLI_MODULE_PATH_UNSAFE\)/, 3)
        expect(text).toContain(`The rsync daemon module path ${root} ($RSYNC_MODULE_PATH) is directly under /`)
        expect(text).not.toContain('Creating snapshot')
        expect(await fs.readdir(root)).toEqual(['a.txt'])
        expect(await snapshotsIn('/')).toEqual(rootSnapshots)
        if (!rootHadMetadata) expect(await exists('/.rsb')).toBe(false)
      },
    )
  })
})

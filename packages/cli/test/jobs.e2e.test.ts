// rsb run, rsb status and --job with a configuration file of real jobs: a local one, one over SSH to the test sshd,
// one to an rsync daemon on 127.0.0.1 (one of them failing), with a webhook receiver (node:http on 127.0.0.1), a
// sendmail stand-in on PATH and hooks that write what they get. The sshd and the daemon need root (CI is root).
import fs from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { isRoot, startRsyncDaemon, startSshd, testdir, type SshServer } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { BIN, eventually, HOSTILE_NAME, processes, runRecords, runRsb, shellQuote, snapshotsIn, startRsb, writeProgram } from './helpers.ts'
import { startSyslogReceiver } from './syslog-receiver.ts'

/** A TOML basic string (JSON's escapes are TOML's for these characters). */
const toml = (text: string) => JSON.stringify(text)

interface Ping {
  readonly method: string
  readonly url: string
  readonly body: Record<string, unknown>
}

/** A healthchecks-style receiver: records every request with its JSON body, answers 200. */
async function startReceiver(): Promise<{ url: string; pings: Ping[]; close: () => Promise<void> }> {
  const pings: Ping[] = []
  const server = http.createServer((request, response) => {
    let text = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => (text += chunk))
    request.on('end', () => {
      pings.push({
        method: request.method ?? '',
        url: request.url ?? '',
        body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
      })
      response.end('OK')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, pings, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

/** Writes the configuration file, root's and not writable by others (rsb refuses it otherwise). */
async function writeConfig(dir: string, text: string): Promise<string> {
  await fs.chmod(dir, 0o755)
  const file = path.join(dir, 'rsb.toml')
  await fs.writeFile(file, text, { mode: 0o644 })
  return file
}

/** The hook lines: each appends one line with the variables it got to `log`. */
function hookKeys(log: string): string {
  const append = (what: string) => `printf '%s\\n' "${what}" >> ${shellQuote(log)}`
  return [
    `before = ${toml(append('before $RSB_JOB $RSB_STATUS'))}`,
    `after = ${toml(append('after $RSB_JOB $RSB_STATUS $RSB_EXIT_CODE snapshot=$RSB_SNAPSHOT'))}`,
    `on-failure = ${toml(append('on-failure $RSB_JOB $RSB_STATUS $RSB_EXIT_CODE error=$RSB_ERROR'))}`,
  ].join('\n')
}

describe.skipIf(!isRoot)('rsb run: three jobs (local, SSH, rsync daemon), one failing (needs root: sshd and the daemon)', () => {
  let server: SshServer
  beforeAll(async () => {
    server = await startSshd()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('makes the two snapshots, reports the failure, exits 1; webhook pings, one mail and the hooks in order; rsb status checks every job', async () => {
    const t = await testdir({ [`${HOSTILE_NAME}/source/a.txt`]: 'a\n', [`${HOSTILE_NAME}/source/sub/b.txt`]: 'b\n' }, 'rsb-jobs-')
    const base = path.join(t, HOSTILE_NAME)
    const source = path.join(base, 'source')
    const receiver = await startReceiver()
    onTestFinished(() => receiver.close())
    // a daemon whose module refuses writes: the job pushing to it fails
    const daemon = await startRsyncDaemon({ modules: { ro: { path: path.join(t, 'ro'), extra: { 'read only': 'yes' } } } })
    onTestFinished(() => daemon.stop())
    await fs.mkdir(path.join(t, 'ro'), { recursive: true })
    const mails = path.join(t, 'mails')
    const bin = path.join(t, 'bin')
    await writeProgram(bin, 'sendmail', `{ printf 'ARGV:%s\\n' "$*"; cat; printf '\\n--END--\\n'; } >> ${shellQuote(mails)}`)
    const hooksLog = path.join(t, 'hooks.log')
    const config = await writeConfig(
      base,
      [
        '[defaults]',
        'sudo = false',
        'notifications = false',
        'mail-to = "admin@example.org"',
        hookKeys(hooksLog),
        '',
        '[jobs.local]',
        `source = ${toml(source)}`,
        `destination = ${toml(path.join(base, 'local-store/latest'))}`,
        `webhook = ${toml(`${receiver.url}/ping/local-uuid`)}`,
        '',
        '[jobs.ssh]',
        `source = ${toml(source)}`,
        `destination = ${toml(`${server.alias}:${path.join(base, 'ssh-store/latest')}`)}`,
        `webhook = ${toml(`${receiver.url}/ping/ssh-uuid`)}`,
        '',
        '[jobs.daemon]',
        `source = ${toml(source)}`,
        `destination = ${toml(`rsync://127.0.0.1:${daemon.port}/ro/latest`)}`,
        'snapshot = false',
        'rotate = false',
        `webhook = ${toml(`${receiver.url}/ping/daemon-uuid`)}`,
        '',
      ].join('\n'),
    )
    const env = { RSYNC_RSH: server.rsyncRsh }

    const check = await runRsb(['config', 'check', `--config=${config}`])
    expect(check.code, check.stderr).toBe(0)
    expect(check.stdout).toContain('valid, 3 jobs: local, ssh, daemon')
    // the webhook's path is a secret: a file others may read is warned about, a private one is not
    expect(check.stderr).toContain(`rsb: warning: ${config} holds webhook URLs, whose paths are secrets, and other users may read it`)
    await fs.chmod(config, 0o600)
    expect((await runRsb(['config', 'check', `--config=${config}`])).stderr).toBe('')

    const run = await runRsb(['run', `--config=${config}`], { env, path: [bin] })
    expect(run.code, run.stderr).toBe(1)
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatch(/^local: ok, snapshot \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(\d+\.\d s\)$/)
    expect(lines[1]).toMatch(/^ssh: ok, snapshot /)
    expect(lines[2]).toMatch(/^daemon: FAILED \(exit 1\): .*ERR_RSB_RSYNC_/)

    // the two snapshots, with the source's files
    for (const store of ['local-store', 'ssh-store']) {
      const snapshots = await snapshotsIn(path.join(base, store))
      expect(snapshots, store).toHaveLength(1)
      expect(await fs.readFile(path.join(base, store, snapshots[0]!, 'sub/b.txt'), 'utf8')).toBe('b\n')
    }
    expect(await fs.readdir(path.join(t, 'ro'))).toEqual([])

    // webhook: start, then success or fail, each with the run record as JSON
    const by = (job: string) => receiver.pings.filter((p) => p.url.startsWith(`/ping/${job}-uuid`))
    expect(by('local').map((p) => `${p.method} ${p.url}`)).toEqual(['POST /ping/local-uuid/start', 'POST /ping/local-uuid'])
    expect(by('ssh').map((p) => `${p.method} ${p.url}`)).toEqual(['POST /ping/ssh-uuid/start', 'POST /ping/ssh-uuid'])
    expect(by('daemon').map((p) => `${p.method} ${p.url}`)).toEqual(['POST /ping/daemon-uuid/start', 'POST /ping/daemon-uuid/fail'])
    expect(by('local')[0]!.body).toMatchObject({ job: 'local', event: 'start', host: os.hostname() })
    expect(by('local')[1]!.body).toMatchObject({ job: 'local', event: 'success', status: 'success', exitCode: 0, summary: { exitCode: 0 } })
    expect((by('local')[1]!.body.summary as { snapshot: string }).snapshot).toContain(path.join(base, 'local-store'))
    expect(by('daemon')[1]!.body).toMatchObject({
      job: 'daemon',
      event: 'failure',
      status: 'failure',
      exitCode: 1,
      summary: { error: { code: expect.stringMatching(/^ERR_RSB_RSYNC_/) } },
    })

    // one mail (mail-to is on failure only), with the error
    const mail = await fs.readFile(mails, 'utf8')
    expect(mail.match(/--END--/g)).toHaveLength(1)
    expect(mail).toMatch(/^ARGV:-t -oi/m)
    expect(mail).toMatch(/^To: admin@example.org$/m)
    expect(mail).toMatch(/^Subject: .*daemon: backup failed/m)
    expect(mail).toMatch(/ERR_RSB_RSYNC_/)

    // the hooks, in order, with their variables
    const hookLines = (await fs.readFile(hooksLog, 'utf8')).trimEnd().split('\n')
    expect(hookLines.map((l) => l.split(' ').slice(0, 3).join(' '))).toEqual([
      'before local starting',
      'after local success',
      'before ssh starting',
      'after ssh success',
      'before daemon starting',
      'on-failure daemon failure',
      'after daemon failure',
    ])
    expect(hookLines[1]!.startsWith(`after local success 0 snapshot=${path.join(base, 'local-store')}/20`), hookLines[1]).toBe(true)
    expect(hookLines[5]).toMatch(/^on-failure daemon failure 1 error=.*ERR_RSB_RSYNC_/)
    expect(hookLines[6]).toMatch(/^after daemon failure 1 snapshot=$/)

    // rsb status without DESTINATION: every job (the daemon's store is read on its machine)
    const status = await runRsb(['status', `--config=${config}`], { env })
    expect(status.stdout).toMatch(/^local: OK: latest of /m)
    expect(status.stdout).toMatch(/^ssh: OK: latest of /m)
    expect(status.stdout).toMatch(/^daemon: not checked: /m)
    expect(status.code, status.stderr).toBe(0)
    const statusJson = await runRsb(['status', '--json', `--config=${config}`], { env })
    const document = JSON.parse(statusJson.stdout) as { jobs: { job: string; fresh: boolean }[]; exitCode: number }
    expect(document.jobs.map((j) => [j.job, j.fresh])).toEqual([
      ['local', true],
      ['ssh', true],
    ])

    // --job on the commands that take a DESTINATION
    const list = await runRsb(['list', '--json', '--job=ssh', `--config=${config}`], { env })
    expect(list.code, list.stderr).toBe(0)
    expect((JSON.parse(list.stdout) as { snapshots: unknown[] }).snapshots).toHaveLength(1)
    const verify = await runRsb(['verify', '--job=local', `--config=${config}`])
    expect(verify.code, verify.stderr).toBe(0)
    const du = await runRsb(['du', '--job', 'local', `--config=${config}`])
    expect(du.code, du.stderr).toBe(0)
    const restored = path.join(t, 'restored')
    await fs.mkdir(restored)
    const restore = await runRsb(['restore', '--job=local', `--config=${config}`, 'sub/b.txt', `--to=${restored}`])
    expect(restore.code, restore.stderr).toBe(0)
    expect(await fs.readFile(path.join(restored, 'b.txt'), 'utf8')).toBe('b\n')
    const unknown = await runRsb(['list', '--job=nope', `--config=${config}`])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("There is no job 'nope'")
    expect(unknown.stderr).toContain('(ERR_RSB_CLI_JOB_UNKNOWN) Hint: Its jobs: local, ssh, daemon.')
    // nothing evaluated the hostile name: not the hooks (they run in /), not rsb (in the test's directory)
    for (const dir of ['/', process.cwd(), base, t]) {
      expect(await fs.readdir(dir), dir).not.toContain('pwned')
      expect(await fs.readdir(dir), dir).not.toContain('pwned2')
    }
    // nor did a webhook's secret path reach the log, the --json document or the store's records
    const runJson = await runRsb(['run', '--json', `--config=${config}`, 'local'], { env, path: [bin] })
    expect(runJson.code, runJson.stderr).toBe(0)
    const records = JSON.stringify(await runRecords(path.join(base, 'local-store')))
    for (const text of [run.stderr, run.stdout, runJson.stdout, runJson.stderr, records]) expect(text).not.toContain('-uuid')
    expect(
      (JSON.parse(runJson.stdout) as { jobs: { alerts: { outcomes: { detail: string }[] }[] }[] }).jobs[0]!.alerts[0]!.outcomes[0]!.detail,
    ).toContain('127.0.0.1')
  }, 180_000)
})

describe.skipIf(!isRoot)('the server end: an rsync daemon module whose hooks name a job (needs root: the daemon runs as root)', () => {
  it("rsb run --daemon-hook=pre|post nas in rsyncd.conf snapshots and rotates a push with the job's options, alerts and syslog lines", async () => {
    const t = await testdir({ 'source/a.txt': 'a\n' }, 'rsb-jobs-daemon-')
    const receiver = await startReceiver()
    onTestFinished(() => receiver.close())
    const syslog = await startSyslogReceiver()
    const serverDir = path.join(t, 'server')
    await fs.mkdir(path.join(serverDir, 'nas/latest'), { recursive: true })
    // an old snapshot of the store: the job's rotation (daily=1) removes it
    await fs.mkdir(path.join(serverDir, 'nas/2020-01-01 00:00:00'))
    const serverConfig = await writeConfig(
      serverDir,
      [
        '[jobs.nas]',
        'daemon = true',
        'rotation = "daily=1"',
        'sudo = false',
        'notifications = false',
        'syslog = true',
        `webhook = ${toml(`${receiver.url}/p/nas`)}`,
      ].join('\n'),
    )
    const rsb = `${shellQuote(process.execPath)} ${shellQuote(BIN)} run --config=${shellQuote(serverConfig)}`
    const log = path.join(t, 'hooks.log')
    const daemon = await startRsyncDaemon({
      modules: {
        m: {
          path: path.join(serverDir, 'nas/latest'),
          postXferExec: `${rsb} --daemon-hook=post nas >> ${shellQuote(log)} 2>&1`,
          extra: { 'pre-xfer exec': `${rsb} --daemon-hook=pre nas 2>> ${shellQuote(log)}` },
        },
      },
      env: { ...process.env, RSB_SYSLOG_SOCKET: syslog.socket },
    })
    onTestFinished(() => daemon.stop())
    const clientConfig = await writeConfig(
      t,
      [
        '[jobs.media]',
        `source = ${toml(path.join(t, 'source'))}`,
        `destination = ${toml(`rsync://127.0.0.1:${daemon.port}/m/`)}`,
        'snapshot = false',
        'rotate = false',
        'notifications = false',
      ].join('\n'),
    )
    const check = await runRsb(['config', 'check', `--config=${serverConfig}`])
    expect(check.stdout).toContain('valid, 1 job: nas (daemon)')
    const refused = await runRsb(['run', `--config=${serverConfig}`, 'nas'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain("Job 'nas' is a daemon job")

    const run = await runRsb(['run', `--config=${clientConfig}`])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^media: ok \(\d+\.\d s\)\n$/)
    const snapshots = await eventually(async () => {
      const names = await snapshotsIn(path.join(serverDir, 'nas'))
      return names.length === 1 && names[0] !== '2020-01-01 00:00:00' ? names : undefined
    }, "the daemon job's snapshot (and the rotation of the old one)")
    expect(await fs.readFile(path.join(serverDir, 'nas', snapshots[0]!, 'a.txt'), 'utf8')).toBe('a\n')
    await eventually(async () => (receiver.pings.length >= 2 ? true : undefined), "the daemon job's pings")
    expect(receiver.pings.map((p) => p.url)).toEqual(['/p/nas/start', '/p/nas'])
    expect(receiver.pings[1]!.body).toMatchObject({ job: 'nas', status: 'success' })
    const lines = await syslog.waitFor(2)
    expect(lines[0]).toMatch(/^<14>.* rsb\[\d+\]: job nas: backup started/)
    expect(lines[1]).toMatch(/^<14>.* rsb\[\d+\]: job nas: backup succeeded/)
  }, 120_000)
})

describe('rsb run: hooks and alerts of one job', () => {
  it('a failing before hook skips its job (no backup), reports it as failed with its alerts, runs on-failure and after', async () => {
    const t = await testdir({ 'source/a.txt': 'a\n' }, 'rsb-jobs-before-')
    const receiver = await startReceiver()
    onTestFinished(() => receiver.close())
    const hooksLog = path.join(t, 'hooks.log')
    const config = await writeConfig(
      t,
      [
        '[jobs.first]',
        `source = ${toml(path.join(t, 'source'))}`,
        `destination = ${toml(path.join(t, 'store/latest'))}`,
        'sudo = false',
        'notifications = false',
        `webhook = ${toml(`${receiver.url}/p/first`)}`,
        `before = ${toml(`echo "the disk is not there" >&2; echo before >> ${shellQuote(hooksLog)}; exit 7`)}`,
        `on-failure = ${toml(`echo "on-failure $RSB_STATUS $RSB_EXIT_CODE" >> ${shellQuote(hooksLog)}`)}`,
        `after = ${toml(`echo "after $RSB_STATUS" >> ${shellQuote(hooksLog)}`)}`,
        '[jobs.second]',
        `source = ${toml(path.join(t, 'source'))}`,
        `destination = ${toml(path.join(t, 'store2/latest'))}`,
        'sudo = false',
        'notifications = false',
      ].join('\n'),
    )
    const run = await runRsb(['run', '--json', `--config=${config}`])
    expect(run.code, run.stderr).toBe(1)
    const document = JSON.parse(run.stdout) as {
      jobs: { job: string; status: string; exitCode: number; reason: string; hooks: unknown[] }[]
    }
    expect(document.jobs.map((j) => [j.job, j.status, j.exitCode])).toEqual([
      ['first', 'skipped', 1],
      ['second', 'success', 0],
    ])
    expect(document.jobs[0]!.reason).toBe('the before hook failed (exit 7)')
    expect(run.stderr).toContain('[first before] the disk is not there')
    await expect(fs.stat(path.join(t, 'store'))).rejects.toThrow()
    expect(await snapshotsIn(path.join(t, 'store2'))).toHaveLength(1)
    expect((await fs.readFile(hooksLog, 'utf8')).trimEnd().split('\n')).toEqual(['before', 'on-failure failure 1', 'after failure'])
    // no start ping for a job that never started; its failure is pinged
    expect(receiver.pings.map((p) => p.url)).toEqual(['/p/first/fail'])
    expect(receiver.pings[0]!.body).toMatchObject({ job: 'first', status: 'skipped', reason: 'the before hook failed (exit 7)' })
  }, 60_000)

  it('--dry-run runs no hook, sends no alert (webhook, mail, syslog) and writes nothing', async () => {
    const t = await testdir({ 'source/a.txt': 'a\n' }, 'rsb-jobs-dry-')
    const receiver = await startReceiver()
    onTestFinished(() => receiver.close())
    const syslog = await startSyslogReceiver()
    const mails = path.join(t, 'mails')
    const bin = path.join(t, 'bin')
    await writeProgram(bin, 'sendmail', `cat >> ${shellQuote(mails)}`)
    const marker = path.join(t, 'hook-ran')
    const config = await writeConfig(
      t,
      [
        '[jobs.only]',
        `source = ${toml(path.join(t, 'source'))}`,
        `destination = ${toml(path.join(t, 'store/latest'))}`,
        'sudo = false',
        `webhook = ${toml(`${receiver.url}/p`)}`,
        'mail-to = "ops@example.org"',
        'mail-on-success = true',
        'syslog = true',
        `before = ${toml(`touch ${shellQuote(marker)}`)}`,
        `after = ${toml(`touch ${shellQuote(marker)}`)}`,
      ].join('\n'),
    )
    const run = await runRsb(['run', '-n', `--config=${config}`, 'only'], { path: [bin], env: { RSB_SYSLOG_SOCKET: syslog.socket } })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^only: ok \(dry run\)/)
    expect(run.stderr).toContain('dry run: the before hook would run')
    expect(receiver.pings).toEqual([])
    await expect(fs.stat(mails)).rejects.toThrow()
    await expect(fs.stat(marker)).rejects.toThrow()
    await expect(fs.stat(path.join(t, 'store'))).rejects.toThrow()
    // the same job for real sends on every channel: the dry run's silence is not an unreachable receiver
    const real = await runRsb(['run', `--config=${config}`, 'only'], { path: [bin], env: { RSB_SYSLOG_SOCKET: syslog.socket } })
    expect(real.code, real.stderr).toBe(0)
    expect(receiver.pings.map((p) => p.url)).toEqual(['/p/start', '/p'])
    expect(await fs.readFile(mails, 'utf8')).toMatch(/^Subject: .*only: backup succeeded/m)
    expect((await syslog.waitFor(2)).map((line) => /job only: backup (\w+)/.exec(line)?.[1])).toEqual(['started', 'succeeded'])
    await new Promise((r) => setTimeout(r, 300))
    expect(syslog.messages).toHaveLength(2)
  }, 60_000)

  it('--dry-run writes nothing and runs no hook', async () => {
    const t = await testdir({ 'source/a.txt': 'a\n' }, 'rsb-jobs-dry-nothing-')
    const marker = path.join(t, 'hook-ran')
    const config = await writeConfig(
      t,
      [
        '[jobs.only]',
        `source = ${toml(path.join(t, 'source'))}`,
        `destination = ${toml(path.join(t, 'store/latest'))}`,
        'sudo = false',
        `before = ${toml(`touch ${shellQuote(marker)}`)}`,
        `after = ${toml(`touch ${shellQuote(marker)}`)}`,
      ].join('\n'),
    )
    const run = await runRsb(['run', '--dry-run', `--config=${config}`])
    expect(run.code, run.stderr).toBe(0)
    await expect(fs.stat(marker)).rejects.toThrow()
    await expect(fs.stat(path.join(t, 'store'))).rejects.toThrow()
  }, 60_000)

  it('an unknown job, a broken or unsafe configuration file: exit 2, nothing runs', async () => {
    const t = await testdir({ 'source/a.txt': 'a\n' }, 'rsb-jobs-refused-')
    const config = await writeConfig(
      t,
      `[jobs.a]\nsource = ${toml(path.join(t, 'source'))}\ndestination = ${toml(path.join(t, 'store/latest'))}\n`,
    )
    const unknown = await runRsb(['run', `--config=${config}`, 'b'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('(ERR_RSB_CLI_JOB_UNKNOWN)')
    await fs.chmod(config, 0o666)
    const unsafe = await runRsb(['run', `--config=${config}`])
    expect(unsafe.code).toBe(2)
    expect(unsafe.stderr).toContain('(ERR_RSB_CLI_CONFIG_UNSAFE)')
    await fs.chmod(config, 0o644)
    await fs.appendFile(config, 'rotaton = "daily=1"\n')
    const broken = await runRsb(['run', `--config=${config}`])
    expect(broken.code).toBe(2)
    expect(broken.stderr).toContain(`${config}:4: jobs.a.rotaton: unknown key 'rotaton' in [jobs.a] (did you mean 'rotation'?)`)
    const missing = await runRsb(['run', `--config=${path.join(t, 'none.toml')}`])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('(ERR_RSB_CLI_CONFIG_MISSING)')
    await expect(fs.stat(path.join(t, 'store'))).rejects.toThrow()
  }, 60_000)

  it.skipIf(!isRoot)(
    'a configuration file another user could change is refused (needs root: chown), also through a directory above it',
    async () => {
      const t = await testdir({ 'source/a.txt': 'a\n' }, 'rsb-jobs-owner-')
      await fs.chmod(t, 0o755)
      const text = `[jobs.a]\nsource = ${toml(path.join(t, 'source'))}\ndestination = ${toml(path.join(t, 'store/latest'))}\nsudo = false\n`
      const nested = path.join(t, 'above/conf')
      await fs.mkdir(nested, { recursive: true, mode: 0o755 })
      const file = path.join(nested, 'rsb.toml')
      await fs.writeFile(file, text, { mode: 0o644 })
      const refused = async (expected: string) => {
        const run = await runRsb(['run', `--config=${file}`])
        expect(run.code, run.stderr).toBe(2)
        expect(run.stderr).toContain(expected)
        expect(run.stderr).toContain('(ERR_RSB_CLI_CONFIG_UNSAFE)')
        const check = await runRsb(['config', 'check', `--config=${file}`])
        expect(check.code).toBe(1)
        expect(check.stderr).toContain(expected)
        await expect(fs.stat(path.join(t, 'store'))).rejects.toThrow()
      }
      expect((await runRsb(['config', 'check', `--config=${file}`])).code).toBe(0)
      await fs.chown(file, 65534, 65534)
      await refused(`The configuration file ${file} belongs to user 65534`)
      await fs.chown(file, 0, 0)
      await fs.chmod(nested, 0o775)
      await refused(`The configuration directory ${nested} may be written by its group`)
      await fs.chmod(nested, 0o755)
      await fs.chown(path.join(t, 'above'), 65534, 65534)
      await refused(`The configuration directory ${path.join(t, 'above')} belongs to user 65534`)
      await fs.chown(path.join(t, 'above'), 0, 0)
      const link = path.join(t, 'link.toml')
      await fs.symlink(file, link)
      const viaLink = await runRsb(['run', `--config=${link}`])
      expect(viaLink.code).toBe(2)
      expect(viaLink.stderr).toContain(`The configuration file ${link} is a symbolic link. (ERR_RSB_CLI_CONFIG_UNSAFE)`)
      expect((await runRsb(['run', `--config=${file}`])).code).toBe(0)
    },
    60_000,
  )

  it('rsb config check on broken files: each problem as FILE:LINE: KEY: MESSAGE on stderr (also --json), exit 1', async () => {
    const t = await testdir({}, 'rsb-config-check-')
    await fs.chmod(t, 0o755)
    const job = '[jobs.a]\ndestination = "/srv/b/a/latest"\n'
    const cases: [string, string, string][] = [
      ['schedule', `${job}schedule = "every tuesday"\n`, ':3: jobs.a.schedule: '],
      ['toml', `${job}rotation = "daily=7\n`, ':3: jobs.a.rotation: not valid TOML'],
      ['unknown', `${job}exclud = ["x"]\n`, ":3: jobs.a.exclud: unknown key 'exclud' in [jobs.a] (did you mean 'exclude'?)."],
      ['type', `${job}keep-latest = "2"\n`, ':3: jobs.a.keep-latest: must be a whole number from 0.'],
      ['value', `${job}ionice = "lazy"\n`, ':3: jobs.a.ionice: '],
      [
        'store',
        `${job}[jobs.b]\ndestination = "/srv/b/a/other"\n`,
        ":4: jobs.b.destination: jobs 'a' and 'b' write into one store (/srv/b/a)",
      ],
      ['defaults', `[defaults]\ntimeout = "soon"\n${job}`, ':2: defaults.timeout: '],
      ['source', `${job}source = "home"\n`, ':3: jobs.a.source: a source must be an absolute path'],
      ['webhook', `${job}webhook = "hc-ping.com/uuid"\n`, ':3: jobs.a.webhook: '],
      ['mail', `${job}mail-to = "ops at example.org"\n`, ':3: jobs.a.mail-to: '],
    ]
    for (const [name, text, expected] of cases) {
      const file = path.join(t, `${name}.toml`)
      await fs.writeFile(file, text, { mode: 0o644 })
      const result = await runRsb(['config', 'check', `--config=${file}`])
      expect(result.code, name).toBe(1)
      expect(result.stderr.startsWith(`${file}${expected}`), `${name}: ${result.stderr}`).toBe(true)
      expect(result.stderr).toMatch(/\nrsb: error: .*: 1 problem \(ERR_RSB_CLI_CONFIG_INVALID\)\n$/)
      const json = await runRsb(['config', 'check', '--json', `--config=${file}`])
      const document = JSON.parse(json.stdout) as { valid: boolean; problems: { file: string; line: number; key: string }[] }
      expect(document.valid).toBe(false)
      expect(`${document.problems[0]!.file}:${document.problems[0]!.line}: ${document.problems[0]!.key}: `).toBe(
        `${file}${expected.split(': ').slice(0, 2).join(': ')}: `,
      )
    }
  }, 60_000)

  it('SIGTERM during a before hook: the hook and what it started stop, the after hook and the failure alert still run, no other job starts (exit 143)', async () => {
    const t = await testdir({ 'source/a.txt': 'a\n' }, 'rsb-jobs-term-')
    const receiver = await startReceiver()
    onTestFinished(() => receiver.close())
    const marker = `${30_000 + Math.floor(Math.random() * 10_000)}.5`
    const pidFile = path.join(t, 'hook.pid')
    const hooksLog = path.join(t, 'hooks.log')
    const config = await writeConfig(
      t,
      [
        '[defaults]',
        'sudo = false',
        'notifications = false',
        `source = ${toml(path.join(t, 'source'))}`,
        `after = ${toml(`echo "after $RSB_JOB $RSB_STATUS" >> ${shellQuote(hooksLog)}`)}`,
        '[jobs.first]',
        `destination = ${toml(path.join(t, 'first/latest'))}`,
        `webhook = ${toml(`${receiver.url}/p/first`)}`,
        `before = ${toml(`echo $$ > ${shellQuote(pidFile)}; sleep ${marker} & wait`)}`,
        '[jobs.second]',
        `destination = ${toml(path.join(t, 'second/latest'))}`,
      ].join('\n'),
    )
    const rsb = startRsb(['run', `--config=${config}`])
    await eventually(async () => ((await fs.readFile(pidFile, 'utf8').catch(() => '')) !== '' ? true : undefined), 'the hook')
    rsb.child.kill('SIGTERM')
    const result = await rsb.done
    expect(result.code, result.stderr).toBe(143)
    expect((await processes()).filter((p) => p.argv.includes(marker))).toEqual([])
    await expect(fs.stat(path.join(t, 'first'))).rejects.toThrow()
    await expect(fs.stat(path.join(t, 'second'))).rejects.toThrow()
    expect(result.stdout).toBe('first: SKIPPED: stopped by SIGTERM: the before hook was stopped\n')
    expect(await fs.readFile(hooksLog, 'utf8')).toBe('after first failure\n')
    expect(receiver.pings.map((p) => p.url)).toEqual(['/p/first/fail'])
  }, 60_000)

  it('SIGTERM during the backup: rsync stops, no snapshot, the after hook runs with the failure (exit 143)', async () => {
    const t = await testdir({}, 'rsb-jobs-term-backup-')
    await fs.mkdir(path.join(t, 'source'))
    await fs.writeFile(path.join(t, 'source/big.bin'), Buffer.alloc(8 * 1024 * 1024, 7))
    const hooksLog = path.join(t, 'hooks.log')
    const config = await writeConfig(
      t,
      [
        '[jobs.slow]',
        'sudo = false',
        'notifications = false',
        `source = ${toml(path.join(t, 'source'))}`,
        `destination = ${toml(path.join(t, 'store/latest'))}`,
        'rsync-option = ["--bwlimit=256"]',
        `after = ${toml(`echo "after $RSB_STATUS $RSB_EXIT_CODE" >> ${shellQuote(hooksLog)}`)}`,
      ].join('\n'),
    )
    const rsb = startRsb(['run', `--config=${config}`])
    await rsb.waitForStderr('Creating system backup using rsync')
    await new Promise((r) => setTimeout(r, 500))
    rsb.child.kill('SIGTERM')
    const result = await rsb.done
    expect(result.code, result.stderr).toBe(143)
    expect(await snapshotsIn(path.join(t, 'store'))).toEqual([])
    expect(await fs.readFile(hooksLog, 'utf8')).toBe('after failure 143\n')
    expect(result.stdout).toMatch(/^slow: FAILED \(exit 143\): stopped by SIGTERM/)
  }, 60_000)

  it('one run of a job at a time: a second rsb run of a job at work is skipped, runs none of its hooks and alerts nothing', async () => {
    const t = await testdir({ 'source/a.txt': 'a\n' }, 'rsb-jobs-lock-')
    const receiver = await startReceiver()
    onTestFinished(() => receiver.close())
    const hooksLog = path.join(t, 'hooks.log')
    const go = path.join(t, 'go')
    const config = await writeConfig(
      t,
      [
        '[jobs.home]',
        'sudo = false',
        'notifications = false',
        `source = ${toml(path.join(t, 'source'))}`,
        `destination = ${toml(path.join(t, 'store/latest'))}`,
        `webhook = ${toml(`${receiver.url}/p/home`)}`,
        `before = ${toml(`echo before >> ${shellQuote(hooksLog)}; while [ ! -e ${shellQuote(go)} ]; do sleep 0.1; done`)}`,
        `after = ${toml(`echo after >> ${shellQuote(hooksLog)}`)}`,
      ].join('\n'),
    )
    const first = startRsb(['run', `--config=${config}`])
    onTestFinished(() => {
      if (first.child.exitCode === null) first.child.kill('SIGKILL')
    })
    await eventually(async () => ((await fs.readFile(hooksLog, 'utf8').catch(() => '')) === 'before\n' ? true : undefined), 'the first run')
    const second = await runRsb(['run', `--config=${config}`, 'home'])
    expect(second.code, second.stderr).toBe(1)
    expect(second.stdout).toMatch(/^home: SKIPPED: Another rsb run \(.*\) is working on job home\. \(ERR_RSB_CLI_LOCKED\)/)
    expect(await fs.readFile(hooksLog, 'utf8')).toBe('before\n')
    expect(receiver.pings.map((p) => p.url)).toEqual([])
    await fs.writeFile(go, '')
    const result = await first.done
    expect(result.code, result.stderr).toBe(0)
    expect(await fs.readFile(hooksLog, 'utf8')).toBe('before\nafter\n')
    expect(receiver.pings.map((p) => p.url)).toEqual(['/p/home/start', '/p/home'])
  }, 60_000)

  it('--report-failure (systemd OnFailure=): alerts for a unit that failed without rsb reporting it, none when rsb did', async () => {
    const t = await testdir({ 'source/a.txt': 'a\n' }, 'rsb-jobs-report-')
    const receiver = await startReceiver()
    onTestFinished(() => receiver.close())
    const mails = path.join(t, 'mails')
    const bin = path.join(t, 'bin')
    await writeProgram(bin, 'sendmail', `cat >> ${shellQuote(mails)}`)
    const config = await writeConfig(
      t,
      [
        '[jobs.home]',
        `source = ${toml(path.join(t, 'source'))}`,
        `destination = ${toml(path.join(t, 'store/latest'))}`,
        `webhook = ${toml(`${receiver.url}/p/home`)}`,
        'mail-to = "ops@example.org"',
      ].join('\n'),
    )
    const reported = await runRsb(['run', `--config=${config}`, '--report-failure', 'home'], {
      env: { MONITOR_SERVICE_RESULT: 'exit-code', MONITOR_EXIT_STATUS: '1', MONITOR_UNIT: 'rsb-home.service' },
      path: [bin],
    })
    expect(reported.code, reported.stderr).toBe(0)
    expect(receiver.pings).toEqual([])
    const killed = await runRsb(['run', `--config=${config}`, '--report-failure', 'home'], {
      env: { MONITOR_SERVICE_RESULT: 'signal', MONITOR_EXIT_STATUS: 'KILL', MONITOR_UNIT: 'rsb-home.service' },
      path: [bin],
    })
    expect(killed.code, killed.stderr).toBe(0)
    expect(receiver.pings.map((p) => p.url)).toEqual(['/p/home/fail'])
    expect(receiver.pings[0]!.body).toMatchObject({
      job: 'home',
      status: 'failure',
      result: 'signal',
      exitStatus: 'KILL',
      unit: 'rsb-home.service',
    })
    const mail = await fs.readFile(mails, 'utf8')
    expect(mail).toMatch(/^Subject: .*home: backup failed/m)
    expect(mail).toContain('rsb-home.service: the unit failed (signal, exit status KILL)')
  }, 60_000)
})

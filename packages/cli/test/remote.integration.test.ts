// End-to-end tests of the built `rsb` against real servers on 127.0.0.1: an sshd (SSH destinations, the
// tunnel) and rsync daemons (push, post-xfer exec running `rsb --snapshot --rotate`). Needs root.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import {
  isRoot,
  runChecked,
  startRsyncDaemon,
  startServer,
  startSshd,
  stopProcess,
  testdir,
  waitForPort,
  type SshServer,
} from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { BIN, HOSTILE_NAME, createSource, processes, runRsb, snapshotsIn, startRsb, verifyDestination } from './helpers.ts'

const QUIET = ['--no-sudo', '--disable-notifications']

/** Whether this runs on CI (`$CI` set, and not to `false` or `0`). */
const ON_CI = (process.env.CI ?? '') !== '' && !/^(false|0)$/i.test(process.env.CI ?? '')

/** Polls until `check` holds (the daemon runs post-xfer exec after the client has gone). */
async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The post-xfer exec line that runs the built rsb on the server side. */
function postXferExec(log: string): string {
  return `${process.execPath} ${BIN} --snapshot --rotate --no-sudo --disable-notifications >> ${log} 2>&1`
}

describe.skipIf(!isRoot)('SSH destinations (needs root: sshd on 127.0.0.1)', () => {
  let server: SshServer
  beforeAll(async () => {
    server = await startSshd()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('backup, snapshot and rotation on the remote side, all of rsb’s remote commands over one SSH connection', async () => {
    const t = await testdir({ 'backups/2024-01-01 00:00:00/a': 'a', 'backups/2024-01-01 00:30:00/a': 'a' })
    await createSource(path.join(t, 'source'))
    const before = await server.connectionCount()
    const result = await runRsb(['--json', ...QUIET, path.join(t, 'source'), `${server.alias}:${t}/backups/latest`], {
      env: { RSYNC_RSH: server.rsyncRsh },
    })
    expect(result.stderr).toContain('Creating snapshot:')
    expect(result.code).toBe(0)
    await verifyDestination(path.join(t, 'backups/latest'))
    const snapshots = await snapshotsIn(path.join(t, 'backups'))
    expect(snapshots).toHaveLength(2)
    expect(snapshots[0]).toBe('2024-01-01 00:00:00')
    expect(JSON.parse(result.stdout).rotation.deleted).toEqual([`${t}/backups/2024-01-01 00:30:00`])
    // one login for rsync's own ssh, one for every command rsb ran
    expect((await server.connectionCount()) - before).toBe(2)
  })

  it('an unknown host key is refused with a clear error before anything is transferred', async () => {
    const t = await testdir({ known_hosts: '' })
    await createSource(path.join(t, 'source'))
    const config = await server.writeSshConfig({ alias: 'rsb-unknown-host', knownHostsFile: path.join(t, 'known_hosts') })
    const result = await runRsb([...QUIET, path.join(t, 'source'), `rsb-unknown-host:${t}/backups/latest`], {
      env: { RSYNC_RSH: `ssh -F ${config}` },
    })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('(ERR_RSB_EXEC_HOST_KEY_UNKNOWN)')
    expect(result.stderr).not.toContain('Creating system backup')
    await expect(fs.stat(path.join(t, 'backups'))).rejects.toThrow()
  })

  it('a changed host key is refused', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    await runChecked('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', path.join(t, 'other_key')])
    const other = (await fs.readFile(path.join(t, 'other_key.pub'), 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ')
    await fs.writeFile(path.join(t, 'known_hosts'), `[127.0.0.1]:${server.port} ${other}\n`)
    const config = await server.writeSshConfig({ alias: 'rsb-changed-host', knownHostsFile: path.join(t, 'known_hosts') })
    const result = await runRsb([...QUIET, path.join(t, 'source'), `rsb-changed-host:${t}/backups/latest`], {
      env: { RSYNC_RSH: `ssh -F ${config}` },
    })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('(ERR_RSB_EXEC_HOST_KEY_MISMATCH)')
    await expect(fs.stat(path.join(t, 'backups'))).rejects.toThrow()
  })

  it('~ in an SSH destination is resolved on the server as rsync does: the snapshots land beside the real latest, not in a literal ~', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const home = (await runChecked('sh', ['-c', `getent passwd ${server.user} | cut -d: -f6`])).trim()
    const name = `rsb-tilde-test-${process.pid}-${Date.now()}`
    onTestFinished(() => fs.rm(path.join(home, name), { recursive: true, force: true }))
    onTestFinished(() => fs.rm(path.join(home, '~'), { recursive: true, force: true }))
    for (const spelling of [`~/${name}/latest`, `~${server.user}/${name}/latest`]) {
      const result = await runRsb([...QUIET, '--keep-latest=5', path.join(t, 'source'), `${server.alias}:${spelling}`], {
        env: { RSYNC_RSH: server.rsyncRsh },
      })
      expect(result.code, result.stderr).toBe(0)
      await new Promise((r) => setTimeout(r, 1000))
    }
    await verifyDestination(path.join(home, name, 'latest'))
    const snapshots = await snapshotsIn(path.join(home, name))
    expect(snapshots).toHaveLength(2)
    for (const snapshot of snapshots) await verifyDestination(path.join(home, name, snapshot))
    await expect(fs.stat(path.join(home, '~'))).rejects.toThrow()
  })

  it('a refusal over SSH changes nothing on the server (the store given as DESTINATION)', async () => {
    const t = await testdir({ 'backups/2024-01-01 00:00:00/a': 'a', 'backups/latest/a': 'a' })
    await createSource(path.join(t, 'source'))
    const result = await runRsb([...QUIET, path.join(t, 'source'), `${server.alias}:${t}/backups`], { env: { RSYNC_RSH: server.rsyncRsh } })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('(ERR_RSB_CLI_DESTINATION_IS_STORE)')
    expect(result.stderr).toContain(`Did you mean ${t}/backups/latest?`)
    expect((await fs.readdir(path.join(t, 'backups'))).sort()).toEqual(['2024-01-01 00:00:00', 'latest'])
  })

  it(
    'a server whose rsync stops (SIGSTOP) ends the run within --timeout + 10 s: exit 1, ERR_RSB_RSYNC_TIMEOUT',
    { timeout: 60_000 },
    async () => {
      const t = await testdir()
      await fs.mkdir(path.join(t, 'source'))
      await fs.writeFile(path.join(t, 'source/big.bin'), Buffer.alloc(16 * 1024 * 1024, 5))
      const run = startRsb(
        [...QUIET, '--timeout=3', '--rsync-option=--bwlimit=2000', path.join(t, 'source'), `${server.alias}:${t}/backups/latest`],
        {
          env: { RSYNC_RSH: server.rsyncRsh },
        },
      )
      await run.waitForStderr('Creating system backup using rsync')
      // every process of the server's rsync: the receiver forks its generator, maybe after the first look (a loaded
      // machine), and a generator left running sends keep-alives that keep the client from timing out
      const stopped: number[] = []
      let lastFound = -1
      for (let attempt = 0; attempt < 80 && (stopped.length === 0 || attempt - lastFound < 15); attempt++) {
        await new Promise((r) => setTimeout(r, 100))
        for (const { pid, argv } of await processes()) {
          if (stopped.includes(pid)) continue
          if (argv[0] === 'rsync' && argv[1] === '--server' && argv.some((a) => a.includes(`${t}/backups/latest`))) {
            process.kill(pid, 'SIGSTOP')
            stopped.push(pid)
            lastFound = attempt
          }
        }
      }
      onTestFinished(() => {
        for (const pid of stopped) {
          try {
            process.kill(pid, 'SIGKILL')
          } catch {
            // gone
          }
        }
      })
      expect(stopped.length).toBe(2)
      const started = performance.now()
      const result = await run.done
      expect((performance.now() - started) / 1000).toBeLessThan(13)
      expect(result.code, result.stderr).toBe(1)
      expect(result.stderr).toContain('(ERR_RSB_RSYNC_TIMEOUT)')
      expect(await snapshotsIn(path.join(t, 'backups'))).toEqual([])
    },
  )

  it('names with spaces, quotes and $() over SSH', async () => {
    const t = await testdir()
    const source = path.join(t, `src ${HOSTILE_NAME}`)
    await createSource(source)
    const parent = path.join(t, `dest ${HOSTILE_NAME}`)
    const result = await runRsb([...QUIET, source, `${server.alias}:${parent}/latest`], { env: { RSYNC_RSH: server.rsyncRsh }, cwd: t })
    expect(result.code).toBe(0)
    await verifyDestination(path.join(parent, 'latest'))
    expect(await snapshotsIn(parent)).toHaveLength(1)
    expect(await fs.readdir(t)).not.toContain('pwned')
    expect(await fs.readdir(t)).not.toContain('pwned2')
    expect(await fs.readdir(process.env.HOME ?? '/root')).not.toContain('pwned')
  })
})

describe.skipIf(!isRoot)('rsync daemon destinations (needs root: rsync --daemon on 127.0.0.1)', () => {
  it.each([
    ['empty', 'ERR_RSB_CLI_SOURCE_EMPTY'],
    ['missing', 'ERR_RSB_CLI_SOURCE_MISSING'],
  ])('an %s SOURCE is refused before anything reaches the daemon (its latest keeps its files)', async (kind, code) => {
    const t = await testdir({ 'server/m/latest/keep': 'keep' })
    if (kind === 'empty') await fs.mkdir(path.join(t, 'source'))
    const daemon = await startRsyncDaemon({ modules: { m: { path: path.join(t, 'server/m/latest') } } })
    onTestFinished(() => daemon.stop())
    const result = await runRsb([...QUIET, path.join(t, 'source'), `rsync://127.0.0.1:${daemon.port}/m`])
    expect(result.code, result.stderr).toBe(1)
    expect(result.stderr).toContain(`(${code})`)
    expect(await fs.readdir(path.join(t, 'server/m/latest'))).toEqual(['keep'])
  })

  it(
    'a daemon that accepts and never answers ends the run within --timeout + 10 s: exit 1, ERR_RSB_RSYNC_TIMEOUT, lock released',
    { timeout: 60_000 },
    async () => {
      const t = await testdir({ 'source/a': 'a' })
      const sockets: net.Socket[] = []
      const silent = net.createServer((socket) => sockets.push(socket))
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
      onTestFinished(async () => {
        for (const socket of sockets) socket.destroy()
        await new Promise((resolve) => silent.close(resolve))
      })
      const port = (silent.address() as net.AddressInfo).port
      const args = [...QUIET, '--timeout=3', path.join(t, 'source'), `rsync://127.0.0.1:${port}/m`]
      const started = performance.now()
      const result = await runRsb(args)
      const seconds = (performance.now() - started) / 1000
      expect(result.code, result.stderr).toBe(1)
      expect(result.stderr).toContain('(ERR_RSB_RSYNC_TIMEOUT)')
      expect(seconds).toBeLessThan(13)
      // the lock was released: the next run fails the same way, not with ERR_RSB_CLI_LOCKED
      expect((await runRsb(args)).stderr).not.toContain('ERR_RSB_CLI_LOCKED')
    },
  )

  it(
    'the post-xfer exec snapshots only a push that succeeded: one killed half-way makes none, a good one exactly one',
    { timeout: 60_000 },
    async () => {
      const t = await testdir()
      await fs.mkdir(path.join(t, 'source'))
      await fs.writeFile(path.join(t, 'source/big.bin'), Buffer.alloc(8 * 1024 * 1024, 1))
      await fs.writeFile(path.join(t, 'source/small.txt'), 'small\n')
      const log = path.join(t, 'post.log')
      const daemon = await startRsyncDaemon({ modules: { m: { path: path.join(t, 'server/latest'), postXferExec: postXferExec(log) } } })
      onTestFinished(() => daemon.stop())
      const url = `rsync://127.0.0.1:${daemon.port}/m/`
      // a push killed half-way: the server's transfer ends with a non-zero status
      const killed = spawn('rsync', ['-a', '--bwlimit=1000', `${path.join(t, 'source')}/`, url], { stdio: 'ignore' })
      await new Promise((r) => setTimeout(r, 1500))
      killed.kill('SIGKILL')
      await new Promise((r) => killed.once('close', r))
      const warned = await eventually(async () => {
        const text = await fs.readFile(log, 'utf8').catch(() => '')
        return text.includes('RSYNC_EXIT_STATUS') ? text : undefined
      })
      expect(warned).toMatch(/ended with status [1-9]\d* \(\$RSYNC_EXIT_STATUS\): no snapshot and no rotation/)
      expect(await snapshotsIn(path.join(t, 'server'))).toEqual([])
      // a good push
      await runChecked('rsync', ['-a', `${path.join(t, 'source')}/`, url])
      const snapshots = await eventually(async () => {
        const found = await snapshotsIn(path.join(t, 'server'))
        return found.length > 0 ? found : undefined
      })
      expect(snapshots).toHaveLength(1)
      expect((await fs.stat(path.join(t, 'server', snapshots[0] as string, 'big.bin'))).size).toBe(8 * 1024 * 1024)
    },
  )

  it('pushing into mod/dir of a daemon whose post-xfer exec runs rsb --snapshot --rotate leaves snapshots on the server', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const daemon = await startRsyncDaemon({
      modules: { laptop: { path: path.join(t, 'server/laptop'), postXferExec: postXferExec(path.join(t, 'post.log')) } },
    })
    onTestFinished(() => daemon.stop())
    await fs.mkdir(path.join(t, 'server/laptop/latest'), { recursive: true })
    // the daemon's post-xfer exec gets the module path; rsb snapshots the module's directory itself
    const result = await runRsb([...QUIET, path.join(t, 'source'), `rsync://127.0.0.1:${daemon.port}/laptop/latest`])
    expect(result.code).toBe(0)
    expect(result.stderr).toContain("snapshots and rotation run on the server, from the module's post-xfer exec")
    await verifyDestination(path.join(t, 'server/laptop/latest'))
    const snapshots = await eventually(async () => {
      const found = await snapshotsIn(path.join(t, 'server'))
      return found.length > 0 ? found : undefined
    })
    expect(snapshots).toHaveLength(1)
    await verifyDestination(path.join(t, 'server', snapshots[0] as string, 'latest'))
  })

  it('-t: the same through an SSH tunnel to the daemon on port 873 of the SSH server', async (context) => {
    // the tunnel's remote port is fixed (873). CI machines have it free, so there a busy port is a failure;
    // elsewhere the test is skipped (not passed) when something else holds it
    if (!(await portFree(873))) {
      if (ON_CI) throw new Error(`127.0.0.1:873 is in use (CI=${process.env.CI}): the -t test needs the rsync daemon port free on CI`)
      context.skip('127.0.0.1:873 is in use on this machine (another rsync daemon?); the -t tunnel test needs it and was not run')
    }
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const server = await startSshd()
    onTestFinished(() => server.stop())
    const daemon = await startDaemonOn873(t)
    onTestFinished(() => stopProcess(daemon))
    const result = await runRsb([...QUIET, '-t', server.alias, path.join(t, 'source'), 'localhost::laptop'], {
      env: { RSB_SSH_CONFIG: server.sshConfigFile },
    })
    expect(result.code).toBe(0)
    await verifyDestination(path.join(t, 'module/latest'))
    const snapshots = await eventually(async () => {
      const found = await snapshotsIn(path.join(t, 'module'))
      return found.length > 0 ? found : undefined
    })
    expect(snapshots).toHaveLength(1)
  })
})

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer()
    probe.once('error', () => resolve(false))
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)))
  })
}

/** An rsync daemon on 127.0.0.1:873 (the tunnel's fixed remote port) with module `laptop` → T/module/latest. */
async function startDaemonOn873(t: string): Promise<ChildProcess> {
  const config = path.join(t, 'rsyncd.conf')
  await fs.mkdir(path.join(t, 'module/latest'), { recursive: true })
  await fs.writeFile(
    config,
    [
      `pid file = ${t}/rsyncd.pid`,
      `log file = ${t}/rsyncd.log`,
      'use chroot = no',
      'munge symlinks = no',
      '[laptop]',
      `    path = ${t}/module/latest`,
      '    read only = no',
      '    uid = root',
      '    gid = root',
      `    post-xfer exec = ${postXferExec(path.join(t, 'post.log'))}`,
      '',
    ].join('\n'),
  )
  const child = startServer('rsync', ['--daemon', '--no-detach', `--config=${config}`, '--address=127.0.0.1', '--port=873'])
  await waitForPort(873, child)
  return child
}

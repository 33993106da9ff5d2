import fs from 'node:fs/promises'
import path from 'node:path'
import { LocalContext, SshContext } from '@rsb/exec'
import { freePort, isRoot, startRsyncDaemon, startSshd, testdir, type RsyncDaemon, type SshServer } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildRsyncArgs, runRsync, RsyncError, type RsyncEvent } from '../src/index.ts'
import { createSource, listTree, verifyDestination } from './tree.ts'

// Real rsync against a real sshd and a real rsync daemon on 127.0.0.1 (tier 3). The helpers need root.
const describeAsRoot = isRoot ? describe : describe.skip
const context = new LocalContext({ sudo: true, interactive: false })

async function source(): Promise<string> {
  const dir = path.join(await testdir({}, 'rsb-rsync-src-'), 'source')
  await createSource(dir)
  await fs.writeFile(path.join(dir, "a b $(x) 'q'"), 'hostile name')
  return dir
}

describeAsRoot('runRsync local → SSH destination (loopback sshd, as root)', () => {
  let server: SshServer

  beforeAll(async () => {
    server = await startSshd()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('copies the original test tree over SSH (RSYNC_RSH from the caller)', async () => {
    const from = await source()
    const target = path.join(await testdir({}, 'rsb-rsync-ssh-'), 'backups dir', 'latest')
    await fs.mkdir(path.dirname(target))
    const result = await runRsync({
      source: from,
      destination: { kind: 'ssh', username: undefined, hostname: server.alias, directory: target },
      context,
      env: { RSYNC_RSH: server.rsyncRsh },
      stats: true,
    })
    expect(result.argv.at(-1)).toBe(`${server.alias}:${target}/`)
    expect(result.exitCode).toBe(0)
    await verifyDestination(target)
    expect(await listTree(target)).toEqual(await listTree(from))
    expect(result.stats?.files?.total).toBe(5)
  })

  it('propagates deletions over SSH and a dry run changes nothing there', async () => {
    const from = await source()
    const target = path.join(await testdir({}, 'rsb-rsync-ssh-'), 'latest')
    const destination = `${server.alias}:${target}`
    await runRsync({ source: from, destination, context, env: { RSYNC_RSH: server.rsyncRsh } })
    await fs.rm(path.join(from, 'notes.txt'))
    const before = await listTree(target)
    await runRsync({ source: from, destination, context, env: { RSYNC_RSH: server.rsyncRsh }, dryRun: true })
    expect(await listTree(target)).toEqual(before)
    await runRsync({ source: from, destination, context, env: { RSYNC_RSH: server.rsyncRsh } })
    expect(await fs.readdir(target)).not.toContain('notes.txt')
  })

  it('an unreachable SSH host is a typed error naming ssh’s complaint, quickly', async () => {
    const port = await freePort()
    const config = path.join(await testdir({}, 'rsb-rsync-ssh-'), 'ssh_config')
    await fs.writeFile(config, `Host closed\n  HostName 127.0.0.1\n  Port ${port}\n  BatchMode yes\n  ConnectTimeout 5\n`)
    const error = await runRsync({
      source: await source(),
      destination: 'closed:/tmp/x',
      context,
      env: { RSYNC_RSH: `ssh -F ${config}` },
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RsyncError)
    // rsync reports either the data stream (12) or ssh's own status (255), depending on which it notices first
    expect([12, 255]).toContain((error as RsyncError).exitCode)
    expect(['ERR_RSB_RSYNC_DATA_STREAM', 'ERR_RSB_RSYNC_SSH']).toContain((error as RsyncError).code)
    expect((error as RsyncError).message).toContain(`ssh: connect to host 127.0.0.1 port ${port}: Connection refused`)
  })
})

describeAsRoot('runRsync local → rsync daemon on 127.0.0.1 (as root)', () => {
  let daemon: RsyncDaemon
  let modulePath: string

  beforeAll(async () => {
    modulePath = path.join((await fs.mkdtemp('/tmp/rsb-rsync-module-')) as string, 'module')
    daemon = await startRsyncDaemon({ modules: { backups: { path: modulePath } } })
  })
  afterAll(async () => {
    await daemon?.stop()
    if (modulePath) await fs.rm(path.dirname(modulePath), { recursive: true, force: true })
  })

  it('host::module/dir: copies into a directory of the module (symlinks intact)', async () => {
    const from = await source()
    const events: RsyncEvent[] = []
    const result = await runRsync({
      source: from,
      destination: `rsync://127.0.0.1:${daemon.port}/backups/laptop`,
      context,
      progress: true,
      stats: true,
      onEvent: (e) => events.push(e),
    })
    expect(result.argv.at(-1)).toBe(`rsync://127.0.0.1:${daemon.port}/backups/laptop/`)
    await verifyDestination(path.join(modulePath, 'laptop'))
    expect(await listTree(path.join(modulePath, 'laptop'))).toEqual(await listTree(from))
    expect(events.some((e) => e.type === 'progress')).toBe(true)
    expect(result.stats).toMatchObject({ files: { total: 5 }, created: { total: 5 } })
  })

  it('a parsed daemon destination with a port: the module itself', async () => {
    const from = await source()
    await runRsync({
      source: from,
      destination: {
        kind: 'daemon',
        username: undefined,
        hostname: '127.0.0.1',
        port: daemon.port,
        module: 'backups',
        directory: 'direct',
      },
      context,
    })
    await verifyDestination(path.join(modulePath, 'direct'))
  })

  it('an unknown module is ERR_RSB_RSYNC_START with the daemon’s message', async () => {
    const error = await runRsync({ source: await source(), destination: `rsync://127.0.0.1:${daemon.port}/nosuchmodule`, context }).catch(
      (e: unknown) => e,
    )
    expect(error).toMatchObject({
      code: 'ERR_RSB_RSYNC_START',
      exitCode: 5,
      stderrTail: expect.stringContaining("Unknown module 'nosuchmodule'"),
    })
  })

  it('an unreachable daemon (a closed port on 127.0.0.1) is ERR_RSB_RSYNC_SOCKET_IO, not a hang', async () => {
    const port = await freePort()
    const error = await runRsync({ source: await source(), destination: `127.0.0.1::backups`, tunnelPort: port, context }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(RsyncError)
    expect(error).toMatchObject({ code: 'ERR_RSB_RSYNC_SOCKET_IO', exitCode: 10, meaning: 'error in socket I/O' })
    expect((error as RsyncError).message).toContain('Connection refused')
  })

  it('cancelling a daemon transfer stops rsync; the next run completes', async () => {
    const from = await source()
    await fs.writeFile(path.join(from, 'big.bin'), Buffer.alloc(32 * 1024 * 1024, 1))
    const destination = `rsync://127.0.0.1:${daemon.port}/backups/cancelled`
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), 1500)
    const error = await runRsync({ source: from, destination, context, rsyncOptions: ['--bwlimit=4M'], signal: controller.signal }).catch(
      (e: unknown) => e,
    )
    clearTimeout(timer)
    expect(error).toMatchObject({ code: 'ERR_RSB_RSYNC_CANCELLED' })
    await runRsync({ source: from, destination, context })
    expect(await listTree(path.join(modulePath, 'cancelled'))).toEqual(await listTree(from))
  })

  describe('through an SSH tunnel (ssh2 port forwarding)', () => {
    let server: SshServer
    let gateway: SshContext

    beforeAll(async () => {
      server = await startSshd()
      gateway = new SshContext({ host: server.alias, sshConfigFile: server.sshConfigFile })
    })
    afterAll(async () => {
      await gateway?.close()
      await server?.stop()
    })

    it('-t gateway localhost::backups/dir: the destination gets the tunnel’s local port', async () => {
      const from = await source()
      const events: RsyncEvent[] = []
      const result = await runRsync({
        source: from,
        destination: 'localhost::backups/tunnelled',
        tunnel: { context: gateway, remotePort: daemon.port },
        context,
        onEvent: (e) => events.push(e),
      })
      expect(result.tunnelPort).toBeGreaterThan(0)
      expect(result.tunnelPort).not.toBe(daemon.port)
      expect(result.argv.at(-1)).toBe(`rsync://localhost:${result.tunnelPort}/backups/tunnelled/`)
      expect(events[0]).toMatchObject({
        type: 'command',
        argv: buildRsyncArgs({ source: from, destination: 'localhost::backups/tunnelled', tunnelPort: result.tunnelPort }),
      })
      await verifyDestination(path.join(modulePath, 'tunnelled'))
      // the tunnel is closed after rsync
      const retry = await runRsync({
        source: from,
        destination: `rsync://localhost:${result.tunnelPort}/backups/tunnelled`,
        context,
      }).catch((e: unknown) => e)
      expect(retry).toMatchObject({ code: 'ERR_RSB_RSYNC_SOCKET_IO' })
    })

    it('a parsed destination without a port uses the tunnel; an explicit port wins', async () => {
      const from = await source()
      const viaTunnel = await runRsync({
        source: from,
        destination: { kind: 'daemon', hostname: '127.0.0.1', module: 'backups', directory: 'parsed' },
        tunnel: { context: gateway, remotePort: daemon.port, remoteHost: '127.0.0.1' },
        context,
      })
      expect(viaTunnel.argv.at(-1)).toBe(`rsync://127.0.0.1:${viaTunnel.tunnelPort}/backups/parsed/`)
      await verifyDestination(path.join(modulePath, 'parsed'))
      const direct = await runRsync({
        source: from,
        destination: { kind: 'daemon', hostname: '127.0.0.1', port: daemon.port, module: 'backups', directory: 'explicit' },
        tunnel: { context: gateway, remotePort: daemon.port },
        context,
      })
      expect(direct.argv.at(-1)).toBe(`rsync://127.0.0.1:${daemon.port}/backups/explicit/`)
      await verifyDestination(path.join(modulePath, 'explicit'))
    })

    it('a tunnel to a closed remote port fails with the tunnel’s error before rsync runs', async () => {
      const events: RsyncEvent[] = []
      const error = await runRsync({
        source: await source(),
        destination: 'localhost::backups',
        tunnel: { context: gateway, remotePort: await freePort() },
        context,
        onEvent: (e) => events.push(e),
      }).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'ERR_RSB_EXEC_TUNNEL' })
      expect(events).toEqual([])
    })
  })
})

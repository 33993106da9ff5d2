import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSshd, testdir, freePort, type SshServer } from '@rsb/testkit'
import { ExecError, SshContext, openTunnel } from '../src/index.ts'

const HOSTILE_NAMES = [
  'with space',
  "single'quote",
  'double"quote',
  '$(touch pwned)',
  '`touch pwned2`',
  'semi;colon && echo x',
  'new\nline',
  'ünïcødé ✓',
  '-leading-dash',
  '*glob?',
  '\\back\\slash',
]

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('SshContext against a real sshd on 127.0.0.1 (root)', () => {
  let server: SshServer
  let context: SshContext

  beforeAll(async () => {
    server = await startSshd()
    context = new SshContext({ host: server.alias, sshConfigFile: server.sshConfigFile })
  })

  afterAll(async () => {
    await context?.close()
    await server?.stop()
  })

  it('runs commands with status, output and input', async () => {
    const result = await context.run(['sh', '-c', 'echo out; echo err >&2; exit 42'], { check: false })
    expect(result).toMatchObject({ exitCode: 42, stdout: 'out\n', stderr: 'err\n' })
    expect((await context.run(['cat'], { input: 'from stdin' })).stdout).toBe('from stdin')
    await expect(context.run(['false'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_COMMAND_FAILED', exitCode: 1, host: server.alias })
    await expect(context.run(['rsb-no-such-program'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_NOT_FOUND' })
    expect(await context.isPrivileged()).toBe(true)
  })

  it('reuses one connection for every command of the context', async () => {
    const before = await server.connectionCount()
    const own = new SshContext({ host: server.alias, sshConfigFile: server.sshConfigFile })
    try {
      for (let i = 0; i < 5; i++) expect(await own.isDirectory('/')).toBe(true)
      await Promise.all(Array.from({ length: 20 }, () => own.test(['true'])))
      expect(await own.exists('/rsb-nothing-here')).toBe(false)
    } finally {
      await own.close()
    }
    expect((await server.connectionCount()) - before).toBe(1)
  })

  it('creates and finds intact remote files whose names hold shell metacharacters', async () => {
    const dir = await testdir()
    for (const name of HOSTILE_NAMES) {
      const target = path.join(dir, name)
      await context.run(['mkdir', '--', target])
      await context.run(['sh', '-c', 'printf %s "$1" > "$2/content"', 'sh', name, target])
      expect(await context.isDirectory(target)).toBe(true)
      expect(await fs.readFile(path.join(target, 'content'), 'utf8')).toBe(name)
      expect(await context.readFile(path.join(target, 'content'))).toBe(name)
    }
    expect((await context.listEntries(dir)).sort()).toEqual([...HOSTILE_NAMES].sort())
    expect(await fs.readdir(dir)).not.toContain('pwned')
    expect(await fs.readdir(dir)).not.toContain('pwned2')
    await expect(fs.access('/pwned')).rejects.toThrow()
  })

  it('passes environment overrides to the remote command', async () => {
    expect(await context.capture(['sh', '-c', 'echo "[$RSB_X]"'], { env: { RSB_X: "a 'b' $(c)" } })).toBe("[a 'b' $(c)]")
  })

  it('stops a remote command on abort', async () => {
    const dir = await testdir()
    const marker = path.join(dir, 'done')
    const controller = new AbortController()
    const running = context.run(['sh', '-c', 'sleep 30; touch "$1"', 'sh', marker], { signal: controller.signal, killAfterMs: 1000 })
    setTimeout(() => controller.abort(), 300)
    await expect(running).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_ABORTED' })
    await expect(fs.access(marker)).rejects.toThrow()
  })

  it('escalates to SIGKILL when a remote command ignores SIGTERM', async () => {
    const dir = await testdir()
    const pidFile = path.join(dir, 'pid')
    const controller = new AbortController()
    const running = context.run(['sh', '-c', 'echo $$ > "$1"; trap "" TERM; exec sleep 30', 'sh', pidFile], {
      signal: controller.signal,
      killAfterMs: 300,
    })
    setTimeout(() => controller.abort(), 500)
    await expect(running).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_ABORTED' })
    const pid = Number(await fs.readFile(pidFile, 'utf8'))
    // the remote process is gone (SIGKILL reached it), not left running its 30 s
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100))
    expect(alive(pid)).toBe(false)
  })

  it('authenticates with the ssh-agent when no identity file is configured', async () => {
    const dir = await testdir()
    const socket = path.join(dir, 'agent.sock')
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' })
    try {
      for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50))
      const added = spawnSync('ssh-add', [server.clientKeyFile], { env: { ...process.env, SSH_AUTH_SOCK: socket }, encoding: 'utf8' })
      expect(added.status).toBe(0)
      const config = path.join(dir, 'ssh_config')
      await fs.writeFile(
        config,
        `Host agent-only\n  HostName 127.0.0.1\n  Port ${server.port}\n  User root\n  UserKnownHostsFile ${server.knownHostsFile}\n  GlobalKnownHostsFile /dev/null\n  IdentityFile ${path.join(dir, 'no-such-key')}\n`,
      )
      const ctx = new SshContext({ host: 'agent-only', sshConfigFile: config, agent: socket })
      try {
        expect(await ctx.capture(['echo', 'via agent'])).toBe('via agent')
      } finally {
        await ctx.close()
      }
      const without = new SshContext({ host: 'agent-only', sshConfigFile: config, agent: false })
      await expect(without.run(['true'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_SSH_AUTH' })
      await without.close()
    } finally {
      agent.kill()
    }
  })

  it('refuses an unknown host key with a hint, and a changed host key', async () => {
    const dir = await testdir({ empty_known_hosts: '' })
    const unknown = new SshContext({
      host: server.alias,
      sshConfigFile: server.sshConfigFile,
      knownHostsFiles: [path.join(dir, 'empty_known_hosts')],
    })
    const error = await unknown.run(['true']).catch((e: unknown) => e)
    await unknown.close()
    expect(error).toBeInstanceOf(ExecError)
    expect(error).toMatchObject({ code: 'ERR_RSB_EXEC_HOST_KEY_UNKNOWN' })
    expect((error as ExecError).hint).toContain('ssh-keyscan')

    const other = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'other')])
    expect(other.status).toBe(0)
    const otherKey = (await fs.readFile(path.join(dir, 'other.pub'), 'utf8')).split(' ').slice(0, 2).join(' ')
    await fs.writeFile(path.join(dir, 'changed'), `[127.0.0.1]:${server.port} ${otherKey}\n`)
    const changed = new SshContext({
      host: server.alias,
      sshConfigFile: server.sshConfigFile,
      knownHostsFiles: [path.join(dir, 'changed')],
    })
    await expect(changed.run(['true'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_HOST_KEY_MISMATCH' })
    await changed.close()
  })

  it('StrictHostKeyChecking accept-new: a host whose known key is of another type is a changed key, never a new one (OpenSSH refuses it too)', async () => {
    const dir = await testdir()
    const other = spawnSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', path.join(dir, 'other')])
    expect(other.status).toBe(0)
    const otherKey = (await fs.readFile(path.join(dir, 'other.pub'), 'utf8')).split(' ').slice(0, 2).join(' ')
    const knownHosts = path.join(dir, 'known_hosts')
    await fs.writeFile(knownHosts, `[127.0.0.1]:${server.port} ${otherKey}\n`)
    const config = await server.writeSshConfig({ alias: 'rsb-other-type', knownHostsFile: knownHosts })
    await fs.writeFile(config, (await fs.readFile(config, 'utf8')).replace('StrictHostKeyChecking yes', 'StrictHostKeyChecking accept-new'))
    const context = new SshContext({ host: 'rsb-other-type', sshConfigFile: config })
    await expect(context.run(['true'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_HOST_KEY_MISMATCH' })
    await context.close()
    expect(await fs.readFile(knownHosts, 'utf8')).toBe(`[127.0.0.1]:${server.port} ${otherKey}\n`)
  })

  it('accepts a hashed known_hosts entry', async () => {
    const dir = await testdir()
    const file = path.join(dir, 'known_hosts')
    await fs.writeFile(file, `[127.0.0.1]:${server.port} ${server.hostKeyLine}\n`)
    const hashed = spawnSync('ssh-keygen', ['-H', '-f', file], { encoding: 'utf8' })
    expect(hashed.status).toBe(0)
    const text = await fs.readFile(file, 'utf8')
    expect(text).toMatch(/^\|1\|/)
    expect(text).not.toContain('127.0.0.1')
    const ctx = new SshContext({ host: server.alias, sshConfigFile: server.sshConfigFile, knownHostsFiles: [file] })
    try {
      expect(await ctx.test(['true'])).toBe(true)
    } finally {
      await ctx.close()
    }
  })

  it('reports a refused port as a connection error and a rejected key as an authentication error', async () => {
    const port = await freePort()
    const refused = new SshContext({ host: '127.0.0.1', port, user: 'root', sshConfigFile: server.sshConfigFile })
    await expect(refused.run(['true'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_SSH_CONNECT' })
    await refused.close()

    const dir = await testdir()
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'stranger')])
    const stranger = new SshContext({
      host: server.alias,
      sshConfigFile: server.sshConfigFile,
      identityFiles: [path.join(dir, 'stranger')],
      agent: false,
    })
    await expect(stranger.run(['true'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_SSH_AUTH' })
    await stranger.close()
  })

  it('forwards a local port to a remote port over the same connection', async () => {
    const echo = net.createServer((socket) => socket.pipe(socket))
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()))
    const remotePort = (echo.address() as net.AddressInfo).port
    const before = await server.connectionCount()
    const ctx = new SshContext({ host: server.alias, sshConfigFile: server.sshConfigFile })
    try {
      const tunnel = await openTunnel(ctx, remotePort, { remoteHost: '127.0.0.1' })
      expect(tunnel.localPort).toBeGreaterThan(0)
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(tunnel.localPort, '127.0.0.1', () => socket.end('ping through the tunnel'))
        let data = ''
        socket.on('data', (c: Buffer) => (data += c.toString()))
        socket.on('end', () => resolve(data))
        socket.on('error', reject)
      })
      expect(reply).toBe('ping through the tunnel')
      expect(await ctx.test(['true'])).toBe(true)
      await tunnel.close()
    } finally {
      await ctx.close()
      await new Promise<void>((resolve) => echo.close(() => resolve()))
    }
    expect((await server.connectionCount()) - before).toBe(1)
  })

  it('fails to open a tunnel to a closed remote port with ERR_RSB_EXEC_TUNNEL', async () => {
    const closed = await freePort()
    const ctx = new SshContext({ host: server.alias, sshConfigFile: server.sshConfigFile })
    try {
      await expect(openTunnel(ctx, closed, { remoteHost: '127.0.0.1' })).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_TUNNEL' })
    } finally {
      await ctx.close()
    }
  })
})

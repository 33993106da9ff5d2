// SshContext's `sshArgs` (the ssh options of $RSYNC_RSH) against a real sshd on 127.0.0.1: OpenSSH itself
// (`ssh -G`) decides where the connection goes, with ssh's precedence. Needs root and openssh-server.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, isRoot, startSshd, testdir, type SshServer } from '@rsb/testkit'
import { SshContext, parseSshCommand, resolveSshHost } from '../src/index.ts'

describe.skipIf(!isRoot)('SshContext with sshArgs (needs root: sshd on 127.0.0.1)', () => {
  let server: SshServer
  /** An ssh_config whose alias points at a closed port, with a key the server does not know. */
  let wrong: string
  let stranger: string

  beforeAll(async () => {
    server = await startSshd()
    stranger = path.join(server.dir, 'stranger key')
    expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', stranger]).status).toBe(0)
    const closed = await freePort()
    wrong = await server.writeSshConfig({ alias: 'rsb-args', identityFile: `"${stranger}"` })
    await fs.writeFile(wrong, (await fs.readFile(wrong, 'utf8')).replace(`Port ${server.port}`, `Port ${closed}`))
  })
  afterAll(async () => {
    await server?.stop()
  })

  async function whoAmI(context: SshContext): Promise<string> {
    try {
      return await context.capture(['sh', '-c', 'echo "$(id -un) $SSH_CONNECTION"'])
    } finally {
      await context.close()
    }
  }

  it('-p and -i in sshArgs beat the ssh_config, as they do for ssh (without them the config’s closed port is refused)', async () => {
    const plain = new SshContext({ host: 'rsb-args', sshConfigFile: wrong })
    await expect(plain.run(['true'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_SSH_CONNECT' })
    await plain.close()

    const before = await server.connectionCount()
    const context = new SshContext({ host: 'rsb-args', sshArgs: ['-F', wrong, '-p', String(server.port), '-i', server.clientKeyFile] })
    expect(await whoAmI(context)).toMatch(new RegExp(`^root 127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${server.port}$`))
    expect(context.config).toMatchObject({ hostname: '127.0.0.1', port: server.port, user: 'root' })
    expect(context.config?.identityFiles[0]).toBe(server.clientKeyFile)
    expect((await server.connectionCount()) - before).toBe(1)
  })

  it('the -o forms of $RSYNC_RSH (-oPort=…, -o \'IdentityFile "FILE WITH SPACES"\') reach the same server', async () => {
    const dir = await testdir()
    const key = path.join(dir, 'the client key')
    await fs.copyFile(server.clientKeyFile, key)
    await fs.chmod(key, 0o600)
    const rsh = parseSshCommand(`ssh -F ${wrong} -oPort=${server.port} -o 'IdentityFile "${key}"' -o "User root" -vC`)
    expect(rsh.unsupported).toBeUndefined()
    const context = new SshContext({ host: 'rsb-args', sshArgs: rsh.sshArgs })
    expect(await whoAmI(context)).toMatch(/^root /)
    expect(context.config?.identityFiles[0]).toBe(key)
  })

  it('precedence as ssh has it: `user` beats a -l of sshArgs, which beats the user@ of the host', async () => {
    const base = ['-F', server.sshConfigFile]
    expect((await resolveSshHost(`rsb-no-such-user@${server.alias}`, { sshArgs: [...base, '-l', 'root'] })).user).toBe('root')
    expect((await resolveSshHost(`root@${server.alias}`, { sshArgs: [...base, '-l', 'rsb-no-such-user'] })).user).toBe('rsb-no-such-user')
    expect((await resolveSshHost(server.alias, { user: 'root', sshArgs: [...base, '-l', 'rsb-no-such-user'] })).user).toBe('root')
    // ssh takes the first -p / -o Port and the last -F; `port` and `sshConfigFile` beat sshArgs
    expect((await resolveSshHost(server.alias, { sshArgs: [...base, '-p', '1', '-o', 'Port=2'] })).port).toBe(1)
    expect((await resolveSshHost(server.alias, { sshArgs: [...base, '-o', 'Port=2', '-p', '1'] })).port).toBe(2)
    expect((await resolveSshHost(server.alias, { port: 3, sshArgs: [...base, '-p', '1'] })).port).toBe(3)
    const closed = (await resolveSshHost('rsb-args', { configFile: wrong })).port
    expect(closed).not.toBe(server.port)
    expect((await resolveSshHost('rsb-args', { configFile: wrong, sshArgs: ['-F', server.sshConfigFile] })).port).toBe(closed)

    const refused = new SshContext({ host: `root@${server.alias}`, sshArgs: [...base, '-l', 'rsb-no-such-user'] })
    await expect(refused.run(['true'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_SSH_AUTH' })
    await refused.close()
    expect(await whoAmI(new SshContext({ host: `rsb-no-such-user@${server.alias}`, sshArgs: [...base, '-l', 'root'] }))).toMatch(/^root /)
  })

  it('-4 and -b ADDRESS: the connection comes from that address (sshd sees 127.0.0.2)', async () => {
    const context = new SshContext({ host: server.alias, sshConfigFile: server.sshConfigFile, sshArgs: ['-4', '-b', '127.0.0.2'] })
    expect(await whoAmI(context)).toMatch(/^root 127\.0\.0\.2 \d+ 127\.0\.0\.1 /)
    expect(context.config).toMatchObject({ addressFamily: 'inet', bindAddress: '127.0.0.2' })
  })

  it('a host reached through ProxyJump or ProxyCommand is refused, never connected to directly', async () => {
    const dir = await testdir()
    const jump = path.join(dir, 'ssh_config')
    await fs.writeFile(jump, `${await fs.readFile(server.sshConfigFile, 'utf8')}    ProxyJump root@127.0.0.1:1\n`)
    const before = await server.connectionCount()
    for (const context of [
      new SshContext({ host: server.alias, sshConfigFile: jump }),
      new SshContext({ host: server.alias, sshArgs: ['-F', server.sshConfigFile, '-o', 'ProxyCommand nc 127.0.0.1 1'] }),
    ]) {
      const error = await context.run(['true']).catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: 'ERR_RSB_EXEC_SSH_CONFIG' })
      expect((error as Error).message).toMatch(
        /go through a proxy \((ProxyJump root@\[127\.0\.0\.1\]:1|ProxyCommand)\).*refusing to connect to 127\.0\.0\.1 directly/,
      )
      await context.close()
    }
    expect(await server.connectionCount()).toBe(before)
  })

  it('an option ssh -G rejects is ERR_RSB_EXEC_SSH_CONFIG naming the options', async () => {
    const context = new SshContext({ host: server.alias, sshArgs: ['-F', server.sshConfigFile, '-o', 'NoSuchOption=1'] })
    await expect(context.run(['true'])).rejects.toMatchObject({
      code: 'ERR_RSB_EXEC_SSH_CONFIG',
      hint: expect.stringContaining('-o NoSuchOption=1'),
    })
    await context.close()
  })
})

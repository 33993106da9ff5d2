import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyPackageForUsers, createSudoUser, startSshd, type SshServer, type TestUser, type UserCopy } from '@rsb/testkit'
import { SshContext } from '../src/index.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
const dist = path.resolve(here, '../dist/index.js')

describe('sudo for a non-root user (root: creates a throwaway user)', () => {
  let user: TestUser
  let noSudo: TestUser
  let server: SshServer
  // the built package as the users can read it (the checkout may lie where only root gets in)
  let copy: UserCopy
  let copied: string

  beforeAll(async () => {
    copy = await copyPackageForUsers(path.resolve(here, '..'))
    copied = path.join(copy.path, 'dist/index.js')
    user = await createSudoUser()
    noSudo = await createSudoUser({ sudo: false })
    server = await startSshd()
  })

  afterAll(async () => {
    await server?.stop()
    await user?.remove()
    await noSudo?.remove()
    await copy?.remove()
  })

  // LocalContext as the user: a node process running under the user's uid imports the built package.
  const runAs = (u: TestUser, code: string) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', `import * as exec from ${JSON.stringify(copied)}\n${code}`], {
      uid: u.uid,
      gid: u.gid,
      cwd: '/',
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: u.home },
    })

  it('LocalContext prefixes sudo (a HOME override is sudo -H: root’s home, no NAME=value) and runs as root', async () => {
    await fs.access(dist)
    const result = runAs(
      user,
      `const c = new exec.LocalContext({ sudo: true })
       const r = await c.run(['sh', '-c', 'echo "$(id -u) [$HOME]"'], { env: { HOME: '' } })
       console.log(JSON.stringify({ argv: r.argv, out: r.stdout.trim(), plain: await c.capture(['id', '-u'], { sudo: false }) }))`,
    )
    expect(result.stderr).toBe('')
    expect(JSON.parse(result.stdout)).toEqual({
      argv: ['sudo', '-n', '-H', 'sh', '-c', 'echo "$(id -u) [$HOME]"'],
      out: '0 [/root]',
      plain: String(user.uid),
    })
  })

  it('LocalContext fails at once with ERR_RSB_EXEC_SUDO_PASSWORD when sudo wants a password', () => {
    const result = runAs(
      noSudo,
      `const c = new exec.LocalContext({ sudo: true })
       try { await c.run(['true']); console.log('ran') } catch (e) { console.log(e.code) }`,
    )
    expect(result.stdout.trim()).toBe('ERR_RSB_EXEC_SUDO_PASSWORD')
  })

  it('SshContext honours the user’s own ~/.ssh/config and ~/.ssh/known_hosts (HostName, Port, User, IdentityFile)', async () => {
    const ssh = path.join(user.home, '.ssh')
    await fs.mkdir(ssh, { recursive: true })
    await fs.copyFile(server.clientKeyFile, path.join(ssh, 'backup_key'))
    await fs.writeFile(path.join(ssh, 'known_hosts'), `[127.0.0.1]:${server.port} ${server.hostKeyLine}\n`)
    await fs.writeFile(
      path.join(ssh, 'config'),
      `Host my-backup-server\n  HostName 127.0.0.1\n  Port ${server.port}\n  User ${user.name}\n  IdentityFile ~/.ssh/backup_key\n`,
    )
    await fs.chmod(path.join(ssh, 'backup_key'), 0o600)
    spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, ssh])
    const result = runAs(
      user,
      `const c = new exec.SshContext({ host: 'my-backup-server' })
       try { console.log(await c.capture(['sh', '-c', 'echo "$(id -un) $SSH_CONNECTION"'])) } finally { await c.close() }`,
    )
    expect(result.stderr).toBe('')
    expect(result.stdout).toMatch(new RegExp(`^${user.name} 127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${server.port}\\n$`))
  })

  it('SshContext logging in as the user puts sudo inside the remote command', async () => {
    const config = await server.writeSshConfig({ user: user.name })
    const context = new SshContext({ host: server.alias, sshConfigFile: config, sudo: true })
    try {
      expect(await context.isPrivileged()).toBe(false)
      expect(await context.capture(['id', '-u'])).toBe('0')
      expect(await context.capture(['id', '-u'], { sudo: false })).toBe(String(user.uid))
      const result = await context.run(['sh', '-c', 'echo "[$HOME]"'], { env: { HOME: '' } })
      expect(result.argv).toEqual(['sudo', '-n', '-H', 'sh', '-c', 'echo "[$HOME]"'])
      expect(result.stdout).toBe('[/root]\n')
    } finally {
      await context.close()
    }
  })

  it('SshContext as a user without a sudo rule fails with ERR_RSB_EXEC_SUDO_PASSWORD, not a hang', async () => {
    const config = await server.writeSshConfig({ user: noSudo.name })
    const context = new SshContext({ host: server.alias, sshConfigFile: config, sudo: true })
    try {
      await expect(context.run(['true'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_SUDO_PASSWORD' })
    } finally {
      await context.close()
    }
  })
})

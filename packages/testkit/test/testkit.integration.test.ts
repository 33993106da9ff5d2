import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSudoUser, startRsyncDaemon, startSshd, testdir } from '../src/index.ts'

describe('testkit (root)', () => {
  it('starts an sshd that ssh reaches with the generated config and known_hosts, and stops it', async () => {
    const server = await startSshd()
    try {
      const result = spawnSync('ssh', ['-F', server.sshConfigFile, server.alias, 'echo', 'hello'], { encoding: 'utf8' })
      expect(result.stderr).toBe('')
      expect(result.stdout).toBe('hello\n')
      expect(await server.connectionCount()).toBe(1)
    } finally {
      await server.stop()
    }
    expect(fs.existsSync(server.dir)).toBe(false)
    const after = spawnSync('ssh', ['-F', '/dev/null', '-o', 'BatchMode=yes', '-p', String(server.port), '127.0.0.1', 'true'])
    expect(after.status).toBe(255)
  })

  it('starts an rsync daemon that accepts a push', async () => {
    const dir = await testdir({ 'src/a.txt': 'A' })
    const daemon = await startRsyncDaemon({ modules: { backups: { path: path.join(dir, 'module') } } })
    try {
      const push = spawnSync('rsync', ['-a', `${dir}/src/`, daemon.url('backups', 'latest/')], { encoding: 'utf8' })
      expect(push.stderr).toBe('')
      expect(fs.readFileSync(path.join(dir, 'module/latest/a.txt'), 'utf8')).toBe('A')
    } finally {
      await daemon.stop()
    }
  })

  it('creates a non-root user with passwordless sudo and removes it', async () => {
    const user = await createSudoUser()
    try {
      expect(user.uid).toBeGreaterThan(0)
      const asUser = spawnSync('sudo', ['-n', 'id', '-u'], { uid: user.uid, gid: user.gid, encoding: 'utf8', cwd: '/' })
      expect(asUser.stdout.trim()).toBe('0')
    } finally {
      await user.remove()
    }
    expect(spawnSync('id', [user.name]).status).not.toBe(0)
  })
})

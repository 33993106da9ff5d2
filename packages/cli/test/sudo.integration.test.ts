// rsb as a non-root user with passwordless sudo: the privileged commands really run through sudo
// (`sudo -n HOME= rsync …`, `sudo -n cp …`, `sudo -n rm …`). Needs root to create the throwaway user.
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createSudoUser, isRoot, testdir } from '@rsb/testkit'
import { describe, expect, it, onTestFinished } from 'vitest'
import { BIN, createSource, snapshotsIn, verifyDestination } from './helpers.ts'

function runAs(user: string, args: readonly string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn('runuser', ['-u', user, '--', process.execPath, BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH, TZ: 'UTC', NODE_DEBUG: 'rsb:exec', HOME: '/tmp' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stderr }))
  })
}

describe.skipIf(!isRoot)('as a non-root user with sudo (needs root to create the user)', () => {
  it('runs rsync, the snapshot copy and the rotation through sudo, and backs up root-only files', async () => {
    const user = await createSudoUser()
    onTestFinished(() => user.remove())
    const t = await testdir()
    await fs.chmod(t, 0o755)
    await createSource(path.join(t, 'source'))
    await fs.writeFile(path.join(t, 'source/secret.txt'), 'root only\n', { mode: 0o600 })
    await fs.mkdir(path.join(t, 'backups/2024-01-01 00:30:00'), { recursive: true })
    await fs.mkdir(path.join(t, 'backups/2024-01-01 00:45:00'))
    await fs.chmod(path.join(t, 'backups'), 0o700)
    const result = await runAs(user.name, ['--disable-notifications', path.join(t, 'source'), path.join(t, 'backups/latest')], t)
    expect(result.stderr).toMatch(/localhost: sudo -n HOME= rsync --delete/)
    expect(result.stderr).toMatch(/localhost: sudo -n cp --archive --link/)
    // a deleted snapshot is renamed into the store's metadata first, then removed
    expect(result.stderr).toMatch(
      /localhost: sudo -n mv --no-target-directory -- '.*\/backups\/2024-01-01 00:45:00' '.*\/backups\/\.rsb\/deleting\//,
    )
    expect(result.stderr).toMatch(/localhost: sudo -n rm -fR -- '.*\/backups\/\.rsb\/deleting\/[0-9a-f]{8}\/2024-01-01 00:45:00\.\d+'/)
    expect(result.code).toBe(0)
    await verifyDestination(path.join(t, 'backups/latest'))
    expect(await fs.readFile(path.join(t, 'backups/latest/secret.txt'), 'utf8')).toBe('root only\n')
    const snapshots = await snapshotsIn(path.join(t, 'backups'))
    expect(snapshots).toHaveLength(2)
    expect(snapshots[0]).toBe('2024-01-01 00:30:00')
  })
})

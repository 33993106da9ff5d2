// rsb as a non-root user with passwordless sudo: the privileged commands really run through sudo
// (`sudo -n -H rsync …`, `sudo -n cp …`, `sudo -n rm …`). Needs root to create the throwaway user.
import fs from 'node:fs/promises'
import path from 'node:path'
import { createSudoUser, isRoot, startRsyncDaemon, testdir } from '@rsb/testkit'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createSource, processes, runRsbAs, snapshotsIn, verifyDestination } from './helpers.ts'

/** rsb as USER, tracing its commands (NODE_DEBUG=rsb:exec), with HOME=/tmp. */
function runAs(user: string, args: readonly string[], cwd: string, env: Record<string, string> = {}) {
  return runRsbAs(user, args, { cwd, env: { NODE_DEBUG: 'rsb:exec', HOME: '/tmp', ...env } })
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
    expect(result.stderr).toMatch(/localhost: sudo -n -H rsync --delete/)
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

/** Every process's command line now, as `ps` shows them to any user. */
async function commandLines(): Promise<string[]> {
  return (await processes()).map((p) => p.argv.join(' '))
}

describe.skipIf(!isRoot)('a daemon password through sudo (needs root: a throwaway user and rsync --daemon)', () => {
  it('RSYNC_PASSWORD is in no process’s command line during the transfer, nor in the NODE_DEBUG trace', { timeout: 60_000 }, async () => {
    const user = await createSudoUser()
    onTestFinished(() => user.remove())
    const t = await testdir()
    await fs.chmod(t, 0o755)
    const secret = `s3cret-${process.pid}-${Date.now()}`
    await fs.mkdir(path.join(t, 'source'))
    await fs.writeFile(path.join(t, 'source/big.bin'), Buffer.alloc(12 * 1024 * 1024, 7))
    const secrets = path.join(t, 'rsyncd.secrets')
    await fs.writeFile(secrets, `backup:${secret}\n`, { mode: 0o600 })
    const daemon = await startRsyncDaemon({
      modules: {
        m: { path: path.join(t, 'server/latest'), extra: { 'auth users': 'backup', 'secrets file': secrets, 'strict modes': 'yes' } },
      },
    })
    onTestFinished(() => daemon.stop())
    const run = runAs(
      user.name,
      ['--disable-notifications', '--rsync-option=--bwlimit=4000', path.join(t, 'source'), `rsync://backup@127.0.0.1:${daemon.port}/m`],
      t,
      { RSYNC_PASSWORD: secret, NODE_DEBUG: 'rsb:exec,rsb:rsync' },
    )
    let finished = false
    void run.then(() => (finished = true))
    let samples = 0
    let sawRsync = false
    while (!finished) {
      const lines = await commandLines()
      samples++
      if (lines.some((line) => line.includes('rsync') && line.includes('--password-file=-'))) sawRsync = true
      expect(lines.filter((line) => line.includes(secret))).toEqual([])
      await new Promise((r) => setTimeout(r, 50))
    }
    const result = await run
    expect(result.code, result.stderr).toBe(0)
    expect(sawRsync).toBe(true)
    expect(samples).toBeGreaterThan(5)
    expect(result.stderr).toMatch(/sudo -n -H rsync .*--password-file=-/)
    expect(result.stderr).not.toContain(secret)
    expect((await fs.stat(path.join(t, 'server/latest/big.bin'))).size).toBe(12 * 1024 * 1024)
  })
})

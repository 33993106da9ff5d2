// Smoke test of the built program (needs `tsc -b` first, as scripts/test.sh does): exit statuses and
// stdout/stderr separation of a real `node dist/bin/rsb-rotate.js` process.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { testdir } from '@rsb/testkit'
import { describe, expect, it } from 'vitest'
import { entries, FOUR_DAYS, makeEntries, USAGE_ERRORS } from './helpers.ts'

const bin = path.join(import.meta.dirname, '..', '..', 'dist', 'bin', 'rsb-rotate.js')

describe('rsb-rotate (built)', () => {
  // never a silent skip: a missing build is a failure that says so
  it('is built (pnpm build, as scripts/test.sh does)', () => {
    expect(fs.existsSync(bin), `${bin} is missing: build first`).toBe(true)
  })

  it('prints --json on stdout, logs on stderr, and exits 0, 2 as documented', async () => {
    const root = await testdir()
    await makeEntries(root, ['2024-01-01', '2024-01-02'])
    const home = await testdir()
    const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: home }
    const ok = spawnSync(process.execPath, [bin, '-n', '--json', '--daily=1', root], { encoding: 'utf8', env })
    expect(ok.status).toBe(0)
    expect(JSON.parse(ok.stdout).locations[0].backups.map((b: { action: string }) => b.action)).toEqual(['delete', 'keep'])
    expect(ok.stderr).toContain('Performing a dry run (because of -n option) ..')
    const usage = spawnSync(process.execPath, [bin, '--daily=soon', root], { encoding: 'utf8', env })
    expect(usage.status).toBe(2)
    expect(usage.stderr).not.toContain('    at ')
  })

  it.each(USAGE_ERRORS)('%s: exit status 2, one line on stderr, nothing deleted', async (_, argv, code) => {
    const root = await testdir()
    await makeEntries(root, FOUR_DAYS)
    const home = await testdir()
    const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: home }
    const args = argv.map((arg) => (arg === 'DIR' ? root : arg))
    const run = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env })
    expect(run.status).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr.split('\n')).toEqual([expect.stringContaining(`(${code}) Hint: `), ''])
    expect(await entries(root)).toEqual(FOUR_DAYS)
  })

  it('SIGTERM during a removal stops the run: the removal command is ended, exit 143, the rest is kept', async () => {
    const root = await testdir()
    await makeEntries(root, FOUR_DAYS)
    const home = await testdir()
    const started = path.join(home, 'started')
    const log = path.join(home, 'removals')
    const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: home }
    // a removal command that announces itself and then takes long: the run is stopped while it works
    const removal = `sh -c 'echo "$1" >> ${log}; touch ${started}; exec sleep 30' rm`
    const child = spawn(process.execPath, [bin, '--daily=1', '-C', removal, root], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    while (!fs.existsSync(started)) await new Promise((resolve) => setTimeout(resolve, 20))
    child.kill('SIGTERM')
    const code = await new Promise<number | null>((resolve) => child.once('close', (status) => resolve(status)))
    expect(code).toBe(143)
    expect(stderr).not.toContain('    at ')
    // one removal was started, and no further one after the signal (the stand-in deletes nothing)
    expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(1)
    expect(await entries(root)).toEqual(FOUR_DAYS)
  })
})

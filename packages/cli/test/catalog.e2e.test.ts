// `rsb list` and `rsb status` end to end with the built rsb, against stores made by real runs (back-dated with
// libfaketime, which shifts the wall clock of rsb and its children), an original store, the states an interrupted
// run leaves, a failing rsync stand-in, and the test sshd on 127.0.0.1. Needs root (the sshd); CI runs as root.
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { isRoot, startSshd, testdir, type SshServer } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { BIN, clockAt, HOSTILE_NAME, listing, nameAt, runRecords, runRsb, snapshotsIn, startRsb, writeProgram } from './helpers.ts'

const QUIET = ['--no-sudo', '--disable-notifications']
const DAY = 86_400_000

/** Runs rsb and expects exit 0. */
async function ok(args: readonly string[], env: Record<string, string> = {}) {
  const result = await runRsb(args, { env })
  expect(result.code, result.stderr).toBe(0)
  return result
}

/**
 * An rsync stand-in in `t/bin` that waits at a gate (a FIFO) before it runs the real rsync (`rsync --version`, for
 * the manifest, does not wait): `open()` lets it go on; when the test ends, a stand-in still waiting is told to stop
 * (it exits 99 without running rsync). Neither blocks the test when nobody waits.
 */
async function gatedRsync(t: string): Promise<{ bin: string; open(): Promise<void> }> {
  const gate = path.join(t, 'gate')
  execFileSync('mkfifo', [gate])
  const rsync = execFileSync('sh', ['-c', 'command -v rsync'], { encoding: 'utf8' }).trim()
  const bin = path.join(t, 'bin')
  await writeProgram(
    bin,
    'rsync',
    `case "$1" in --version) ;; *) read -r x < ${JSON.stringify(gate)}; [ "$x" = go ] || exit 99 ;; esac\nexec ${rsync} "$@"`,
  )
  const say = (word: string): boolean => {
    try {
      const fd = fs.openSync(gate, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)
      fs.writeSync(fd, `${word}\n`)
      fs.closeSync(fd)
      return true
    } catch {
      return false // nobody waits at the gate (yet)
    }
  }
  onTestFinished(() => void say('stop'))
  return {
    bin,
    // the stand-in may not be at the gate yet: tried for up to 10 s
    async open() {
      for (let i = 0; i < 200 && !say('go'); i++) await new Promise((r) => setTimeout(r, 50))
    },
  }
}

type Listed = {
  name: string
  status: string
  mirror: string | null
  entries: number | null
  changedFiles: number | null
  bytesTransferred: number | null
  rotation: { action: string; reasons: string[] }
  manifest: Record<string, unknown> | null
}

async function listJson(destination: string, extra: readonly string[] = [], env: Record<string, string> = {}) {
  const result = await runRsb(['list', '--json', ...extra, destination], { env })
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout) as { store: string; legacy: boolean; snapshots: Listed[]; mirrors: { name: string; running: unknown }[] }
}

/**
 * A store made by real runs on days -9, -8, -3 and -2 (each changing the source), with what else stores hold:
 * a snapshot without a record (an earlier rsb's or the original's, day -5), the claim of a snapshot whose copy never
 * got its name (a run stopped while copying, day -1), and a snapshot a rotation began deleting (day -10).
 */
async function mixedStore() {
  const t = await testdir({ 'source/a.txt': 'a', 'source/sub/b.txt': 'b' })
  const source = path.join(t, 'source')
  const latest = path.join(t, 'store/latest')
  const store = path.dirname(latest)
  const now = Date.now()
  const names: Record<string, string> = {}
  for (const days of [10, 9, 8, 3, 2]) {
    fs.writeFileSync(path.join(source, 'changing.txt'), `day ${days}\n`.repeat(days))
    await ok([...QUIET, '--rotation=daily=always', source, latest], clockAt(new Date(now - days * DAY)))
    names[days] = (await snapshotsIn(store)).at(-1)!
  }
  expect(await snapshotsIn(store)).toEqual([10, 9, 8, 3, 2].map((d) => names[d]))
  expect(names[2]!.slice(0, 10)).toBe(nameAt(new Date(now - 2 * DAY)).slice(0, 10))
  const [mirror] = fs.readdirSync(path.join(store, '.rsb/mirrors')).filter((n) => n.endsWith('.json'))
  const id = (JSON.parse(fs.readFileSync(path.join(store, '.rsb/mirrors', mirror as string), 'utf8')) as { id: string }).id
  // made before the store kept records: no record, taken as this (only) mirror's
  names.legacy = nameAt(new Date(now - 5 * DAY))
  execFileSync('cp', ['-al', latest, path.join(store, names.legacy)])
  // a stopped copy: its claim (the record rsb writes before the copy) and no directory of that name
  names.incomplete = nameAt(new Date(now - DAY))
  const claim = { version: 1, snapshot: names.incomplete, mirror: id, created: new Date(now - DAY).toISOString(), adopted: false }
  fs.writeFileSync(path.join(store, '.rsb/snapshots', `${names.incomplete}.json`), `${JSON.stringify(claim)}\n`)
  // a stopped deletion: the snapshot renamed into .rsb/deleting/<mirror id>/ and its record gone
  fs.mkdirSync(path.join(store, '.rsb/deleting', id), { recursive: true })
  fs.renameSync(path.join(store, names[10]!), path.join(store, '.rsb/deleting', id, `${names[10]}.${now}`))
  fs.rmSync(path.join(store, '.rsb/snapshots', `${names[10]}.json`))
  return { t, source, latest, store, names, id }
}

describe.skipIf(!isRoot)('rsb list (needs root: chown in the stores)', () => {
  it('a store with rsb snapshots, one from before manifests, one incomplete and one half-deleted: text and --json', async () => {
    const { source, latest, store, names } = await mixedStore()
    const before = await listing(store)
    const document = await listJson(latest, ['--rotation=daily=4'])
    expect(await listing(store)).toEqual(before)
    expect(document.store).toBe(store)
    const byName = new Map(document.snapshots.map((s) => [s.name, s]))
    // newest first; each with its status
    expect(document.snapshots.map((s) => [s.name, s.status])).toEqual([
      [names.incomplete, 'incomplete'],
      [names[2], 'complete'],
      [names[3], 'complete'],
      [names.legacy, 'no-manifest'],
      [names[8], 'complete'],
      [names[9], 'complete'],
      [names[10], 'deleting'],
    ])
    // the figures of each snapshot's run, from its manifest
    for (const days of [9, 8, 3, 2]) {
      const s = byName.get(names[days]!)!
      expect(s.entries, names[days]).toBe(5) // ., a.txt, sub, sub/b.txt, changing.txt
      expect(s.changedFiles).toBeGreaterThanOrEqual(1)
      expect(s.bytesTransferred).toBeGreaterThan(0)
      expect(s.manifest).toMatchObject({ source, destination: latest, rsyncExitCode: 0, user: 'root', utcOffset: '+00:00' })
      expect((s.manifest!.rsyncVersion as { local: string }).local).toMatch(/^\d+\.\d+/)
      expect(Date.parse(s.manifest!.started as string)).toBeLessThanOrEqual(Date.parse(s.manifest!.ended as string))
    }
    expect(byName.get(names.legacy!)!.manifest).toBeNull()
    // the next backup's rotation with daily=4: today's (made by that backup) and the newest of the days since 4 days
    // before it (day -2 and day -3) are kept
    expect(Object.fromEntries(document.snapshots.map((s) => [s.name, s.rotation.action]))).toEqual({
      [names.incomplete!]: 'none',
      [names[2]!]: 'keep',
      [names[3]!]: 'keep',
      [names.legacy!]: 'expire',
      [names[8]!]: 'expire',
      [names[9]!]: 'expire',
      [names[10]!]: 'none',
    })
    expect(byName.get(names[2]!)!.rotation.reasons).toEqual(['daily'])
    // the text: one line per snapshot, the same statuses and rotation
    const text = await runRsb(['list', '--rotation=daily=4', latest])
    expect(text.code, text.stderr).toBe(0)
    const lines = text.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe(`Store ${store}, mirror latest: 7 snapshot(s)`)
    expect(lines[1]).toMatch(/^SNAPSHOT +AGE +STATUS +FILES +CHANGED +TRANSFERRED +ROTATION$/)
    expect(lines[2]).toMatch(new RegExp(`^${names.incomplete} +24h +incomplete +- +- +- +-$`))
    expect(lines[3]).toMatch(new RegExp(`^${names[2]} +2d +complete +5 +\\d+ +\\d+ B +keep: daily$`))
    expect(lines[5]).toMatch(new RegExp(`^${names.legacy} +5d +no manifest +- +- +- +expires$`))
    expect(lines[8]).toMatch(new RegExp(`^${names[10]} +10d +in deletion +- +- +- +-$`))
    expect(lines[9]).toMatch(/^Last run: succeeded 2d ago/)
    // the store itself lists the same
    const ageless = (list: Listed[]) => list.map((s) => ({ ...s, ageSeconds: undefined }))
    expect(ageless((await listJson(store, ['--rotation=daily=4'])).snapshots)).toEqual(ageless(document.snapshots))
  }, 60_000)

  it('the "expires" column is what the next rsb backup deletes (with the same --rotation)', async () => {
    const { source, latest, store } = await mixedStore()
    const listed = await listJson(latest, ['--rotation=daily=3,weekly=1'])
    const expiring = listed.snapshots.filter((s) => s.rotation.action === 'expire').map((s) => s.name)
    expect(expiring.length).toBeGreaterThan(0)
    const backup = await ok([...QUIET, '--json', '--rotation=daily=3,weekly=1', source, latest])
    const deleted = (JSON.parse(backup.stdout) as { rotation: { deleted: string[] } }).rotation.deleted.map((p) => path.basename(p))
    expect(deleted.sort()).toEqual(expiring.sort())
    // each with its record and manifest
    for (const name of expiring) {
      expect(fs.existsSync(path.join(store, name))).toBe(false)
      expect(fs.existsSync(path.join(store, '.rsb/snapshots', `${name}.json`))).toBe(false)
    }
  }, 60_000)

  it("an original store (latest and snapshots, no records): listed as such, its rotation is the adopting backup's", async () => {
    const t = await testdir({ 'source/a': 'a' })
    const store = path.join(t, 'old')
    const now = Date.now()
    const names = [20, 12, 4, 1].map((d) => nameAt(new Date(now - d * DAY)))
    for (const name of ['latest', ...names]) fs.mkdirSync(path.join(store, name, 'data'), { recursive: true })
    const before = await listing(t)
    const document = await listJson(store, ['--rotation=daily=7'])
    expect(await listing(t)).toEqual(before)
    expect(document.legacy).toBe(true)
    expect(document.mirrors.map((m) => m.name)).toEqual(['latest'])
    expect(document.snapshots.map((s) => [s.name, s.status, s.rotation.action])).toEqual([
      [names[3], 'no-manifest', 'keep'],
      [names[2], 'no-manifest', 'keep'],
      [names[1], 'no-manifest', 'expire'],
      [names[0], 'no-manifest', 'expire'],
    ])
    const text = await runRsb(['list', path.join(store, 'latest')])
    expect(text.stdout.split('\n')[0]).toBe(
      `Store ${store}, mirror latest (no rsb records yet: its first rsb backup adopts it): 4 snapshot(s)`,
    )
    const backup = await ok([...QUIET, '--json', '--rotation=daily=7', path.join(t, 'source'), path.join(store, 'latest')])
    const deleted = (JSON.parse(backup.stdout) as { rotation: { deleted: string[] } }).rotation.deleted.map((p) => path.basename(p))
    expect(deleted.sort()).toEqual([names[0], names[1]].sort())
  }, 60_000)

  it('a backup at work: list and status take no lock, answer at once and show it running; the backup is not disturbed', async () => {
    const t = await testdir({ 'source/a': 'a' })
    const source = path.join(t, 'source')
    const latest = path.join(t, 'store/latest')
    await ok([...QUIET, source, latest])
    // the backup's rsync waits until the test lets it go (rsync --version, for the manifest, does not)
    const gate = await gatedRsync(t)
    const backup = startRsb([...QUIET, source, latest], { path: [gate.bin] })
    try {
      await backup.waitForStderr('Creating system backup using rsync')
      const document = await listJson(latest)
      const status = await runRsb(['status', latest])
      // both answered while the backup held its lock, waiting in rsync
      expect(backup.child.exitCode).toBeNull()
      expect(document.mirrors[0]?.running).toMatchObject({ pid: backup.child.pid })
      expect(status.stdout).toContain(`a backup is running (PID ${backup.child.pid} on `)
    } finally {
      await gate.open()
      const done = await backup.done
      expect(done.code, done.stderr).toBe(0)
    }
    expect(await snapshotsIn(path.join(t, 'store'))).toHaveLength(2)
  }, 60_000)

  it('list, status and restore never touch the run lock directory (a missing one is not made)', async () => {
    const t = await testdir({ 'source/a': 'a' })
    const latest = path.join(t, 'store/latest')
    await ok([...QUIET, path.join(t, 'source'), latest])
    const locks = path.join(t, 'locks')
    const env = { RSB_LOCK_DIR: locks }
    expect((await runRsb(['list', latest], { env })).code).toBe(0)
    expect((await runRsb(['status', latest], { env })).code).toBe(0)
    const restored = await runRsb(['restore', latest, 'a', `--to=${path.join(t, 'out')}`], { env })
    expect(restored.code, restored.stderr).toBe(0)
    expect(fs.existsSync(locks)).toBe(false)
    // a backup does make it
    await ok([...QUIET, path.join(t, 'source'), latest], env)
    expect(fs.statSync(locks).isDirectory()).toBe(true)
  }, 60_000)

  it('usage errors exit 2, a path that is no backup exits 1 with its code; nothing is written', async () => {
    const t = await testdir({ 'plain/file': 'x' })
    const before = await listing(t)
    for (const args of [['list'], ['list', 'a', 'b'], ['list', '--rotation=daily=x', 'a'], ['list', '--bogus', 'a']]) {
      const result = await runRsb(args)
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr).toMatch(/^rsb: error: .*\(ERR_RSB_[A-Z_]+\)/)
    }
    const none = await runRsb(['list', '--json', path.join(t, 'plain')])
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/^rsb: error: .* is not a backup: .*\(ERR_RSB_CLI_NOT_A_BACKUP\) Hint: /)
    expect(JSON.parse(none.stdout)).toMatchObject({ exitCode: 1, error: { code: 'ERR_RSB_CLI_NOT_A_BACKUP' } })
    for (const command of ['list', 'status']) {
      const daemon = await runRsb([command, 'localhost::module/latest'])
      expect(daemon.code).toBe(2)
      expect(daemon.stderr).toMatch(/^rsb: error: .*\(ERR_RSB_CLI_DESTINATION_DAEMON\) Hint: /)
    }
    expect(await listing(t)).toEqual(before)
  })

  it('a store of 1,000 snapshots is listed whole (its time is measured by pnpm bench list)', async () => {
    const t = await testdir({ 'source/a': 'a' })
    const latest = path.join(t, 'store/latest')
    await ok([...QUIET, path.join(t, 'source'), latest])
    const store = path.dirname(latest)
    const [snapshot] = await snapshotsIn(store)
    const record = JSON.parse(fs.readFileSync(path.join(store, '.rsb/snapshots', `${snapshot}.json`), 'utf8')) as Record<string, unknown>
    const start = Date.parse('2024-01-01T00:00:00Z')
    for (let i = 0; i < 999; i++) {
      const name = nameAt(new Date(start + i * 3_600_000))
      fs.mkdirSync(path.join(store, name))
      const created = new Date(start + i * 3_600_000).toISOString()
      fs.writeFileSync(path.join(store, '.rsb/snapshots', `${name}.json`), `${JSON.stringify({ ...record, snapshot: name, created })}\n`)
    }
    const document = await listJson(latest)
    expect(document.snapshots).toHaveLength(1000)
    expect(document.snapshots.every((s) => s.status === 'complete')).toBe(true)
    expect(document.snapshots[0]!.name).toBe(snapshot)
    expect(document.snapshots[999]!.name).toBe('2024-01-01 00:00:00')
  }, 60_000)
})

/** promtool's verdict on a metrics file (Debian's prometheus package; scripts/setup.sh --tests installs it). */
function promtool(file: string): { code: number | null; output: string } {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: fs.readFileSync(file), encoding: 'utf8' })
  expect(result.error, 'promtool is needed (bash scripts/setup.sh --tests installs it)').toBeUndefined()
  return { code: result.status, output: `${result.stdout}${result.stderr}` }
}

/** The samples of a metrics file: `NAME{LABELS}` → value. */
function samples(file: string): Map<string, number> {
  const map = new Map<string, number>()
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    map.set(line.slice(0, at).replace(/\{.*\}$/, ''), Number(line.slice(at + 1)))
  }
  return map
}

describe.skipIf(!isRoot)('rsb status (needs root: chown in the stores)', () => {
  it('fresh: exit 0 and one OK line; --metrics passes promtool and holds the figures; nothing else is written', async () => {
    const t = await testdir({ 'source/a': 'a', 'prom/.keep': '' })
    const latest = path.join(t, 'store/latest')
    await ok([...QUIET, path.join(t, 'source'), latest])
    const before = await listing(path.join(t, 'store'))
    const metrics = path.join(t, 'prom/rsb.prom')
    const result = await runRsb(['status', '--rotation=daily=7', `--metrics=${metrics}`, latest])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(
      new RegExp(
        `^OK: latest of ${path.join(t, 'store')}: the newest snapshot \\S+ \\S+ is \\d+s old \\(limit 26h\\); the last run \\(.*\\) succeeded\\.\\n$`,
      ),
    )
    expect(await listing(path.join(t, 'store'))).toEqual(before)
    expect(promtool(metrics)).toEqual({ code: 0, output: '' })
    const values = samples(metrics)
    expect(values.get('rsb_fresh')).toBe(1)
    expect(values.get('rsb_last_run_success')).toBe(1)
    expect(values.get('rsb_snapshots')).toBe(1)
    expect(values.get('rsb_newest_snapshot_files')).toBe(2)
    expect(values.get('rsb_max_age_seconds')).toBe(93_600)
    expect(values.get('rsb_store_free_bytes')).toBeGreaterThan(0)
    expect(values.get('rsb_store_free_inodes')).toBeGreaterThan(0)
    expect(Math.abs((values.get('rsb_last_success_timestamp_seconds') ?? 0) - Date.now() / 1000)).toBeLessThan(60)
    // written aside and renamed: nothing else is left in the directory
    expect(fs.readdirSync(path.join(t, 'prom')).sort()).toEqual(['.keep', 'rsb.prom'])
    const json = await runRsb(['status', '--json', latest])
    expect(JSON.parse(json.stdout)).toMatchObject({
      schemaVersion: 1,
      fresh: true,
      exitCode: 0,
      mirrors: [{ name: 'latest', stale: false, lastRunFailed: false }],
    })
  }, 60_000)

  it('older than --max-age (or the scheme’s default): exit 1, STALE with the age and since when', async () => {
    const t = await testdir({ 'source/a': 'a' })
    const latest = path.join(t, 'store/latest')
    const when = new Date(Date.now() - 3 * DAY)
    await ok([...QUIET, path.join(t, 'source'), latest], clockAt(when))
    const [name] = await snapshotsIn(path.join(t, 'store'))
    const result = await runRsb(['status', '--rotation=daily=7', latest])
    expect(result.code).toBe(1)
    // the snapshot's moment is the back-dated run's (its record), the limit 26h for daily
    const record = JSON.parse(fs.readFileSync(path.join(t, 'store/.rsb/snapshots', `${name}.json`), 'utf8')) as { created: string }
    const since = new Date(Date.parse(record.created) + 93_600_000).toISOString()
    const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    expect(result.stdout).toMatch(
      new RegExp(
        `^STALE: latest of ${escaped(path.join(t, 'store'))}: the newest snapshot ${name} is 3d old, older than the limit of 26h \\(stale since ${escaped(since)}\\); the last run \\(${escaped(when.toISOString().slice(0, 15))}.*\\) succeeded\\.\n$`,
      ),
    )
    expect((await runRsb(['status', '--max-age=4d', latest])).code).toBe(0)
    const json = JSON.parse((await runRsb(['status', '--json', '--max-age=1h', latest])).stdout) as Record<string, unknown>
    expect(json).toMatchObject({ fresh: false, exitCode: 1, maxAgeSeconds: 3600, mirrors: [{ stale: true, lastRunFailed: false }] })
  }, 60_000)

  it('the last run failed (a failing rsync) or was refused (an empty SOURCE): exit 1, FAILED with the code and since when', async () => {
    const t = await testdir({ 'source/a': 'a' })
    const source = path.join(t, 'source')
    const latest = path.join(t, 'store/latest')
    await ok([...QUIET, source, latest])
    const bin = path.join(t, 'bin')
    await writeProgram(bin, 'rsync', 'echo "rsync: connection unexpectedly closed (0 bytes received so far) [sender]" >&2\nexit 12')
    for (let i = 0; i < 2; i++) {
      const failed = await runRsb([...QUIET, source, latest], { path: [bin] })
      expect(failed.code).toBe(1)
    }
    const records = await runRecords(path.join(t, 'store'))
    expect(records.map((r) => r.outcome)).toEqual(['succeeded', 'failed', 'failed'])
    const code = (records[1]!.error as { code: string }).code
    expect(code).toMatch(/^ERR_RSB_RSYNC_/)
    const status = await runRsb(['status', latest])
    expect(status.code).toBe(1)
    expect(status.stdout).toMatch(
      new RegExp(
        `^FAILED: latest of .*: the last run \\(${String(records[2]!.started)}\\) failed: .*\\(${code}\\); failing since ${String(records[1]!.started)}; newest snapshot .* is \\d+s old \\(limit 65m\\)\\.\\n$`,
      ),
    )
    const metrics = path.join(t, 'rsb.prom')
    expect((await runRsb(['status', `--metrics=${metrics}`, latest])).code).toBe(1)
    expect(promtool(metrics).code).toBe(0)
    expect(samples(metrics).get('rsb_fresh')).toBe(0)
    expect(samples(metrics).get('rsb_last_run_success')).toBe(0)
    // refused: an empty SOURCE (an unmounted filesystem) is a refusal, recorded as such
    fs.rmSync(path.join(source, 'a'))
    expect((await runRsb([...QUIET, source, latest])).code).toBe(1)
    const refused = await runRsb(['status', latest])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toContain('was refused: SOURCE')
    expect(refused.stdout).toContain('(ERR_RSB_CLI_SOURCE_EMPTY)')
    // a good run again: fresh
    fs.writeFileSync(path.join(source, 'a'), 'a')
    await ok([...QUIET, source, latest])
    expect((await runRsb(['status', latest])).code).toBe(0)
  }, 60_000)

  it('run records: none for a dry run; mode 0600; a remote shell in --rsync-option is redacted in them and in the manifest', async () => {
    const t = await testdir({ 'source/a': 'a' })
    const latest = path.join(t, 'store/latest')
    const store = path.join(t, 'store')
    await ok([...QUIET, path.join(t, 'source'), latest])
    const before = await listing(store)
    await ok([...QUIET, '--dry-run', path.join(t, 'source'), latest])
    expect(await listing(store)).toEqual(before)
    fs.writeFileSync(path.join(t, 'source/b'), 'b')
    await new Promise((r) => setTimeout(r, 1000))
    await ok([...QUIET, '--rsync-option=--rsh=sshpass -p hunter2 ssh', '-x', '*.tmp', path.join(t, 'source'), latest])
    const runs = fs.readdirSync(path.join(store, '.rsb/runs'))
    expect(runs).toHaveLength(2)
    for (const name of runs) expect(fs.statSync(path.join(store, '.rsb/runs', name)).mode & 0o777).toBe(0o600)
    const records = await runRecords(store)
    expect(records[1]!.argv).toEqual([
      '--no-sudo',
      '--disable-notifications',
      '--rsync-option=--rsh=<redacted>',
      '-x',
      '*.tmp',
      path.join(t, 'source'),
      latest,
    ])
    expect(records[1]).toMatchObject({ outcome: 'succeeded', exitCode: 0, host: os.hostname(), actions: ['backup', 'snapshot', 'rotate'] })
    const newest = (await snapshotsIn(store)).at(-1)!
    const manifest = (
      JSON.parse(fs.readFileSync(path.join(store, '.rsb/snapshots', `${newest}.json`), 'utf8')) as { manifest: Record<string, unknown> }
    ).manifest
    expect(manifest).toMatchObject({ excludes: ['*.tmp'], warnings: [], host: os.hostname(), entries: 3, bytes: 2 })
    const snapshots = fs.readdirSync(path.join(store, '.rsb/snapshots'))
    const text = snapshots.map((name) => fs.readFileSync(path.join(store, '.rsb/snapshots', name), 'utf8')).join('')
    expect(text).toContain('"rsyncOptions":["--rsh=<redacted>"]')
    expect(`${text}${JSON.stringify(records)}`).not.toContain('hunter2')
  }, 60_000)

  it('run records: the last 100 of each mirror are kept; the oldest go, another mirror’s stay', async () => {
    const t = await testdir({ 'source/a': 'a' })
    const latest = path.join(t, 'store/latest')
    const store = path.join(t, 'store')
    await ok([...QUIET, path.join(t, 'source'), latest])
    const [first] = fs.readdirSync(path.join(store, '.rsb/runs'))
    const record = JSON.parse(fs.readFileSync(path.join(store, '.rsb/runs', first!), 'utf8')) as { mirror: string; started: string }
    // 120 older runs of this mirror, and 3 of another mirror
    const start = Date.parse('2026-01-01T00:00:00Z')
    for (let i = 0; i < 120; i++) {
      const started = new Date(start + i * 60_000).toISOString()
      const name = `${String(Date.parse(started)).padStart(13, '0')}-${record.mirror}-${1000 + i}.json`
      fs.writeFileSync(path.join(store, '.rsb/runs', name), `${JSON.stringify({ ...record, started, ended: started, pid: 1000 + i })}\n`)
    }
    const others = [0, 1, 2].map((i) => `${String(start + i).padStart(13, '0')}-0badf00d-${i}.json`)
    for (const name of others) fs.writeFileSync(path.join(store, '.rsb/runs', name), '{}\n')
    await ok([...QUIET, path.join(t, 'source'), latest])
    const names = fs.readdirSync(path.join(store, '.rsb/runs')).sort()
    const ours = names.filter((n) => n.includes(`-${record.mirror}-`))
    expect(ours).toHaveLength(100)
    // the newest two are the real runs; the 22 oldest fake ones went
    expect(ours.slice(0, 1)[0]).toContain(`-${record.mirror}-1022.json`)
    expect(ours.slice(-2).map((n) => n.split('-')[2])).toEqual([first!.split('-')[2], expect.stringMatching(/^\d+\.json$/)])
    expect(names.filter((n) => n.includes('-0badf00d-'))).toEqual(others)
  }, 60_000)

  it('a backup stopped by SIGTERM leaves an interrupted run record (exit 143); status says the last run was interrupted', async () => {
    const t = await testdir({ 'source/a': 'a' })
    const source = path.join(t, 'source')
    const latest = path.join(t, 'store/latest')
    await ok([...QUIET, source, latest])
    const gate = await gatedRsync(t)
    const backup = startRsb([...QUIET, source, latest], { path: [gate.bin] })
    await backup.waitForStderr('Creating system backup using rsync')
    backup.child.kill('SIGTERM')
    const done = await backup.done
    expect(done.code, done.stderr).toBe(143)
    const records = await runRecords(path.join(t, 'store'))
    expect(records.at(-1)).toMatchObject({ outcome: 'interrupted', exitCode: 143, error: { code: 'ERR_RSB_CLI_INTERRUPTED' } })
    const status = await runRsb(['status', latest])
    expect(status.code).toBe(1)
    expect(status.stdout).toMatch(/^FAILED: latest of .*: the last run \(.*\) was interrupted: .*\(ERR_RSB_CLI_INTERRUPTED\)/)
  }, 60_000)

  it('a store that cannot be read: exit 1 with its code, and --metrics still says so (rsb_store_readable 0)', async () => {
    const t = await testdir({ 'plain/file': 'x' })
    const metrics = path.join(t, 'rsb.prom')
    const result = await runRsb(['status', `--metrics=${metrics}`, path.join(t, 'missing/latest')])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('(ERR_RSB_CLI_NOT_A_BACKUP)')
    expect(promtool(metrics).code).toBe(0)
    expect(samples(metrics).get('rsb_store_readable')).toBe(0)
    for (const args of [['status'], ['status', '--max-age=soon', 'x'], ['status', '--max-age=0', 'x'], ['status', '--metrics=', 'x']]) {
      expect((await runRsb(args)).code, args.join(' ')).toBe(2)
    }
    // FILE planted as a symbolic link (root writes it): the link is replaced, what it points to is never written
    const victim = path.join(t, 'victim')
    fs.writeFileSync(victim, 'keep me\n')
    const planted = path.join(t, 'planted.prom')
    fs.symlinkSync(victim, planted)
    expect((await runRsb(['status', `--metrics=${planted}`, path.join(t, 'missing/latest')])).code).toBe(1)
    expect(fs.readFileSync(victim, 'utf8')).toBe('keep me\n')
    expect(fs.lstatSync(planted).isFile()).toBe(true)
    expect(promtool(planted).code).toBe(0)
    // a metrics file that cannot be written is an error of its own
    const unwritable = await runRsb(['status', `--metrics=${path.join(t, 'no/such/dir/rsb.prom')}`, path.join(t, 'missing/latest')])
    expect(unwritable.code).toBe(1)
    expect(unwritable.stderr).toContain('(ERR_RSB_CLI_METRICS_FAILED)')
  })
})

describe.skipIf(!isRoot)("the README's monitoring recipes (needs root: chown in the stores)", () => {
  const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../../../README.md'), 'utf8')
  /** `text` with `placeholder` replaced, which must be there (a README that changed must not send a test elsewhere). */
  const replaced = (text: string, placeholder: string, value: string) => {
    expect(text, `the README's recipe names ${placeholder}`).toContain(placeholder)
    return text.replaceAll(placeholder, value)
  }
  /** The command of the README's cron line that starts with `schedule`, after its `root` user field. */
  const cronCommand = (schedule: string) => {
    const line = readme.split('\n').find((l) => l.startsWith(`${schedule} root `))
    expect(line, `a cron line ${schedule} in the README`).toBeDefined()
    return line!.slice(`${schedule} root `.length)
  }

  it('the cron line prints nothing while fresh and the STALE line once stale; the textfile line passes promtool', async () => {
    const t = await testdir({ 'source/a': 'a' })
    const latest = path.join(t, 'store/latest')
    await writeProgram(path.join(t, 'bin'), 'rsb', `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"`)
    const sh = (command: string) =>
      spawnSync('sh', ['-c', command], {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${path.join(t, 'bin')}:${process.env.PATH}`, TZ: 'UTC' },
      })
    const monitor = replaced(cronCommand('30 * * * *'), 'backup@nas:/srv/backups/laptop/latest', latest)
    await ok([...QUIET, path.join(t, 'source'), latest])
    expect(sh(monitor)).toMatchObject({ status: 0, stdout: '' })
    const old = await testdir({ 'source/a': 'a' })
    const stale = path.join(old, 'store/latest')
    await ok([...QUIET, path.join(old, 'source'), stale], clockAt(new Date(Date.now() - 2 * DAY)))
    const printed = sh(replaced(monitor, latest, stale))
    expect(printed.stdout).toMatch(/^STALE: latest of .* is 2d old, older than the limit of 26h/)
    const metrics = path.join(t, 'rsb.prom')
    const textfile = replaced(
      replaced(cronCommand('*/10 * * * *'), '/var/lib/prometheus/node-exporter/rsb.prom', metrics),
      '/mnt/backups/latest',
      latest,
    )
    expect(sh(textfile)).toMatchObject({ status: 0, stdout: '' })
    expect(promtool(metrics).code).toBe(0)
    expect(samples(metrics).get('rsb_fresh')).toBe(1)
  }, 60_000)
})

describe.skipIf(!isRoot)('rsb list and rsb status over SSH (needs root: sshd on 127.0.0.1)', () => {
  let server: SshServer
  beforeAll(async () => {
    server = await startSshd()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('a store on the server (a name with quotes and $()): the same list as read locally, status and its metrics', async () => {
    const t = await testdir({ 'source/a': 'a' }, 'rsb-catalog-ssh-')
    const env = { RSYNC_RSH: server.rsyncRsh }
    const storeDir = path.join(t, HOSTILE_NAME)
    const remote = `${server.alias}:${storeDir}/latest`
    await ok([...QUIET, path.join(t, 'source'), remote], env)
    fs.writeFileSync(path.join(t, 'source/b'), 'b')
    await new Promise((r) => setTimeout(r, 1000))
    await ok([...QUIET, path.join(t, 'source'), remote], env)
    const before = await listing(storeDir)
    const overSsh = await listJson(remote, [], env)
    const here = await listJson(path.join(storeDir, 'latest'))
    const ageless = (list: Listed[]) => list.map((s) => ({ ...s, ageSeconds: undefined }))
    expect(ageless(overSsh.snapshots)).toEqual(ageless(here.snapshots))
    expect(overSsh.snapshots).toHaveLength(2)
    expect(overSsh.snapshots.every((s) => s.status === 'complete')).toBe(true)
    expect(overSsh.snapshots[0]!.manifest).toMatchObject({ destination: remote })
    expect((overSsh.snapshots[0]!.manifest!.rsyncVersion as { remote: string }).remote).toMatch(/^\d+\.\d+/)
    const metrics = path.join(t, 'rsb.prom')
    const status = await runRsb(['status', `--metrics=${metrics}`, remote], { env })
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toMatch(/^OK: latest of /)
    expect(promtool(metrics).code).toBe(0)
    expect(samples(metrics).get('rsb_store_free_bytes')).toBeGreaterThan(0)
    expect(await listing(storeDir)).toEqual(before)
    expect(fs.existsSync(path.join(t, 'pwned'))).toBe(false)
  }, 60_000)

  it('a store with rsb and adopted snapshots, one incomplete and one half-deleted, read over SSH: the same list and rotation as here', async () => {
    const { latest, store, names } = await mixedStore()
    const before = await listing(store)
    const env = { RSYNC_RSH: server.rsyncRsh }
    const ageless = (list: Listed[]) => list.map((s) => ({ ...s, ageSeconds: undefined }))
    const overSsh = await listJson(`${server.alias}:${latest}`, ['--rotation=daily=4'], env)
    const here = await listJson(latest, ['--rotation=daily=4'])
    expect(ageless(overSsh.snapshots)).toEqual(ageless(here.snapshots))
    expect(overSsh.snapshots.map((s) => s.status)).toEqual([
      'incomplete',
      'complete',
      'complete',
      'no-manifest',
      'complete',
      'complete',
      'deleting',
    ])
    expect(overSsh.snapshots.find((s) => s.name === names.legacy)?.rotation.action).toBe('expire')
    const text = await runRsb(['list', `${server.alias}:${latest}`], { env })
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout.split('\n')[0]).toBe(`Store ${store}, mirror latest: 7 snapshot(s)`)
    expect(await listing(store)).toEqual(before)
  }, 60_000)
})

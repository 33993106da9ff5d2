// End-to-end tests: no mistake, clock or neighbour makes rsb destroy the backups it keeps. Each case spawns the
// built `rsb` on real directories: a refusal (exit status, code, one line
// with a hint) leaves a full listing (names, inodes, sizes, mtimes) of every involved directory unchanged; the
// accepted cases end with the expected snapshot.
import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { isRoot, runChecked, testdir } from '@rsb/testkit'
import { describe, expect, it, onTestFinished } from 'vitest'
import {
  binForUsers,
  createSource,
  listing,
  runRecords,
  runRsb,
  snapshotsIn,
  startRsb,
  verifyDestination,
  writeProgram,
  type RsbResult,
} from './helpers.ts'

const QUIET = ['--no-sudo', '--disable-notifications']
const exec = promisify(execFile)

/**
 * The refusal of a run: exit 1 (2 for usage errors) and exactly one error line, naming the code and a hint (lines
 * before it only say what ran first, such as a mount that the refusal then undid).
 */
function expectRefusal(result: RsbResult, code: string, status = 1): void {
  expect(result.code, result.stderr).toBe(status)
  const errors = result.stderr.split('\n').filter((line) => / ERROR |^rsb: error: |Hint/.test(line))
  expect(errors, result.stderr).toHaveLength(1)
  expect(errors[0]).toContain(`(${code})`)
  expect(errors[0]).toMatch(/ Hint: \S/)
}

/** Runs rsb and expects it to refuse with `code`, changing nothing anywhere below `root`. */
async function expectUnchangedRefusal(
  root: string,
  args: readonly string[],
  code: string,
  options: { cwd?: string } = {},
): Promise<RsbResult & { records: Record<string, unknown>[] }> {
  const before = await listing(root, { runRecords: false })
  const records = await runRecordsUnder(root)
  const result = await runRsb(args, options)
  expectRefusal(result, code)
  expect(await listing(root, { runRecords: false })).toEqual(before)
  // a run refused in a store it read leaves its record there (rsb status reports it), and nothing else
  const after = await runRecordsUnder(root)
  // the earlier records are as they were; the refusal only added its own
  expect(after.slice(0, records.length)).toEqual(records)
  const added = after.slice(records.length)
  for (const record of added) expect(record).toMatchObject({ outcome: 'refused', exitCode: 1, error: { code } })
  return Object.assign(result, { records: added })
}

/** The run records of every store under root (t/b is where these tests keep theirs). */
async function runRecordsUnder(root: string): Promise<Record<string, unknown>[]> {
  return runRecords(path.join(root, 'b'))
}

/** A store made by one real run of rsb: t/source → t/b/latest, with one snapshot. */
async function storeWithOneRun(): Promise<{ t: string; source: string; store: string; latest: string }> {
  const t = await testdir()
  const source = path.join(t, 'source')
  await createSource(source)
  const latest = path.join(t, 'b/latest')
  const first = await runRsb([...QUIET, source, latest])
  expect(first.code, first.stderr).toBe(0)
  return { t, source, store: path.join(t, 'b'), latest }
}

describe('DESTINATION is the store, its mount point, or latest/..', () => {
  it('the store itself (forgot /latest) is refused: did you mean DEST/latest?', async () => {
    const { t, source, store } = await storeWithOneRun()
    const result = await expectUnchangedRefusal(t, [...QUIET, source, store], 'ERR_RSB_CLI_DESTINATION_IS_STORE')
    expect(result.stderr).toContain(`Did you mean ${path.join(store, 'latest')}?`)
  })

  it('--json carries the refusal: a document with the error and exit status 1, for monitoring', async () => {
    const { t, source, store } = await storeWithOneRun()
    const before = await listing(t)
    const result = await runRsb([...QUIET, '--json', source, store])
    expect(result.code).toBe(1)
    const summary = JSON.parse(result.stdout) as { exitCode: number; error: { code: string; hint: string }; actions: string[] }
    expect(summary).toMatchObject({ exitCode: 1, actions: [], error: { code: 'ERR_RSB_CLI_DESTINATION_IS_STORE' } })
    expect(summary.error.hint).toContain(path.join(store, 'latest'))
    expect(await listing(t)).toEqual(before)
  })

  it('an original rsync-system-backup store (no .rsb yet) given as DESTINATION is refused', async () => {
    const t = await testdir({ 'b/latest/a': 'a', 'b/2024-01-01 00:00:00/a': 'a', 'source/a': 'a' })
    await expectUnchangedRefusal(t, [...QUIET, path.join(t, 'source'), path.join(t, 'b')], 'ERR_RSB_CLI_DESTINATION_IS_STORE')
  })

  it.each(['..', '../', './/..'])('latest/%s resolves to the store and is refused', async (tail) => {
    const { t, source, latest } = await storeWithOneRun()
    await expectUnchangedRefusal(t, [...QUIET, source, `${latest}/${tail}`], 'ERR_RSB_CLI_DESTINATION_IS_STORE')
  })

  it('latest/. and latest// are latest: the run works and the snapshot lands beside it', async () => {
    const { source, store, latest } = await storeWithOneRun()
    await new Promise((r) => setTimeout(r, 1000))
    for (const spelling of [`${latest}/.`, `${latest}//`]) {
      const result = await runRsb([...QUIET, '--keep-latest=10', source, spelling])
      expect(result.code, result.stderr).toBe(0)
    }
    const snapshots = await snapshotsIn(store)
    expect(snapshots).toHaveLength(3)
    for (const name of snapshots) await verifyDestination(path.join(store, name))
    expect((await fs.readdir(store)).sort()).toEqual(['.rsb', 'latest', ...snapshots].sort())
  })

  it.skipIf(!isRoot)('the --mount point itself is refused, and the disk is left as it was (needs root: tmpfs)', async () => {
    const t = await testdir({ 'source/a': 'a' })
    const disk = path.join(t, 'disk')
    await fs.mkdir(disk)
    await runChecked('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', disk])
    onTestFinished(async () => {
      await runChecked('umount', [disk])
    })
    await fs.mkdir(path.join(disk, 'lost+found'))
    await fs.writeFile(path.join(disk, 'lost+found/keep'), 'keep')
    const result = await expectUnchangedRefusal(
      t,
      [...QUIET, `--mount=${disk}`, path.join(t, 'source'), disk],
      'ERR_RSB_CLI_DESTINATION_IS_MOUNT_POINT',
    )
    expect(result.stderr).toContain(path.join(disk, 'latest'))
  })
})

describe('SOURCE and DESTINATION overlap', () => {
  it('SOURCE inside DESTINATION is refused', async () => {
    const { t, latest } = await storeWithOneRun()
    await fs.mkdir(path.join(latest, 'sub'))
    await fs.writeFile(path.join(latest, 'sub/file'), 'x')
    await expectUnchangedRefusal(t, [...QUIET, path.join(latest, 'sub'), latest], 'ERR_RSB_CLI_OVERLAP')
  })

  it('SOURCE equal to DESTINATION is refused (also through a symlinked parent)', async () => {
    const t = await testdir({ 'data/a': 'a' })
    await fs.symlink(t, path.join(t, 'alias'))
    await expectUnchangedRefusal(t, [...QUIET, path.join(t, 'data'), path.join(t, 'alias/data')], 'ERR_RSB_CLI_OVERLAP')
  })

  it.each(['backups', 'back [1]*?ups'])(
    'a store inside SOURCE (var/%s) is excluded automatically: the backup never copies itself, run after run',
    async (name) => {
      const t = await testdir({ 'root/etc/fstab': 'x', 'root/home/user/file': 'y', 'root/var/backups1': 'a near miss, copied' })
      const source = path.join(t, 'root')
      const latest = path.join(source, 'var', name, 'latest')
      for (let run = 0; run < 2; run++) {
        const result = await runRsb([...QUIET, '--rotation=hourly=always', source, latest])
        expect(result.code, result.stderr).toBe(0)
        expect(result.stderr).toContain(
          `The backup store ${path.join(source, 'var', name)} is inside SOURCE: it is excluded from the backup.`,
        )
        await new Promise((r) => setTimeout(r, 1000))
      }
      expect((await fs.readdir(latest)).sort()).toEqual(['etc', 'home', 'var'])
      expect(await fs.readdir(path.join(latest, 'var'))).toEqual(['backups1'])
      const snapshots = await snapshotsIn(path.join(source, 'var', name))
      expect(snapshots).toHaveLength(2)
      for (const snapshot of snapshots) expect(await fs.readdir(path.join(source, 'var', name, snapshot, 'var'))).toEqual(['backups1'])
    },
  )

  it('a DESTINATION whose store is SOURCE itself is refused (the store cannot be left out of SOURCE)', async () => {
    const t = await testdir({ 'data/a': 'a' })
    await expectUnchangedRefusal(t, [...QUIET, path.join(t, 'data'), path.join(t, 'data/latest')], 'ERR_RSB_CLI_OVERLAP')
  })
})

describe('swapped arguments and unrelated destinations', () => {
  it('swapped SOURCE and DESTINATION (the mirror as SOURCE) are refused', async () => {
    const { t, source, latest } = await storeWithOneRun()
    const result = await expectUnchangedRefusal(t, [...QUIET, latest, source], 'ERR_RSB_CLI_SOURCE_IS_BACKUP')
    expect(result.stderr).toContain('swapped')
  })

  it("an original store's mirror as SOURCE is refused", async () => {
    const t = await testdir({ 'b/latest/a': 'a', 'b/2024-01-01 00:00:00/a': 'a', 'target/keep': 'k' })
    await expectUnchangedRefusal(t, [...QUIET, path.join(t, 'b/latest'), path.join(t, 'elsewhere/latest')], 'ERR_RSB_CLI_SOURCE_IS_BACKUP')
  })

  it('an unrelated non-empty directory as DESTINATION is refused', async () => {
    const t = await testdir({ 'source/a': 'a', 'documents/thesis.tex': 'years of work' })
    await expectUnchangedRefusal(t, [...QUIET, path.join(t, 'source'), path.join(t, 'documents')], 'ERR_RSB_CLI_DESTINATION_NOT_EMPTY')
  })

  it.each(['photos', '2024-01-01 00:00:00'])(
    'in an original store, %s beside the mirror is not taken for it: refused, nothing adopted or written',
    async (name) => {
      const t = await testdir({
        'source/a': 'a',
        'b/latest/a': 'a',
        'b/2024-01-01 00:00:00/history': 'h',
        'b/2024-02-01 00:00:00/history': 'h',
        'b/photos/holiday.jpg': 'j',
      })
      await expectUnchangedRefusal(t, [...QUIET, path.join(t, 'source'), path.join(t, 'b', name)], 'ERR_RSB_CLI_DESTINATION_NOT_EMPTY')
    },
  )

  it('snapshot and rotate alone refuse a DESTINATION that does not exist: a typo makes no store', async () => {
    const t = await testdir({ 'b/latest/a': 'a', 'b/2024-01-01 00:00:00/a': 'a' })
    await expectUnchangedRefusal(t, [...QUIET, '-s', '-r', path.join(t, 'b/latset')], 'ERR_RSB_CLI_DESTINATION_MISSING')
  })

  it('--accept-destination accepts a non-empty new destination on purpose; later runs need no flag', async () => {
    const t = await testdir({ 'source/a': 'a', 'b/latest/old': 'old' })
    const args = [...QUIET, path.join(t, 'source'), path.join(t, 'b/latest')]
    const result = await runRsb([...args, '--accept-destination'])
    expect(result.code, result.stderr).toBe(0)
    expect(await fs.readdir(path.join(t, 'b/latest'))).toEqual(['a'])
    expect(await snapshotsIn(path.join(t, 'b'))).toHaveLength(1)
    await new Promise((r) => setTimeout(r, 1000))
    expect((await runRsb(args)).code).toBe(0)
  })
})

describe('SOURCE missing, a file, empty or unreadable', () => {
  it('a missing SOURCE is an error before rsync runs; a fresh destination gets no snapshot', async () => {
    const t = await testdir()
    await expectUnchangedRefusal(t, [...QUIET, path.join(t, 'nothing'), path.join(t, 'b/latest')], 'ERR_RSB_CLI_SOURCE_MISSING')
  })

  it('a SOURCE that is a file is refused', async () => {
    const t = await testdir({ 'file.txt': 'x' })
    await expectUnchangedRefusal(t, [...QUIET, path.join(t, 'file.txt'), path.join(t, 'b/latest')], 'ERR_RSB_CLI_SOURCE_NOT_DIRECTORY')
  })

  it('an empty SOURCE (an unmounted filesystem) is refused and latest keeps its files', async () => {
    const { t, latest } = await storeWithOneRun()
    await fs.mkdir(path.join(t, 'empty'))
    const result = await expectUnchangedRefusal(t, [...QUIET, path.join(t, 'empty'), latest], 'ERR_RSB_CLI_SOURCE_EMPTY')
    expect(result.stderr).toContain('is its filesystem mounted?')
    expect(result.records).toHaveLength(1)
    await verifyDestination(latest)
  })

  it('--allow-empty-source backs up an empty SOURCE on purpose', async () => {
    const t = await testdir()
    await fs.mkdir(path.join(t, 'empty'))
    const result = await runRsb([...QUIET, '--allow-empty-source', path.join(t, 'empty'), path.join(t, 'b/latest')])
    expect(result.code, result.stderr).toBe(0)
    expect(await snapshotsIn(path.join(t, 'b'))).toHaveLength(1)
  })

  it.skipIf(!isRoot)('an unreadable SOURCE root is refused (needs root: runs as nobody)', async () => {
    const t = await testdir({ 'secret/a': 'a' })
    await fs.chmod(t, 0o755)
    await fs.chmod(path.join(t, 'secret'), 0o700)
    // the store is nobody's own (a store open to everyone would be refused first: ERR_RSB_CLI_STORE_UNSAFE)
    await fs.mkdir(path.join(t, 'b'), { mode: 0o755 })
    const id = async (flag: string) => Number((await runChecked('id', [flag, 'nobody'])).trim())
    await fs.chown(path.join(t, 'b'), await id('-u'), await id('-g'))
    const before = await listing(t)
    const env = { PATH: process.env.PATH, TZ: 'UTC', HOME: '/tmp' }
    // nobody runs a copy of rsb, in /: the checkout (the test's working directory) may lie where only root gets in
    const bin = await binForUsers()
    const result = await exec(
      'runuser',
      ['-u', 'nobody', '--', process.execPath, bin, ...QUIET, path.join(t, 'secret'), path.join(t, 'b/latest')],
      { env, cwd: '/' },
    ).then(
      ({ stdout, stderr }) => ({ code: 0, signal: null, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        signal: null,
        stdout: error.stdout,
        stderr: error.stderr,
      }),
    )
    expectRefusal(result, 'ERR_RSB_CLI_SOURCE_UNREADABLE')
    expect(await listing(t)).toEqual(before)
  })
})

describe('a symlinked DESTINATION', () => {
  it('is refused (snapshots would copy the link): the hint names the real directory', async () => {
    const { t, source, store } = await storeWithOneRun()
    await fs.rename(path.join(store, 'latest'), path.join(t, 'real-latest'))
    await fs.symlink(path.join(t, 'real-latest'), path.join(store, 'latest'))
    await expectUnchangedRefusal(t, [...QUIET, source, path.join(store, 'latest')], 'ERR_RSB_CLI_DESTINATION_SYMLINK')
  })

  it('a symlinked parent is resolved: the snapshots hold real files beside the real latest', async () => {
    const t = await testdir({ 'source/a': 'a' })
    await fs.mkdir(path.join(t, 'disk'))
    await fs.symlink(path.join(t, 'disk'), path.join(t, 'alias'))
    const result = await runRsb([...QUIET, path.join(t, 'source'), path.join(t, 'alias/latest')])
    expect(result.code, result.stderr).toBe(0)
    const [snapshot] = await snapshotsIn(path.join(t, 'disk'))
    expect((await fs.lstat(path.join(t, 'disk', snapshot as string))).isDirectory()).toBe(true)
    expect(await fs.readFile(path.join(t, 'disk', snapshot as string, 'a'), 'utf8')).toBe('a')
  })
})

describe('only directories are snapshots', () => {
  it('a regular file and a symlink named like snapshots are never rotated', async () => {
    const t = await testdir({ 'source/a': 'a', 'b/2000-01-01 00:00:00': 'a file', 'elsewhere/x': 'x' })
    await fs.symlink(path.join(t, 'elsewhere'), path.join(t, 'b/2000-01-02 00:00:00'))
    await fs.mkdir(path.join(t, 'b/2000-01-03 00:00:00'))
    await fs.writeFile(path.join(t, 'b/2000-01-03 00:00:00/a'), 'a')
    const result = await runRsb([...QUIET, '--json', '--rotation=hourly=1', path.join(t, 'source'), path.join(t, 'b/latest')])
    expect(result.code, result.stderr).toBe(0)
    const summary = JSON.parse(result.stdout) as { rotation: { deleted: string[] } }
    expect(summary.rotation.deleted).toEqual([path.join(t, 'b/2000-01-03 00:00:00')])
    expect(await fs.readFile(path.join(t, 'b/2000-01-01 00:00:00'), 'utf8')).toBe('a file')
    expect((await fs.lstat(path.join(t, 'b/2000-01-02 00:00:00'))).isSymbolicLink()).toBe(true)
    expect(await fs.readdir(path.join(t, 'elsewhere'))).toEqual(['x'])
  })
})

describe('switching from rsync-system-backup', () => {
  it('a store of the original is adopted on the first run without a flag: its snapshots are recorded, never rewritten, and rotated as this mirror’s', async () => {
    const t = await testdir({
      'b/latest/a': 'a',
      'b/2024-01-01 00:00:00/a': 'a',
      'b/2024-01-01 00:30:00/a': 'a',
      'b/2024-01-02 00:00:00/a': 'a',
      'b/lost+found/x': 'x',
      'source/a': 'a',
    })
    const store = path.join(t, 'b')
    const old = ['2024-01-01 00:00:00', '2024-01-01 00:30:00', '2024-01-02 00:00:00']
    const before = await Promise.all(old.map((name) => listing(path.join(store, name))))
    const result = await runRsb([...QUIET, '--json', '--rotation=daily=always', path.join(t, 'source'), path.join(store, 'latest')], {
      env: { TZ: 'UTC' },
    })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain('Adopted 3 snapshot(s)')
    const summary = JSON.parse(result.stdout) as { snapshot: string; rotation: { deleted: string[] } }
    // daily=always keeps the oldest of each day: 00:30 goes, by this mirror's own retention
    expect(summary.rotation.deleted).toEqual([path.join(store, '2024-01-01 00:30:00')])
    expect(await snapshotsIn(store)).toEqual(['2024-01-01 00:00:00', '2024-01-02 00:00:00', path.basename(summary.snapshot)])
    expect(await listing(path.join(store, old[0] as string))).toEqual(before[0])
    expect(await listing(path.join(store, old[2] as string))).toEqual(before[2])
    const record = JSON.parse(await fs.readFile(path.join(store, '.rsb/snapshots/2024-01-02 00:00:00.json'), 'utf8')) as Record<
      string,
      unknown
    >
    expect(record).toMatchObject({ version: 1, snapshot: '2024-01-02 00:00:00', created: '2024-01-02T00:00:00.000Z', adopted: true })
    expect(await fs.readdir(path.join(store, 'lost+found'))).toEqual(['x'])
  })
})

describe('one mirror, two spellings', () => {
  it('a run through a symlinked parent and one through the real path are one destination: the second waits its turn (ERR_RSB_CLI_LOCKED)', async () => {
    const t = await testdir({ 'source/a': 'a' })
    await fs.mkdir(path.join(t, 'b'))
    await fs.symlink(path.join(t, 'b'), path.join(t, 'alias'))
    const bin = path.join(t, 'bin')
    await writeProgram(bin, 'cp', 'sleep 3; exec /bin/cp "$@"')
    const first = startRsb([...QUIET, path.join(t, 'source'), path.join(t, 'b/latest')], { path: [bin] })
    await first.waitForStderr('Creating snapshot:')
    const second = await runRsb([...QUIET, path.join(t, 'source'), path.join(t, 'alias/latest')])
    expect(second.code, second.stderr).toBe(1)
    expect(second.stderr).toContain('(ERR_RSB_CLI_LOCKED)')
    expect((await first.done).code).toBe(0)
    expect(await snapshotsIn(path.join(t, 'b'))).toHaveLength(1)
  })
})

describe('two destinations in one parent', () => {
  interface Summary {
    snapshot: string | null
    rotation: { deleted: string[] } | null
  }

  /** Files of each mirror's source: a snapshot of mirror M holds exactly these. */
  async function setUp() {
    const t = await testdir({ 'laptop/whoami': 'laptop', 'laptop/data/l': 'l', 'server/whoami': 'server', 'server/data/s': 's' })
    const bin = path.join(t, 'bin')
    // a slowed copy: cp sleeps before it starts and after it is done, so concurrent runs overlap
    await writeProgram(bin, 'cp', 'sleep 0.2; /bin/cp "$@"; s=$?; sleep 0.2; exit $s')
    return { t, bin, store: path.join(t, 'b') }
  }

  async function check(t: string, store: string, made: Map<string, string>, deleted: Map<string, string>) {
    // every snapshot-named directory is complete and a snapshot of the mirror that made it
    const left = await snapshotsIn(store)
    for (const name of left) {
      const who = made.get(name)
      expect(who, `${name} was made by no run`).toBeDefined()
      expect(await fs.readFile(path.join(store, name, 'whoami'), 'utf8')).toBe(who)
      expect((await fs.readdir(path.join(store, name, 'data'))).length).toBe(1)
    }
    // none is gone except through its own mirror's rotation
    for (const [name, who] of made) {
      if (!left.includes(name)) expect(deleted.get(name), `${name} (${who}) vanished`).toBe(who)
    }
    expect(await fs.readdir(t)).toContain('b')
    expect((await fs.readdir(store)).filter((n) => n.startsWith('.rsb-snapshot-'))).toEqual([])
  }

  function record(result: RsbResult, who: string, store: string, made: Map<string, string>, deleted: Map<string, string>) {
    expect(result.code, result.stderr).toBe(0)
    const summary = JSON.parse(result.stdout) as Summary
    if (summary.snapshot) made.set(path.basename(summary.snapshot), who)
    for (const gone of summary.rotation?.deleted ?? []) {
      expect(path.dirname(gone)).toBe(store)
      deleted.set(path.basename(gone), who)
    }
  }

  it('20 alternating runs and 5 concurrent pairs: each keeps its own snapshots, complete', { timeout: 120_000 }, async () => {
    const { t, bin, store } = await setUp()
    const made = new Map<string, string>()
    const deleted = new Map<string, string>()
    const args = (who: string) => [...QUIET, '--json', '--rotation=minutely=3', path.join(t, who), path.join(store, `${who}-latest`)]
    for (let run = 0; run < 20; run++) {
      const who = run % 2 === 0 ? 'laptop' : 'server'
      record(await runRsb(args(who), { path: [bin] }), who, store, made, deleted)
    }
    await check(t, store, made, deleted)
    for (let pair = 0; pair < 5; pair++) {
      const [a, b] = await Promise.all([runRsb(args('laptop'), { path: [bin] }), runRsb(args('server'), { path: [bin] })])
      record(a, 'laptop', store, made, deleted)
      record(b, 'server', store, made, deleted)
      await check(t, store, made, deleted)
    }
    // each mirror's own retention ran: at most 3 of its own in the minutely window, and at least 1 left
    const left = await snapshotsIn(store)
    for (const who of ['laptop', 'server']) {
      const own = left.filter((n) => made.get(n) === who)
      expect(own.length).toBeGreaterThanOrEqual(1)
      expect(own.length).toBeLessThanOrEqual(4)
    }
    expect([...deleted.values()].filter((w) => w === 'laptop').length).toBeGreaterThan(0)
  })
})

/** A snapshot name `hours` hours before `now`, on a clock `offset` hours ahead of UTC. */
function hoursAgo(now: Date, hours: number, offset = 0): string {
  return new Date(now.getTime() + (offset - hours) * 3_600_000).toISOString().slice(0, 19).replace('T', ' ')
}

/** POSIX TZ values (west of Greenwich is positive): UTC-12 and UTC+14, 26 hours apart. */
const UTC_MINUS_12 = 'XXX12'
const UTC_PLUS_14 = 'XXX-14'

describe('the clock and TZ never turn rotation against history', () => {
  /** A store of hourly snapshots over 3 days, named on a clock `offset` hours from UTC, plus one dated next year. */
  async function hourlyStore(offset = 0) {
    const now = new Date()
    const t = await testdir({ 'source/a': 'a' })
    const store = path.join(t, 'b')
    const names = Array.from({ length: 72 }, (_, i) => hoursAgo(now, 72 - i, offset))
    const future = `${now.getUTCFullYear() + 1}-06-01 00:00:00`
    for (const name of [...names, future]) {
      await fs.mkdir(path.join(store, name), { recursive: true })
      await fs.writeFile(path.join(store, name, 'a'), 'a')
    }
    return { t, store, names, future }
  }

  it('a snapshot dated next year is kept, never counted, and named in a warning; nothing recent is deleted', async () => {
    const { t, store, names, future } = await hourlyStore()
    const result = await runRsb([...QUIET, '--json', path.join(t, 'source'), path.join(store, 'latest')], { env: { TZ: 'UTC' } })
    expect(result.code, result.stderr).toBe(0)
    const summary = JSON.parse(result.stdout) as { warnings: string[]; rotation: { deleted: string[] } }
    expect(summary.warnings).toEqual([expect.stringContaining(`Snapshot ${path.join(store, future)} is dated in the future`)])
    const left = await snapshotsIn(store)
    expect(left).toContain(future)
    // the last 24 hours are all kept (hourly=24); older ones only go by the daily scheme
    for (const name of names.slice(-23)) expect(left).toContain(name)
    expect(summary.rotation.deleted.length).toBeGreaterThan(0)
    for (const gone of summary.rotation.deleted) expect(names.slice(0, 49)).toContain(path.basename(gone))
  })

  it.each([
    ['ahead', UTC_MINUS_12, -12, UTC_PLUS_14],
    ['back', UTC_PLUS_14, 14, UTC_MINUS_12],
  ])(
    'TZ moved 26 hours %s between runs deletes nothing recent: snapshots are timed by their records',
    async (_way, first, offset, moved) => {
      const { t, store, names, future } = await hourlyStore(offset)
      // a first run adopts the store, recording every snapshot's moment, and keeps them all
      await fs.mkdir(path.join(store, 'latest'))
      const adopt = await runRsb([...QUIET, '--rotate', '--rotation=hourly=always', path.join(store, 'latest')], { env: { TZ: first } })
      expect(adopt.code, adopt.stderr).toBe(0)
      expect(adopt.stderr).toContain('Adopted 73 snapshot(s)')
      expect(await snapshotsIn(store)).toHaveLength(73)
      const result = await runRsb([...QUIET, '--json', path.join(t, 'source'), path.join(store, 'latest')], { env: { TZ: moved } })
      expect(result.code, result.stderr).toBe(0)
      const left = await snapshotsIn(store)
      for (const name of names.slice(-23)) expect(left).toContain(name)
      expect(left).toContain(future)
      const summary = JSON.parse(result.stdout) as { warnings: string[] }
      expect(summary.warnings).toEqual([expect.stringContaining(future)])
    },
  )

  it('without records, a TZ 26 hours back makes the recent snapshots look newer than now: all kept, never counted, reported', async () => {
    const { t, store, names } = await hourlyStore(14)
    const result = await runRsb([...QUIET, '--json', path.join(t, 'source'), path.join(store, 'latest')], { env: { TZ: UTC_MINUS_12 } })
    expect(result.code, result.stderr).toBe(0)
    const left = await snapshotsIn(store)
    for (const name of names.slice(-25)) expect(left).toContain(name)
    const summary = JSON.parse(result.stdout) as { warnings: string[] }
    expect(summary.warnings.length).toBeGreaterThanOrEqual(25)
    expect(summary.warnings.every((w) => w.includes('is dated in the future'))).toBe(true)
  })
})

describe('a kill during rotation never leaves a partial snapshot under its name', () => {
  const FILES = 8000
  let base: string | undefined

  /** A store with a mirror and 4 snapshots of FILES files each (hard links of one tree, made once). */
  async function bigStore() {
    if (base === undefined) {
      base = path.join(await testdir(), 'base')
      for (let dir = 0; dir < FILES / 200; dir++) {
        await fs.mkdir(path.join(base, `d${dir}`), { recursive: true })
        await Promise.all(Array.from({ length: 200 }, (_, i) => fs.writeFile(path.join(base as string, `d${dir}`, `f${i}`), `${dir}/${i}`)))
      }
    }
    const t = await testdir()
    const store = path.join(t, 'b')
    const names = ['2001-01-01 00:00:00', '2002-01-01 00:00:00', '2003-01-01 00:00:00', '2004-01-01 00:00:00']
    await fs.mkdir(store)
    for (const name of [...names, 'latest']) await runChecked('cp', ['-al', base, path.join(store, name)])
    return { t, store, names }
  }

  async function complete(dir: string): Promise<boolean> {
    let count = 0
    for (const sub of await fs.readdir(dir)) count += (await fs.readdir(path.join(dir, sub))).length
    return count === FILES
  }

  it(
    'kill -9 at 20 random moments: every snapshot-named directory is complete; the next run finishes the deletion',
    { timeout: 240_000 },
    async () => {
      const args = [...QUIET, '--rotate', '--rotation=yearly=1']
      // how long the deletions of an uninterrupted rotation take (from its first 'Deleting' line: 3 older snapshots)
      const probe = await bigStore()
      const first = startRsb([...args, path.join(probe.store, 'latest')])
      await first.waitForStderr('Deleting ')
      const started = performance.now()
      const whole = await first.done
      const duration = performance.now() - started
      expect(whole.code, whole.stderr).toBe(0)
      expect(await snapshotsIn(probe.store)).toEqual(['2004-01-01 00:00:00'])
      let midway = 0
      for (let round = 0; round < 20; round++) {
        const { store, names } = await bigStore()
        const run = startRsb([...args, path.join(store, 'latest')], { detached: true })
        await run.waitForStderr('Deleting ')
        await new Promise((r) => setTimeout(r, Math.random() * duration))
        try {
          process.kill(-(run.child.pid as number), 'SIGKILL') // rsb and its rm, the whole group
        } catch {
          // already finished
        }
        await run.done
        const left = await snapshotsIn(store)
        for (const name of left) expect(await complete(path.join(store, name)), `${name} after round ${round}`).toBe(true)
        expect(names).toEqual(expect.arrayContaining(left))
        if (left.length > 1 && left.length < 4) midway++
        const next = await runRsb([...args, path.join(store, 'latest')])
        expect(next.code, next.stderr).toBe(0)
        expect(await snapshotsIn(store)).toEqual(['2004-01-01 00:00:00'])
        for (const id of await fs.readdir(path.join(store, '.rsb/deleting')).catch(() => [])) {
          expect(await fs.readdir(path.join(store, '.rsb/deleting', id))).toEqual([])
        }
        expect(await complete(path.join(store, '2004-01-01 00:00:00'))).toBe(true)
      }
      // kills that landed between deletions (some snapshots gone, some left) happened
      expect(midway).toBeGreaterThanOrEqual(3)
    },
  )
})

describe.skipIf(!isRoot)('a snapshot that fails on a full disk (needs root: a small tmpfs)', () => {
  it('says how to free space, and rsb --rotate with a smaller scheme works then', async () => {
    const t = await testdir()
    const disk = path.join(t, 'disk')
    await fs.mkdir(disk)
    // few inodes: every snapshot needs one per directory
    await runChecked('mount', ['-t', 'tmpfs', '-o', 'size=16m,nr_inodes=400', 'tmpfs', disk])
    onTestFinished(async () => {
      await runChecked('umount', [disk])
    })
    const source = path.join(t, 'source')
    for (let i = 0; i < 100; i++) await fs.mkdir(path.join(source, `d${i}`), { recursive: true })
    await fs.writeFile(path.join(source, 'd0/f'), 'x')
    const latest = path.join(disk, 'latest')
    const runs: RsbResult[] = []
    for (let i = 0; i < 4; i++) {
      runs.push(await runRsb([...QUIET, '--rotation=minutely=always', source, latest]))
      await new Promise((r) => setTimeout(r, 1000))
    }
    const failed = runs.find((r) => r.code !== 0)
    expect(failed, runs.map((r) => r.stderr).join('\n')).toBeDefined()
    expect(failed?.stderr).toContain('(ERR_RSB_CLI_SNAPSHOT_FAILED)')
    expect(failed?.stderr).toMatch(/Hint: The destination filesystem is full .*rsb --rotate --rotation=/)
    const before = await snapshotsIn(disk)
    expect(before.length).toBeGreaterThanOrEqual(1)
    for (const name of before) expect((await fs.readdir(path.join(disk, name))).length).toBe(100)
    // the way out the hint names
    const rotate = await runRsb([...QUIET, '--rotate', '--rotation=minutely=1', latest])
    expect(rotate.code, rotate.stderr).toBe(0)
    expect(await snapshotsIn(disk)).toHaveLength(1)
    const again = await runRsb([...QUIET, '--rotation=minutely=always', source, latest])
    expect(again.code, again.stderr).toBe(0)
  })
})

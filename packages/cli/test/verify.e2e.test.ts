// Content hashes recorded by real backups, `rsb verify` end to end (locally and over the test sshd), the link health
// of every backup and the refusal of a filesystem without hard links (vfat through FUSE: this kernel may have no vfat
// module). Needs root (sshd, FUSE, loop images); CI runs as root.
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { isRoot, runChecked, startSshd, testdir, type SshServer } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { clockAt as clockAtWithStat, HOSTILE_NAME, runRsb, snapshotsIn, startRsb, writeProgram } from './helpers.ts'

const QUIET = ['--no-sudo', '--disable-notifications']
/** Every snapshot is kept (the default scheme keeps one an hour). */
const KEEP = ['--keep-latest=20']
/** A name that is not UTF-8 (latin1 "café"). */
const LATIN1 = Buffer.from([0x63, 0x61, 0x66, 0xe9])

/** The clock of a run at `date` (snapshots are named by the second: each run its own), files' times left as they are. */
const clockAt = (date: Date) => clockAtWithStat(date, { fakeStat: false })

interface Manifest {
  links: { previous?: string; files: number; linked: number; copied: number; copiedBytes: number }
  hashes: { algorithm: string; files: number; hashedFiles: number; hashedBytes: number; seconds: number }
  warnings: string[]
}

function manifestOf(store: string, snapshot: string): Manifest {
  const record = JSON.parse(fs.readFileSync(path.join(store, '.rsb/snapshots', `${snapshot}.json`), 'utf8')) as { manifest: Manifest }
  return record.manifest
}

interface VerifyDocument {
  exitCode: number
  sample: number
  filesRead: number
  snapshots: { name: string; status: string; files: number; checked: number; problems: number }[]
  problems: { snapshot: string; kind: string; path: string; detail: string }[]
  error?: { code: string }
}

async function verify(args: readonly string[], env: Record<string, string> = {}) {
  const result = await runRsb(['verify', '--no-sudo', ...args], { env })
  return { ...result, document: args.includes('--json') ? (JSON.parse(result.stdout) as VerifyDocument) : undefined }
}

/** Every entry below `root` (names as bytes: one is not UTF-8) with its inode, links, size, mode, mtime and ctime. */
function treeState(root: string): string {
  return execFileSync('sh', ['-c', 'find "$1" -printf "%i %n %s %m %T@ %C@ %p\\0" | sort -z | od -An -tx1', 'sh', root], {
    encoding: 'latin1',
  })
}

/** Flips the first byte of a file in place and gives it back its mtime (as bit rot would: rsync's quick check misses it). */
function rot(file: string | Buffer): void {
  const { atime, mtime } = fs.statSync(file)
  const fd = fs.openSync(file, 'r+')
  const byte = Buffer.alloc(1)
  fs.readSync(fd, byte, 0, 1, 0)
  byte[0] = byte[0]! ^ 0xff
  fs.writeSync(fd, byte, 0, 1, 0)
  fs.closeSync(fd)
  fs.utimesSync(file, atime, mtime)
}

/**
 * A store of three real runs a day apart: run 1 makes 40 files (one with a hostile name, one not UTF-8, one 1 MiB);
 * run 2 changes `changed` and adds `new`; run 3 changes nothing.
 */
async function threeRuns(remote?: { server: SshServer }) {
  const t = await testdir({}, 'rsb-verify-')
  const source = path.join(t, 'source')
  fs.mkdirSync(path.join(source, 'dir'), { recursive: true })
  for (let i = 0; i < 36; i++) fs.writeFileSync(path.join(source, 'dir', `f${i}`), `file ${i}\n`)
  fs.writeFileSync(path.join(source, HOSTILE_NAME), 'hostile\n')
  fs.writeFileSync(Buffer.concat([Buffer.from(`${source}/`), LATIN1]), 'latin1\n')
  fs.writeFileSync(path.join(source, 'big'), Buffer.alloc(1 << 20, 7))
  fs.writeFileSync(path.join(source, 'changed'), 'one\n')
  const store = path.join(t, 'store')
  const destination = remote ? `${remote.server.alias}:${store}/latest` : path.join(store, 'latest')
  const env = remote ? { RSYNC_RSH: remote.server.rsyncRsh } : {}
  const day = (n: number) => new Date(Date.UTC(2026, 10, 20 + n, 3, 0, 0))
  const backup = async (n: number) => {
    const result = await runRsb([...QUIET, ...KEEP, source, destination], { env: { ...env, ...clockAt(day(n)) } })
    expect(result.code, result.stderr).toBe(0)
    return result
  }
  const runs = [await backup(1)]
  fs.writeFileSync(path.join(source, 'changed'), 'two!\n')
  fs.writeFileSync(path.join(source, 'new'), 'new\n')
  runs.push(await backup(2))
  runs.push(await backup(3))
  const names = await snapshotsIn(store)
  expect(names).toHaveLength(3)
  return { t, source, store, destination, env, names, runs }
}

describe.skipIf(!isRoot)('content hashes and rsb verify (needs root: FUSE, sshd)', () => {
  it('each backup hashes only the new inodes of its snapshot; an untouched store verifies clean (exit 0)', async () => {
    const { store, destination, names, runs } = await threeRuns()
    const [first, second, third] = names.map((n) => manifestOf(store, n)) as [Manifest, Manifest, Manifest]
    // 40 files: every one new in the first snapshot, two in the second (changed, new), none in the third
    expect(first.links).toEqual({ files: 40, linked: 0, copied: 40, copiedBytes: expect.any(Number) })
    expect(first.hashes).toMatchObject({ algorithm: 'blake2b-256', files: 40, hashedFiles: 40 })
    expect(first.hashes.hashedBytes).toBeGreaterThan(1 << 20)
    expect(second.links).toMatchObject({ previous: names[0], files: 41, linked: 39, copied: 2 })
    expect(second.hashes).toMatchObject({ files: 41, hashedFiles: 2, hashedBytes: 5 + 4 })
    expect(third.links).toMatchObject({ previous: names[1], files: 41, linked: 41, copied: 0 })
    expect(third.hashes).toMatchObject({ files: 41, hashedFiles: 0, hashedBytes: 0 })
    for (const run of runs) expect(run.stderr).not.toContain('Link health')
    // the records are in the store's metadata, never in a snapshot
    expect(fs.readdirSync(path.join(store, '.rsb/hashes')).sort()).toEqual(names.map((n) => `${n}.hashes`))
    const before = treeState(store)
    const clean = await verify(['--json', destination])
    expect(clean.code, clean.stderr).toBe(0)
    expect(clean.document?.problems).toEqual([])
    expect(clean.document?.snapshots.map((s) => [s.name, s.status, s.files, s.checked])).toEqual([
      [names[0], 'ok', 40, 40],
      [names[1], 'ok', 41, 41],
      [names[2], 'ok', 41, 41],
    ])
    // each inode is read once: 40 of the first snapshot and the 2 new of the second
    expect(clean.document?.filesRead).toBe(42)
    const text = await verify([destination])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain('No file changed since its snapshot was made.')
    expect(treeState(store)).toEqual(before)
  }, 60_000)

  it('a flipped byte (in a shared inode: every snapshot holding it), a deleted and an added file: each reported by path, exit 1', async () => {
    const { store, destination, names } = await threeRuns()
    const [a, b, c] = names as [string, string, string]
    rot(path.join(store, a, 'dir/f1')) // shared by all three snapshots (and the mirror)
    rot(path.join(store, c, HOSTILE_NAME)) // shared too: reported for every snapshot
    rot(path.join(store, b, 'changed')) // the second version: the second and third snapshots hold it
    fs.rmSync(path.join(store, c, 'dir/f2'))
    fs.writeFileSync(path.join(store, b, 'planted'), 'x')
    fs.writeFileSync(path.join(store, a, 'planted '), 'y')
    const result = await verify(['--json', destination])
    expect(result.code, result.stderr).toBe(1)
    const found = result.document!.problems.map((p) => [p.snapshot, p.kind, p.path])
    expect(found).toEqual([
      [a, 'changed', 'dir/f1'],
      [a, 'changed', HOSTILE_NAME],
      [a, 'extra', 'planted '],
      [b, 'changed', 'changed'],
      [b, 'changed', 'dir/f1'],
      [b, 'changed', HOSTILE_NAME],
      [b, 'extra', 'planted'],
      [c, 'changed', 'changed'],
      [c, 'changed', 'dir/f1'],
      [c, 'missing', 'dir/f2'],
      [c, 'changed', HOSTILE_NAME],
    ])
    expect(result.document!.snapshots.map((s) => [s.status, s.problems])).toEqual([
      ['failed', 3],
      ['failed', 4],
      ['failed', 4],
    ])
    // one snapshot named on the command line: only its problems
    const one = await verify(['--json', destination, c])
    expect(one.code).toBe(1)
    expect(new Set(one.document!.problems.map((p) => p.snapshot))).toEqual(new Set([c]))
    const text = await verify([destination, 'latest'])
    expect(text.stdout).toMatch(new RegExp(`FAILED: 4 problem\\(s\\)`))
    expect(text.stdout).toContain(`missing    ${c}  dir/f2: gone`)
    expect(text.stdout).toContain(`changed    ${c}  ${HOSTILE_NAME}: its content differs`)
  }, 60_000)

  it('a file that is not UTF-8; a snapshot without recorded hashes (unverifiable, not failed); a record removed by hand (failed)', async () => {
    const { store, destination, names } = await threeRuns()
    rot(Buffer.concat([Buffer.from(`${path.join(store, names[2]!)}/`), LATIN1]))
    // a snapshot made before rsb recorded hashes: no record, and no `hashes` in its manifest
    fs.rmSync(path.join(store, '.rsb/hashes', `${names[0]}.hashes`))
    const recordFile = path.join(store, '.rsb/snapshots', `${names[0]}.json`)
    const snapshotRecord = JSON.parse(fs.readFileSync(recordFile, 'utf8')) as { manifest: Record<string, unknown> }
    delete snapshotRecord.manifest.hashes
    fs.writeFileSync(recordFile, `${JSON.stringify(snapshotRecord)}\n`)
    const result = await verify(['--json', destination])
    expect(result.document!.snapshots.map((s) => s.status)).toEqual(['unverifiable', 'failed', 'failed'])
    expect(result.document!.problems.map((p) => [p.kind, Buffer.from(p.path).equals(Buffer.from('caf\uFFFD'))])).toEqual([
      ['changed', true],
      ['changed', true],
    ])
    // a record removed although the manifest says its backup wrote one (tampering): a failure, never unverifiable
    fs.rmSync(path.join(store, '.rsb/hashes', `${names[1]}.hashes`))
    const removed = await verify(['--json', destination, names[1]!])
    expect(removed.code).toBe(1)
    expect(removed.document!.problems).toEqual([
      { snapshot: names[1], kind: 'record', path: '', detail: 'its hash record is gone (its backup recorded one)' },
    ])
    const text = await verify([destination])
    expect(text.code).toBe(1)
    expect(text.stdout.match(/unverifiable: no hashes were recorded/g)).toHaveLength(1)
  }, 60_000)

  it('--sample reads that share of the inodes (missing and added files are still all found); a damaged record fails', async () => {
    const { store, destination, names } = await threeRuns()
    const half = await verify(['--json', '--sample=50', destination])
    expect(half.code).toBe(0)
    expect(half.document!.filesRead).toBe(21) // half of the 42 inodes
    fs.rmSync(path.join(store, names[1]!, 'dir/f3'))
    const missing = await verify(['--json', '--sample=1', destination])
    expect(missing.code).toBe(1)
    expect(missing.document!.problems.map((p) => [p.snapshot, p.kind, p.path])).toEqual([[names[1], 'missing', 'dir/f3']])
    fs.writeFileSync(path.join(store, '.rsb/hashes', `${names[2]}.hashes`), 'not a record\n')
    const damaged = await verify(['--json', destination, names[2]!])
    expect(damaged.code).toBe(1)
    expect(damaged.document!.problems).toEqual([expect.objectContaining({ snapshot: names[2], kind: 'record' })])
  }, 60_000)

  it('the rotation removes a snapshot’s hashes with it; the next backup reuses the hashes of the snapshot it keeps', async () => {
    const { store, source, destination, names } = await threeRuns()
    const result = await runRsb([...QUIET, '--keep-latest=1', '--rotation=daily=1', source, destination], {
      env: clockAt(new Date(Date.UTC(2026, 10, 24, 3, 0, 0))),
    })
    expect(result.code, result.stderr).toBe(0)
    const left = await snapshotsIn(store)
    expect(left).toHaveLength(1)
    expect(left).not.toContain(names[0])
    expect(fs.readdirSync(path.join(store, '.rsb/hashes'))).toEqual([`${left[0]}.hashes`])
    expect(manifestOf(store, left[0]!).hashes).toMatchObject({ files: 41, hashedFiles: 0 })
    expect((await verify([destination])).code).toBe(0)
  }, 60_000)

  it('refuses bad command lines (exit 2) and an unknown snapshot (exit 1), with their codes and no stack trace', async () => {
    const { destination } = await threeRuns()
    for (const args of [['--sample=0', destination], ['--sample=x', destination], [], ['--bogus', destination], ['nas::mod/latest']]) {
      const result = await verify(args)
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr).toMatch(/^rsb: error: .*\(ERR_RSB_[A-Z_]+\)/)
      expect(result.stderr).not.toMatch(/\n\s+at /)
    }
    const unknown = await verify(['--json', destination, '2020-01-01 00:00:00'])
    expect(unknown.code).toBe(1)
    expect(unknown.document!.error?.code).toBe('ERR_RSB_CLI_SNAPSHOT_NOT_FOUND')
    expect((await verify([path.dirname(destination) + '/nothing-here'])).stderr).toContain('ERR_RSB_CLI_NOT_A_BACKUP')
  }, 60_000)
})

describe.skipIf(!isRoot)('hash records and interrupted runs (needs root)', () => {
  it('a backup killed (SIGKILL, with its children) while it hashes: the next run leaves no record without its snapshot, and verifies clean', async () => {
    const { t, store, source, destination, names } = await threeRuns()
    fs.writeFileSync(path.join(source, 'dir/f5'), 'changed for the fourth run\n')
    // b2sum waits (with the files to hash) until the test has killed the run: the kill lands inside the hashing
    const bin = path.join(t, 'bin')
    const waiting = path.join(t, 'waiting')
    const b2sum = execFileSync('sh', ['-c', 'command -v b2sum'], { encoding: 'utf8' }).trim()
    await writeProgram(bin, 'b2sum', `[ "$#" -gt 3 ] && { echo $$ > ${JSON.stringify(waiting)}; exec sleep 60; }\nexec ${b2sum} "$@"`)
    const run = startRsb([...QUIET, ...KEEP, source, destination], {
      path: [bin],
      detached: true,
      env: clockAt(new Date(Date.UTC(2026, 10, 24, 3))),
    })
    const started = () => fs.existsSync(waiting) && fs.readFileSync(waiting, 'utf8').trim() !== ''
    for (let i = 0; i < 300 && !started(); i++) await new Promise((r) => setTimeout(r, 100))
    expect(started(), run.stderr()).toBe(true)
    // rsb's group, then the group of the hashing command (rsb runs commands in groups of their own): all of it dies
    const hashing = Number(execFileSync('ps', ['-o', 'pgid=', '-p', fs.readFileSync(waiting, 'utf8').trim()], { encoding: 'utf8' }))
    process.kill(-run.child.pid!, 'SIGKILL')
    process.kill(-hashing, 'SIGKILL')
    await run.done
    // what it left: a temporary copy and its claim, perhaps a half-written record (all the next run's to remove)
    expect(fs.readdirSync(store).some((n) => n.startsWith('.rsb-snapshot-'))).toBe(true)
    const next = await runRsb([...QUIET, ...KEEP, source, destination], { env: clockAt(new Date(Date.UTC(2026, 10, 25, 3))) })
    expect(next.code, next.stderr).toBe(0)
    const now = await snapshotsIn(store)
    expect(now).toHaveLength(names.length + 1)
    expect(
      fs
        .readdirSync(store)
        .filter((n) => n.startsWith('.'))
        .sort(),
    ).toEqual(['.rsb'])
    expect(fs.readdirSync(path.join(store, '.rsb/hashes')).sort()).toEqual(now.map((n) => `${n}.hashes`))
    expect(fs.readdirSync(path.join(store, '.rsb/snapshots')).sort()).toEqual(now.map((n) => `${n}.json`))
    expect(manifestOf(store, now.at(-1)!).hashes).toMatchObject({ files: 41, hashedFiles: 1 })
    const result = await verify(['--json', destination])
    expect(result.code, result.stdout).toBe(0)
    expect(result.document!.snapshots.every((s) => s.status === 'ok')).toBe(true)
  }, 90_000)

  it('a half-written record of this mirror is removed by its next run; one of another mirror of the store is left alone', async () => {
    const { store, source, destination } = await threeRuns()
    const id = (JSON.parse(fs.readFileSync(path.join(store, '.rsb/mirrors/latest.json'), 'utf8')) as { id: string }).id
    const hashes = path.join(store, '.rsb/hashes')
    fs.writeFileSync(path.join(hashes, `.tmp.${id}.AbCdEf12`), 'half')
    fs.writeFileSync(path.join(hashes, '.tmp.ffffffff.AbCdEf12'), 'another mirror at work')
    const result = await runRsb([...QUIET, ...KEEP, source, destination], { env: clockAt(new Date(Date.UTC(2026, 10, 24, 3))) })
    expect(result.code, result.stderr).toBe(0)
    expect(fs.readdirSync(hashes).filter((n) => n.startsWith('.'))).toEqual(['.tmp.ffffffff.AbCdEf12'])
    // no probe of hard links was left in the store either (new mirrors are probed by making one)
    expect(fs.readdirSync(store).filter((n) => n.startsWith('.'))).toEqual(['.rsb'])
  }, 60_000)
})

describe.skipIf(!isRoot)('link health (needs root)', () => {
  it('a mirror that no longer shares its inodes with the snapshots (copied with cp -a): the next backup warns, naming the cause', async () => {
    const { store, source, destination } = await threeRuns()
    const latest = path.join(store, 'latest')
    execFileSync('cp', ['-a', latest, `${latest}.copy`])
    fs.rmSync(latest, { recursive: true })
    fs.renameSync(`${latest}.copy`, latest)
    const result = await runRsb([...QUIET, ...KEEP, '--json', source, destination], { env: clockAt(new Date(Date.UTC(2026, 10, 24, 3))) })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toMatch(
      /WARNING Link health: 41 of the 41 files of this snapshot are new copies, though rsync transferred only 0/,
    )
    expect(result.stderr).toContain('without hard links')
    const summary = JSON.parse(result.stdout) as { warnings: string[] }
    expect(summary.warnings.some((w) => w.startsWith('Link health:'))).toBe(true)
    const newest = (await snapshotsIn(store)).at(-1)!
    expect(manifestOf(store, newest).links).toMatchObject({ files: 41, linked: 0, copied: 41 })
    expect(manifestOf(store, newest).warnings.some((w) => w.startsWith('Link health:'))).toBe(true)
  }, 60_000)

  it('a destination on vfat (no hard links) is refused before anything is written there (ERR_RSB_CLI_NO_HARD_LINKS)', async () => {
    const t = await testdir({ 'source/a': 'a', 'source/b': 'b' }, 'rsb-vfat-')
    const image = path.join(t, 'vfat.img')
    const mount = path.join(t, 'vfat')
    fs.mkdirSync(mount)
    await runChecked('truncate', ['-s', '32M', image])
    await runChecked('mkfs.vfat', [image])
    await runChecked('fusefat', ['-o', 'rw+', image, mount])
    onTestFinished(() => {
      spawnSync('fusermount', ['-u', mount])
    })
    expect(fs.readFileSync('/proc/mounts', 'utf8')).toContain(` ${mount} fuse.fusefat `)
    const result = await runRsb([...QUIET, path.join(t, 'source'), path.join(mount, 'latest')])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /The filesystem of .*vfat \(fuseblk\) cannot make hard links \(Operation not permitted\): every snapshot would be a full copy of SOURCE\. \(ERR_RSB_CLI_NO_HARD_LINKS\) Hint: /,
    )
    expect(result.stderr).not.toMatch(/\n\s+at /)
    expect(fs.readdirSync(mount)).toEqual([])
  }, 60_000)
})

describe.skipIf(!isRoot)('rsb verify over SSH (needs root: sshd on 127.0.0.1)', () => {
  let server: SshServer
  beforeAll(async () => {
    server = await startSshd()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('hashes recorded by backups over SSH, verified on the server: clean, then a flipped byte and an added file', async () => {
    const { store, destination, names, env } = await threeRuns({ server })
    expect(manifestOf(store, names[1]!).hashes).toMatchObject({ files: 41, hashedFiles: 2 })
    const clean = await verify(['--json', destination], env)
    expect(clean.code, clean.stderr).toBe(0)
    expect(clean.document!.snapshots.map((s) => s.status)).toEqual(['ok', 'ok', 'ok'])
    rot(path.join(store, names[0]!, 'big'))
    fs.writeFileSync(path.join(store, names[2]!, HOSTILE_NAME + '2'), 'x')
    const broken = await verify(['--json', destination], env)
    expect(broken.code).toBe(1)
    expect(broken.document!.problems.map((p) => [p.snapshot, p.kind, p.path])).toEqual([
      [names[0], 'changed', 'big'],
      [names[1], 'changed', 'big'],
      [names[2], 'changed', 'big'],
      [names[2], 'extra', HOSTILE_NAME + '2'],
    ])
  }, 90_000)
})

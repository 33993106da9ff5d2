// `rsb du` end to end with the built rsb: a store made by real `rsb backup` runs on a small ext4 on a loop device
// (three snapshots with MiBs of content each holds alone, content they share, a hard-linked pair, names with spaces,
// quotes, `$()` and newlines), its figures checked against a sum of find's output made here, and the space it says a
// snapshot frees checked against the filesystem's free space once that snapshot is removed. Then the same figures
// over SSH (the test sshd on 127.0.0.1), and the command line's refusals. The loop device needs root; CI runs as root.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { isRoot, runChecked, startSshd, testdir, type SshServer } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { listing, runRsb, snapshotsIn } from './helpers.ts'

const QUIET = ['--no-sudo', '--disable-notifications']
const MiB = 1024 * 1024
/** Names find and awk must never see as separators: a space, quotes, `$()` and a newline. */
const odd = (what: string) => `${what} it's a "name" $(touch pwned)\nnext line`
/** What each snapshot holds alone: snapshot 0 a 2 MiB file, 1 a 3 MiB file and a 1 MiB file of two names, 2 a 4 MiB file. */
const UNIQUE = [2 * MiB, 3 * MiB + MiB, 4 * MiB]
/** The free space the filesystem gains when a snapshot goes may differ from `rsb du`'s figure by this much (4 ext4 blocks of 4 KiB: room for a directory block or an extent block either side). */
const TOLERANCE = 16 * 1024

/** A 64 MiB ext4 on a loop device of its own, mounted on T/store; unmounted and detached when the test finishes. */
async function ext4Store(t: string): Promise<string> {
  const image = path.join(t, 'store.img')
  const store = path.join(t, 'store')
  await fs.mkdir(store)
  await runChecked('truncate', ['-s', '64M', image])
  // 4 KiB blocks, as on a real backup disk (mkfs makes 1 KiB ones on one this small)
  await runChecked('mkfs.ext4', ['-q', '-F', '-b', '4096', image])
  const loop = (await runChecked('losetup', ['--find', '--show', image])).trim()
  let mounted = false
  // registered after testdir's removal of T, so it runs before it (last first): nothing below T goes while mounted
  onTestFinished(async () => {
    if (mounted) await runChecked('umount', [store])
    await runChecked('losetup', ['-d', loop])
  })
  await runChecked('mount', [loop, store])
  mounted = true
  return store
}

/** Three backups of a source into STORE/latest on a fresh ext4: snapshot k holds UNIQUE[k] bytes alone. */
async function scene() {
  const t = await testdir({}, 'rsb-cli-du-')
  const store = await ext4Store(t)
  const source = path.join(t, 'source')
  await fs.mkdir(path.join(source, 'sub/deeper'), { recursive: true })
  await fs.writeFile(path.join(source, 'shared.bin'), randomBytes(2 * MiB))
  await fs.writeFile(path.join(source, odd('shared')), 'shared, oddly named\n')
  await fs.writeFile(path.join(source, 'sub/deeper/deep.txt'), 'deep\n')
  await fs.symlink('../shared.bin', path.join(source, 'sub/link'))
  // the default rotation keeps one snapshot an hour: these three are minutes apart
  const args = [...QUIET, '--keep-latest=5', source, path.join(store, 'latest')]
  const unique = (k: number) => path.join(source, odd(`unique ${k}`))
  const pair = [path.join(source, 'pair one'), path.join(source, 'sub/pair two')]
  for (let k = 0; k < 3; k++) {
    if (k > 0) await fs.rm(unique(k - 1))
    if (k === 2) for (const name of pair) await fs.rm(name)
    await fs.writeFile(unique(k), randomBytes(k === 1 ? 3 * MiB : UNIQUE[k]!))
    if (k === 1) {
      await fs.writeFile(pair[0]!, randomBytes(MiB))
      await fs.link(pair[0]!, pair[1]!)
    }
    // SOURCE's inodes changed well before the run (the next run takes none of the shared ones for changed since),
    // and each snapshot gets a name of its own (whole seconds)
    await new Promise((resolve) => setTimeout(resolve, k === 0 ? 3000 : 1100))
    const run = await runRsb(args)
    expect(run.code, run.stderr).toBe(0)
  }
  const snapshots = await snapshotsIn(store)
  expect(snapshots).toHaveLength(3)
  return { t, store, snapshots }
}

interface Figures {
  bytes: number
  apparentBytes: number
  files: number
  directories: number
  exclusiveBytes: number
  exclusiveApparentBytes: number
  exclusiveFiles: number
}

/**
 * The figures of `roots` summed here from `find -printf '%i %n %b %s %y'` of each (numbers only): an inode counts
 * once per root; it is a root's alone when every one of its links (%n) was seen in that root.
 */
function byHand(roots: readonly string[]): { trees: Figures[]; total: { bytes: number; apparentBytes: number; inodes: number } } {
  const inodes = new Map<string, { n: number; blocks: number; size: number; dir: boolean; seen: number[] }>()
  roots.forEach((root, k) => {
    const out = execFileSync('find', [root, '-printf', '%i %n %b %s %y\\n'], { encoding: 'utf8', maxBuffer: 1 << 28 })
    for (const line of out.trim().split('\n')) {
      const [ino, n, blocks, size, type] = line.split(' ') as [string, string, string, string, string]
      const known = inodes.get(ino) ?? { n: Number(n), blocks: Number(blocks), size: Number(size), dir: type === 'd', seen: [] }
      known.seen.push(k)
      inodes.set(ino, known)
    }
  })
  const trees = roots.map(() => ({
    bytes: 0,
    apparentBytes: 0,
    files: 0,
    directories: 0,
    exclusiveBytes: 0,
    exclusiveApparentBytes: 0,
    exclusiveFiles: 0,
  }))
  const total = { bytes: 0, apparentBytes: 0, inodes: inodes.size }
  for (const inode of inodes.values()) {
    total.bytes += inode.blocks * 512
    total.apparentBytes += inode.size
    for (const k of new Set(inode.seen)) {
      const tree = trees[k]!
      tree.bytes += inode.blocks * 512
      tree.apparentBytes += inode.size
      if (inode.dir) tree.directories++
      else tree.files++
    }
    const alone = new Set(inode.seen).size === 1 && (inode.dir || inode.seen.length === inode.n)
    if (!alone) continue
    const tree = trees[inode.seen[0]!]!
    tree.exclusiveBytes += inode.blocks * 512
    tree.exclusiveApparentBytes += inode.size
    if (!inode.dir) tree.exclusiveFiles++
  }
  return { trees, total }
}

interface DuDocument {
  schemaVersion: number
  destination: string
  store: string
  snapshots: (Figures & { name: string; path: string; mirror: string; status: string; sharedBytes: number; sharedFiles: number })[]
  mirrors: (Figures & { name: string; path: string; exists: boolean })[]
  total: { bytes: number; apparentBytes: number; inodes: number }
  filesystem: { sizeBytes: number; freeBytes: number; inodes: number; freeInodes: number }
  exitCode: number
  error: unknown
}

async function duJson(destination: string, env: Record<string, string> = {}): Promise<DuDocument> {
  const result = await runRsb(['du', '--json', '--no-sudo', destination], { env })
  expect(result.code, result.stderr).toBe(0)
  expect(result.stderr).toBe('')
  return JSON.parse(result.stdout) as DuDocument
}

const figures = (d: Figures): Figures => ({
  bytes: d.bytes,
  apparentBytes: d.apparentBytes,
  files: d.files,
  directories: d.directories,
  exclusiveBytes: d.exclusiveBytes,
  exclusiveApparentBytes: d.exclusiveApparentBytes,
  exclusiveFiles: d.exclusiveFiles,
})

/** The bytes free on the filesystem of `dir` (all of them, root's reserve included: what a removal gives back). */
async function freeBytes(dir: string): Promise<number> {
  const s = await fs.statfs(dir)
  return s.bfree * s.bsize
}

describe.skipIf(!isRoot)('rsb du (needs root: a loop-mounted ext4, the sshd)', () => {
  let server: SshServer
  beforeAll(async () => {
    server = await startSshd()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('figures of a store made by rsb backup: as summed here from find, what each snapshot holds alone is what deleting it frees', async () => {
    const { t, store, snapshots } = await scene()
    const before = await listing(store)
    const doc = await duJson(path.join(store, 'latest'))
    expect(await listing(store)).toEqual(before)
    expect(doc).toMatchObject({ schemaVersion: 1, store, exitCode: 0, error: null })
    // newest first, then the mirror
    const names = snapshots.toReversed()
    expect(doc.snapshots.map((s) => [s.name, s.path, s.mirror, s.status])).toEqual(
      names.map((n) => [n, path.join(store, n), 'latest', 'complete']),
    )
    expect(doc.mirrors.map((m) => [m.name, m.exists])).toEqual([['latest', true]])

    // the same figures as find's output summed here, over the same trees
    const roots = [...names.map((n) => path.join(store, n)), path.join(store, 'latest')]
    const hand = byHand(roots)
    expect([...doc.snapshots, ...doc.mirrors].map(figures)).toEqual(hand.trees)
    expect(doc.total).toEqual(hand.total)
    // and GNU du's total of the same trees (hard links once)
    const gnu = execFileSync('du', ['-s', '-B1', '--total', ...roots], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .at(-1)!
    expect(gnu).toBe(`${doc.total.bytes}\ttotal`)

    // the known content: each older snapshot holds its unique files alone (the pair once), the newest shares all of
    // its files with the mirror, every snapshot shares shared.bin
    const [newest, middle, oldest] = doc.snapshots as [DuDocument['snapshots'][0], DuDocument['snapshots'][0], DuDocument['snapshots'][0]]
    expect(oldest.exclusiveFiles).toBe(1)
    expect(middle.exclusiveFiles).toBe(2)
    expect(newest.exclusiveFiles).toBe(0)
    expect(doc.mirrors[0]!.exclusiveFiles).toBe(0)
    expect(oldest.exclusiveApparentBytes - UNIQUE[0]!).toBe(oldest.directories * 4096)
    expect(middle.exclusiveApparentBytes - UNIQUE[1]!).toBe(middle.directories * 4096)
    expect(newest.exclusiveApparentBytes).toBe(newest.directories * 4096)
    expect(newest.exclusiveBytes).toBe(newest.directories * 4096)
    for (const s of doc.snapshots) {
      expect(s.sharedBytes).toBe(s.bytes - s.exclusiveBytes)
      expect(s.sharedBytes).toBeGreaterThanOrEqual(2 * MiB)
      expect(s.directories).toBe(3)
    }
    expect(doc.filesystem.sizeBytes).toBeGreaterThan(50 * MiB)
    expect(doc.filesystem.freeBytes).toBeLessThanOrEqual((await fs.statfs(store)).bavail * 4096 + TOLERANCE)

    // the text for people says the same
    const text = await runRsb(['du', '--no-sudo', store])
    expect(text.code, text.stderr).toBe(0)
    const lines = text.stdout.split('\n')
    expect(lines[0]).toBe(`Store ${store}, mirror latest: 3 snapshot(s)`)
    expect(lines[1]).toMatch(/^SNAPSHOT\s+EXCLUSIVE\s+EXCLUSIVE FILES\s+SHARED\s+SHARED FILES$/)
    expect(lines[2]).toMatch(new RegExp(`^${names[0]}\\s+12 KB\\s+0\\s+`))
    expect(lines[3]).toMatch(new RegExp(`^${names[1]}\\s+4\\.\\d\\d MB\\s+2\\s+`))
    expect(lines[5]).toMatch(/^latest \(mirror\)\s/)
    expect(lines[6]).toMatch(new RegExp(`^Store total: [\\d.]+ MB on disk \\([\\d.]+ MB apparent\\), ${doc.total.inodes} inode\\(s\\)$`))
    expect(lines[7]).toMatch(/^Filesystem: [\d.]+ MB, [\d.]+ MB free, \d+ of \d+ inode\(s\) free$/)

    // what deleting each older snapshot frees, in the filesystem's free space
    for (const gone of [middle, oldest]) {
      const free = await freeBytes(store)
      await fs.rm(gone.path, { recursive: true })
      execFileSync('sync', ['--file-system', store])
      const freed = (await freeBytes(store)) - free
      console.log(
        `rsb du said ${gone.name} holds ${gone.exclusiveBytes} bytes alone; removing it freed ${freed} (difference ${freed - gone.exclusiveBytes})`,
      )
      expect(Math.abs(freed - gone.exclusiveBytes)).toBeLessThanOrEqual(TOLERANCE)
      expect(gone.exclusiveBytes).toBeGreaterThan(2 * MiB)
    }
    // and the newest: only its directories
    const free = await freeBytes(store)
    await fs.rm(newest.path, { recursive: true })
    execFileSync('sync', ['--file-system', store])
    expect(Math.abs((await freeBytes(store)) - free - newest.exclusiveBytes)).toBeLessThanOrEqual(TOLERANCE)
    await expect(fs.access(path.join(t, 'pwned'))).rejects.toThrow()
  }, 120_000)

  it('over SSH: the walk runs on the server, with the same figures and text as read here', async () => {
    const { store } = await scene()
    const env = { RSYNC_RSH: server.rsyncRsh }
    const before = await listing(store)
    const here = await duJson(path.join(store, 'latest'))
    const logins = await server.connectionCount()
    const overSsh = await duJson(`${server.alias}:${store}/latest`, env)
    expect({ ...overSsh, destination: undefined }).toEqual({ ...here, destination: undefined })
    expect(overSsh.snapshots.map((s) => s.exclusiveFiles)).toEqual([0, 2, 1])
    // one connection for the whole command
    expect((await server.connectionCount()) - logins).toBe(1)
    const text = await runRsb(['du', '--no-sudo', `${server.alias}:${store}`], { env })
    const local = await runRsb(['du', '--no-sudo', store])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toBe(local.stdout)
    expect(await listing(store)).toEqual(before)
  }, 120_000)
})

describe('rsb du: refusals with a code, never a stack trace', () => {
  it.each([
    [[], 2, 'ERR_RSB_CLI_USAGE', 'rsb du needs a DESTINATION.'],
    [['a', 'b'], 2, 'ERR_RSB_CLI_USAGE', 'rsb du takes one DESTINATION (got 2).'],
    [['--rotation=daily=7', 'x'], 2, 'ERR_RSB_CLI_USAGE', '--rotation'],
    [['--bogus', 'x'], 2, 'ERR_RSB_CLI_USAGE', '--bogus'],
    [['host::module'], 2, 'ERR_RSB_CLI_DESTINATION_DAEMON', 'rsb du cannot read the store of an rsync daemon destination'],
  ])('rsb du %j: exit %i, %s', async (argv, code, errorCode, message) => {
    const result = await runRsb(['du', ...argv])
    expect(result.code).toBe(code)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^rsb: error: /)
    expect(result.stderr).toContain(`(${errorCode})`)
    expect(result.stderr).toContain(message)
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })

  it('a directory that is not a backup: exit 1, ERR_RSB_CLI_NOT_A_BACKUP, also in --json', async () => {
    const t = await testdir({ 'plain/file': 'x' }, 'rsb-cli-du-')
    const text = await runRsb(['du', '--no-sudo', path.join(t, 'plain')])
    expect(text.code).toBe(1)
    expect(text.stderr).toMatch(/^rsb: error: .* is not a backup: .*\(ERR_RSB_CLI_NOT_A_BACKUP\)/)
    const doc = await runRsb(['du', '--json', '--no-sudo', path.join(t, 'plain', 'latest')])
    expect(doc.code).toBe(1)
    expect(JSON.parse(doc.stdout)).toMatchObject({ schemaVersion: 1, exitCode: 1, error: { code: 'ERR_RSB_CLI_NOT_A_BACKUP' } })
    expect(doc.stderr).not.toMatch(/\n\s+at /)
  })

  it('rsb du --help and rsb help du: usage and exit statuses', async () => {
    const help = await runRsb(['du', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: rsb du \[OPTIONS\] DESTINATION\n/)
    expect(help.stdout).toMatch(/^Exit status:\n {2}0 /m)
    expect(help.stdout).not.toContain('--rotation')
    expect((await runRsb(['help', 'du'])).stdout).toBe(help.stdout)
  })
})

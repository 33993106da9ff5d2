// `rsb diff` and `rsb versions` end to end with the built rsb, against a store made by five real `rsb backup` runs
// (back-dated with libfaketime, so that each gets its own snapshot name) with known changes between them, locally and
// over the test sshd on 127.0.0.1. Needs root (chown in the stores, the sshd); CI runs as root.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { isRoot, makeTempDir, startSshd, testdir, writeTree, type SshServer } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clockAt as clockAtWithStat, HOSTILE_NAME, listing, runRsb, snapshotsIn } from './helpers.ts'

const QUIET = ['--no-sudo', '--disable-notifications']
const DAY = 86_400_000

/** The clock of a run at `date`, files' times left as they are (see helpers.ts). */
const clockAt = (date: Date) => clockAtWithStat(date, { fakeStat: false })

/** Runs rsb and expects exit 0. */
async function ok(args: readonly string[], env: Record<string, string> = {}) {
  const result = await runRsb(args, { env })
  expect(result.code, result.stderr).toBe(0)
  return result
}

/** A file name with a space, quotes, `$()`, backquotes and a newline. */
const NEWLINE_NAME = `${HOSTILE_NAME}\nline 2.txt`

type Change = { path: string; change: string; type: string; fields: string[]; hardLinkOf: string | null }
type Totals = Record<'added' | 'removed' | 'content' | 'metadata' | 'unchanged', { entries: number; bytes: number }>
type DiffDocument = {
  schemaVersion: number
  store: string
  from: { name: string; path: string }
  to: { name: string; path: string }
  totals: Totals
  changes: Change[] | null
  exitCode: number
}
type Version = {
  first: string
  last: string
  snapshots: number
  change: string
  size: number
  mode: string
  type: string
  hash: string | null
}
type VersionsDocument = {
  path: string
  relative: string
  snapshots: number
  holding: number
  versions: Version[]
  changes: { from: string; to: string; totals: Totals; changes: Change[] }[] | null
  notFollowed: { snapshot: string; component: string; reason: string }[]
}

/**
 * A store (in a directory with a hostile name) made by five runs, one day apart: `tracked.txt` changes in runs 2 and 4
 * (3 versions); between runs 3 and 4 a file is added, one removed, one chmod-ed only, one rewritten with the same size
 * and another mtime, one touched only (another mtime, the same content), a hard link of a file added, and a file with
 * a newline in its name changed; run 5 changes nothing.
 */
async function fiveRuns() {
  const dir = await makeTempDir('rsb-diff-')
  const t = dir.path
  await writeTree(t, {
    'source/a.txt': 'a',
    'source/keep.txt': 'keep',
    'source/gone.txt': 'gone',
    'source/mode.txt': 'mode',
    'source/same.txt': 'abc',
    'source/touched.txt': 'touched',
    'source/tracked.txt': 'version 1',
    'source/sub/x': 'x',
    'source/dir/inner.txt': 'inner 1',
    'source/dir/stays.txt': 'stays',
  })
  const source = path.join(t, 'source')
  fs.writeFileSync(path.join(source, NEWLINE_NAME), 'newline 1')
  fs.symlinkSync('sub', path.join(source, 'lnk'))
  const latest = path.join(t, HOSTILE_NAME, 'latest')
  const store = path.dirname(latest)
  const now = Date.now()
  const names: string[] = []
  const backup = async (run: number) => {
    await ok([...QUIET, '--rotation=daily=always', source, latest], clockAt(new Date(now - (6 - run) * DAY)))
    names.push((await snapshotsIn(store)).at(-1)!)
  }
  await backup(1)
  fs.writeFileSync(path.join(source, 'tracked.txt'), 'version 2 longer')
  await backup(2)
  await backup(3)
  fs.writeFileSync(path.join(source, 'tracked.txt'), 'version 3')
  fs.writeFileSync(path.join(source, 'new.txt'), 'new')
  fs.rmSync(path.join(source, 'gone.txt'))
  fs.chmodSync(path.join(source, 'mode.txt'), 0o600)
  const same = path.join(source, 'same.txt')
  fs.writeFileSync(same, 'xyz')
  fs.utimesSync(same, new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'))
  fs.utimesSync(path.join(source, 'touched.txt'), new Date('2021-01-01T00:00:00Z'), new Date('2021-01-01T00:00:00Z'))
  fs.linkSync(path.join(source, 'a.txt'), path.join(source, 'hard link.txt'))
  fs.writeFileSync(path.join(source, NEWLINE_NAME), 'newline 2')
  fs.writeFileSync(path.join(source, 'dir/inner.txt'), 'inner 2')
  fs.writeFileSync(path.join(source, 'dir/added.txt'), 'added')
  await backup(4)
  await backup(5)
  expect(new Set(names).size).toBe(5)
  return { t, source, latest, store, names, remove: dir.remove }
}

async function diffJson(args: readonly string[], env: Record<string, string> = {}): Promise<DiffDocument> {
  const result = await runRsb(['diff', '--json', ...args], { env })
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout) as DiffDocument
}

async function versionsJson(args: readonly string[], env: Record<string, string> = {}): Promise<VersionsDocument> {
  const result = await runRsb(['versions', '--json', ...args], { env })
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout) as VersionsDocument
}

const KNOWN_CHANGES = [
  { path: 'dir/added.txt', change: 'added', type: 'file', fields: [], hardLinkOf: null },
  { path: 'dir/inner.txt', change: 'content', type: 'file', fields: ['mtime', 'data'], hardLinkOf: null },
  { path: 'gone.txt', change: 'removed', type: 'file', fields: [], hardLinkOf: null },
  { path: 'hard link.txt', change: 'added', type: 'file', fields: [], hardLinkOf: 'a.txt' },
  { path: NEWLINE_NAME, change: 'content', type: 'file', fields: ['mtime', 'data'], hardLinkOf: null },
  { path: 'mode.txt', change: 'metadata', type: 'file', fields: ['mode'], hardLinkOf: null },
  { path: 'new.txt', change: 'added', type: 'file', fields: [], hardLinkOf: null },
  { path: 'same.txt', change: 'content', type: 'file', fields: ['mtime', 'data'], hardLinkOf: null },
  // the same content with another mtime: the content hashes the backups recorded say metadata only
  { path: 'touched.txt', change: 'metadata', type: 'file', fields: ['mtime'], hardLinkOf: null },
  { path: 'tracked.txt', change: 'content', type: 'file', fields: ['size', 'mtime', 'data'], hardLinkOf: null },
]

/** The changes without the entries' details (inodes, mtimes). */
function brief(changes: readonly Change[] | null) {
  return (changes ?? []).map(({ path, change, type, fields, hardLinkOf }) => ({ path, change, type, fields, hardLinkOf }))
}

describe.skipIf(!isRoot)('rsb diff and rsb versions (needs root: chown in the stores)', () => {
  let store: Awaited<ReturnType<typeof fiveRuns>>
  beforeAll(async () => {
    store = await fiveRuns()
  }, 120_000)
  afterAll(async () => {
    await store?.remove()
  })

  it('diff A B lists exactly the changes made between them: added, removed, content (same size, other mtime), chmod only, a hard link added', async () => {
    const { latest, names } = store
    const before = await listing(store.store)
    const document = await diffJson([latest, names[2]!, names[3]!])
    expect(document.from.name).toBe(names[2])
    expect(document.to.name).toBe(names[3])
    expect(document.from.path).toBe(path.join(store.store, names[2]!))
    // same.txt: the same size, another mtime (content); mode.txt: chmod only (metadata); a.txt, whose new hard link
    // shares its inode, is unchanged
    expect(brief(document.changes)).toEqual(KNOWN_CHANGES)
    expect(document.totals.added).toEqual({ entries: 3, bytes: 'added'.length + 'a'.length + 'new'.length })
    expect(document.totals.removed).toEqual({ entries: 1, bytes: 4 })
    expect(document.totals.metadata).toEqual({ entries: 2, bytes: 4 + 'touched'.length })
    expect(document.totals.content.entries).toBe(4)
    const hardLink = document.changes!.find((c) => c.path === 'hard link.txt') as unknown as { after: { inode: number; links: number } }
    const original = fs.statSync(path.join(store.store, names[3]!, 'a.txt'))
    expect(hardLink.after.inode).toBe(original.ino)
    // the text: one line per change, the path with a newline quoted, the totals last
    const text = await runRsb(['diff', latest, names[2]!, names[3]!])
    expect(text.code, text.stderr).toBe(0)
    const lines = text.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe(`Store ${store.store}: from ${names[2]} to ${names[3]}`)
    expect(lines[1]).toMatch(/^CHANGE +TYPE +SIZE +PATH$/)
    expect(lines.slice(2, -1)).toHaveLength(KNOWN_CHANGES.length)
    expect(lines).toContain(`content   file   9 B  ${JSON.stringify(NEWLINE_NAME)} (mtime, content hash)`)
    expect(lines).toContain('metadata  file   7 B  touched.txt (mtime)')
    expect(lines).toContain('added     file   1 B  hard link.txt (hard link of a.txt)')
    expect(lines).toContain('metadata  file   4 B  mode.txt (mode 0644 → 0600)')
    expect(lines.at(-1)).toMatch(
      /^Total: added 3 \(9 B\), removed 1 \(4 B\), content 4 \(\d+ B\), metadata only 2 \(11 B\); \d+ unchanged\.$/,
    )
    expect(await listing(store.store)).toEqual(before)
  }, 60_000)

  it('diff without snapshots compares the two newest; A alone is compared with the newest; --stat gives the totals only', async () => {
    const { latest, names } = store
    const newest = await diffJson([latest])
    expect([newest.from.name, newest.to.name]).toEqual([names[3], names[4]])
    expect(newest.changes).toEqual([])
    const text = await runRsb(['diff', latest])
    expect(text.stdout.split('\n').slice(1, 2)).toEqual(['No changes.'])
    const fromA = await diffJson([latest, names[2]!])
    expect(fromA.to.name).toBe(names[4])
    expect(brief(fromA.changes)).toEqual(KNOWN_CHANGES)
    const viaLatest = await diffJson([latest, names[2]!, 'latest'])
    expect(viaLatest).toEqual(fromA)
    const stat = await diffJson(['--stat', latest, names[2]!])
    expect(stat.changes).toBeNull()
    expect(stat.totals).toEqual(fromA.totals)
    const statText = await runRsb(['diff', '--stat', latest, names[2]!])
    expect(statText.code).toBe(0)
    expect(statText.stdout.split('\n').slice(1, 4)).toEqual([
      'CHANGE         ENTRIES  BYTES',
      'added                3    9 B',
      'removed              1    4 B',
    ])
    // the store itself is a DESTINATION too
    expect((await diffJson([store.store, names[2]!, names[3]!])).totals).toEqual(fromA.totals)
  }, 60_000)

  it('versions of a file changed in 2 of 5 runs: 3 versions with their first and last snapshots, sizes and hashes', async () => {
    const { latest, names } = store
    const document = await versionsJson(['--hash', latest, '/tracked.txt'])
    expect(document.relative).toBe('tracked.txt')
    expect([document.snapshots, document.holding]).toEqual([5, 5])
    expect(document.versions.map((v) => [v.first, v.last, v.snapshots, v.change, v.size])).toEqual([
      [names[0], names[0], 1, 'new', 9],
      [names[1], names[2], 2, 'content', 16],
      [names[3], names[4], 2, 'content', 9],
    ])
    // BLAKE2b-256 as coreutils' b2sum computes it (the hash the backups record for rsb verify)
    const b2 = (text: string) => execFileSync('b2sum', ['-l', '256'], { input: text, encoding: 'utf8' }).slice(0, 64)
    expect(document.versions.map((v) => v.hash)).toEqual([b2('version 1'), b2('version 2 longer'), b2('version 3')])
    expect(document.changes).toBeNull()
    const chmod = await versionsJson([latest, 'mode.txt'])
    expect(chmod.versions.map((v) => [v.first, v.last, v.change, v.mode])).toEqual([
      [names[0], names[2], 'new', '0644'],
      [names[3], names[4], 'metadata', '0600'],
    ])
    const added = await versionsJson([latest, 'new.txt'])
    expect([added.holding, added.versions.map((v) => [v.first, v.last])]).toEqual([2, [[names[3], names[4]]]])
    const hostile = await versionsJson([latest, NEWLINE_NAME])
    expect(hostile.versions).toHaveLength(2)
    const text = await runRsb(['versions', latest, 'tracked.txt'])
    expect(text.code, text.stderr).toBe(0)
    const lines = text.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe(`Store ${store.store}: 3 version(s) of tracked.txt in 5 of 5 snapshot(s)`)
    expect(lines[1]).toMatch(/^FIRST +LAST +SNAPSHOTS +TYPE +SIZE +MTIME +MODE +OWNER +CHANGE$/)
    expect(lines[3]).toMatch(
      new RegExp(
        `^${names[1]}  ${names[2]}  +2  file  +16 B  \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ  0644  0:0  +content \\(size, mtime\\)$`,
      ),
    )
  }, 60_000)

  it('versions of a directory: the changes inside it, per pair of consecutive snapshots where it changed', async () => {
    const { latest, names } = store
    const document = await versionsJson([latest, 'dir/'])
    expect(document.versions.map((v) => [v.first, v.last, v.type])).toEqual([[names[0], names[4], 'dir']])
    expect(document.changes!.map((c) => [c.from, c.to])).toEqual([[names[2], names[3]]])
    expect(brief(document.changes![0]!.changes)).toEqual([
      { path: 'dir/added.txt', change: 'added', type: 'file', fields: [], hardLinkOf: null },
      { path: 'dir/inner.txt', change: 'content', type: 'file', fields: ['mtime'], hardLinkOf: null },
    ])
    const text = await runRsb(['versions', latest, 'dir'])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toContain(
      `\nFrom ${names[2]} to ${names[3]}: added 1 (5 B), removed 0 (0 B), content 1 (7 B), metadata only 0 (0 B); 2 unchanged\n`,
    )
    expect(text.stdout).toMatch(/\n {2}added +file +5 B +dir\/added\.txt\n/)
  }, 60_000)

  it('refuses a PATH with .., never follows a symbolic link among its parents, and names a PATH in no snapshot (no stack trace)', async () => {
    const { latest, names } = store
    const dotdot = await runRsb(['versions', latest, 'sub/../../etc/passwd'])
    expect(dotdot.code).toBe(2)
    expect(dotdot.stderr).toMatch(/^rsb: error: The PATH "sub\/..\/..\/etc\/passwd" holds a \.\. component, .*\(ERR_RSB_CLI_USAGE\)/)
    // lnk -> sub in every snapshot: lnk/x is sub/x, but a link among the parents is never followed
    const linked = await runRsb(['versions', '--json', latest, 'lnk/x'])
    expect(linked.code).toBe(1)
    expect(linked.stderr).toContain('(ERR_RSB_CLI_PATH_NOT_IN_SNAPSHOTS)')
    expect(linked.stderr).toContain(`In ${names[0]}, lnk is a symbolic link (never followed)`)
    expect(JSON.parse(linked.stdout)).toMatchObject({ exitCode: 1, error: { code: 'ERR_RSB_CLI_PATH_NOT_IN_SNAPSHOTS' } })
    // the link itself is a version of its own
    const link = await versionsJson([latest, 'lnk'])
    expect(link.versions.map((v) => v.type)).toEqual(['link'])
    const missing = await runRsb(['versions', latest, 'no/such file'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(
      /^rsb: error: no\/such file is in none of the 5 snapshot\(s\) of .*\(ERR_RSB_CLI_PATH_NOT_IN_SNAPSHOTS\) Hint: /,
    )
    for (const result of [dotdot, linked, missing]) expect(result.stderr).not.toMatch(/\n\s+at /)
  }, 60_000)

  it('a PATH whose parent became a symbolic link: the snapshot with the link is not followed, and said so', async () => {
    const t = await testdir({ 'source/cfg/f': 'one', 'source/real/f': 'two' }, 'rsb-versions-link-')
    const source = path.join(t, 'source')
    const latest = path.join(t, 'store/latest')
    const now = Date.now()
    await ok([...QUIET, source, latest], clockAt(new Date(now - 2 * DAY)))
    fs.rmSync(path.join(source, 'cfg'), { recursive: true })
    fs.symlinkSync('real', path.join(source, 'cfg'))
    await ok([...QUIET, source, latest], clockAt(new Date(now - DAY)))
    const [first, second] = await snapshotsIn(path.dirname(latest))
    const document = await versionsJson([latest, 'cfg/f'])
    expect([document.snapshots, document.holding]).toEqual([2, 1])
    expect(document.versions.map((v) => [v.first, v.last, v.size])).toEqual([[first, first, 3]])
    expect(document.notFollowed).toEqual([{ snapshot: second, component: 'cfg', reason: 'symlink' }])
    const text = await runRsb(['versions', latest, 'cfg/f'])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toContain(`\nNot followed in ${second}: cfg is a symbolic link there.\n`)
  }, 60_000)

  it('bad command lines exit 2, unknown snapshots and non-backups exit 1, each with its code', async () => {
    const { latest, t } = store
    const cases: [string[], number, string][] = [
      [['diff'], 2, 'ERR_RSB_CLI_USAGE'],
      [['diff', latest, 'a', 'b', 'c'], 2, 'ERR_RSB_CLI_USAGE'],
      [['diff', '--bogus', latest], 2, 'ERR_RSB_CLI_USAGE'],
      [['diff', 'localhost::module'], 2, 'ERR_RSB_CLI_DESTINATION_DAEMON'],
      [['versions', latest], 2, 'ERR_RSB_CLI_USAGE'],
      [['versions', latest, ''], 2, 'ERR_RSB_CLI_USAGE'],
      [['versions', latest, 'a', 'b'], 2, 'ERR_RSB_CLI_USAGE'],
      [['diff', latest, '2001-01-01 00:00:00'], 1, 'ERR_RSB_CLI_SNAPSHOT_NOT_FOUND'],
      [['diff', path.join(t, 'source')], 1, 'ERR_RSB_CLI_NOT_A_BACKUP'],
      [['versions', path.join(t, 'nothing/latest'), 'x'], 1, 'ERR_RSB_CLI_NOT_A_BACKUP'],
    ]
    for (const [args, code, error] of cases) {
      const result = await runRsb(args)
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(code)
      expect(result.stderr, args.join(' ')).toContain(`(${error})`)
      expect(result.stderr).not.toMatch(/\n\s+at /)
    }
    const help = await runRsb(['diff', '--help'])
    expect(help.stdout).toMatch(/^Usage: rsb diff \[OPTIONS\] DESTINATION \[A \[B\]\]\n/)
    expect(help.stdout).toMatch(/^Exit status:\n {2}0 /m)
    expect((await runRsb(['help', 'versions'])).stdout).toMatch(/^Usage: rsb versions \[OPTIONS\] DESTINATION PATH\n/)
  }, 60_000)

  it('a store with one snapshot: nothing to compare (exit 1, ERR_RSB_CLI_SNAPSHOT_NOT_FOUND)', async () => {
    const t = await testdir({ 'source/a': 'a' }, 'rsb-diff-one-')
    const latest = path.join(t, 'store/latest')
    await ok([...QUIET, path.join(t, 'source'), latest])
    const result = await runRsb(['diff', '--json', latest])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('one complete snapshot only: nothing to compare. (ERR_RSB_CLI_SNAPSHOT_NOT_FOUND)')
    expect(JSON.parse(result.stdout)).toMatchObject({ exitCode: 1, error: { code: 'ERR_RSB_CLI_SNAPSHOT_NOT_FOUND' } })
  }, 60_000)
})

describe.skipIf(!isRoot)('rsb diff and rsb versions over SSH (needs root: sshd on 127.0.0.1)', () => {
  let server: SshServer
  let store: Awaited<ReturnType<typeof fiveRuns>>
  beforeAll(async () => {
    server = await startSshd()
    store = await fiveRuns()
  }, 120_000)
  afterAll(async () => {
    await server?.stop()
    await store?.remove()
  })

  it('the same diff and versions as read locally, walked on the server (a store under a name with quotes, $() and a newline in a file name)', async () => {
    const { latest, names, t } = store
    const env = { RSYNC_RSH: server.rsyncRsh }
    const remote = `${server.alias}:${latest}`
    const before = await listing(store.store)
    const overSsh = await diffJson([remote, names[2]!, names[3]!], env)
    const here = await diffJson([latest, names[2]!, names[3]!])
    expect({ ...overSsh, destination: undefined }).toEqual({ ...here, destination: undefined })
    expect(brief(overSsh.changes)).toEqual(KNOWN_CHANGES)
    const versionsOverSsh = await versionsJson(['--hash', remote, 'tracked.txt'], env)
    const versionsHere = await versionsJson(['--hash', latest, 'tracked.txt'])
    expect({ ...versionsOverSsh, destination: undefined }).toEqual({ ...versionsHere, destination: undefined })
    expect(versionsOverSsh.versions).toHaveLength(3)
    const directory = await versionsJson([remote, 'dir'], env)
    expect(directory.changes!.map((c) => [c.from, c.to])).toEqual([[names[2], names[3]]])
    const hostile = await versionsJson([remote, NEWLINE_NAME], env)
    expect(hostile.versions.map((v) => [v.first, v.last])).toEqual([
      [names[0], names[2]],
      [names[3], names[4]],
    ])
    const linked = await runRsb(['versions', remote, 'lnk/x'], { env })
    expect(linked.code).toBe(1)
    expect(linked.stderr).toContain('(ERR_RSB_CLI_PATH_NOT_IN_SNAPSHOTS)')
    expect(await listing(store.store)).toEqual(before)
    expect(fs.existsSync(path.join(t, 'pwned'))).toBe(false)
    expect(fs.existsSync(path.join(t, 'pwned2'))).toBe(false)
  }, 60_000)
})

// Exact snapshots, end to end with the built rsb, real rsync and a real sshd on 127.0.0.1: a snapshot never changes after it
// is made. Each scene makes a snapshot S, lists it in full (mode, owner, mtime, size, content hash, inode and hard-link
// group of every entry; ACLs and xattrs), changes SOURCE in every way rsync could apply in place (chmod, chown,
// setfacl, setfattr, touch -d, a same-size rewrite, hard links made and removed, a symlink's owner), runs rsb again, and
// compares: S is exactly as listed; the new snapshot and DESTINATION match SOURCE. Needs root (chown, another uid).
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { isRoot, startSshd, testdir, type SshServer } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HOSTILE_NAME, runRsb, snapshotsIn, startRsb } from './helpers.ts'

const QUIET = ['--no-sudo', '--disable-notifications', '--verbose']
// no rotation: the default scheme would delete the earlier snapshot of the same hour
const SNAPSHOT_ONLY = ['--backup', '--snapshot']
const NEWLINE_NAME = 'new\nline $(touch pwned) "q"'

/** What a run may leave in the store besides the mirror, the snapshots and the records: temporary copies, stages. */
function leftBehind(store: string): string[] {
  const staged = path.join(store, '.rsb', 'staged')
  return [
    ...fs.readdirSync(store).filter((name) => name.startsWith('.rsb-')),
    ...(fs.existsSync(staged) ? fs.readdirSync(staged).map((name) => `.rsb/staged/${name}`) : []),
  ]
}

/** The original's name for a snapshot made at `when`: local time, `YYYY-MM-DD HH:MM:SS`. */
function snapshotName(when: Date): string {
  const two = (n: number) => String(n).padStart(2, '0')
  return `${when.getFullYear()}-${two(when.getMonth() + 1)}-${two(when.getDate())} ${two(when.getHours())}:${two(when.getMinutes())}:${two(when.getSeconds())}`
}

/** Everything about a tree that an exact snapshot keeps (inodes: the inode numbers themselves, else hard-link groups). */
function exactListing(root: string, { inodes }: { inodes: boolean }): string[] {
  const rows: { rel: string; st: fs.BigIntStats }[] = []
  const walk = (rel: string) => {
    const st = fs.lstatSync(path.join(root, rel), { bigint: true })
    rows.push({ rel, st })
    if (st.isDirectory()) for (const name of fs.readdirSync(path.join(root, rel)).sort()) walk(rel ? `${rel}/${name}` : name)
  }
  walk('')
  const first = new Map<bigint, string>()
  for (const { rel, st } of rows) if (!st.isDirectory() && !first.has(st.ino)) first.set(st.ino, rel)
  const lines = rows.map(({ rel, st }) => {
    const full = path.join(root, rel)
    const content = st.isFile()
      ? createHash('sha256').update(fs.readFileSync(full)).digest('hex').slice(0, 16)
      : st.isSymbolicLink()
        ? `-> ${fs.readlinkSync(full)}`
        : '-'
    const group = st.isDirectory() ? '' : inodes ? ` ino=${st.ino}` : ` group=${JSON.stringify(first.get(st.ino))}`
    // a directory's mtime changes when rsync adds or removes entries in DESTINATION, not in a snapshot
    return `${JSON.stringify(rel || '.')} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isDirectory() && !inodes ? '' : st.mtimeNs} ${st.isDirectory() ? '' : st.size} ${content}${group}`
  })
  // every xattr, ACLs included (system.posix_acl_access), of every entry, without following links
  const xattrs = execFileSync('getfattr', ['--recursive', '--physical', '--dump', '--match=-', '--absolute-names', '.'], {
    cwd: root,
    encoding: 'latin1',
  })
  const acls = execFileSync('getfacl', ['--recursive', '--physical', '--numeric', '--absolute-names', '.'], {
    cwd: root,
    encoding: 'latin1',
  })
  return [
    ...lines,
    ...xattrs
      .split('\n\n')
      .filter((b) => b.trim())
      .sort(),
    ...acls
      .split('\n\n')
      .filter((b) => b.trim())
      .sort(),
  ]
}

function makeSource(source: string): void {
  const files: Record<string, string> = {
    'etc/shadow': 'root:*:19000:0:99999:7:::\n',
    'etc/hosts': '127.0.0.1 localhost\n',
    'etc/motd': 'hello\n',
    'home/alice/notes.txt': 'notes\n',
    'home/alice/same-size.txt': 'AAAA\n',
    'home/alice/stamp.txt': 'stamp\n',
    'var/lib/pair-a': 'pair\n',
    'var/lib/single': 'single\n',
    'var/lib/acl.txt': 'acl\n',
    'var/lib/attr.txt': 'attr\n',
    [`odd/${HOSTILE_NAME}`]: 'hostile\n',
    [`odd/${NEWLINE_NAME}`]: 'newline\n',
  }
  for (let i = 0; i < 20; i++) files[`bulk/file-${i}`] = `bulk ${i}\n`
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(source, rel)), { recursive: true })
    fs.writeFileSync(path.join(source, rel), content)
  }
  fs.chmodSync(path.join(source, 'etc/shadow'), 0o600)
  fs.linkSync(path.join(source, 'var/lib/pair-a'), path.join(source, 'var/lib/pair-b'))
  fs.symlinkSync('../etc/hosts', path.join(source, 'var/hosts-link'))
  // dated in the past: rsync 3.5 leaves a new symlink's own mtime when its second equals the source's (it then differs
  // in the nanoseconds), so one made in the second of the run would not match SOURCE exactly
  fs.lutimesSync(path.join(source, 'var/hosts-link'), 978566400, 978566400)
  execFileSync('setfattr', ['--name=user.origin', '--value=first', path.join(source, 'var/lib/attr.txt')])
  execFileSync('setfacl', ['--modify=u:4242:r', path.join(source, 'var/lib/acl.txt')])
  // ctime only changes later than this: rsb's first run starts after it
  fs.utimesSync(source, new Date(2020, 0, 1), new Date(2020, 0, 1))
}

/** Every kind of change rsync could apply to an inode in place, each on its own file, plus content and link changes. */
function changeSource(source: string, round: number): void {
  const at = (rel: string) => path.join(source, rel)
  fs.chmodSync(at('etc/shadow'), round % 2 ? 0o644 : 0o640)
  fs.chownSync(at('home/alice/notes.txt'), 4000 + round, 4000 + round)
  execFileSync('setfacl', [`--modify=u:${5000 + round}:rw`, at('var/lib/acl.txt')])
  execFileSync('setfattr', ['--name=user.origin', `--value=round ${round}`, at('var/lib/attr.txt')])
  const old = new Date(2001, 0, 1 + round)
  fs.utimesSync(at('home/alice/stamp.txt'), old, old)
  // the same size, another mtime (rsync's quick check compares whole seconds): rsync writes a new file
  fs.writeFileSync(at('home/alice/same-size.txt'), `B${round}\n`.padStart(5, 'B'))
  fs.utimesSync(at('home/alice/same-size.txt'), new Date(2010, 0, round), new Date(2010, 0, round))
  // hard links: one more name for a file; the pair loses or regains its second name
  fs.linkSync(at('var/lib/single'), at(`var/lib/single-link-${round}`))
  if (fs.existsSync(at('var/lib/pair-b'))) fs.rmSync(at('var/lib/pair-b'))
  else fs.linkSync(at('var/lib/pair-a'), at('var/lib/pair-b'))
  fs.lchownSync(at('var/hosts-link'), 4100 + round, 4100 + round)
  fs.chmodSync(at(`odd/${HOSTILE_NAME}`), 0o600 + round)
  execFileSync('setfattr', ['--name=user.round', `--value=${round}`, at(`odd/${NEWLINE_NAME}`)])
}

/** Runs a scene against DESTINATION (`dir`: where it is on this machine). */
async function scene(t: string, destination: string, dir: string, env: Record<string, string> = {}) {
  const source = path.join(t, 'source')
  makeSource(source)
  const run = async (expected: RegExp) => {
    const result = await runRsb([...QUIET, ...SNAPSHOT_ONLY, source, destination], { env })
    expect(result.stderr).toMatch(expected)
    expect(result.code, result.stderr).toBe(0)
    return (await snapshotsIn(path.dirname(dir))).at(-1) as string
  }
  const first = await run(/Creating snapshot/)
  const store = path.dirname(dir)
  const kept = new Map([[first, exactListing(path.join(store, first), { inodes: true })]])
  const wanted = () => exactListing(source, { inodes: false })
  for (const round of [1, 2]) {
    changeSource(source, round)
    // round 1 uses the moment of the last backup (ctime); round 2 has no record of it: every file is checked
    if (round === 2) fs.rmSync(path.join(store, '.rsb', 'synced'), { recursive: true, force: true })
    const made = await run(round === 1 ? /file\(s\) of SOURCE changed since the last backup/ : /Every file of .* gets checked/)
    for (const [name, before] of kept) expect(exactListing(path.join(store, name), { inodes: true }), `snapshot ${name}`).toEqual(before)
    expect(exactListing(path.join(store, made), { inodes: false })).toEqual(wanted())
    expect(exactListing(dir, { inodes: false })).toEqual(wanted())
    kept.set(made, exactListing(path.join(store, made), { inodes: true }))
  }
  // nothing is left behind in the store: no stage, and the record of the last backup
  expect(leftBehind(store)).toEqual([])
  expect(fs.readdirSync(path.join(store, '.rsb', 'synced'))).toHaveLength(1)
}

describe.skipIf(!isRoot)('exact snapshots (needs root: chown, setfacl for other users)', () => {
  it('a local destination: older snapshots keep every attribute, inode and hard-link group', async () => {
    const t = await testdir()
    await scene(t, path.join(t, 'backups', 'latest'), path.join(t, 'backups', 'latest'))
  })

  describe('over SSH', () => {
    let server: SshServer
    beforeAll(async () => {
      server = await startSshd()
    })
    afterAll(async () => {
      await server?.stop()
    })

    it('an SSH destination: the same, with the files moved aside on the server over rsb’s connection', async () => {
      const t = await testdir()
      const dir = path.join(t, 'backups', 'latest')
      await scene(t, `${server.alias}:${dir}`, dir, { RSYNC_RSH: server.rsyncRsh })
    })
  })

  it('a store of the original (a mirror and cp -al snapshots): the first run keeps every snapshot as it was', async () => {
    const t = await testdir()
    const source = path.join(t, 'source')
    makeSource(source)
    const store = path.join(t, 'backups')
    fs.mkdirSync(store)
    const rsync = ['--delete', '--delete-excluded', '--acls', '--archive', '--hard-links', '--numeric-ids', '--xattrs']
    execFileSync('rsync', [...rsync, `${source}/`, `${store}/latest/`])
    // dated two days and one day ago by this machine's clock (a snapshot dated after now is refused)
    const names = [2, 1].map((days) => snapshotName(new Date(Date.now() - days * 86_400_000)))
    for (const name of names) {
      execFileSync('cp', ['--archive', '--link', `${store}/latest`, `${store}/${name}`])
      changeSource(source, names.indexOf(name) + 1)
      execFileSync('rsync', [...rsync, `${source}/`, `${store}/latest/`])
    }
    // the original would now change both snapshots' shared inodes in place (as its own runs above did); rsb's first
    // run does not
    const before = new Map(names.map((name) => [name, exactListing(path.join(store, name), { inodes: true })]))
    changeSource(source, 3)
    const result = await runRsb([...QUIET, ...SNAPSHOT_ONLY, source, `${store}/latest`])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/Adopted 2 snapshot/)
    expect(result.stderr).toMatch(/Every file of .* gets checked .* no record of its last backup/)
    for (const [name, listing] of before) expect(exactListing(path.join(store, name), { inodes: true }), name).toEqual(listing)
    const made = (await snapshotsIn(store)).at(-1) as string
    expect(exactListing(path.join(store, made), { inodes: false })).toEqual(exactListing(source, { inodes: false }))
  })

  it('a directory of the mirror replaced by a symlink is never followed when files are moved aside', async () => {
    const t = await testdir()
    const source = path.join(t, 'source')
    makeSource(source)
    const dir = path.join(t, 'backups', 'latest')
    const first = await runRsb([...QUIET, ...SNAPSHOT_ONLY, source, dir])
    expect(first.code, first.stderr).toBe(0)
    // someone makes DESTINATION's etc/ a symlink to a victim directory holding files of the same names
    const victim = path.join(t, 'victim')
    fs.mkdirSync(victim)
    fs.writeFileSync(path.join(victim, 'shadow'), 'victim\n')
    const victimBefore = exactListing(victim, { inodes: true })
    fs.renameSync(path.join(dir, 'etc'), path.join(t, 'etc-aside'))
    fs.symlinkSync(victim, path.join(dir, 'etc'))
    changeSource(source, 1)
    const result = await runRsb([...QUIET, ...SNAPSHOT_ONLY, source, dir])
    expect(result.code, result.stderr).toBe(0)
    expect(exactListing(victim, { inodes: true })).toEqual(victimBefore)
    expect(exactListing(dir, { inodes: false })).toEqual(exactListing(source, { inodes: false }))
  })

  it('a dry run moves nothing and records nothing', async () => {
    const t = await testdir()
    const source = path.join(t, 'source')
    makeSource(source)
    const dir = path.join(t, 'backups', 'latest')
    expect((await runRsb([...QUIET, ...SNAPSHOT_ONLY, source, dir])).code).toBe(0)
    changeSource(source, 1)
    const store = path.dirname(dir)
    const before = exactListing(store, { inodes: true })
    const result = await runRsb([...QUIET, ...SNAPSHOT_ONLY, '--dry-run', source, dir])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/they would be moved aside/)
    expect(exactListing(store, { inodes: true })).toEqual(before)
  })

  it(
    'a backup killed (SIGKILL, with its rsync) after moving files aside: a snapshot alone is refused, the next backup puts them back and no snapshot changed',
    { timeout: 120_000 },
    async () => {
      const t = await testdir()
      const source = path.join(t, 'source')
      makeSource(source)
      const dir = path.join(t, 'backups', 'latest')
      const store = path.dirname(dir)
      expect((await runRsb([...QUIET, ...SNAPSHOT_ONLY, source, dir])).code).toBe(0)
      const [first] = await snapshotsIn(store)
      const kept = exactListing(path.join(store, first as string), { inodes: true })
      // other rsync options: every entry of DESTINATION is moved aside, then rsync copies slowly
      changeSource(source, 1)
      fs.writeFileSync(path.join(source, 'big.bin'), Buffer.alloc(8 * 1024 * 1024, 7))
      const run = startRsb([...QUIET, ...SNAPSHOT_ONLY, '--rsync-option=--bwlimit=1000', source, dir], { detached: true })
      await run.waitForStderr('Creating system backup using rsync')
      await new Promise((r) => setTimeout(r, 1500))
      process.kill(-(run.child.pid as number), 'SIGKILL')
      expect((await run.done).signal).toBe('SIGKILL')
      const staged = path.join(store, '.rsb', 'staged')
      const stages = fs.readdirSync(staged)
      expect(stages).toHaveLength(1)
      expect(fs.readdirSync(path.join(staged, stages[0] as string)).length).toBeGreaterThan(0)
      // a snapshot alone would miss what was moved aside: refused, nothing written
      // (but its run record: a refused run leaves one, for rsb status)
      const withoutRuns = () =>
        exactListing(store, { inodes: true }).filter((line) => !line.startsWith('".rsb/runs') && !line.includes('./.rsb/runs/'))
      const before = withoutRuns()
      const refused = await runRsb([...QUIET, '--snapshot', dir])
      expect(refused.code, refused.stderr).toBe(1)
      expect(refused.stderr).toContain('(ERR_RSB_CLI_MIRROR_INCOMPLETE)')
      expect(refused.stderr).toContain(stages[0])
      expect(withoutRuns()).toEqual(before)
      // the next backup links the files left aside back (the same inodes as the first snapshot where SOURCE did not
      // change), then removes the stage
      const again = await runRsb([...QUIET, ...SNAPSHOT_ONLY, source, dir])
      expect(again.code, again.stderr).toBe(0)
      expect(exactListing(path.join(store, first as string), { inodes: true })).toEqual(kept)
      expect(exactListing(dir, { inodes: false })).toEqual(exactListing(source, { inodes: false }))
      const made = (await snapshotsIn(store)).at(-1) as string
      expect(exactListing(path.join(store, made), { inodes: false })).toEqual(exactListing(source, { inodes: false }))
      const ino = (root: string) => fs.statSync(path.join(root, 'bulk/file-3')).ino
      expect(ino(dir)).toBe(ino(path.join(store, first as string)))
      expect(leftBehind(store)).toEqual([])
    },
  )

  it(
    'the clock moved an hour ahead for one backup (libfaketime) and back: both runs check every file, no snapshot changes',
    { timeout: 120_000 },
    async () => {
      // libfaketime shifts the wall clock of rsb and its children (rsync, find, cp), not the kernel's ctimes nor
      // /proc/uptime: as a clock set wrong and then corrected by an admin or NTP
      const library = execFileSync('dpkg', ['-L', 'libfaketime'], { encoding: 'utf8' })
        .split('\n')
        .find((line) => line.endsWith('/libfaketime.so.1'))
      expect(library, 'libfaketime is needed (scripts/setup.sh installs the faketime package)').toBeDefined()
      const ahead = { LD_PRELOAD: library as string, FAKETIME: '+1h', FAKETIME_DONT_FAKE_MONOTONIC: '1' }
      const t = await testdir()
      const source = path.join(t, 'source')
      makeSource(source)
      const dir = path.join(t, 'backups', 'latest')
      const store = path.dirname(dir)
      // past the 2 s margin of the moment: the next run finds only what changed since, and bulk/file-5 stays the
      // first snapshot's inode in DESTINATION
      await new Promise((r) => setTimeout(r, 2500))
      expect((await runRsb([...QUIET, ...SNAPSHOT_ONLY, source, dir])).code).toBe(0)
      const [first] = await snapshotsIn(store)
      const kept = exactListing(path.join(store, first as string), { inodes: true })
      changeSource(source, 1)
      const forward = await runRsb([...QUIET, '--backup', source, dir], { env: ahead })
      expect(forward.code, forward.stderr).toBe(0)
      expect(forward.stderr).toMatch(/Every file of .* gets checked .* the clock was changed/)
      expect(exactListing(path.join(store, first as string), { inodes: true })).toEqual(kept)
      const ino = (root: string) => fs.statSync(path.join(root, 'bulk/file-5')).ino
      expect(ino(dir)).toBe(ino(path.join(store, first as string)))
      // its record says an hour later than the changes below: followed, find would see none of them (a file
      // unchanged since the first snapshot gets a new mode, rsync would apply it to the inode that snapshot holds)
      changeSource(source, 2)
      fs.chmodSync(path.join(source, 'bulk/file-5'), 0o600)
      const back = await runRsb([...QUIET, ...SNAPSHOT_ONLY, source, dir])
      expect(back.code, back.stderr).toBe(0)
      expect(back.stderr).toMatch(/Every file of .* gets checked .* the clock was changed/)
      expect(exactListing(path.join(store, first as string), { inodes: true })).toEqual(kept)
      const made = (await snapshotsIn(store)).at(-1) as string
      expect(made).not.toBe(first)
      expect(exactListing(path.join(store, made), { inodes: false })).toEqual(exactListing(source, { inodes: false }))
    },
  )
})

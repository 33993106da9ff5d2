// Several SOURCEs into one mirror (`rsb SOURCE… DESTINATION`, rsync --relative: each under its whole path) and
// `--exclude-from=FILE`, end to end with the built rsb, real rsync, a real sshd and a real rsync daemon on 127.0.0.1,
// and a real tmpfs for --one-file-system. Names are quote-hostile throughout.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs/promises'
import fsSync from 'node:fs'
import path from 'node:path'
import { isRoot, runChecked, startRsyncDaemon, startSshd, testdir, type SshServer } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { HOSTILE_NAME, listing, runRecords, runRsb, snapshotsIn } from './helpers.ts'

const QUIET = ['--no-sudo', '--disable-notifications']
// no rotation: the default scheme keeps one snapshot an hour, and these tests make several in a minute
const NO_ROTATION = ['--backup', '--snapshot']
const NEWLINE_NAME = 'new\nline $(touch pwned) "q"'

/** Where SOURCE `abs` lands in the mirror `dir` (its whole path below it). */
const under = (dir: string, abs: string) => path.join(dir, abs)

/** Two sources below `t/src`: `etc` (with a hostile name in it) and a home whose own name is hostile. */
async function twoSources(t: string): Promise<{ etc: string; home: string }> {
  const etc = path.join(t, 'src', 'etc')
  const home = path.join(t, 'src', `home ${HOSTILE_NAME}`)
  await fs.mkdir(path.join(etc, 'ssh'), { recursive: true })
  await fs.writeFile(path.join(etc, 'hosts'), '127.0.0.1 localhost\n')
  await fs.writeFile(path.join(etc, 'ssh', NEWLINE_NAME), 'newline\n')
  await fs.mkdir(path.join(home, 'alice'), { recursive: true })
  await fs.writeFile(path.join(home, 'alice', 'notes.txt'), 'notes\n')
  await fs.writeFile(path.join(home, 'alice', 'old.txt'), 'old\n')
  return { etc, home }
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>
}

/** The manifest of snapshot `name` in `store`. */
async function manifest(store: string, name: string): Promise<Record<string, unknown>> {
  return (await readJson(path.join(store, '.rsb', 'snapshots', `${name}.json`))).manifest as Record<string, unknown>
}

function expectRefused(result: { code: number | null; stderr: string; stdout: string }, code: number, errorCode: string) {
  expect(result.code, result.stderr).toBe(code)
  expect(result.stderr).toContain(`(${errorCode})`)
}

describe('several SOURCEs into one mirror', () => {
  it('two SOURCEs land at latest/<whole path>; a file deleted in one is deleted in the mirror and kept in the first snapshot', async () => {
    const t = await testdir()
    const { etc, home } = await twoSources(t)
    const store = path.join(t, 'backups')
    const latest = path.join(store, 'latest')
    const first = await runRsb([...QUIET, ...NO_ROTATION, '--json', etc, home, latest])
    expect(first.code, first.stderr).toBe(0)
    expect(await fs.readFile(path.join(under(latest, etc), 'hosts'), 'utf8')).toBe('127.0.0.1 localhost\n')
    expect(await fs.readFile(path.join(under(latest, etc), 'ssh', NEWLINE_NAME), 'utf8')).toBe('newline\n')
    expect(await fs.readFile(path.join(under(latest, home), 'alice', 'old.txt'), 'utf8')).toBe('old\n')
    // nothing else at the top of the mirror than the first component of their paths
    expect(await fs.readdir(latest)).toEqual([t.split('/')[1]])
    const summary = JSON.parse(first.stdout) as Record<string, unknown>
    expect(summary).toMatchObject({ source: '/', sources: [etc, home], exitCode: 0 })
    const [snapshot] = await snapshotsIn(store)
    expect(await manifest(store, snapshot as string)).toMatchObject({ source: '/', sources: [etc, home] })
    const records = await runRecords(store)
    expect(records.at(-1)).toMatchObject({ source: '/', sources: [etc, home], outcome: 'succeeded' })

    await fs.rm(path.join(home, 'alice', 'old.txt'))
    await fs.writeFile(path.join(etc, 'hosts'), '10.0.0.1 changed\n')
    const second = await runRsb([...QUIET, ...NO_ROTATION, etc, home, latest])
    expect(second.code, second.stderr).toBe(0)
    await expect(fs.stat(path.join(under(latest, home), 'alice', 'old.txt'))).rejects.toThrow()
    expect(await fs.readFile(path.join(under(latest, etc), 'hosts'), 'utf8')).toBe('10.0.0.1 changed\n')
    const snapshots = await snapshotsIn(store)
    expect(snapshots).toHaveLength(2)
    expect(await fs.readFile(path.join(under(path.join(store, snapshots[0] as string), home), 'alice', 'old.txt'), 'utf8')).toBe('old\n')
    expect(await fs.readFile(path.join(under(path.join(store, snapshots[0] as string), etc), 'hosts'), 'utf8')).toBe(
      '127.0.0.1 localhost\n',
    )
    await expect(fs.stat(path.join(under(path.join(store, snapshots[1] as string), home), 'alice', 'old.txt'))).rejects.toThrow()
  })

  it('a SOURCE left out of a later run stays in the mirror as it was (warned, with the rm that drops it); no history is lost', async () => {
    const t = await testdir()
    const { etc, home } = await twoSources(t)
    const srv = path.join(t, 'src', 'srv')
    await fs.mkdir(srv)
    await fs.writeFile(path.join(srv, 'data'), 'data\n')
    const store = path.join(t, 'backups')
    const latest = path.join(store, 'latest')
    expect((await runRsb([...QUIET, ...NO_ROTATION, etc, home, latest])).code).toBe(0)
    // inodes, modes, sizes and times (not link counts: each snapshot adds one)
    const kept = async () => (await listing(under(latest, home))).map((line) => line.replace(/ \d+$/, ''))
    const homeBefore = await kept()
    await fs.writeFile(path.join(etc, 'hosts'), 'second\n')
    const second = await runRsb([...QUIET, ...NO_ROTATION, '--json', etc, srv, latest])
    expect(second.code, second.stderr).toBe(0)
    // the home left out: untouched in the mirror (inodes, times and all), with a warning that says how to drop it
    expect(await kept()).toEqual(homeBefore)
    expect(second.stderr).toContain(`${home} was a SOURCE of the last backup into ${latest} and is not now`)
    expect(second.stderr).toContain('rm -r -- ')
    expect((JSON.parse(second.stdout) as { warnings: string[] }).warnings.join('\n')).toContain('is not now')
    expect(await fs.readFile(path.join(under(latest, srv), 'data'), 'utf8')).toBe('data\n')
    expect(await fs.readFile(path.join(under(latest, etc), 'hosts'), 'utf8')).toBe('second\n')
    // both snapshots hold what their run backed up; the second one also the kept home
    const [one, two] = await snapshotsIn(store)
    expect(await fs.readFile(path.join(under(path.join(store, one as string), etc), 'hosts'), 'utf8')).toBe('127.0.0.1 localhost\n')
    expect(await fs.readFile(path.join(under(path.join(store, two as string), home), 'alice', 'notes.txt'), 'utf8')).toBe('notes\n')
    await expect(fs.stat(under(path.join(store, one as string), srv))).rejects.toThrow()
  })

  it('a mirror of one SOURCE that gets several keeps its old files at its top, and says so', async () => {
    const t = await testdir()
    const { etc, home } = await twoSources(t)
    const latest = path.join(t, 'backups', 'latest')
    expect((await runRsb([...QUIET, ...NO_ROTATION, etc, latest])).code).toBe(0)
    expect((await fs.readdir(latest)).sort()).toEqual(['hosts', 'ssh'])
    const result = await runRsb([...QUIET, ...NO_ROTATION, etc, home, latest])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain(`was of the one SOURCE ${etc}, whose files lie at its top: they are kept there`)
    expect(await fs.readFile(path.join(latest, 'hosts'), 'utf8')).toBe('127.0.0.1 localhost\n')
    expect(await fs.readFile(path.join(under(latest, home), 'alice', 'notes.txt'), 'utf8')).toBe('notes\n')
  })

  it('several SOURCEs, then one: the mirror keeps the layout of whole paths (rsync --relative), the other SOURCE stays, with a warning', async () => {
    const t = await testdir()
    const { etc, home } = await twoSources(t)
    const store = path.join(t, 'backups')
    const latest = path.join(store, 'latest')
    expect((await runRsb([...QUIET, ...NO_ROTATION, etc, home, latest])).code).toBe(0)
    const etcBefore = await listing(under(latest, etc))
    await fs.rm(path.join(home, 'alice', 'old.txt'))
    await fs.writeFile(path.join(home, 'alice', 'new.txt'), 'new\n')
    await fs.writeFile(path.join(home, 'alice', 'notes.txt'), 'notes, changed\n')
    const second = await runRsb([...QUIET, ...NO_ROTATION, '--verbose', '--json', home, latest])
    expect(second.code, second.stderr).toBe(0)
    // rsync got --relative with the one SOURCE, so --delete acted only under its whole path
    expect(second.stderr).toMatch(/Running rsync .*--relative/)
    expect(second.stderr).toContain(`${etc} was a SOURCE of the last backup into ${latest} and is not now`)
    expect(second.stderr).toContain(`${home} is backed up under its whole path beside it`)
    expect(second.stderr).toContain('rm -r -- ')
    // the other SOURCE untouched (inodes, times and all: no link count, the snapshot adds one); the one's changes in place
    const strip = (lines: string[]) => lines.map((line) => line.replace(/ \d+$/, ''))
    expect(strip(await listing(under(latest, etc)))).toEqual(strip(etcBefore))
    expect(await fs.readFile(path.join(under(latest, home), 'alice', 'notes.txt'), 'utf8')).toBe('notes, changed\n')
    expect(await fs.readFile(path.join(under(latest, home), 'alice', 'new.txt'), 'utf8')).toBe('new\n')
    await expect(fs.stat(path.join(under(latest, home), 'alice', 'old.txt'))).rejects.toThrow()
    expect(await fs.readdir(latest)).toEqual([t.split('/')[1]])
    // the new snapshot holds both; the first one what it held
    const [one, two] = await snapshotsIn(store)
    expect(await fs.readFile(path.join(under(path.join(store, two as string), etc), 'hosts'), 'utf8')).toBe('127.0.0.1 localhost\n')
    expect(await fs.readFile(path.join(under(path.join(store, two as string), home), 'alice', 'new.txt'), 'utf8')).toBe('new\n')
    expect(await fs.readFile(path.join(under(path.join(store, one as string), home), 'alice', 'old.txt'), 'utf8')).toBe('old\n')
    // the records name / as SOURCE (the mirror holds it under its whole path) and list the one
    expect(JSON.parse(second.stdout)).toMatchObject({ source: '/', sources: [home] })
    expect(await manifest(store, two as string)).toMatchObject({ source: '/', sources: [home] })
    expect((await runRecords(store)).at(-1)).toMatchObject({ source: '/', sources: [home], outcome: 'succeeded' })
    const synced = path.join(store, '.rsb', 'synced')
    expect((await readJson(path.join(synced, (await fs.readdir(synced))[0] as string))).source).toBe(JSON.stringify([home]))

    // and the next run of that one SOURCE too (the layout is recorded); the warning again
    await fs.writeFile(path.join(home, 'alice', 'third.txt'), 'third\n')
    const third = await runRsb([...QUIET, ...NO_ROTATION, '--verbose', home, latest])
    expect(third.code, third.stderr).toBe(0)
    expect(third.stderr).toMatch(/Running rsync .*--relative/)
    // said once, when etc was left out (as for several SOURCEs): the record now lists the one
    expect(third.stderr).not.toContain('was a SOURCE of the last backup')
    expect(await fs.readFile(path.join(under(latest, home), 'alice', 'third.txt'), 'utf8')).toBe('third\n')
    expect(await fs.readFile(path.join(under(latest, etc), 'hosts'), 'utf8')).toBe('127.0.0.1 localhost\n')
    // rsb restore --in-place of the one SOURCE's file writes it at its path
    await fs.writeFile(path.join(home, 'alice', 'third.txt'), 'broken\n')
    const restore = await runRsb(['restore', '--no-sudo', '--in-place', latest, path.join(home, 'alice', 'third.txt')])
    expect(restore.code, restore.stderr).toBe(0)
    expect(await fs.readFile(path.join(home, 'alice', 'third.txt'), 'utf8')).toBe('third\n')
  })

  it('a mirror of one SOURCE that never had several keeps its rsync command line: no --relative, the files at its top', async () => {
    const t = await testdir()
    const { etc } = await twoSources(t)
    const latest = path.join(t, 'backups', 'latest')
    for (const round of [1, 2]) {
      const result = await runRsb([...QUIET, ...NO_ROTATION, '--verbose', '--json', etc, latest])
      expect(result.code, result.stderr).toBe(0)
      expect(result.stderr).toMatch(/Running rsync /)
      expect(result.stderr, `round ${round}`).not.toContain('--relative')
      expect(JSON.parse(result.stdout)).toMatchObject({ source: etc })
      expect(JSON.parse(result.stdout)).not.toHaveProperty('sources')
    }
    expect((await fs.readdir(latest)).sort()).toEqual(['hosts', 'ssh'])
  })

  it('a backup of several SOURCEs that rsync did not finish (23) still records the layout: one SOURCE after it deletes nothing', async () => {
    const t = await testdir()
    const { etc, home } = await twoSources(t)
    const store = path.join(t, 'backups')
    const latest = path.join(store, 'latest')
    // a mirror of etc alone (its files at the top), then several SOURCEs that rsync ends with 23 (a partial
    // transfer, which rsb reports as a warning: a dangling symlink with --copy-links), so no moment is recorded
    expect((await runRsb([...QUIET, ...NO_ROTATION, etc, latest])).code).toBe(0)
    await fs.symlink(path.join(t, 'nowhere'), path.join(home, 'dangling'))
    const partial = await runRsb([...QUIET, ...NO_ROTATION, '--rsync-option=--copy-links', etc, home, latest])
    expect(partial.code, partial.stderr).toBe(0)
    expect(partial.stderr).toContain('rsync exited with 23')
    await fs.rm(path.join(home, 'dangling'))
    const result = await runRsb([...QUIET, ...NO_ROTATION, '--verbose', home, latest])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/Running rsync .*--relative/)
    expect(result.stderr).toContain(`${etc} was a SOURCE of the last backup into ${latest} and is not now`)
    // etc's copy at the top (of the first run) and under its whole path (of the partial one) are both still there
    expect(await fs.readFile(path.join(latest, 'hosts'), 'utf8')).toBe('127.0.0.1 localhost\n')
    expect(await fs.readFile(path.join(under(latest, etc), 'hosts'), 'utf8')).toBe('127.0.0.1 localhost\n')
    expect(await fs.readFile(path.join(under(latest, home), 'alice', 'notes.txt'), 'utf8')).toBe('notes\n')
  })

  it('--rsync-option=--no-relative is refused for a mirror of whole paths (exit 2, nothing written)', async () => {
    const t = await testdir()
    const { etc, home } = await twoSources(t)
    const latest = path.join(t, 'backups', 'latest')
    expect((await runRsb([...QUIET, ...NO_ROTATION, etc, home, latest])).code).toBe(0)
    for (const sources of [[etc, home], [home]]) {
      const before = await listing(t, { runRecords: false })
      const result = await runRsb([...QUIET, ...NO_ROTATION, '--rsync-option=--no-relative', ...sources, latest])
      expectRefused(result, 2, 'ERR_RSB_CLI_USAGE')
      expect(result.stderr).toContain('keeps its SOURCEs under their whole paths')
      // (the mirror's lock comes and goes in .rsb/mirrors: its mtime)
      const unlocked = (lines: string[]) => lines.filter((line) => !line.startsWith('backups/.rsb/mirrors '))
      expect(unlocked(await listing(t, { runRecords: false }))).toEqual(unlocked(before))
    }
  })

  it.each<[string, (t: string, s: { etc: string; home: string }) => string[], string]>([
    ['a SOURCE inside another', (_t, { etc }) => [etc, path.join(etc, 'ssh')], 'is inside SOURCE'],
    ['the same SOURCE twice', (_t, { etc }) => [etc, `${etc}/`], 'is given twice'],
    ['the same SOURCE twice through ..', (_t, { etc, home }) => [etc, home, path.join(etc, '..', 'etc')], 'is given twice'],
    ['a relative SOURCE', (_t, { etc }) => [etc, 'src/etc'], 'is a relative path'],
    ['/ beside another SOURCE', (_t, { etc }) => ['/', etc], 'is inside SOURCE'],
  ])('%s is a usage error: exit 2, nothing written', async (_name, sources, message) => {
    const t = await testdir()
    const given = await twoSources(t)
    const before = await listing(t)
    const result = await runRsb([...QUIET, ...sources(t, given), path.join(t, 'backups', 'latest')], { cwd: t })
    expectRefused(result, 2, 'ERR_RSB_CLI_USAGE')
    expect(result.stderr).toContain(message)
    expect(await listing(t)).toEqual(before)
  })

  it('SOURCEs that overlap once a symbolic link is followed are refused (ERR_RSB_CLI_SOURCE_OVERLAP): exit 1, nothing written', async () => {
    const t = await testdir()
    const { etc, home } = await twoSources(t)
    await fs.symlink(path.join(etc, 'ssh'), path.join(t, 'src', 'link'))
    const before = await listing(t)
    const result = await runRsb([...QUIET, etc, home, path.join(t, 'src', 'link'), path.join(t, 'backups', 'latest')])
    expectRefused(result, 1, 'ERR_RSB_CLI_SOURCE_OVERLAP')
    expect(await listing(t)).toEqual(before)
  })

  it.each<[string, (s: { etc: string; home: string }, t: string) => Promise<string[]>, string]>([
    ['one SOURCE missing', async ({ etc }, t) => [etc, path.join(t, 'src', 'nothing')], 'ERR_RSB_CLI_SOURCE_MISSING'],
    ['one SOURCE a file', async ({ etc, home }) => [home, path.join(etc, 'hosts')], 'ERR_RSB_CLI_SOURCE_NOT_DIRECTORY'],
    [
      'one SOURCE empty',
      async ({ etc }, t) => {
        await fs.mkdir(path.join(t, 'src', 'empty'))
        return [etc, path.join(t, 'src', 'empty')]
      },
      'ERR_RSB_CLI_SOURCE_EMPTY',
    ],
    [
      'one SOURCE a backup (swapped arguments)',
      async ({ etc }, t) => {
        await fs.mkdir(path.join(t, 'old', '.rsb'), { recursive: true })
        await fs.writeFile(path.join(t, 'old', '.rsb', 'store.json'), '{}')
        await fs.mkdir(path.join(t, 'old', '2024-01-01 00:00:00'))
        return [etc, path.join(t, 'old')]
      },
      'ERR_RSB_CLI_SOURCE_IS_BACKUP',
    ],
    [
      'one SOURCE inside DESTINATION',
      async ({ etc }, t) => {
        await fs.mkdir(path.join(t, 'backups', 'latest', 'x'), { recursive: true })
        await fs.writeFile(path.join(t, 'backups', 'latest', 'x', 'f'), 'f\n')
        return [etc, path.join(t, 'backups', 'latest', 'x')]
      },
      'ERR_RSB_CLI_OVERLAP',
    ],
  ])('%s: refused, exit 1, nothing written', async (_name, sources, code) => {
    const t = await testdir()
    const given = await twoSources(t)
    const args = await sources(given, t)
    const before = await listing(t)
    const result = await runRsb([...QUIET, ...args, path.join(t, 'backups', 'latest')])
    expectRefused(result, 1, code)
    expect(await listing(t)).toEqual(before)
  })

  it('an empty SOURCE among several is backed up with --allow-empty-source', async () => {
    const t = await testdir()
    const { etc } = await twoSources(t)
    const empty = path.join(t, 'src', 'empty')
    await fs.mkdir(empty)
    const latest = path.join(t, 'backups', 'latest')
    const result = await runRsb([...QUIET, ...NO_ROTATION, '--allow-empty-source', etc, empty, latest])
    expect(result.code, result.stderr).toBe(0)
    expect(await fs.readdir(under(latest, empty))).toEqual([])
    expect(await fs.readdir(under(latest, etc))).toContain('hosts')
  })

  it('the store inside one SOURCE is left out of the backup; --dry-run writes nothing', async () => {
    const t = await testdir()
    const { etc, home } = await twoSources(t)
    const latest = path.join(home, 'backups', 'latest')
    const before = await listing(t)
    const dry = await runRsb([...QUIET, '--dry-run', etc, home, latest])
    expect(dry.code, dry.stderr).toBe(0)
    expect(await listing(t)).toEqual(before)
    const result = await runRsb([...QUIET, ...NO_ROTATION, etc, home, latest])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain('is inside SOURCE: it is excluded from the backup')
    expect((await fs.readdir(under(latest, home))).sort()).toEqual(['alice'])
  })

  it('rsb restore --in-place of a path of a multi-SOURCE snapshot writes it at that path (the records name / as SOURCE)', async () => {
    const t = await testdir()
    const { etc, home } = await twoSources(t)
    const latest = path.join(t, 'backups', 'latest')
    expect((await runRsb([...QUIET, ...NO_ROTATION, etc, home, latest])).code).toBe(0)
    await fs.writeFile(path.join(etc, 'hosts'), 'broken\n')
    await fs.writeFile(path.join(home, 'alice', 'notes.txt'), 'broken\n')
    // PATH as the mirror holds it: the whole path, with or without its leading /
    const result = await runRsb(['restore', '--no-sudo', '--in-place', latest, path.join(etc, 'hosts'), path.join(home, 'alice').slice(1)])
    expect(result.code, result.stderr).toBe(0)
    expect(await fs.readFile(path.join(etc, 'hosts'), 'utf8')).toBe('127.0.0.1 localhost\n')
    expect(await fs.readFile(path.join(home, 'alice', 'notes.txt'), 'utf8')).toBe('notes\n')
  })

  describe.skipIf(!isRoot)('--one-file-system per SOURCE (needs root: tmpfs mounts)', () => {
    it('a SOURCE on its own filesystem is copied whole; a filesystem mounted inside a SOURCE is left out (its mount point kept)', async () => {
      const t = await testdir()
      const { etc, home } = await twoSources(t)
      const mounted: string[] = []
      onTestFinished(async () => {
        for (const dir of mounted.reverse()) await runChecked('umount', [dir]).catch(() => undefined)
      })
      // home on a filesystem of its own, with another one mounted inside etc
      const own = path.join(t, 'src', 'own')
      await fs.mkdir(own)
      await runChecked('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'rsb-test', own])
      mounted.push(own)
      await fs.writeFile(path.join(own, 'on-tmpfs'), 'tmpfs\n')
      await fs.cp(home, path.join(own, 'home'), { recursive: true })
      const inner = path.join(etc, 'mnt')
      await fs.mkdir(inner)
      await runChecked('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'rsb-test', inner])
      mounted.push(inner)
      await fs.writeFile(path.join(inner, 'not-copied'), 'x\n')
      const latest = path.join(t, 'backups', 'latest')
      const result = await runRsb([...QUIET, ...NO_ROTATION, etc, own, latest])
      expect(result.code, result.stderr).toBe(0)
      expect(await fs.readFile(path.join(under(latest, own), 'on-tmpfs'), 'utf8')).toBe('tmpfs\n')
      expect(await fs.readFile(path.join(under(latest, own), 'home', 'alice', 'notes.txt'), 'utf8')).toBe('notes\n')
      expect(await fs.readdir(path.join(under(latest, etc), 'mnt'))).toEqual([])
      expect(await fs.readdir(under(latest, etc))).toContain('hosts')
      // and --multi-fs crosses into it
      const multi = await runRsb([...QUIET, ...NO_ROTATION, '--multi-fs', etc, own, latest])
      expect(multi.code, multi.stderr).toBe(0)
      expect(await fs.readdir(path.join(under(latest, etc), 'mnt'))).toEqual(['not-copied'])
    })
  })
})

describe.skipIf(!isRoot)('several SOURCEs to servers (needs root: sshd and rsync daemon on 127.0.0.1)', () => {
  let server: SshServer
  beforeAll(async () => {
    server = await startSshd()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('over SSH: the same layout, deletions, records and a refusal of a missing SOURCE with nothing written', async () => {
    const t = await testdir()
    const { etc, home } = await twoSources(t)
    const store = path.join(t, 'backups')
    const latest = path.join(store, 'latest')
    const env = { RSYNC_RSH: server.rsyncRsh }
    const first = await runRsb([...QUIET, ...NO_ROTATION, etc, home, `${server.alias}:${latest}`], { env })
    expect(first.code, first.stderr).toBe(0)
    expect(await fs.readFile(path.join(under(latest, etc), 'ssh', NEWLINE_NAME), 'utf8')).toBe('newline\n')
    expect(await fs.readFile(path.join(under(latest, home), 'alice', 'notes.txt'), 'utf8')).toBe('notes\n')
    await fs.rm(path.join(home, 'alice', 'old.txt'))
    const second = await runRsb([...QUIET, ...NO_ROTATION, etc, home, `${server.alias}:${latest}`], { env })
    expect(second.code, second.stderr).toBe(0)
    await expect(fs.stat(path.join(under(latest, home), 'alice', 'old.txt'))).rejects.toThrow()
    const [one] = await snapshotsIn(store)
    expect(await fs.readFile(path.join(under(path.join(store, one as string), home), 'alice', 'old.txt'), 'utf8')).toBe('old\n')
    expect(await manifest(store, one as string)).toMatchObject({ source: '/', sources: [etc, home] })

    const before = await listing(t, { runRecords: false })
    const missing = await runRsb([...QUIET, ...NO_ROTATION, etc, path.join(t, 'gone'), `${server.alias}:${latest}`], { env })
    expectRefused(missing, 1, 'ERR_RSB_CLI_SOURCE_MISSING')
    expect(await listing(t, { runRecords: false })).toEqual(before)
  })

  it('to an rsync daemon: each SOURCE under its whole path in the module', async () => {
    const t = await testdir()
    const { etc, home } = await twoSources(t)
    const module = path.join(t, 'server', 'latest')
    const daemon = await startRsyncDaemon({ modules: { m: { path: module } } })
    onTestFinished(() => daemon.stop())
    const result = await runRsb([...QUIET, etc, home, daemon.url('m')])
    expect(result.code, result.stderr).toBe(0)
    expect(await fs.readFile(path.join(under(module, etc), 'hosts'), 'utf8')).toBe('127.0.0.1 localhost\n')
    expect(await fs.readFile(path.join(under(module, home), 'alice', 'notes.txt'), 'utf8')).toBe('notes\n')
    // one SOURCE missing is refused here too, before rsync writes into the module
    const before = await listing(module)
    const missing = await runRsb([...QUIET, etc, path.join(t, 'gone'), daemon.url('m')])
    expectRefused(missing, 1, 'ERR_RSB_CLI_SOURCE_MISSING')
    expect(await listing(module)).toEqual(before)
  })
})

/** Every attribute an exact snapshot keeps, with inode numbers (a listing of the tree, xattrs and owners). */
function exactListing(root: string): string[] {
  const lines: string[] = []
  const walk = (rel: string) => {
    const full = path.join(root, rel)
    const st = fsSync.lstatSync(full, { bigint: true })
    const xattrs = st.isSymbolicLink()
      ? ''
      : execFileSync('getfattr', ['--dump', '--match=-', '--absolute-names', full], { encoding: 'latin1' }).split('\n').slice(1).join(' ')
    lines.push(`${JSON.stringify(rel)} ${st.ino} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeNs} ${st.size} ${xattrs}`)
    if (st.isDirectory()) for (const name of fsSync.readdirSync(full).sort()) walk(rel ? `${rel}/${name}` : name)
  }
  walk('')
  return lines
}

describe.skipIf(!isRoot)('exact snapshots with several SOURCEs (needs root: chown)', () => {
  it('attribute changes in each SOURCE never reach an older snapshot, with the recorded moment and without it', async () => {
    const t = await testdir()
    const { etc, home } = await twoSources(t)
    const files = [path.join(etc, 'hosts'), path.join(etc, 'ssh', NEWLINE_NAME), path.join(home, 'alice', 'notes.txt')]
    for (const file of files) fsSync.utimesSync(file, new Date(2020, 0, 1), new Date(2020, 0, 1))
    const store = path.join(t, 'backups')
    const latest = path.join(store, 'latest')
    const run = async (expected: RegExp) => {
      const result = await runRsb([...QUIET, ...NO_ROTATION, '--verbose', etc, home, latest])
      expect(result.code, result.stderr).toBe(0)
      expect(result.stderr).toMatch(expected)
      return (await snapshotsIn(store)).at(-1) as string
    }
    const kept = new Map<string, string[]>()
    const first = await run(/Creating snapshot/)
    kept.set(first, exactListing(path.join(store, first)))
    for (const round of [1, 2]) {
      // what rsync changes in place: a mode, an owner, an xattr; and a same-size rewrite with another mtime
      fsSync.chmodSync(files[0] as string, round === 1 ? 0o600 : 0o640)
      fsSync.chownSync(files[2] as string, 4000 + round, 4000 + round)
      execFileSync('setfattr', ['--name=user.round', `--value=${round}`, files[1] as string])
      fsSync.writeFileSync(path.join(home, 'alice', 'old.txt'), `ol${round}\n`)
      // another mtime for sure: a rewrite within the second of the last one would look unchanged to rsync
      fsSync.utimesSync(path.join(home, 'alice', 'old.txt'), new Date(2021, 0, round), new Date(2021, 0, round))
      if (round === 2) fsSync.rmSync(path.join(store, '.rsb', 'synced'), { recursive: true, force: true })
      const made = await run(round === 1 ? /file\(s\) of SOURCE changed since the last backup/ : /Every file of .* gets checked/)
      for (const [name, before] of kept) expect(exactListing(path.join(store, name)), `snapshot ${name}`).toEqual(before)
      const copy = (file: string) => fsSync.lstatSync(path.join(store, made, file))
      expect(copy(files[0] as string).mode & 0o777).toBe(round === 1 ? 0o600 : 0o640)
      expect(copy(files[2] as string).uid).toBe(4000 + round)
      expect(fsSync.readFileSync(path.join(store, made, home, 'alice', 'old.txt'), 'utf8')).toBe(`ol${round}\n`)
      kept.set(made, exactListing(path.join(store, made)))
    }
    // a second run with the same SOURCEs recorded them: the record names both
    const synced = fsSync.readdirSync(path.join(store, '.rsb', 'synced'))
    expect(synced).toHaveLength(1)
    expect((await readJson(path.join(store, '.rsb', 'synced', synced[0] as string))).source).toBe(JSON.stringify([etc, home]))
  })

  it('several SOURCEs, then one: its attribute changes never reach an older snapshot, and the other SOURCE is never moved aside', async () => {
    const t = await testdir()
    const { etc, home } = await twoSources(t)
    const notes = path.join(home, 'alice', 'notes.txt')
    const old = path.join(home, 'alice', 'old.txt')
    for (const file of [notes, old, path.join(etc, 'hosts')]) fsSync.utimesSync(file, new Date(2020, 0, 1), new Date(2020, 0, 1))
    const store = path.join(t, 'backups')
    const latest = path.join(store, 'latest')
    const run = async (sources: string[], expected: RegExp) => {
      const result = await runRsb([...QUIET, ...NO_ROTATION, '--verbose', ...sources, latest])
      expect(result.code, result.stderr).toBe(0)
      expect(result.stderr).toMatch(expected)
      return (await snapshotsIn(store)).at(-1) as string
    }
    const kept = new Map<string, string[]>()
    const first = await run([etc, home], /Creating snapshot/)
    kept.set(first, exactListing(path.join(store, first)))
    // the other SOURCE's copy in the mirror, inodes and all (its link counts grow with each snapshot)
    const etcCopy = () => exactListing(under(latest, etc)).map((line) => line.split(' ').slice(0, 3).join(' '))
    const etcBefore = etcCopy()
    for (const round of [1, 2]) {
      fsSync.chmodSync(notes, round === 1 ? 0o600 : 0o640)
      fsSync.chownSync(old, 4000 + round, 4000 + round)
      execFileSync('setfattr', ['--name=user.round', `--value=${round}`, notes])
      // round 1: another list of SOURCEs (every file of the one checked); round 2: the recorded moment
      const made = await run([home], round === 1 ? /Every file of .* gets checked/ : /file\(s\) of SOURCE changed since the last backup/)
      for (const [name, before] of kept) expect(exactListing(path.join(store, name)), `snapshot ${name}`).toEqual(before)
      expect(etcCopy()).toEqual(etcBefore)
      const copy = (file: string) => fsSync.lstatSync(path.join(store, made, file))
      expect(copy(notes).mode & 0o777).toBe(round === 1 ? 0o600 : 0o640)
      expect(copy(old).uid).toBe(4000 + round)
      expect(fsSync.readFileSync(path.join(store, made, etc, 'hosts'), 'utf8')).toBe('127.0.0.1 localhost\n')
      kept.set(made, exactListing(path.join(store, made)))
    }
    expect(fsSync.readdirSync(path.join(store, '.rsb', 'staged'), { withFileTypes: true }).length).toBe(0)
  })
})

describe('--exclude-from=FILE', () => {
  it("excludes exactly the file's patterns: globs, and a line '- NAME' as the name '- NAME'; comments and empty lines skipped", async () => {
    const t = await testdir({
      'source/keep.txt': 'keep\n',
      'source/a.log': 'log\n',
      'source/sub/b.log': 'log\n',
      'source/- literal': 'dash\n',
      'source/literal': 'plain\n',
      'source/# comment': 'hash\n',
      [`source/${HOSTILE_NAME}`]: 'hostile\n',
    })
    const list = path.join(t, `exclude list ${HOSTILE_NAME}`)
    await fs.writeFile(list, `*.log\n# comment\n\n- literal\n; semicolon comment\n${HOSTILE_NAME}\n`)
    const store = path.join(t, 'backups')
    const latest = path.join(store, 'latest')
    const result = await runRsb([...QUIET, ...NO_ROTATION, `--exclude-from=${list}`, '-x', 'keep.none', path.join(t, 'source'), latest])
    expect(result.code, result.stderr).toBe(0)
    expect((await fs.readdir(latest)).sort()).toEqual(['# comment', 'keep.txt', 'literal', 'sub'].sort())
    expect(await fs.readdir(path.join(latest, 'sub'))).toEqual([])
    // the manifest lists the patterns in force (-x first); the run record keeps the option as given
    const [snapshot] = await snapshotsIn(store)
    expect((await manifest(store, snapshot as string)).excludes).toEqual(['keep.none', '*.log', '- literal', HOSTILE_NAME])
    expect((await runRecords(store)).at(-1)?.argv).toContain(`--exclude-from=${list}`)
  })

  it('a backup into $RSYNC_MODULE_PATH (-b) reads them too: its patterns reach rsync, a missing FILE is refused', async () => {
    const t = await testdir({ 'backups/latest/.keep': '' })
    const latest = path.join(t, 'backups', 'latest')
    // SOURCE is / here: a dry run, and a pattern that leaves everything out
    await fs.writeFile(path.join(t, 'all'), '/*\n')
    const env = { RSYNC_MODULE_PATH: latest }
    const dry = await runRsb([...QUIET, '-b', '--dry-run', '--verbose', '--accept-destination', `--exclude-from=${path.join(t, 'all')}`], {
      env,
    })
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stderr).toMatch(/Running rsync .*'--exclude=\/\*' /)
    const before = await listing(t)
    const missing = await runRsb([...QUIET, '-b', `--exclude-from=${path.join(t, 'no such file')}`], { env })
    expectRefused(missing, 1, 'ERR_RSB_CLI_EXCLUDE_FROM')
    expect(await listing(t)).toEqual(before)
  })

  it('with several SOURCEs: a pattern applies in each', async () => {
    const t = await testdir({ 'src/a/x.log': 'log\n', 'src/a/keep': 'k\n', 'src/b/y.log': 'log\n', 'src/b/keep': 'k\n' })
    await fs.writeFile(path.join(t, 'excludes'), '*.log\r\n')
    const latest = path.join(t, 'backups', 'latest')
    const result = await runRsb([
      '--exclude-from',
      path.join(t, 'excludes'),
      ...QUIET,
      ...NO_ROTATION,
      path.join(t, 'src/a'),
      path.join(t, 'src/b'),
      latest,
    ])
    expect(result.code, result.stderr).toBe(0)
    expect(await fs.readdir(under(latest, path.join(t, 'src/a')))).toEqual(['keep'])
    expect(await fs.readdir(under(latest, path.join(t, 'src/b')))).toEqual(['keep'])
  })

  it.each<[string, (t: string) => Promise<string>, string]>([
    ['missing', async (t) => path.join(t, 'no such file'), 'does not exist'],
    [
      'holding a NUL byte',
      async (t) => {
        await fs.writeFile(path.join(t, 'nul'), 'a\0b\n')
        return path.join(t, 'nul')
      },
      'holds a NUL byte',
    ],
    [
      'not UTF-8',
      async (t) => {
        await fs.writeFile(path.join(t, 'latin1'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]))
        return path.join(t, 'latin1')
      },
      'is not valid UTF-8',
    ],
    ['a directory', async (t) => t, 'is not a regular file'],
  ])('an exclude file %s stops the run before anything is written: exit 1, ERR_RSB_CLI_EXCLUDE_FROM', async (_name, file, message) => {
    const t = await testdir({ 'source/a': 'a\n', 'backups/latest/old': 'old\n' })
    const latest = path.join(t, 'backups', 'latest')
    // a store with a mirror and a snapshot, so that a run that went on would change it
    expect((await runRsb([...QUIET, ...NO_ROTATION, '--accept-destination', path.join(t, 'source'), latest])).code).toBe(0)
    await fs.writeFile(path.join(t, 'source', 'new'), 'new\n')
    const given = await file(t)
    const before = await listing(t)
    const result = await runRsb([...QUIET, `--exclude-from=${given}`, path.join(t, 'source'), latest])
    expectRefused(result, 1, 'ERR_RSB_CLI_EXCLUDE_FROM')
    expect(result.stderr).toContain(message)
    expect(await listing(t)).toEqual(before)
  })
})

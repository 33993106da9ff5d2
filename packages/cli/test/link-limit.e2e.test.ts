// End-to-end: a file of the mirror whose inode has as many hard links as ext4 allows (65000) never makes the
// snapshot fail. The store is a small ext4 on a loop device this file sets up and takes down itself;
// the links that fill the inode live in a hidden directory of the store and are removed after each test. Needs root.
import { execFileSync } from 'node:child_process'
import { linkSync, statSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { isRoot, runChecked, testdir } from '@rsb/testkit'
import { describe, expect, it, onTestFinished } from 'vitest'
import { runRsb, snapshotsIn } from './helpers.ts'

const QUIET = ['--no-sudo', '--disable-notifications']
/** ext4's limit of links per inode (EXT4_LINK_MAX). */
const EXT4_LINK_MAX = 65000
/** A name with spaces, quotes and a command substitution: cp quotes it in its error line. */
const ODD_NAME = `it's a "name" $(x)`

/**
 * A 64 MiB ext4 on a loop device of its own, mounted on T/store. Taken down when the test finishes, by what this
 * made: the links that fill an inode (`links`, a directory of the store), the mount, then that loop device.
 */
async function ext4Store(t: string, links: string): Promise<string> {
  const image = path.join(t, 'store.img')
  const store = path.join(t, 'store')
  await fs.mkdir(store)
  await runChecked('truncate', ['-s', '64M', image])
  await runChecked('mkfs.ext4', ['-q', '-F', image])
  const loop = (await runChecked('losetup', ['--find', '--show', image])).trim()
  let mounted = false
  // registered after testdir's removal of T, so it runs before it (last first): nothing below T goes while mounted
  onTestFinished(async () => {
    if (mounted) {
      await fs.rm(path.join(store, links), { recursive: true, force: true })
      await runChecked('umount', [store])
    }
    await runChecked('losetup', ['-d', loop])
  })
  await runChecked('mount', [loop, store])
  mounted = true
  return store
}

/** Adds hard links to `file` in `dir` until the filesystem refuses one (EMLINK); returns the link count reached. */
function fillLinks(file: string, dir: string): number {
  for (let i = 0; ; i++) {
    try {
      linkSync(file, path.join(dir, String(i)))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EMLINK') throw error
      return statSync(file).nlink
    }
  }
}

/** Every entry below `root` with what a snapshot must keep: mode, owner, mtime, size and inode (not the link count). */
async function listing(root: string): Promise<Map<string, string>> {
  const entries = new Map<string, string>()
  for (const relative of (await fs.readdir(root, { recursive: true })).sort()) {
    const s = await fs.lstat(path.join(root, relative))
    entries.set(relative, `${s.mode.toString(8)} ${s.uid} ${s.gid} ${s.mtimeMs} ${s.size} ${s.ino}`)
  }
  return entries
}

const xattr = (file: string) =>
  execFileSync('getfattr', ['--absolute-names', '--only-values', '--name=user.rsb', '--', file], { encoding: 'utf8' })
const acl = (file: string) => execFileSync('getfacl', ['--absolute-names', '--omit-header', '--numeric', '--', file], { encoding: 'utf8' })

/**
 * The scene: a source with a few files (`ODD_NAME` with an owner, mode, old mtime, xattr and ACL of its own, a
 * hard-linked pair, a subdirectory), backed up into STORE/latest on a fresh ext4, which makes the mirror and its
 * first snapshot. `shape` adds to SOURCE before that.
 */
async function scene(shape?: (source: string) => Promise<void>) {
  const t = await testdir({}, 'rsb-cli-link-limit-')
  const links = '.links-at-limit'
  const store = await ext4Store(t, links)
  const source = path.join(t, 'source')
  await fs.mkdir(path.join(source, 'sub'), { recursive: true })
  await fs.writeFile(path.join(source, 'notes.txt'), 'notes\n')
  await fs.writeFile(path.join(source, 'sub/deep.txt'), 'deep\n')
  await fs.symlink('../notes.txt', path.join(source, 'sub/link'))
  await fs.writeFile(path.join(source, 'pair-1'), 'one inode, two names\n')
  await fs.link(path.join(source, 'pair-1'), path.join(source, 'pair-2'))
  const odd = path.join(source, ODD_NAME)
  await fs.writeFile(odd, 'at the limit\n')
  await fs.chown(odd, 1234, 5678)
  await fs.chmod(odd, 0o640)
  execFileSync('setfattr', ['--name=user.rsb', '--value=kept', '--', odd])
  execFileSync('setfacl', ['--modify=u:4321:r', '--', odd])
  await fs.utimes(odd, new Date('2020-02-02T02:02:02Z'), new Date('2020-02-02T02:02:02Z'))
  await shape?.(source)
  // SOURCE's inodes changed (ctime) well before the first backup began: the next backup takes none of them for
  // changed since then (a file moved aside and linked back by rsync would get a new inode, not the full one)
  await new Promise((resolve) => setTimeout(resolve, 3000))
  const args = [...QUIET, source, path.join(store, 'latest')]
  const first = await runRsb(args)
  expect(first.stderr).not.toContain('ERR_RSB')
  expect(first.code).toBe(0)
  const [older, ...more] = await snapshotsIn(store)
  expect(more).toEqual([])
  await fs.mkdir(path.join(store, links))
  return { store, args, mirror: path.join(store, 'latest'), older: path.join(store, older as string), links: path.join(store, links) }
}

describe.skipIf(!isRoot)("a file at the filesystem's hard-link limit (needs root: a loop-mounted ext4)", () => {
  it('the snapshot copies it instead of linking it, with one warning; everything else is linked and nothing older changes', async () => {
    const { store, args, mirror, older, links } = await scene()
    const file = path.join(mirror, ODD_NAME)
    expect(fillLinks(file, links)).toBe(EXT4_LINK_MAX)
    const olderBefore = await listing(older)
    const mirrorBefore = await listing(mirror)

    const second = await runRsb(args)
    expect(second.stderr).not.toContain('ERR_RSB')
    expect(second.code).toBe(0)
    const snapshots = await snapshotsIn(store)
    expect(snapshots).toHaveLength(2)
    const snapshot = path.join(store, snapshots.at(-1) as string)
    expect(second.stderr).toContain(
      `WARNING 1 file(s) had as many hard links as the filesystem allows: copied into snapshot ${snapshot} instead of linked (they take space of their own).`,
    )
    expect((await fs.readdir(store)).filter((name) => name.startsWith('.rsb-snapshot-'))).toEqual([])

    // the file: a copy of its own, with everything the mirror's has
    const copy = path.join(snapshot, ODD_NAME)
    const [was, is] = [await fs.lstat(file), await fs.lstat(copy)]
    expect(await fs.readFile(copy, 'utf8')).toBe('at the limit\n')
    expect({ mode: is.mode, uid: is.uid, gid: is.gid, mtime: is.mtimeMs, size: is.size }).toEqual({
      mode: was.mode,
      uid: 1234,
      gid: 5678,
      mtime: was.mtimeMs,
      size: was.size,
    })
    expect(was.mode & 0o7777).toBe(0o640)
    expect(is.ino).not.toBe(was.ino)
    expect(is.nlink).toBe(1)
    expect(xattr(copy)).toBe('kept')
    expect(acl(copy)).toBe(acl(file))
    expect(acl(copy)).toContain('user:4321:r--')

    // every other entry that is not a directory is the mirror's inode; the pair is still one inode
    for (const [relative] of mirrorBefore) {
      const entry = await fs.lstat(path.join(mirror, relative))
      if (entry.isDirectory() || relative === ODD_NAME) continue
      expect([relative, (await fs.lstat(path.join(snapshot, relative))).ino]).toEqual([relative, entry.ino])
    }
    expect([...(await listing(snapshot)).keys()]).toEqual([...mirrorBefore.keys()])
    expect((await fs.lstat(path.join(snapshot, 'pair-2'))).ino).toBe((await fs.lstat(path.join(snapshot, 'pair-1'))).ino)

    // the mirror and the older snapshot: unchanged, the full inode no more linked than before
    expect(await listing(older)).toEqual(olderBefore)
    expect(await listing(mirror)).toEqual(mirrorBefore)
    expect((await fs.lstat(file)).nlink).toBe(EXT4_LINK_MAX)
    expect(xattr(file)).toBe('kept')
  })

  it('names of one inode at the limit stay one inode in the snapshot (rsync --hard-links)', async () => {
    // a third name of the pair's inode, in another directory
    const { store, args, mirror, links } = await scene((source) => fs.link(path.join(source, 'pair-1'), path.join(source, 'sub/pair-3')))
    expect(fillLinks(path.join(mirror, 'pair-1'), links)).toBe(EXT4_LINK_MAX)
    const run = await runRsb(args)
    expect(run.stderr).not.toContain('ERR_RSB')
    expect(run.code).toBe(0)
    const snapshot = path.join(store, (await snapshotsIn(store)).at(-1) as string)
    expect(run.stderr).toContain(
      `WARNING 3 file(s) had as many hard links as the filesystem allows: copied into snapshot ${snapshot} instead`,
    )
    const inodes = await Promise.all(
      ['pair-1', 'pair-2', 'sub/pair-3'].map(async (name) => (await fs.lstat(path.join(snapshot, name))).ino),
    )
    expect(new Set(inodes).size).toBe(1)
    expect(inodes[0]).not.toBe((await fs.lstat(path.join(mirror, 'pair-1'))).ino)
    expect((await fs.lstat(path.join(snapshot, 'pair-1'))).nlink).toBe(3)
    expect((await fs.lstat(path.join(snapshot, 'notes.txt'))).ino).toBe((await fs.lstat(path.join(mirror, 'notes.txt'))).ino)
  })
})

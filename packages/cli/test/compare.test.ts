// The comparison of snapshot walks (`rsb diff`, `rsb versions`): pure, entries in, changes out.
import { describe, expect, it } from 'vitest'
import { compareEntries, compareTrees, pathVersions, subtreeChanges } from '../src/session/compare.ts'
import type { TreeEntry } from '../src/session/walk.ts'

let nextInode = 1000

/** An entry: a regular file of a fresh inode unless told otherwise. */
function entry(path: string, fields: Partial<TreeEntry> = {}): TreeEntry {
  return {
    path,
    name: Buffer.from(path),
    type: 'f',
    inode: nextInode++,
    links: 2,
    size: 10,
    blocks: 8,
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: '1700000000.0000000000',
    target: '',
    ...fields,
  }
}

/** The same entry in a later snapshot (the same inode: a shared hard link). */
function shared(e: TreeEntry, fields: Partial<TreeEntry> = {}): TreeEntry {
  return { ...e, ...fields }
}

/** The same inode under another path. */
function renamed(e: TreeEntry, path: string, fields: Partial<TreeEntry> = {}): TreeEntry {
  return { ...e, path, name: Buffer.from(path), ...fields }
}

describe('compareEntries with the content hashes the backups recorded', () => {
  it('the same hash is metadata only (a touched file), another is content even with the same size and mtime', () => {
    const a = entry('a')
    const touched = entry('a', { mtime: '1700000009.0000000000' })
    expect(compareEntries(a, touched, { before: 'h1', after: 'h1' })).toEqual({ kind: 'metadata', fields: ['mtime'] })
    const rotten = entry('a')
    expect(compareEntries(a, rotten)).toEqual({ kind: 'metadata', fields: [] })
    expect(compareEntries(a, rotten, { before: 'h1', after: 'h2' })).toEqual({ kind: 'content', fields: ['data'] })
  })

  it('compareTrees takes the hashes by the bytes of the names; a tree without a record keeps size and mtime', () => {
    const before = [entry('x'), entry('y')]
    const after = [entry('x', { mtime: '1700000009.0000000000' }), entry('y')]
    const hashes = {
      before: new Map([
        ['x', 'h1'],
        ['y', 'h2'],
      ]),
      after: new Map([
        ['x', 'h1'],
        ['y', 'h3'],
      ]),
    }
    expect(compareTrees(before, after, hashes).changes.map((c) => [c.path, c.kind, c.fields])).toEqual([
      ['x', 'metadata', ['mtime']],
      ['y', 'content', ['data']],
    ])
    expect(compareTrees(before, after, { before: undefined, after: hashes.after }).changes.map((c) => [c.path, c.kind])).toEqual([
      ['x', 'content'],
      ['y', 'metadata'],
    ])
  })
})

describe('compareEntries', () => {
  it('the same inode is unchanged; another inode with another size or mtime is content, with only the mode or owner metadata', () => {
    const a = entry('a')
    expect(compareEntries(a, shared(a))).toEqual({ kind: 'unchanged', fields: [] })
    expect(compareEntries(a, { ...a, inode: 1, size: 11 })).toEqual({ kind: 'content', fields: ['size'] })
    expect(compareEntries(a, { ...a, inode: 1, mtime: '1700000001.0000000000' })).toEqual({ kind: 'content', fields: ['mtime'] })
    expect(compareEntries(a, { ...a, inode: 1, mode: 0o600 })).toEqual({ kind: 'metadata', fields: ['mode'] })
    expect(compareEntries(a, { ...a, inode: 1, uid: 1, gid: 2 })).toEqual({ kind: 'metadata', fields: ['uid', 'gid'] })
    expect(compareEntries(a, { ...a, inode: 1, mode: 0o600, size: 3 })).toEqual({ kind: 'content', fields: ['size', 'mode'] })
    // a new inode and nothing find shows changed (an ACL, an xattr): metadata only
    expect(compareEntries(a, { ...a, inode: 1 })).toEqual({ kind: 'metadata', fields: [] })
  })

  it('a link whose target changed is content; another type is content; a directory compares by mode and owner only', () => {
    const link = entry('l', { type: 'l', target: 'x', size: 1 })
    expect(compareEntries(link, { ...link, inode: 1, target: 'y' })).toEqual({ kind: 'content', fields: ['target'] })
    expect(compareEntries(link, entry('l', { type: 'f', size: 1 }))).toMatchObject({ kind: 'content', fields: ['type'] })
    const dir = entry('d', { type: 'd' })
    expect(compareEntries(dir, { ...dir, inode: 1, mtime: '1800000000.0' })).toEqual({ kind: 'unchanged', fields: [] })
    expect(compareEntries(dir, { ...dir, inode: 1, mode: 0o700 })).toEqual({ kind: 'metadata', fields: ['mode'] })
  })
})

describe('compareTrees', () => {
  it('lists added, removed, content and metadata changes by path, with counts and bytes; a new hard link names its original', () => {
    const root = entry('', { type: 'd', size: 4096 })
    const keep = entry('keep')
    const gone = entry('gone', { size: 4 })
    const mode = entry('mode', { size: 5 })
    const same = entry('same', { size: 3 })
    const original = entry('a', { size: 1 })
    const before = [root, keep, gone, mode, same, original]
    const after = [
      { ...root, inode: 1, mtime: '1900000000.0' },
      shared(keep),
      { ...mode, inode: 2, mode: 0o600 },
      { ...same, inode: 3, mtime: '1700000009.0000000000' },
      shared(original, { links: 3 }),
      renamed(original, 'sub/hard link', { links: 3 }),
      entry('new', { size: 7 }),
      entry('sub', { type: 'd', size: 4096 }),
    ]
    const diff = compareTrees(before, after)
    expect(diff.changes.map((c) => [c.path, c.kind, c.fields, c.hardLinkOf])).toEqual([
      ['gone', 'removed', [], undefined],
      ['mode', 'metadata', ['mode'], undefined],
      ['new', 'added', [], undefined],
      ['same', 'content', ['mtime'], undefined],
      ['sub', 'added', [], undefined],
      ['sub/hard link', 'added', [], 'a'],
    ])
    expect(diff.totals).toEqual({
      added: { entries: 3, bytes: 7 + 1 },
      removed: { entries: 1, bytes: 4 },
      content: { entries: 1, bytes: 3 },
      metadata: { entries: 1, bytes: 5 },
      unchanged: { entries: 3, bytes: 10 + 1 },
    })
  })

  it('two new paths of one new inode: the second names the first', () => {
    const one = entry('x/one', { links: 2 })
    const diff = compareTrees([], [one, renamed(one, 'x/two')])
    expect(diff.changes.map((c) => [c.path, c.hardLinkOf])).toEqual([
      ['x/one', 'x/two'],
      ['x/two', 'x/one'],
    ])
  })

  it('sorts by the bytes of the names, whatever the order of the walk, and the same trees give no change', () => {
    const names = ['b', 'a\nz', 'a b', 'A', 'a']
    const entries = names.map((n) => entry(n))
    expect(compareTrees([], entries).changes.map((c) => c.path)).toEqual(['A', 'a', 'a\nz', 'a b', 'b'])
    expect(
      compareTrees(
        entries,
        entries.map((e) => shared(e)),
      ).changes,
    ).toEqual([])
  })

  it('two names that are not UTF-8 stay two entries, though they read alike', () => {
    const one = { ...entry('\uFFFD'), name: Buffer.from([0xff]) }
    const two = { ...entry('\uFFFD'), name: Buffer.from([0xfe]) }
    const diff = compareTrees([one], [two])
    expect(diff.changes.map((c) => [c.kind, (c.before ?? c.after)!.name])).toEqual([
      ['added', Buffer.from([0xfe])],
      ['removed', Buffer.from([0xff])],
    ])
  })
})

describe('pathVersions', () => {
  it('a file changed in 2 of 5 snapshots has 3 versions, each with its first and last snapshot', () => {
    const v1 = entry('', { size: 9 })
    const v2 = entry('', { size: 16, mtime: '1700000100.0' })
    const v3 = entry('', { size: 9, mtime: '1700000200.0' })
    const versions = pathVersions([
      { snapshot: 's1', entry: v1 },
      { snapshot: 's2', entry: v2 },
      { snapshot: 's3', entry: shared(v2) },
      { snapshot: 's4', entry: v3 },
      { snapshot: 's5', entry: shared(v3) },
    ])
    expect(versions.map((v) => [v.first, v.last, v.snapshots, v.change, v.fields, v.entry.size])).toEqual([
      ['s1', 's1', 1, 'new', [], 9],
      ['s2', 's3', 2, 'content', ['size', 'mtime'], 16],
      ['s4', 's5', 2, 'content', ['size', 'mtime'], 9],
    ])
  })

  it('snapshots without the path end a version; it reappears as a new one; a chmod is a metadata version', () => {
    const f = entry('')
    const versions = pathVersions([
      { snapshot: 's0', entry: undefined },
      { snapshot: 's1', entry: f },
      { snapshot: 's2', entry: undefined },
      { snapshot: 's3', entry: shared(f) },
      { snapshot: 's4', entry: { ...f, inode: 5, mode: 0o600 } },
    ])
    expect(versions.map((v) => [v.first, v.last, v.change, v.fields])).toEqual([
      ['s1', 's1', 'new', []],
      ['s3', 's3', 'reappeared', []],
      ['s4', 's4', 'metadata', ['mode']],
    ])
    expect(pathVersions([])).toEqual([])
  })
})

describe('subtreeChanges', () => {
  it('the diffs between consecutive snapshots that hold the subtree, only those with changes', () => {
    const root = entry('', { type: 'd' })
    const file = entry('f')
    const changes = subtreeChanges([
      { snapshot: 's1', entries: [root, file] },
      { snapshot: 's2', entries: [shared(root), shared(file)] },
      { snapshot: 's3', entries: undefined },
      { snapshot: 's4', entries: [shared(root), shared(file), entry('g')] },
    ])
    expect(changes.map((c) => [c.from, c.to, c.changes.map((e) => [e.path, e.kind])])).toEqual([['s2', 's4', [['g', 'added']]]])
  })
})

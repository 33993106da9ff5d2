// What changed between the walks of two snapshot trees (`rsb diff`) and across the walks of one path in every snapshot
// (`rsb versions`). Pure: entries in, changes out; no file is read. Unchanged files are recognised by their inode: a
// file a backup did not change is a hard link shared by both snapshots.
import type { TreeEntry } from './walk.js'

/** How an entry changed: `added`, `removed`, `content` (or its type), `metadata` (mode, owner: content the same). */
export type ChangeKind = 'added' | 'removed' | 'content' | 'metadata'

/**
 * A property of an entry that differs between two snapshots; `data`: the bytes differ by the content hashes the
 * backups recorded (where both snapshots have them), also when size and mtime are the same.
 */
export type ChangedField = 'type' | 'size' | 'mtime' | 'target' | 'data' | 'mode' | 'uid' | 'gid'

/** How the same path compares in two snapshots. */
export interface EntryComparison {
  readonly kind: 'unchanged' | 'content' | 'metadata'
  /** What differs (may be empty for `metadata`: a new inode with nothing `find` sees changed, such as an ACL). */
  readonly fields: readonly ChangedField[]
}

/** One changed path of a diff. */
export interface EntryChange {
  /** Relative to the roots compared (`''` for a root itself). */
  readonly path: string
  readonly kind: ChangeKind
  /** The entry in the older tree (undefined when added). */
  readonly before: TreeEntry | undefined
  /** The entry in the newer tree (undefined when removed). */
  readonly after: TreeEntry | undefined
  readonly fields: readonly ChangedField[]
  /** An added file that is a hard link of another path of the newer tree (one that was there before when there is one). */
  readonly hardLinkOf: string | undefined
}

/** How many entries of a kind, and their bytes (sizes of files and links; directories count no bytes). */
export interface KindTotal {
  readonly entries: number
  readonly bytes: number
}

/** The totals of a diff. */
export interface DiffTotals {
  readonly added: KindTotal
  readonly removed: KindTotal
  readonly content: KindTotal
  readonly metadata: KindTotal
  readonly unchanged: KindTotal
}

/** What changed between two trees, by path. */
export interface TreeDiff {
  /** Sorted by the bytes of the names (as `LC_ALL=C sort`). */
  readonly changes: readonly EntryChange[]
  readonly totals: DiffTotals
}

const CONTENT_FIELDS: ReadonlySet<ChangedField> = new Set(['type', 'size', 'mtime', 'target', 'data'])

/** The content hashes the backups recorded for each tree, by the bytes of the names (latin1): see hashes.ts. */
export interface RecordedHashes {
  readonly before: ReadonlyMap<string, string | undefined> | undefined
  readonly after: ReadonlyMap<string, string | undefined> | undefined
}

/**
 * Compares the same path in two snapshots. The same inode is the same file (unchanged). A directory is never shared
 * between snapshots: it compares by mode and owner only (its mtime follows what it holds, which the diff lists). Any
 * other entry with another inode changed its content when its type, size, mtime or link target differ, else only
 * its metadata (mode, owner, or what `find` does not show: ACLs, extended attributes). Where the backups recorded
 * both files' content hashes, they decide: the same hash is the same content (a touched file changed its metadata
 * only), another one is new content even with the same size and mtime.
 */
export function compareEntries(before: TreeEntry, after: TreeEntry, hashes?: { before: string; after: string }): EntryComparison {
  if (before.type !== after.type) return { kind: 'content', fields: ['type', ...ownership(before, after)] }
  if (before.type === 'd') {
    const fields = ownership(before, after)
    return { kind: fields.length === 0 ? 'unchanged' : 'metadata', fields }
  }
  if (before.inode === after.inode) return { kind: 'unchanged', fields: [] }
  const fields: ChangedField[] = []
  if (before.size !== after.size) fields.push('size')
  if (before.mtime !== after.mtime) fields.push('mtime')
  if (before.target !== after.target) fields.push('target')
  if (hashes !== undefined && hashes.before !== hashes.after) fields.push('data')
  fields.push(...ownership(before, after))
  if (hashes !== undefined && before.type === 'f') return { kind: hashes.before === hashes.after ? 'metadata' : 'content', fields }
  return { kind: fields.some((f) => CONTENT_FIELDS.has(f)) ? 'content' : 'metadata', fields }
}

function ownership(before: TreeEntry, after: TreeEntry): ChangedField[] {
  const fields: ChangedField[] = []
  if (before.mode !== after.mode) fields.push('mode')
  if (before.uid !== after.uid) fields.push('uid')
  if (before.gid !== after.gid) fields.push('gid')
  return fields
}

/** The bytes an entry counts for: its size, but for a directory (0). */
export function entryBytes(entry: TreeEntry | undefined): number {
  return entry === undefined || entry.type === 'd' ? 0 : entry.size
}

/** An entry's name as a string of its bytes (latin1): distinct for distinct names, even those that are not UTF-8. */
function keyOf(entry: TreeEntry): string {
  return entry.name.toString('latin1')
}

/** By the bytes of the names (as `LC_ALL=C sort`). */
function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Every change from the tree `before` to the tree `after` (entries as `walkTrees` gives them), with totals; `hashes`:
 * the content hashes recorded for the two trees (when the roots are snapshots), which decide content against metadata.
 */
export function compareTrees(before: readonly TreeEntry[], after: readonly TreeEntry[], hashes?: RecordedHashes): TreeDiff {
  const old = new Map(before.map((e) => [keyOf(e), e]))
  const now = new Map(after.map((e) => [keyOf(e), e]))
  // the entries of each shared inode in the newer tree (only entries with more than one link can share one)
  const linked = new Map<number, TreeEntry[]>()
  for (const entry of after) {
    if (entry.type === 'd' || entry.links < 2) continue
    const entries = linked.get(entry.inode)
    if (entries === undefined) linked.set(entry.inode, [entry])
    else entries.push(entry)
  }
  const changes: { key: string; change: EntryChange }[] = []
  const totals = { added: total(), removed: total(), content: total(), metadata: total(), unchanged: total() }
  const count = (kind: keyof DiffTotals, entry: TreeEntry | undefined) => {
    totals[kind].entries++
    totals[kind].bytes += entryBytes(entry)
  }
  for (const entry of after) {
    const key = keyOf(entry)
    const previous = old.get(key)
    if (previous === undefined) {
      const others = (linked.get(entry.inode) ?? [])
        .map(keyOf)
        .filter((k) => k !== key)
        .toSorted(byKey)
      const link = others.find((k) => old.has(k)) ?? others[0]
      const hardLinkOf = link === undefined ? undefined : now.get(link)!.path
      changes.push({ key, change: { path: entry.path, kind: 'added', before: undefined, after: entry, fields: [], hardLinkOf } })
      count('added', entry)
      continue
    }
    const hashBefore = hashes?.before?.get(key)
    const hashAfter = hashes?.after?.get(key)
    const recorded = hashBefore !== undefined && hashAfter !== undefined ? { before: hashBefore, after: hashAfter } : undefined
    const { kind, fields } = compareEntries(previous, entry, recorded)
    count(kind, entry)
    if (kind !== 'unchanged') {
      changes.push({ key, change: { path: entry.path, kind, before: previous, after: entry, fields, hardLinkOf: undefined } })
    }
  }
  for (const entry of before) {
    const key = keyOf(entry)
    if (now.has(key)) continue
    changes.push({ key, change: { path: entry.path, kind: 'removed', before: entry, after: undefined, fields: [], hardLinkOf: undefined } })
    count('removed', entry)
  }
  changes.sort((a, b) => byKey(a.key, b.key))
  return { changes: changes.map((c) => c.change), totals }
}

function total(): { entries: number; bytes: number } {
  return { entries: 0, bytes: 0 }
}

/** One path in one snapshot: its entry, undefined when the snapshot does not hold it. */
export interface SnapshotEntry {
  readonly snapshot: string
  readonly entry: TreeEntry | undefined
}

/** One version of a path: the consecutive snapshots that hold it unchanged. */
export interface PathVersion {
  /** The oldest and newest snapshot of the run of snapshots that hold this version. */
  readonly first: string
  readonly last: string
  /** How many snapshots hold it. */
  readonly snapshots: number
  /** Its entry in the first of them. */
  readonly entry: TreeEntry
  /**
   * How it came to be: `new` (the oldest version), `reappeared` (after snapshots without the path), `content` or
   * `metadata` (changed from the version before).
   */
  readonly change: 'new' | 'reappeared' | 'content' | 'metadata'
  /** What differs from the version before (`compareEntries`' fields; empty for new and reappeared). */
  readonly fields: readonly ChangedField[]
}

/** The distinct versions of a path across snapshots given oldest first (snapshots without it end a version). */
export function pathVersions(entries: readonly SnapshotEntry[]): PathVersion[] {
  const versions: PathVersion[] = []
  let current:
    | { first: string; last: string; snapshots: number; entry: TreeEntry; change: PathVersion['change']; fields: readonly ChangedField[] }
    | undefined
  let previous: TreeEntry | undefined
  let seen = false
  for (const { snapshot, entry } of entries) {
    if (entry === undefined) {
      if (current !== undefined) versions.push(current)
      current = undefined
      previous = undefined
      continue
    }
    if (current !== undefined && previous !== undefined) {
      const comparison = compareEntries(previous, entry)
      if (comparison.kind === 'unchanged') {
        current.last = snapshot
        current.snapshots++
        previous = entry
        continue
      }
      versions.push(current)
      current = { first: snapshot, last: snapshot, snapshots: 1, entry, change: comparison.kind, fields: comparison.fields }
    } else {
      current = { first: snapshot, last: snapshot, snapshots: 1, entry, change: seen ? 'reappeared' : 'new', fields: [] }
    }
    seen = true
    previous = entry
  }
  if (current !== undefined) versions.push(current)
  return versions
}

/** One subtree in one snapshot: its walk, undefined when the snapshot does not hold it. */
export interface SnapshotTree {
  readonly snapshot: string
  readonly entries: readonly TreeEntry[] | undefined
}

/** What changed inside a subtree from one snapshot that holds it to the next that does. */
export interface SubtreeChange extends TreeDiff {
  readonly from: string
  readonly to: string
}

/** The diffs of a subtree between consecutive snapshots that hold it (oldest first), only those with changes. */
export function subtreeChanges(trees: readonly SnapshotTree[]): SubtreeChange[] {
  const held = trees.filter((t): t is { snapshot: string; entries: readonly TreeEntry[] } => t.entries !== undefined)
  const changes: SubtreeChange[] = []
  for (let i = 1; i < held.length; i++) {
    const diff = compareTrees(held[i - 1]!.entries, held[i]!.entries)
    if (diff.changes.length > 0) changes.push({ from: held[i - 1]!.snapshot, to: held[i]!.snapshot, ...diff })
  }
  return changes
}

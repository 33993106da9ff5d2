// What `rsb verify` finds: each snapshot's files against the hash record its backup wrote. The walk and the hashing
// run in the destination's context (on the server over SSH); an inode that several snapshots hold is read once and
// judged for each of them.
import { randomInt } from 'node:crypto'
import type { Context } from '@rsb/exec'
import { isRsbError } from '../../errors.js'
import { hashFiles, readHashEntries, type HashEntry, type HashHeader } from '../../session/hashes.js'
import { walkTrees, type TreeEntry } from '../../session/walk.js'

/** What is wrong with one file of a snapshot. */
export type ProblemKind =
  /** Its content is not what was recorded (or its size). */
  | 'changed'
  /** It was recorded and is gone (or is no longer a regular file). */
  | 'missing'
  /** A regular file that was not in the snapshot when it was made. */
  | 'extra'
  /** It cannot be read (an I/O error of a failing disk). */
  | 'unreadable'
  /** The snapshot's hash record itself cannot be read. */
  | 'record'

export interface Problem {
  readonly snapshot: string
  readonly kind: ProblemKind
  /** Its path in the snapshot (bytes as UTF-8); `''` for a problem of the record. */
  readonly path: string
  readonly detail: string
}

export interface SnapshotVerdict {
  readonly name: string
  /**
   * `unverifiable`: no hashes were recorded for it (made before rsb recorded them, or its hashing failed); `gone`:
   * deleted while it was verified (a rotation: verify takes no lock).
   */
  readonly status: 'ok' | 'failed' | 'unverifiable' | 'gone'
  /** Regular files recorded, and how many of them were read and compared (fewer with a sample). */
  readonly files: number
  readonly checked: number
  /** Files recorded without a hash (unreadable when the backup ran): not checked. */
  readonly unhashed: number
  readonly problems: number
}

export interface Verification {
  readonly snapshots: readonly SnapshotVerdict[]
  readonly problems: readonly Problem[]
  /** Distinct inodes read, and their bytes. */
  readonly filesRead: number
  readonly bytesRead: number
}

export interface VerifyRequest {
  readonly context: Context
  readonly store: string
  /** The snapshots to verify, oldest first, and whether their manifests say their backups recorded hashes. */
  readonly snapshots: readonly { readonly name: string; readonly hashesRecorded: boolean }[]
  /** The share of the recorded files to read, 0 < sample ≤ 100 (100: all). */
  readonly sample: number
  readonly signal: AbortSignal | undefined
  /** The choice of a sample (tests pass their own); default: crypto's randomInt. */
  readonly pick?: ((count: number, size: number) => Set<number>) | undefined
}

const latin1 = (name: Buffer) => name.toString('latin1')
/** A name's bytes (a latin1 string) as UTF-8, for people. */
const utf8 = (name: string) => Buffer.from(name, 'latin1').toString('utf8')

/** `size` distinct numbers below `count`, at random (a partial Fisher–Yates shuffle). */
function randomPick(count: number, size: number): Set<number> {
  const order = Array.from({ length: count }, (_, i) => i)
  for (let i = 0; i < size; i++) {
    const j = i + randomInt(count - i)
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  return new Set(order.slice(0, size))
}

interface Expectation {
  readonly snapshot: string
  readonly entry: HashEntry
}

/**
 * Verifies the snapshots. Every file is looked at (missing, extra, size) by one walk; the contents read are the
 * recorded files' (a sample of their inodes with `sample` < 100), each inode once.
 *
 * @throws the walk's errors (ERR_RSB_CLI_WALK_FAILED) and b2sum's (ERR_RSB_CLI_HASHES_FAILED)
 */
export async function verifySnapshots(request: VerifyRequest): Promise<Verification> {
  const { context, store, signal } = request
  const problems: Problem[] = []
  // per current inode, the files expected to hold it (a shared inode is read once, judged for every snapshot)
  const expected = new Map<number, { path: string; size: number; expectations: Expectation[] }>()
  const counts = new Map<string, { files: number; unhashed: number }>()
  const failedRecords = new Set<string>()
  const gone = new Set<string>()
  // one snapshot at a time: its record (read entry by entry) and its walk, so that memory holds one tree
  for (const { name, hashesRecorded } of request.snapshots) {
    const recorded = new Map<string, HashEntry>()
    let header: HashHeader | undefined
    try {
      header = await readHashEntries(context, store, name, signal, (entry) => recorded.set(entry.name, entry))
    } catch (error) {
      if (signal?.aborted || !isRsbError(error) || error.code !== 'ERR_RSB_CLI_HASHES_FAILED') throw error
      failedRecords.add(name)
      problems.push({ snapshot: name, kind: 'record', path: '', detail: error.message })
      continue
    }
    if (header === undefined) {
      // its manifest says its backup recorded hashes: the record was removed since
      if (hashesRecorded) {
        failedRecords.add(name)
        problems.push({ snapshot: name, kind: 'record', path: '', detail: 'its hash record is gone (its backup recorded one)' })
      }
      continue
    }
    const [tree] = await walkTrees(context, [`${store}/${name}`], signal)
    if (tree?.entries === undefined) {
      gone.add(name)
      continue
    }
    const files = new Map<string, TreeEntry>()
    const others = new Map<string, TreeEntry>()
    for (const entry of tree.entries) (entry.type === 'f' ? files : others).set(latin1(entry.name), entry)
    let unhashed = 0
    for (const [key, entry] of recorded) {
      const file = files.get(key)
      const path = utf8(entry.name)
      if (file === undefined) {
        const other = others.get(key)
        problems.push({
          snapshot: name,
          kind: 'missing',
          path,
          detail: other === undefined ? 'gone' : `no longer a regular file (now of type ${other.type})`,
        })
        continue
      }
      if (file.size !== entry.size) {
        problems.push({ snapshot: name, kind: 'changed', path, detail: `its size is ${file.size} bytes, recorded ${entry.size}` })
        continue
      }
      if (entry.hash === undefined) {
        unhashed++
        continue
      }
      const slot = expected.get(file.inode) ?? { path: latin1(Buffer.from(`${store}/${name}/`)) + key, size: file.size, expectations: [] }
      slot.expectations.push({ snapshot: name, entry })
      expected.set(file.inode, slot)
    }
    for (const [key, file] of files) {
      if (!recorded.has(key))
        problems.push({ snapshot: name, kind: 'extra', path: file.path, detail: 'not in the snapshot when it was made' })
    }
    counts.set(name, { files: recorded.size, unhashed })
  }
  const slots = [...expected.values()]
  const share = Math.min(100, request.sample)
  const size = share >= 100 ? slots.length : Math.min(slots.length, Math.ceil((slots.length * share) / 100))
  const chosen = size === slots.length ? undefined : (request.pick ?? randomPick)(slots.length, size)
  const read = chosen === undefined ? slots : slots.filter((_, i) => chosen.has(i))
  const hashed = await hashFiles(
    context,
    read.map((slot) => slot.path),
    signal,
    read.reduce((sum, slot) => sum + slot.size, 0),
  )
  const checked = new Map<string, number>()
  let bytesRead = 0
  for (const slot of read) {
    const actual = hashed.hashes.get(slot.path)
    if (actual !== undefined) bytesRead += slot.size
    for (const { snapshot, entry } of slot.expectations) {
      checked.set(snapshot, (checked.get(snapshot) ?? 0) + 1)
      const path = utf8(entry.name)
      if (actual === undefined) {
        const reason = errorFor(hashed.errors, utf8(slot.path))
        problems.push({ snapshot, kind: 'unreadable', path, detail: reason ?? 'it could not be read' })
      } else if (actual !== entry.hash) {
        problems.push({ snapshot, kind: 'changed', path, detail: 'its content differs from the hash recorded when the snapshot was made' })
      }
    }
  }
  const order = new Map(request.snapshots.map(({ name }, i) => [name, i]))
  problems.sort((a, b) => order.get(a.snapshot)! - order.get(b.snapshot)! || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  const snapshots: SnapshotVerdict[] = request.snapshots.map(({ name }) => {
    const count = counts.get(name)
    const found = problems.filter((p) => p.snapshot === name).length
    if (gone.has(name)) return { name, status: 'gone', files: 0, checked: 0, unhashed: 0, problems: 0 }
    if (count === undefined && !failedRecords.has(name))
      return { name, status: 'unverifiable', files: 0, checked: 0, unhashed: 0, problems: 0 }
    return {
      name,
      status: found > 0 ? 'failed' : 'ok',
      files: count?.files ?? 0,
      checked: checked.get(name) ?? 0,
      unhashed: count?.unhashed ?? 0,
      problems: found,
    }
  })
  return { snapshots, problems, filesRead: read.length, bytesRead }
}

/** b2sum's error line about `path`, without its program name. */
function errorFor(errors: string, path: string): string | undefined {
  const line = errors.split('\n').find((l) => l.includes(path))
  if (line === undefined) return undefined
  const reason = line.slice(line.lastIndexOf(': ') + 2).trim()
  return reason === '' ? undefined : reason
}

// What a backup records of its snapshot's integrity, once the copy is complete and before the snapshot gets its name:
// its link health (how many of its files share their inode with the previous snapshot, how many are new inodes) and
// the content hashes of its regular files, for `rsb verify`. Only the new inodes are read: an inode the previous
// snapshot holds is the same file, whose hash that snapshot's record has.
import type { Context } from '@rsb/exec'
import { isSnapshotName, parseSnapshotName } from '@rsb/rotation'
import { CliError } from '../errors.js'
import {
  hashesDirectory,
  hashFileName,
  hashFiles,
  HashRecordParser,
  writeHashRecord,
  HASH_ALGORITHM,
  HASH_FORMAT,
  HASH_VERSION,
  type HashEntry,
} from '../session/hashes.js'
import { runFields } from '../session/fields.js'
import type { MirrorRecord, StoreState } from '../session/store.js'

/** The link health of a snapshot: its regular files (each name counted) by whether the previous snapshot holds the inode. */
export interface LinkFigures {
  /** The snapshot it is compared with (undefined: none, the mirror's first). */
  readonly previous: string | undefined
  readonly files: number
  /** Files whose inode the previous snapshot holds (unchanged, taking no space). */
  readonly linked: number
  /** Files that are new inodes (changed or new files, or copies where a link was expected). */
  readonly copied: number
  /** The bytes of the new inodes (each counted once). */
  readonly copiedBytes: number
}

/** What the snapshot's hashing cost. */
export interface HashFigures {
  readonly algorithm: string
  readonly files: number
  /** The files read and hashed by this run (new inodes, and those the previous record did not have), and their bytes. */
  readonly hashedFiles: number
  readonly hashedBytes: number
  readonly seconds: number
}

export interface IntegrityRequest {
  readonly context: Context
  readonly store: string
  /** The complete copy, in the destination's context (the snapshot's temporary name). */
  readonly copy: string
  /** The mirror's id (the temporary name of its record carries it). */
  readonly mirrorId: string
  /** The name the snapshot gets. */
  readonly snapshot: string
  /** The directory and name of the mirror's previous snapshot, if it has one. */
  readonly previous: { readonly directory: string; readonly name: string } | undefined
  readonly signal: AbortSignal | undefined
  readonly now?: (() => Date) | undefined
}

export interface IntegrityReport {
  readonly links: LinkFigures
  readonly hashes: HashFigures
  /** Files that vanished or could not be read while they were hashed: recorded without a hash (never as verified). */
  readonly unhashed: number
}

/**
 * Counts the copy's links against the previous snapshot, hashes its new inodes and writes its hash record.
 *
 * @throws the walk's, the hashing's and the writer's errors (the caller turns them into a warning)
 */
export async function recordIntegrity(request: IntegrityRequest): Promise<IntegrityReport> {
  const started = performance.now()
  const { context, signal } = request
  const inputs = await readInputs(context, request)
  const { files } = inputs
  // the previous snapshot's inodes: its record's (with their hashes), else its walk's
  const known = inputs.known
  let linked = 0
  let copiedBytes = 0
  const newInodes = new Set<number>()
  const toHash = new Map<number, CopyFile>()
  for (const file of files) {
    const before = known.get(file.inode)
    if (known.has(file.inode)) linked++
    else if (!newInodes.has(file.inode)) {
      newInodes.add(file.inode)
      copiedBytes += file.size
    }
    if ((before?.hash === undefined || before.size !== file.size) && !toHash.has(file.inode)) toHash.set(file.inode, file)
  }
  const prefix = Buffer.from(`${request.copy}/`).toString('latin1')
  const paths = [...toHash.values()].map((file) => prefix + file.name)
  let toHashBytes = 0
  for (const file of toHash.values()) toHashBytes += file.size
  const hashed = await hashFiles(context, paths, signal, toHashBytes)
  const byInode = new Map<number, string>()
  let hashedBytes = 0
  for (const [inode, file] of toHash) {
    const hash = hashed.hashes.get(prefix + file.name)
    if (hash !== undefined) {
      byInode.set(inode, hash)
      hashedBytes += file.size
    }
  }
  const entries: HashEntry[] = []
  let unhashed = 0
  for (const file of files) {
    // an inode that was to be hashed has this run's hash or none (never the previous record's: its size changed)
    const hash = toHash.has(file.inode) ? byInode.get(file.inode) : known.get(file.inode)?.hash
    if (hash === undefined) unhashed++
    entries.push({ name: file.name, inode: file.inode, size: file.size, hash })
  }
  const created = (request.now?.() ?? new Date()).toISOString()
  await writeHashRecord(
    context,
    request.store,
    {
      header: {
        format: HASH_FORMAT,
        version: HASH_VERSION,
        algorithm: HASH_ALGORITHM,
        snapshot: request.snapshot,
        created,
        files: entries.length,
        unhashed,
        hashedFiles: byInode.size,
        hashedBytes,
      },
      entries,
    },
    request.mirrorId,
    signal,
  )
  return {
    links: { previous: request.previous?.name, files: files.length, linked, copied: files.length - linked, copiedBytes },
    hashes: {
      algorithm: HASH_ALGORITHM,
      files: entries.length,
      hashedFiles: byInode.size,
      hashedBytes,
      seconds: Math.round(performance.now() - started) / 1000,
    },
    unhashed,
  }
}

/** A regular file of the copy, as the integrity walk sees it. */
interface CopyFile {
  /** Its path in the copy, its bytes as latin1. */
  readonly name: string
  readonly inode: number
  readonly size: number
}

// One command for what the step reads, as base64 of NUL-terminated fields: the previous snapshot's hash record
// (`record`, its first line, its entries, an empty field), or without one `previous` and the inodes of the previous
// snapshot's regular files, then `end`; then `copy` and the copy's regular files (`%i %s %P`), then `done`.
// `failed` where a find could not read its whole tree.
const INPUTS_SCRIPT = `
set -u
c=$1 r=$2 p=$3
{
  if [ -n "$r" ] && [ -f "$r" ] && [ ! -L "$r" ]; then
    printf 'record\\0'
    head -n 1 -- "$r"
    printf '\\0'
    tail -n +2 -- "$r"
    printf '\\0'
  elif [ -n "$p" ]; then
    printf 'previous\\0'
    find "$p" -type f -printf '%i\\0' || { printf 'failed\\0'; exit 0; }
    printf 'end\\0'
  fi
  printf 'copy\\0'
  find "$c" -type f -printf '%i %s %P\\0' || { printf 'failed\\0'; exit 0; }
  printf 'done\\0'
} | base64 -w0
`

interface Inputs {
  /** The previous snapshot's regular files by inode: with their hash and size where its record has them. */
  readonly known: Map<number, { readonly hash: string | undefined; readonly size: number } | undefined>
  readonly files: readonly CopyFile[]
}

async function readInputs(context: Context, request: IntegrityRequest): Promise<Inputs> {
  const recordFile = request.previous ? `${hashesDirectory(request.store)}/${hashFileName(request.previous.name)}` : ''
  const failed = (why: string) =>
    new CliError('ERR_RSB_CLI_WALK_FAILED', `Could not read snapshot ${request.snapshot} on ${context.host}: ${why}`)
  const known: Inputs['known'] = new Map()
  const files: CopyFile[] = []
  const record = new HashRecordParser(recordFile, (entry) => known.set(entry.inode, entry))
  let part = 'start' as 'start' | 'record' | 'previous' | 'copy' | 'done' | 'failed'
  const result = await runFields(
    context,
    ['sh', '-c', INPUTS_SCRIPT, 'sh', request.copy, recordFile, request.previous?.directory ?? ''],
    { signal: request.signal, check: false },
    (field: string) => {
      switch (part) {
        case 'start':
          if (field === 'record' || field === 'previous' || field === 'copy') part = field
          else throw failed('its output is damaged')
          return
        case 'record':
          if (!record.push(field)) {
            record.finish()
            if (field !== 'copy') throw failed('its output is damaged')
            part = 'copy'
          }
          return
        case 'previous':
          if (field === 'end') part = 'start'
          else if (field === 'failed') part = 'failed'
          else known.set(Number(field), undefined)
          return
        case 'copy': {
          if (field === 'done') part = 'done'
          else if (field === 'failed') part = 'failed'
          else {
            const one = field.indexOf(' ')
            const two = one < 0 ? -1 : field.indexOf(' ', one + 1)
            if (two < 0) throw failed('its output is damaged')
            files.push({ inode: Number(field.slice(0, one)), size: Number(field.slice(one + 1, two)), name: field.slice(two + 1) })
          }
          return
        }
        case 'done':
        case 'failed':
          return
      }
    },
  )
  if (result.exitCode !== 0) throw failed(result.stderr.trim() || `exit status ${result.exitCode}`)
  if (part === 'failed') throw failed(result.stderr.trim() || 'find failed')
  if (part !== 'done') throw failed('its output is cut short')
  return { known, files }
}

/** Below this many new inodes a snapshot is never said to be a full copy (small trees change a lot in proportion). */
const LINK_HEALTH_MINIMUM = 20

/**
 * The warning of a run that changed little but whose snapshot is mostly new inodes (the "every snapshot is a full
 * copy" failure of hard-link backups), naming the likely cause; undefined when the snapshot is linked as it should be.
 * `transferred` is rsync's count of regular files it transferred (undefined: this run did not back up, and only a
 * snapshot that is all new copies is told). Pure.
 */
export function linkHealthWarning(links: LinkFigures, transferred: number | undefined): string | undefined {
  if (links.previous === undefined || links.copied < LINK_HEALTH_MINIMUM || links.copied * 2 <= links.files) return undefined
  // a snapshot alone (the daemon's post-xfer exec) does not know what its transfer changed: only a full copy is told
  if (transferred === undefined ? links.copied < links.files : transferred * 4 >= links.copied) return undefined
  const changed = transferred === undefined ? '' : `, though rsync transferred only ${transferred}`
  return (
    `Link health: ${links.copied} of the ${links.files} files of this snapshot are new copies${changed}: it shares ` +
    `little with snapshot ${links.previous} and takes the space of a full copy. Likely cause: the mirror's files ` +
    'stopped sharing their inodes with the snapshots (the store was copied or restored without hard links: cp -a ' +
    "without -l, rsync without -H), or rsync's --link-dest did not link unchanged files (a known regression of some " +
    "rsync versions). 'rsb doctor' checks the destination and rsync."
  )
}

/**
 * The mirror's newest snapshot before now, as the store was read before this run made its own (the one its new
 * snapshot is compared with): recorded as the mirror's, or unrecorded where it can only be its (a store of one mirror).
 * A snapshot dated in the future (a clock that was ahead) is passed over. Pure.
 */
export function previousSnapshot(state: StoreState, mirror: MirrorRecord, now: Date): string | undefined {
  const onlyMirror = state.mirrors.length <= 1
  let best: { name: string; moment: number } | undefined
  for (const [name, type] of state.entries) {
    if (type !== 'd' || !isSnapshotName(name)) continue
    const record = state.snapshots.get(name)
    if (record !== undefined ? record.mirror !== mirror.id : !onlyMirror) continue
    const moment = record !== undefined ? Date.parse(record.created) : (parseSnapshotName(name)?.getTime() ?? Number.NaN)
    if (!Number.isFinite(moment) || moment > now.getTime()) continue
    if (best === undefined || moment > best.moment || (moment === best.moment && name > best.name)) best = { name, moment }
  }
  return best?.name
}

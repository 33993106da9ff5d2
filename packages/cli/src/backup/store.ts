import { randomBytes } from 'node:crypto'
import type { Context } from '@rsb/exec'
import { isSnapshotName } from '@rsb/rotation'
import { joinPath } from '@rsb/rotation/io'
import { CliError } from '../errors.js'

/**
 * A store is the directory that holds a destination's snapshots (the parent of `latest`). rsb records in it,
 * in the hidden directory `.rsb/` (never a snapshot name, never rotated), that it is a store, which mirrors
 * belong to it and which snapshots each mirror made. Format version 1:
 *
 * ```
 * STORE/.rsb/store.json                  {"format":"rsb-store","version":1,"created":"<ISO 8601 UTC>"}
 * STORE/.rsb/mirrors/<NAME>.json         {"version":1,"name":"latest","id":"<8 hex digits>","created":"…"}
 * STORE/.rsb/snapshots/<SNAPSHOT>.json   {"version":1,"snapshot":"2024-01-02 03:04:05","mirror":"<mirror id>",
 *                                         "created":"<the snapshot's moment, ISO 8601 UTC>","adopted":false}
 * STORE/.rsb/deleting/<mirror id>/…      snapshots being deleted (renamed here first, then removed)
 * STORE/.rsb-snapshot-<mirror id>-<pid>-<ms>   a snapshot being copied (renamed to its name when complete)
 * ```
 *
 * Each file is one line of JSON. Files are written aside and linked (`ln`, which never replaces: a claim) or
 * renamed into place, so no reader sees half a file. Readers accept any version up to {@link STORE_VERSION}
 * and ignore fields they do not know; a newer version is refused. Later versions only add fields and files.
 * A snapshot record is written (claimed) before the snapshot gets its name, so every snapshot an rsb run made
 * has one; `adopted: true` marks snapshots made before the store had records (the original's, earlier rsb's),
 * whose moment was read from the name in the time zone of the run that adopted them.
 */
export const STORE_DIRECTORY = '.rsb'
export const STORE_VERSION = 1

/** Prefix of the hidden names snapshots are copied to before they get their name. */
export const TEMPORARY_PREFIX = '.rsb-snapshot-'

/** `.rsb/store.json` */
export interface StoreFile {
  readonly format: 'rsb-store'
  readonly version: number
  readonly created: string
}

/** `.rsb/mirrors/<NAME>.json`: a destination directory (a mirror) whose snapshots live in this store. */
export interface MirrorRecord {
  readonly version: number
  /** The mirror's name in the store (`latest`). */
  readonly name: string
  /** Short random id, used in hidden names of this mirror's work (temporary snapshots, deletions). */
  readonly id: string
  readonly created: string
}

/** `.rsb/snapshots/<SNAPSHOT>.json`: which mirror made a snapshot, and when. */
export interface SnapshotRecord {
  readonly version: number
  readonly snapshot: string
  /** The id of the mirror it is a snapshot of. */
  readonly mirror: string
  /** The snapshot's moment (ISO 8601 UTC): rotation measures with it, whatever `TZ` says now. */
  readonly created: string
  /** Made before the store kept records, and recorded when the store was adopted. */
  readonly adopted: boolean
}

/** A store as read from disk (all of it in one command). */
export interface StoreState {
  readonly directory: string
  /** Undefined when the directory is not (yet) a store. */
  readonly store: StoreFile | undefined
  readonly mirrors: readonly MirrorRecord[]
  readonly snapshots: ReadonlyMap<string, SnapshotRecord>
  /** The store's entries (not `.rsb/`'s), by name, with their type: `d` directory, `f` file, `l` symlink, … (find's %y). */
  readonly entries: ReadonlyMap<string, string>
  /** Names of `.rsb/deleting/<id>/` directories with something left in them, by mirror id. */
  readonly deleting: readonly string[]
}

export function metadataPath(store: string, ...parts: string[]): string {
  return [joinPath(store, STORE_DIRECTORY), ...parts].join('/')
}

/** A mirror's name is one path component: no `/`, not `.` or `..`, not empty. */
function validName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/')
}

/** A new mirror id. */
export function newMirrorId(): string {
  return randomBytes(4).toString('hex')
}

// Prints, NUL-separated: the store's entries as TYPE/NAME, a marker, store.json, the mirror records and the
// snapshot records (one JSON line each), and the ids under deleting/ that still hold something.
/** The store reader (exported for tests that answer it with a recording context). */
export const READ_SCRIPT = `
s=$1
m=$s/${STORE_DIRECTORY}
[ -d "$s" ] || { printf 'missing\\0'; exit 0; }
printf 'entries\\0'
{ [ -r "$s" ] && [ -x "$s" ]; } || exit 3
find "$s/" -mindepth 1 -maxdepth 1 ! -name ${STORE_DIRECTORY} -printf '%y/%f\\0' 2>/dev/null
# records may vanish while they are read (another mirror's rotation): a file gone is no record; an unreadable folder fails
records() { [ -d "$1" ] || return 0; { [ -r "$1" ] && [ -x "$1" ]; } || exit 3; find "$1/" -mindepth 1 -maxdepth 1 -type f -name '*.json' ! -name '.*' -exec cat -- {} + 2>/dev/null; return 0; }
printf 'store\\0'
if [ -f "$m/store.json" ]; then cat -- "$m/store.json" || exit 3; fi
printf '\\0mirrors\\0'
records "$m/mirrors"
printf '\\0snapshots\\0'
records "$m/snapshots"
printf '\\0deleting\\0'
if [ -d "$m/deleting" ]; then find "$m/deleting/" -mindepth 2 -maxdepth 2 -printf '%h\\n' | sort -u | while IFS= read -r d; do printf '%s\\0' "\${d##*/}"; done; fi
`

function unreadable(store: string, detail: string, cause?: unknown): CliError {
  return new CliError('ERR_RSB_CLI_STORE_UNREADABLE', `The store metadata in ${metadataPath(store)} cannot be used: ${detail}.`, {
    path: metadataPath(store),
    cause,
    hint: `Check ${metadataPath(store)}; rsb changes nothing in a store it cannot read.`,
  })
}

function parseLines<T>(store: string, text: string, what: string, valid: (value: Record<string, unknown>) => boolean): T[] {
  const records: T[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (error) {
      throw unreadable(store, `a ${what} record is not JSON (${line.slice(0, 80)})`, error)
    }
    const record = value as Record<string, unknown>
    if (typeof value !== 'object' || value === null || typeof record.version !== 'number' || !valid(record)) {
      throw unreadable(store, `a ${what} record is not valid (${line.slice(0, 80)})`)
    }
    if (record.version > STORE_VERSION)
      throw unreadable(store, `a ${what} record has format version ${record.version}, newer than this rsb`)
    records.push(value as T)
  }
  return records
}

/**
 * Reads a store's entries and metadata in one command in `context` (its sudo default applies).
 *
 * @throws {CliError} ERR_RSB_CLI_STORE_UNREADABLE for damaged metadata or a newer format
 */
export async function readStore(context: Context, directory: string, signal?: AbortSignal): Promise<StoreState> {
  const result = await context.run(['sh', '-c', READ_SCRIPT, 'sh', directory], { ionice: undefined, signal, check: false })
  if (result.exitCode !== 0) throw unreadable(directory, result.stderr.trim().split('\n').at(-1) || `exit status ${result.exitCode}`)
  const fields = result.stdout.split('\0')
  const empty: StoreState = { directory, store: undefined, mirrors: [], snapshots: new Map(), entries: new Map(), deleting: [] }
  if (fields[0] === 'missing') return empty
  const at = (marker: string) => fields.indexOf(marker)
  const entries = new Map<string, string>()
  for (const field of fields.slice(1, at('store'))) {
    const slash = field.indexOf('/')
    if (slash > 0) entries.set(field.slice(slash + 1), field.slice(0, slash))
  }
  const storeText = fields[at('store') + 1] ?? ''
  let store: StoreFile | undefined
  if (storeText.trim() !== '') {
    const [file] = parseLines<StoreFile>(directory, storeText, 'store', (r) => r.format === 'rsb-store')
    store = file
  }
  const mirrors = parseLines<MirrorRecord>(
    directory,
    fields[at('mirrors') + 1] ?? '',
    'mirror',
    (r) => typeof r.name === 'string' && validName(r.name) && typeof r.id === 'string' && /^[0-9a-f]{8}$/.test(r.id),
  )
  const snapshots = new Map<string, SnapshotRecord>()
  const snapshotText = fields[at('snapshots') + 1] ?? ''
  for (const record of parseLines<SnapshotRecord>(
    directory,
    snapshotText,
    'snapshot',
    (r) =>
      typeof r.snapshot === 'string' &&
      isSnapshotName(r.snapshot) &&
      typeof r.mirror === 'string' &&
      typeof r.created === 'string' &&
      !Number.isNaN(Date.parse(r.created)),
  )) {
    snapshots.set(record.snapshot, record)
  }
  const deleting = fields.slice(at('deleting') + 1).filter((id) => id !== '')
  return { directory, store, mirrors, snapshots, entries, deleting }
}

// Writes files into DIR (made if missing): stdin holds one `NAME<TAB>CONTENT` line per file. `new` links each
// into place and leaves an existing file alone (its name is printed: taken), `replace` renames over it. The
// temporary file is created exclusively (noclobber: O_EXCL), so a planted file or symlink is never written through.
/** The record writer (exported for tests that answer it with a recording context). */
export const WRITE_SCRIPT = `
set -u
d=$1 mode=$2
mkdir -p -- "$d" || exit 3
while IFS= read -r line; do
  n=\${line%%\t*} c=\${line#*\t}
  t=$d/.tmp.$$.$n.part
  rm -f -- "$t"
  (set -C; printf '%s\\n' "$c" > "$t") || exit 3
  if [ "$mode" = new ]; then
    ln -T -- "$t" "$d/$n" 2>/dev/null || { [ -e "$d/$n" ] || { rm -f -- "$t"; exit 3; }; printf '%s\\0' "$n"; }
    rm -f -- "$t"
  else
    mv -f -T -- "$t" "$d/$n" || { rm -f -- "$t"; exit 3; }
  fi
done
`

/**
 * Writes metadata files (one JSON line each) into a directory under the store's `.rsb/`, atomically.
 *
 * @param files - file name (no `/`, no tab, no newline) → record
 * @param mode - `new`: never replace an existing file (a claim); `replace`: rename over it
 * @returns the names that existed already (mode `new`), which were left as they were
 */
export async function writeRecords(
  context: Context,
  directory: string,
  files: ReadonlyMap<string, object>,
  mode: 'new' | 'replace',
  signal?: AbortSignal,
): Promise<string[]> {
  if (files.size === 0) return []
  let input = ''
  for (const [name, record] of files) {
    if (/[/\t\n\0]/.test(name)) throw new Error(`invalid metadata file name: ${JSON.stringify(name)}`)
    input += `${name}\t${JSON.stringify(record)}\n`
  }
  const result = await context.run(['sh', '-c', WRITE_SCRIPT, 'sh', directory, mode], { input, ionice: undefined, signal })
  return result.stdout.split('\0').filter((name) => name !== '')
}

/** The file name of a mirror's record: `NAME.json`, a tab or newline in NAME written `%09`/`%0a` (the record holds the name). */
export function mirrorFileName(name: string): string {
  return `${name.replaceAll('\t', '%09').replaceAll('\n', '%0a')}.json`
}

/** The file name of a snapshot's record. */
export function snapshotFileName(snapshot: string): string {
  return `${snapshot}.json`
}

/**
 * Makes a directory a store (if it is not one) and registers a mirror in it (if it is not registered).
 * Concurrent runs never overwrite each other's records: every file is claimed with `ln`.
 *
 * @returns the mirror's record (the existing one when another run registered it first)
 */
export async function registerMirror(context: Context, state: StoreState, name: string, signal?: AbortSignal): Promise<MirrorRecord> {
  const created = new Date().toISOString()
  const metadata = metadataPath(state.directory)
  if (!state.store) {
    await writeRecords(
      context,
      metadata,
      new Map([['store.json', { format: 'rsb-store', version: STORE_VERSION, created }]]),
      'new',
      signal,
    )
  }
  const record: MirrorRecord = { version: STORE_VERSION, name, id: newMirrorId(), created }
  const file = mirrorFileName(name)
  const taken = await writeRecords(context, metadataPath(state.directory, 'mirrors'), new Map([[file, record]]), 'new', signal)
  if (taken.length === 0) return record
  const again = await readStore(context, state.directory, signal)
  const existing = again.mirrors.find((m) => mirrorFileName(m.name) === file)
  if (existing?.name !== name) throw unreadable(state.directory, `the record file of mirror '${name}' holds another mirror`)
  return existing
}

/**
 * Removes metadata files of the store (`rm -f`, never recursive).
 */
export async function removeRecords(context: Context, directory: string, names: readonly string[], signal?: AbortSignal): Promise<void> {
  if (names.length === 0) return
  await context.run(['rm', '-f', '--', ...names.map((n) => `${directory}/${n}`)], { ionice: undefined, signal })
}

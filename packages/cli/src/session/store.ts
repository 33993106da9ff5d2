import { randomBytes } from 'node:crypto'
import { quoteArgument, type Context } from '@rsb/exec'
import { isSnapshotName } from '@rsb/rotation'
import { joinPath } from '@rsb/rotation/io'
import type { HashFigures, LinkFigures } from '../backup/integrity.js'
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
 *                                         and, once the copy is complete, "manifest":{…} (see SnapshotManifest)
 * STORE/.rsb/runs/<MS>-<ID>-<PID>.json   a run record (see RunRecord): the last RUN_RECORDS_KEPT per mirror are kept
 * STORE/.rsb/hashes/<SNAPSHOT>.hashes    the content hashes of a snapshot's regular files (see hashes.ts)
 * STORE/.rsb/deleting/<mirror id>/…      snapshots being deleted (renamed here first, then removed)
 * STORE/.rsb/staged/<mirror id>-<pid>-<ms>/…  files a backup moved out of its mirror for new inodes (exact.ts)
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
  /**
   * What the run that made it did (written into the record once the copy is complete, before the snapshot gets its
   * name); absent for adopted snapshots and for those of earlier rsb versions.
   */
  readonly manifest?: SnapshotManifest | undefined
}

/** rsync's statistics of a run, as a manifest and a run record keep them (undefined where rsync printed none). */
export interface TransferFigures {
  /** Entries in the transfer (files of all kinds). */
  readonly files: number | undefined
  /** Regular files transferred (new or changed). */
  readonly filesTransferred: number | undefined
  readonly bytesSent: number | undefined
  readonly bytesReceived: number | undefined
  /** The total size of the files in the transfer, in bytes. */
  readonly totalSize: number | undefined
}

/** A snapshot's manifest: the run that made it. Times are ISO 8601 UTC; `utcOffset` is the run's local offset. */
export interface SnapshotManifest {
  readonly started: string
  readonly ended: string
  /** The local time zone's offset when the run started, `+HH:MM`. */
  readonly utcOffset: string
  /** The machine and user rsb ran as. */
  readonly host: string
  readonly user: string
  /** SOURCE as resolved on the machine that ran rsb (undefined for a snapshot alone, `--snapshot`). */
  readonly source: string | undefined
  /** DESTINATION as given. */
  readonly destination: string
  readonly rsbVersion: string
  /** `rsync --version`'s version on the machine that ran rsb, and on the destination's (SSH), where known. */
  readonly rsyncVersion: { readonly local: string | undefined; readonly remote: string | undefined }
  readonly rsyncOptions: readonly string[]
  readonly excludes: readonly string[]
  /** rsync's exit status (0, 23 or 24), when this run backed up. */
  readonly rsyncExitCode: number | undefined
  /** rsync's statistics, when this run backed up. */
  readonly statistics: TransferFigures | undefined
  /** Entries (all kinds, the top directory included, as rsync's "Number of files") and bytes (the sizes of its files and
   * links, each name counted) in the snapshot. */
  readonly entries: number | undefined
  readonly bytes: number | undefined
  /**
   * Link health: the snapshot's regular files by whether the previous snapshot of the mirror holds their inode
   * (`linked`) or they are new inodes (`copied`, with their bytes). Absent when it could not be counted.
   */
  readonly links?: LinkFigures | undefined
  /** The hashing of its content (`.rsb/hashes/NAME.hashes`): absent when no hashes were recorded. */
  readonly hashes?: HashFigures | undefined
  readonly warnings: readonly string[]
}

/** How a run ended. `refused`: a check stopped it before it wrote anything. */
export type RunOutcome = 'succeeded' | 'failed' | 'refused' | 'interrupted'

/** `.rsb/runs/<MS>-<ID>-<PID>.json`: one run of a mirror (dry runs write none). */
export interface RunRecord {
  readonly version: number
  /** The mirror's id and name. */
  readonly mirror: string
  readonly mirrorName: string
  readonly started: string
  readonly ended: string
  readonly durationSeconds: number
  readonly host: string
  readonly user: string
  readonly pid: number
  readonly rsbVersion: string
  /** What was asked: the actions and the command line's arguments (after the program's name). */
  readonly actions: readonly string[]
  readonly argv: readonly string[]
  readonly source: string | undefined
  readonly destination: string
  readonly outcome: RunOutcome
  /** rsb's exit status: 0, 1, or 130/143 when stopped by SIGINT/SIGTERM. */
  readonly exitCode: number
  readonly error: { readonly code: string; readonly message: string; readonly hint: string | undefined } | undefined
  /** The snapshot the run made (its name). */
  readonly snapshot: string | undefined
  readonly statistics: TransferFigures | undefined
  readonly warnings: readonly string[]
}

/** How many run records are kept per mirror (the oldest go when a run adds one). */
export const RUN_RECORDS_KEPT = 100

/** What `readStore(…, { catalog: true })` reads besides (for `rsb list` and `rsb status`). */
export interface StoreCatalog {
  /** The run records, by the time they ended; unreadable ones left out. */
  readonly runs: readonly RunRecord[]
  /** The holders of mirrors' locks (`.rsb/mirrors/NAME.lock`, while a run is at work), by mirror name. */
  readonly holders: ReadonlyMap<string, string>
  /** What `.rsb/deleting/` holds: `ID/NAME.MS` (a snapshot whose deletion began). */
  readonly deleting: readonly string[]
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
  /** `.rsb/synced/<ID>.json`: when each mirror last matched SOURCE (see exact.ts), by mirror id; unreadable ones left out. */
  readonly synced?: ReadonlyMap<string, SyncRecord> | undefined
  /** Names of `.rsb/staged/<ID>-<PID>-<MS>/`: files an exact run moved aside (see exact.ts), left by interrupted runs. */
  readonly staged?: readonly string[] | undefined
  /** With `catalog: true`: the run records, the lock holders and the deletions in progress. */
  readonly catalog?: StoreCatalog | undefined
}

/**
 * `.rsb/synced/<ID>.json`: the moment before the last backup of a mirror that rsync finished (exit 0 or 24), and what
 * that moment can be trusted by. A later run gives new inodes only to the files whose inode changed (ctime) since
 * then; see exact.ts.
 */
export interface SyncRecord {
  readonly version: number
  readonly mirror: string
  /** Wall clock, ISO 8601 UTC, read before the run looked for changed files. */
  readonly started: string
  /** The source machine's boot (`/proc/sys/kernel/random/boot_id`) and its uptime then, in seconds. */
  readonly boot: string
  readonly uptime: number
  readonly host: string
  /** The resolved SOURCE. */
  readonly source: string
  /** A hash of everything that decides which attributes rsync gives the mirror's files (see exact.ts). */
  readonly options: string
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

/** The directories rsb keeps in `.rsb/` (`daemon-hooks/` is the daemon hook's, see hook.ts). */
export const METADATA_DIRECTORIES: readonly string[] = [
  'mirrors',
  'snapshots',
  'deleting',
  'daemon-hooks',
  'synced',
  'staged',
  'runs',
  'hashes',
]

const NOT_OURS = (uid: string) => `! -uid 0 ! -uid "${uid}" ! -uid "$_o"`
const RSB_NAMES = METADATA_DIRECTORIES.map((name) => `-name ${name}`).join(' -o ')

/**
 * `store_unsafe STORE UID`, a shell function for scripts that read or write in a store (the store reader stops
 * with it): prints something, and only then, when {@link checkStoreOwnership} would refuse the store, with UID
 * (`id -u`) and a numeric `$SUDO_UID` as the users allowed besides root. The same rule, for the shell; no link is
 * followed. Three `find`s, whatever the store holds.
 */
export const STORE_UNSAFE_FUNCTION = `store_unsafe() {
  _o=\${SUDO_UID-}
  case $_o in '' | *[!0-9]*) _o=$2 ;; esac
  find "$1" -maxdepth 0 \\( ! -type d -o ${NOT_OURS('$2')} -o -perm /022 ! -perm -1000 \\) -printf x 2>/dev/null
  { [ -e "$1/${STORE_DIRECTORY}" ] || [ -L "$1/${STORE_DIRECTORY}" ]; } || return 0
  find "$1/${STORE_DIRECTORY}" -maxdepth 0 \\( ! -type d -o ${NOT_OURS('$2')} -o -perm /022 \\) -printf x 2>/dev/null
  find "$1/${STORE_DIRECTORY}" -mindepth 1 -maxdepth 1 \\( ! -type f -o ${RSB_NAMES} \\) \\( ! -type d -o ${NOT_OURS('$2')} -o -perm /022 \\) -printf x 2>/dev/null
}`

// Prints, NUL-separated: `missing` (no store), or the users who may own the store besides root (`id -u`, `$SUDO_UID`
// as given), then `facts` and, for the store and `.rsb/` (depth 0) and each of their entries (depth 1),
// `DEPTH UID MODE TYPE/NAME` (find's %d %U %m %y/%f of the entry itself, never of a link's target; the store's
// entries are its listing). A store that store_unsafe refuses ends there, at `unsafe`: nothing in it is read (a FIFO
// planted as a record would hang the reader), and readStore says what is wrong. Else: a marker, store.json, the
// mirror records and the snapshot records (one JSON line each), and the ids under deleting/ that still hold something.
// With $2 = catalog, also (before deleting): the run records, the lock holders (`NAME<TAB>JSON` lines, each at most
// 4 KiB, read with a time limit) and the entries of deleting/ (`ID/NAME` lines).
/** The store reader (exported for tests that answer it with a recording context). */
export const READ_SCRIPT = `
${STORE_UNSAFE_FUNCTION}
s=$1
m=$s/${STORE_DIRECTORY}
{ [ -d "$s" ] || [ -L "$s" ]; } || { printf 'missing\\0'; exit 0; }
u=$(id -u) || exit 3
printf 'users\\0%s\\0%s\\0facts\\0' "$u" "\${SUDO_UID-}"
find "$s" "$m" -maxdepth 1 -printf '%d %U %m %y/%f\\0' 2>/dev/null
[ -z "$(store_unsafe "$s" "$u")" ] || { printf 'unsafe\\0'; exit 0; }
printf 'store\\0'
{ [ -r "$s" ] && [ -x "$s" ]; } || exit 3
# records may vanish while they are read (another mirror's rotation): a file gone is no record; an unreadable folder fails
records() { [ -d "$1" ] || return 0; { [ -r "$1" ] && [ -x "$1" ]; } || exit 3; find "$1/" -mindepth 1 -maxdepth 1 -type f -name '*.json' ! -name '.*' -exec cat -- {} + 2>/dev/null; return 0; }
if [ -f "$m/store.json" ]; then cat -- "$m/store.json" || exit 3; fi
printf '\\0mirrors\\0'
records "$m/mirrors"
printf '\\0snapshots\\0'
records "$m/snapshots"
printf '\\0synced\\0'
records "$m/synced"
if [ "\${2-}" = catalog ]; then
  printf '\\0runs\\0'
  records "$m/runs"
  printf '\\0holders\\0'
  if [ -d "$m/mirrors" ]; then
    find "$m/mirrors/" -mindepth 1 -maxdepth 1 -type f -name '*.lock' ! -name '.*' -printf '%f\\n' | while IFS= read -r f; do
      h=$(timeout 5 head -c 4096 -- "$m/mirrors/$f" 2>/dev/null | tr -d '\\n\\r\\t') && [ -n "$h" ] && printf '%s\\t%s\\n' "\${f%.lock}" "$h"
    done
  fi
  printf '\\0deleted\\0'
  if [ -d "$m/deleting" ]; then find "$m/deleting/" -mindepth 2 -maxdepth 2 -printf '%P\\n'; fi
fi
printf '\\0staged\\0'
if [ -d "$m/staged" ]; then find "$m/staged/" -mindepth 1 -maxdepth 1 -type d -printf '%f\\n'; fi
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

/** Who may own the store and its metadata, as the reader saw it where it ran. */
export interface StoreUsers {
  /** The user the reader ran as (`id -u`: root with sudo). */
  readonly uid: number
  /** The user who called sudo (`$SUDO_UID`), if any: over SSH with sudo, the login user. */
  readonly sudoUid: number | undefined
}

/** What the reader found of the store, `.rsb/` or an entry of `.rsb/`, the link itself when it is one. */
export interface DirectoryFacts {
  readonly path: string
  /** Owner (find's %U). */
  readonly uid: number
  /** Permission bits with set-id and sticky bits (find's %m). */
  readonly mode: number
  /** find's %y: `d` directory, `f` regular file, `l` symbolic link, `p` FIFO, `s` socket, … */
  readonly type: string
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  f: 'a regular file',
  p: 'a FIFO',
  s: 'a socket',
  c: 'a character device',
  b: 'a block device',
}

function shownPath(p: string): string {
  // one line, whatever the name holds: a name with control characters (a newline) is shown as a JSON string
  const control = [...p].some((c) => c < ' ' || c === '\x7f')
  return control ? JSON.stringify(p) : p
}

/**
 * What makes a directory of a store one that another user could steer, or undefined when it is safe: a symbolic
 * link or not a directory; an owner other than root, the reader's user and the user who called sudo; write access
 * for group or others (for the store itself: unless its sticky bit is set, as on `/tmp`). Pure.
 */
export function unsafeStoreDirectory(
  facts: DirectoryFacts,
  kind: 'store' | 'metadata',
  users: StoreUsers,
): { readonly problem: string; readonly fix: 'owner' | 'mode' | 'entry' } | undefined {
  if (facts.type === 'l') return { problem: 'is a symbolic link', fix: 'entry' }
  if (facts.type !== 'd') return { problem: `is ${TYPE_NAMES[facts.type] ?? `of type ${facts.type}`}, not a directory`, fix: 'entry' }
  const allowed = new Map<number, string>([[0, 'root']])
  if (!allowed.has(users.uid)) allowed.set(users.uid, `UID ${users.uid} (rsb's user)`)
  if (users.sudoUid !== undefined && !allowed.has(users.sudoUid)) allowed.set(users.sudoUid, `UID ${users.sudoUid} (who ran sudo)`)
  if (!allowed.has(facts.uid)) return { problem: `belongs to UID ${facts.uid}, not to ${[...allowed.values()].join(' or ')}`, fix: 'owner' }
  const sticky = kind === 'store' && (facts.mode & 0o1000) !== 0
  if ((facts.mode & 0o022) !== 0 && !sticky) {
    const mode = facts.mode.toString(8).padStart(4, '0')
    return {
      problem: `has mode ${mode}: ${kind === 'store' ? 'without the sticky bit, ' : ''}group or others may write in it`,
      fix: 'mode',
    }
  }
  return undefined
}

/**
 * Refuses a store that another user could steer (see {@link unsafeStoreDirectory}): the store, `.rsb/`, and each
 * entry of `.rsb/` that is not a regular file or has the name of one of rsb's directories. Pure.
 *
 * @throws {CliError} ERR_RSB_CLI_STORE_UNSAFE, naming the first directory found and what is wrong with it
 */
export function checkStoreOwnership(
  store: DirectoryFacts,
  metadata: DirectoryFacts | undefined,
  entries: readonly DirectoryFacts[],
  users: StoreUsers,
  host?: string,
): void {
  const checked: [DirectoryFacts, 'store' | 'metadata'][] = [[store, 'store']]
  if (metadata) checked.push([metadata, 'metadata'])
  if (metadata?.type === 'd')
    for (const entry of entries)
      if (entry.type !== 'f' || METADATA_DIRECTORIES.includes(entry.path.slice(entry.path.lastIndexOf('/') + 1)))
        checked.push([entry, 'metadata'])
  for (const [facts, kind] of checked) {
    const found = unsafeStoreDirectory(facts, kind, users)
    if (!found) continue
    const q = quoteArgument(facts.path)
    const where = host === undefined ? '' : ` on ${host}`
    const hint =
      found.fix === 'owner'
        ? `If nobody else should change the backups, give it to root${where}: chown root -- ${q} (rsb writes nothing in a store another user could steer).`
        : found.fix === 'mode'
          ? `Take write access from group and others${where}: chmod go-w -- ${q}${kind === 'store' ? ' (or keep it shared with chmod +t, the sticky bit)' : ''}.`
          : `Look at it${where} (ls -ld -- ${q}) and move it aside: only rsb makes entries in ${quoteArgument(metadataPath(store.path))}, and it makes its directories again.`
    throw new CliError(
      'ERR_RSB_CLI_STORE_UNSAFE',
      `The backup store ${shownPath(store.path)} could be steered by another user: ${shownPath(facts.path)} ${found.problem}.`,
      { path: facts.path, hint },
    )
  }
}

const FACT = /^(\d+) (\d+) ([0-7]+) ([^/])\/(.*)$/s

/**
 * Reads a store's entries and metadata in one command in `context` (its sudo default applies), after checking
 * that no other user could steer it ({@link checkStoreOwnership}, with the users the command ran as).
 *
 * @throws {CliError} ERR_RSB_CLI_STORE_UNSAFE for a store, `.rsb/` or directory in it that another user owns, may
 *   write to, or that is a link or no directory; ERR_RSB_CLI_STORE_UNREADABLE for damaged metadata or a newer format
 */
export async function readStore(
  context: Context,
  directory: string,
  signal?: AbortSignal,
  options: { readonly catalog?: boolean } = {},
): Promise<StoreState> {
  const argv = ['sh', '-c', READ_SCRIPT, 'sh', directory, ...(options.catalog === true ? ['catalog'] : [])]
  const result = await context.run(argv, { ionice: undefined, signal, check: false })
  const fields = result.stdout.split('\0')
  const empty: StoreState = { directory, store: undefined, mirrors: [], snapshots: new Map(), entries: new Map(), deleting: [] }
  if (result.exitCode === 0 && fields[0] === 'missing') return empty
  const at = (marker: string) => fields.indexOf(marker)
  // the facts first: an unsafe store is refused as such, even when it could not be read
  let facts: DirectoryFacts | undefined
  let metadata: DirectoryFacts | undefined
  const metadataEntries: DirectoryFacts[] = []
  const entries = new Map<string, string>()
  // users\0UID\0SUDO_UID\0facts\0FACT\0…
  if (fields[0] === 'users' && fields[3] === 'facts' && /^\d+$/.test(fields[1] ?? '')) {
    const end = [at('unsafe'), at('store')].find((i) => i > 3) ?? fields.length
    for (const field of fields.slice(4, end)) {
      const fact = FACT.exec(field)
      if (!fact) continue
      const [, depth, owner, mode, type, name] = fact as unknown as [string, string, string, string, string, string]
      const found = (p: string): DirectoryFacts => ({ path: p, uid: Number(owner), mode: parseInt(mode, 8), type })
      // find lists the store (depth 0) and its entries, then .rsb/ (depth 0) and its entries
      if (depth === '0' && facts === undefined) facts = found(directory)
      else if (depth === '0') metadata = found(metadataPath(directory))
      else if (metadata) metadataEntries.push(found(metadataPath(directory, name)))
      else if (name !== STORE_DIRECTORY) entries.set(name, type)
    }
    const sudoUid = /^\d+$/.test(fields[2] ?? '') ? Number(fields[2]) : undefined
    if (facts)
      checkStoreOwnership(
        facts,
        metadata,
        metadataEntries,
        { uid: Number(fields[1]), sudoUid },
        context.kind === 'ssh' ? context.host : undefined,
      )
  }
  if (result.exitCode !== 0) throw unreadable(directory, result.stderr.trim().split('\n').at(-1) || `exit status ${result.exitCode}`)
  if (!facts) throw unreadable(directory, 'the owner and mode of the store could not be read')
  if (at('unsafe') !== -1)
    // the reader's own check saw what the facts did not (changed between the two looks): refused all the same
    throw new CliError(
      'ERR_RSB_CLI_STORE_UNSAFE',
      `The backup store ${shownPath(directory)} could be steered by another user: it changed while rsb read it.`,
      {
        path: directory,
        hint: `Check who owns ${quoteArgument(directory)}, ${quoteArgument(metadataPath(directory))} and the directories in it, and their modes (ls -la).`,
      },
    )
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
  const staged = at('staged') === -1 ? [] : (fields[at('staged') + 1] ?? '').split('\n').filter((name) => name !== '')
  const synced = new Map<string, SyncRecord>()
  if (at('synced') !== -1) {
    // a damaged or foreign record only costs a slower run (every file gets checked): never a refusal
    for (const line of (fields[at('synced') + 1] ?? '').split('\n')) {
      try {
        const record = JSON.parse(line) as SyncRecord
        if (record.version === STORE_VERSION && typeof record.mirror === 'string') synced.set(record.mirror, record)
      } catch {
        // left out
      }
    }
  }
  const catalog = options.catalog === true ? readCatalog(fields, at) : undefined
  return { directory, store, mirrors, snapshots, entries, deleting, synced, staged, catalog }
}

/** The catalog's sections of the reader's output; a damaged run record or holder is left out, never a refusal. */
function readCatalog(fields: readonly string[], at: (marker: string) => number): StoreCatalog {
  const section = (marker: string) => (at(marker) === -1 ? [] : (fields[at(marker) + 1] ?? '').split('\n').filter((line) => line !== ''))
  const runs: RunRecord[] = []
  for (const line of section('runs')) {
    try {
      const record = JSON.parse(line) as RunRecord
      if (
        typeof record === 'object' &&
        record !== null &&
        typeof record.version === 'number' &&
        typeof record.mirror === 'string' &&
        typeof record.started === 'string' &&
        !Number.isNaN(Date.parse(record.started)) &&
        typeof record.ended === 'string' &&
        !Number.isNaN(Date.parse(record.ended)) &&
        typeof record.outcome === 'string'
      )
        runs.push(record)
    } catch {
      // left out
    }
  }
  runs.sort((a, b) => Date.parse(a.ended) - Date.parse(b.ended))
  const holders = new Map<string, string>()
  for (const line of section('holders')) {
    const tab = line.indexOf('\t')
    if (tab > 0) holders.set(line.slice(0, tab), line.slice(tab + 1))
  }
  return { runs, holders, deleting: section('deleted') }
}

/** The file name of a run record: the start in milliseconds (13 digits: names sort as times), the mirror and the PID. */
export function runFileName(record: Pick<RunRecord, 'started' | 'mirror' | 'pid'>): string {
  return `${String(Date.parse(record.started)).padStart(13, '0')}-${record.mirror}-${record.pid}.json`
}

// Writes one run record (stdin) into DIR as NAME (mode 0600), claimed with ln from a file created exclusively, then removes the
// mirror's oldest records beyond KEEP (names sort as times). $1 DIR, $2 NAME, $3 KEEP, $4 the mirror id.
const RUN_SCRIPT = `
set -u
d=$1 n=$2 keep=$3 id=$4
mkdir -p -- "$d" || exit 3
# the record keeps the command line: readable by its owner only (a reader without it lists no runs)
umask 077
t=$d/.tmp.$$.$n.part
rm -f -- "$t"
(set -C; cat > "$t") || { rm -f -- "$t"; exit 3; }
ln -T -- "$t" "$d/$n" 2>/dev/null; r=$?
rm -f -- "$t"
[ $r -eq 0 ] || exit 3
find "$d/" -mindepth 1 -maxdepth 1 -type f -name "[0-9]*-$id-*.json" -printf '%f\\n' | sort -r | tail -n +$((keep + 1)) |
  while IFS= read -r f; do rm -f -- "$d/$f"; done
exit 0
`

/**
 * Writes a run record into the store's `.rsb/runs/` and removes the mirror's oldest beyond {@link RUN_RECORDS_KEPT}.
 * Only for a store (`.rsb/store.json`) that the run read and checked.
 */
export async function writeRunRecord(context: Context, store: string, record: RunRecord, signal?: AbortSignal): Promise<void> {
  if (!/^[0-9a-f]{8}$/.test(record.mirror)) throw new Error(`invalid mirror id: ${JSON.stringify(record.mirror)}`)
  await context.run(
    ['sh', '-c', RUN_SCRIPT, 'sh', metadataPath(store, 'runs'), runFileName(record), String(RUN_RECORDS_KEPT), record.mirror],
    {
      input: `${JSON.stringify(record)}\n`,
      ionice: undefined,
      signal,
    },
  )
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

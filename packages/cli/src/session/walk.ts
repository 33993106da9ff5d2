// One walk of snapshot trees in the destination's context (on the server over SSH: the trees never cross the
// connection, only one line per entry), for the commands that compare or check snapshots (`rsb diff`, `rsb versions`,
// `rsb verify`) and the backup's hash records. Metadata only: no file is read.
import type { Context } from '@rsb/exec'
import { CliError } from '../errors.js'
import { runFields, splitFields } from './fields.js'
import type { CatalogSnapshot } from './catalog.js'

/** One entry of a tree, as `find -printf` sees it (never following a symbolic link). */
export interface TreeEntry {
  /** The path relative to the root walked (`''` for the root itself), decoded as UTF-8 (for people and comparisons). */
  readonly path: string
  /** The same path as the bytes it is (file names need not be UTF-8): what is given back to commands. */
  readonly name: Buffer
  /** find's %y: `d` directory, `f` regular file, `l` symbolic link, `p` FIFO, `s` socket, `b`/`c` devices. */
  readonly type: string
  readonly inode: number
  /** Its hard-link count (find's %n). */
  readonly links: number
  /** Its size in bytes (find's %s). */
  readonly size: number
  /** The space it takes, in 512-byte blocks (find's %b). */
  readonly blocks: number
  /** Permission bits with set-id and sticky bits (find's %m, as a number). */
  readonly mode: number
  readonly uid: number
  readonly gid: number
  /** Its modification time, seconds since the epoch with fraction as find prints it (`%T@`). */
  readonly mtime: string
  /** A symbolic link's target (`''` for anything else). */
  readonly target: string
}

/** One tree of a walk: undefined entries when the root does not exist. */
export interface WalkedTree {
  readonly root: string
  readonly entries: readonly TreeEntry[] | undefined
}

// Each root: `root\0ROOT\0`, then `missing\0` or two fields per entry (`%y %i %n %s %b %m %U %G %T@ %P` and `%l`),
// then `end\0`. An entry's first field always holds nine spaces, so it is never `end` or `missing`. Errors of find
// (an unreadable directory) make the walk fail: a tree that cannot be read whole is never reported as smaller. File
// names are bytes: the output crosses as base64 (coreutils; od's hex costs 0.25 s a megabyte), so a name that is not
// UTF-8 arrives intact.
const WALK_SCRIPT = `
set -u
{ for r do
  printf 'root\\0%s\\0' "$r"
  if [ -e "$r" ] || [ -L "$r" ]; then
    find "$r" -printf '%y %i %n %s %b %m %U %G %T@ %P\\0%l\\0' || { printf 'failed\\0'; exit 0; }
  else
    printf 'missing\\0'
  fi
  printf 'end\\0'
done; printf 'done\\0'; } | base64 -w0
`

/**
 * Walks `roots` (absolute paths in the context) in one command, each with `find` (symbolic links are never followed,
 * not even a root that is one). Metadata only. The output is read as it arrives (see fields.ts).
 *
 * @throws {CliError} ERR_RSB_CLI_WALK_FAILED when find could not read all of a tree (its error is in the message)
 */
export async function walkTrees(context: Context, roots: readonly string[], signal: AbortSignal | undefined): Promise<WalkedTree[]> {
  if (roots.length === 0) return []
  const parser = new WalkParser()
  const failed = (why: string) =>
    new CliError('ERR_RSB_CLI_WALK_FAILED', `Could not read the snapshots on ${context.host}: ${why}`, {
      hint: 'Run as root (or let rsb use sudo): snapshots keep the owners and modes of SOURCE.',
    })
  const result = await runFields(context, ['sh', '-c', WALK_SCRIPT, 'sh', ...roots], { signal, check: false }, (field) =>
    parser.push(field),
  )
  if (result.exitCode !== 0) throw failed(result.stderr.trim() || `exit status ${result.exitCode}`)
  const trees = parser.finish()
  if (trees === undefined) throw failed(result.stderr.trim() || 'find failed')
  return trees
}

/**
 * The output of the walk script (as bytes). Pure (exported for tests).
 *
 * @returns undefined when find failed (its errors are on stderr)
 * @throws {CliError} ERR_RSB_CLI_WALK_FAILED for output that is cut short or not the script's
 */
export function parseWalk(output: Buffer): WalkedTree[] | undefined {
  const parser = new WalkParser()
  for (const field of splitFields(output)) parser.push(field)
  return parser.finish()
}

const bad = () => new CliError('ERR_RSB_CLI_WALK_FAILED', 'The walk of the snapshots gave output rsb cannot read.')

/** The walk script's fields, one at a time (latin1 strings of their bytes). */
class WalkParser {
  readonly #trees: WalkedTree[] = []
  #state: 'root' | 'name' | 'first' | 'meta' | 'target' | 'missing-end' | 'done' | 'failed' = 'root'
  #root = ''
  #entries: TreeEntry[] = []
  #meta = ''

  push(field: string): void {
    switch (this.#state) {
      case 'root':
        if (field === 'done') this.#state = 'done'
        else if (field === 'failed') this.#state = 'failed'
        else if (field === 'root') this.#state = 'name'
        else throw bad()
        return
      case 'name':
        this.#root = Buffer.from(field, 'latin1').toString('utf8')
        this.#state = 'first'
        return
      case 'first':
        if (field === 'missing') {
          this.#trees.push({ root: this.#root, entries: undefined })
          this.#state = 'missing-end'
          return
        }
        this.#entries = []
        this.#state = 'meta'
        this.push(field)
        return
      case 'missing-end':
        if (field !== 'end') throw bad()
        this.#state = 'root'
        return
      case 'meta':
        if (field === 'end') {
          this.#trees.push({ root: this.#root, entries: this.#entries })
          this.#entries = []
          this.#state = 'root'
        } else if (field === 'failed') this.#state = 'failed'
        else {
          this.#meta = field
          this.#state = 'target'
        }
        return
      case 'target': {
        const entry = parseEntry(this.#meta, field)
        if (entry === undefined) throw bad()
        this.#entries.push(entry)
        this.#state = 'meta'
        return
      }
      case 'done':
      case 'failed':
        return
    }
  }

  /** The trees (undefined when find failed). @throws {CliError} ERR_RSB_CLI_WALK_FAILED for output cut short */
  finish(): WalkedTree[] | undefined {
    if (this.#state === 'failed') return undefined
    if (this.#state !== 'done') throw bad()
    return this.#trees
  }
}

// oxlint-disable-next-line no-control-regex -- bytes above 0x7f are what needs decoding
const NOT_ASCII = /[^\x00-\x7f]/

/** One entry from its two fields (latin1 strings of the bytes find printed). */
function parseEntry(meta: string, target: string | undefined): TreeEntry | undefined {
  if (target === undefined) return undefined
  // nine fields separated by one space, then the path (which may hold spaces)
  const parts: string[] = []
  let start = 0
  for (let n = 0; n < 9; n++) {
    const space = meta.indexOf(' ', start)
    if (space < 0) return undefined
    parts.push(meta.slice(start, space))
    start = space + 1
  }
  const [type, inode, links, size, blocks, mode, uid, gid, mtime] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ]
  const raw = meta.slice(start)
  const name = Buffer.from(raw, 'latin1')
  const entry: TreeEntry = {
    path: NOT_ASCII.test(raw) ? name.toString('utf8') : raw,
    name,
    type,
    inode: Number(inode),
    links: Number(links),
    size: Number(size),
    blocks: Number(blocks),
    mode: Number.parseInt(mode, 8),
    uid: Number(uid),
    gid: Number(gid),
    mtime,
    target: NOT_ASCII.test(target) ? Buffer.from(target, 'latin1').toString('utf8') : target,
  }
  return Number.isFinite(entry.inode) && Number.isFinite(entry.size) ? entry : undefined
}

/** The snapshots of a catalogue that hold a whole tree (complete or made before manifests), oldest first. */
export function readableSnapshots(snapshots: readonly CatalogSnapshot[]): CatalogSnapshot[] {
  return snapshots.filter((s) => s.status === 'complete' || s.status === 'no-manifest').toReversed()
}

/**
 * The snapshot a command line names: a snapshot name, or `latest` (the newest). Pure.
 *
 * @throws {CliError} ERR_RSB_CLI_SNAPSHOT_NOT_FOUND naming the snapshots there are
 */
export function findSnapshot(snapshots: readonly CatalogSnapshot[], given: string, destination: string): CatalogSnapshot {
  const found = given === 'latest' ? snapshots.at(-1) : snapshots.find((s) => s.name === given)
  if (found !== undefined) return found
  const names = snapshots.map((s) => s.name)
  throw new CliError(
    'ERR_RSB_CLI_SNAPSHOT_NOT_FOUND',
    snapshots.length === 0 ? `${destination} has no complete snapshot.` : `${destination} has no snapshot ${JSON.stringify(given)}.`,
    {
      destination,
      hint:
        names.length === 0
          ? 'Make one with rsb backup first.'
          : `Its snapshots: ${names.length > 6 ? `${names.slice(0, 3).join(', ')}, …, ${names.slice(-3).join(', ')}` : names.join(', ')} ('rsb list ${destination}' shows them all), or latest.`,
    },
  )
}

// What `rsb diff` and `rsb versions` share: their options, the parse of DESTINATION and the positionals after it, and
// how changes are shown (the table a person reads, the `--json` documents' entries).
import path from 'node:path'
import { parseDestination } from '@rsb/destination'
import { DEFAULT_ROTATION_SCHEME, OPTIONS as BACKUP_OPTIONS } from '../../args.js'
import { CliError, UsageError } from '../../errors.js'
import { getopt, type OptionDefinition, type OptionOccurrence } from '../../kit/getopt.js'
import type { Logger } from '../../kit/log.js'
import type { MainIo } from '../../main.js'
import { buildCatalog, readCatalog, type Catalog } from '../../session/catalog.js'
import type { ChangedField, DiffTotals, EntryChange } from '../../session/compare.js'
import { readableSnapshots, type TreeEntry } from '../../session/walk.js'
import type { CatalogSnapshot } from '../../session/catalog.js'
import type { Context } from '@rsb/exec'
import { formatBytes } from '../list/options.js'

function backupOption(name: string): OptionDefinition {
  const option = BACKUP_OPTIONS.find((o) => o.name === name)
  if (option === undefined) throw new Error(`rsb backup has no option --${name}`)
  return option
}

/** The options of a comparing command: its own, `--json` (described by the command), sudo and verbosity. */
export function comparingOptions(json: string, extra: readonly OptionDefinition[]): OptionDefinition[] {
  return [
    ...extra,
    { name: 'json', description: json },
    { ...backupOption('no-sudo'), description: 'Do not use sudo for the commands that read the store (sudo is used when not root).' },
    backupOption('verbose'),
    backupOption('quiet'),
    backupOption('version'),
    backupOption('help'),
  ]
}

/** What every comparing command is given. */
export interface ComparingArgs {
  readonly destination: string
  readonly sudo: boolean
  readonly json: boolean
  readonly verbosity: number
}

/**
 * Parses a comparing command's line: DESTINATION, then between `min` and `max` more positionals (named in `usage`),
 * the shared options; `other` gets the command's own.
 *
 * @throws {UsageError} ERR_RSB_CLI_USAGE (and the destination's parse errors); {@link CliError}
 *   ERR_RSB_CLI_DESTINATION_DAEMON for an rsync daemon destination (exit 2 all)
 */
export function parseComparing(
  command: string,
  argv: readonly string[],
  table: readonly OptionDefinition[],
  shape: { readonly min: number; readonly max: number; readonly usage: string },
  other: (option: OptionOccurrence) => void = () => undefined,
): { kind: 'help' } | { kind: 'version' } | { kind: 'run'; args: ComparingArgs; rest: string[] } {
  const { options, positionals } = getopt(argv, table)
  if (options.some((o) => o.name === 'help')) return { kind: 'help' }
  if (options.some((o) => o.name === 'version')) return { kind: 'version' }
  let sudo = true
  let json = false
  let verbosity = 0
  for (const option of options) {
    switch (option.name) {
      case 'no-sudo':
        sudo = false
        break
      case 'json':
        json = true
        break
      case 'verbose':
        verbosity++
        break
      case 'quiet':
        verbosity--
        break
      default:
        other(option)
    }
  }
  const hint = { hint: `Usage: rsb ${command} [OPTIONS] ${shape.usage}; see 'rsb ${command} --help'.` }
  if (positionals.length === 0) throw new UsageError(`rsb ${command} needs a DESTINATION.`, hint)
  const rest = positionals.slice(1)
  if (rest.length < shape.min) throw new UsageError(`rsb ${command} needs ${shape.usage}.`, hint)
  if (rest.length > shape.max) {
    throw new UsageError(`rsb ${command} takes ${shape.usage} (got ${positionals.length} arguments).`, hint)
  }
  const destination = positionals[0]!
  if (destination === '') throw new UsageError('DESTINATION is empty.')
  if (parseDestination(destination).kind === 'daemon') {
    throw new CliError(
      'ERR_RSB_CLI_DESTINATION_DAEMON',
      `rsb ${command} cannot read the store of an rsync daemon destination (${destination}).`,
      {
        destination,
        hint: "The daemon does not show its module's store: run the command on the server, with the module's directory (…/latest) as DESTINATION, or reach the server over SSH (HOST:/PATH).",
      },
    )
  }
  return { kind: 'run', args: { destination, sudo, json, verbosity }, rest }
}

/** A store opened for reading: its catalogue, its readable snapshots (oldest first), where it lives. */
export interface OpenedSnapshots {
  readonly catalog: Catalog
  readonly snapshots: readonly CatalogSnapshot[]
  readonly context: Context
  /** The directory of a snapshot in the context. */
  directory(snapshot: CatalogSnapshot): string
  close(): Promise<void>
}

/** Opens DESTINATION for reading (no lock) and lists its snapshots that hold a whole tree. */
export async function openSnapshots(args: ComparingArgs, io: MainIo, logger: Logger): Promise<OpenedSnapshots> {
  const opened = await readCatalog({ destination: args.destination, sudo: args.sudo, env: io.env, logger, signal: io.signal })
  try {
    const catalog = buildCatalog(opened.state, opened.mirrorNames, { scheme: DEFAULT_ROTATION_SCHEME, keepLatest: 0, now: new Date() })
    return {
      catalog,
      snapshots: readableSnapshots(catalog.snapshots).toSorted((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      context: opened.context,
      directory: (snapshot) => path.posix.join(catalog.store, snapshot.name),
      close: () => opened.close(),
    }
  } catch (error) {
    await opened.close()
    throw error
  }
}

/** A path for people: as it is, or JSON-quoted when it holds control characters (a newline); `.` for a root. */
export function shown(text: string): string {
  if (text === '') return '.'
  return [...text].some((c) => c < ' ' || c === '\x7f') ? JSON.stringify(text) : text
}

const TYPE_TEXT: Readonly<Record<string, string>> = {
  f: 'file',
  d: 'dir',
  l: 'link',
  p: 'fifo',
  s: 'socket',
  b: 'block',
  c: 'char',
}

/** find's type letter as a word (`file`, `dir`, `link`, …). */
export function typeText(type: string): string {
  return TYPE_TEXT[type] ?? type
}

/** Permission bits as `chmod` reads them (`0644`, `4755`). */
export function modeText(mode: number): string {
  return mode.toString(8).padStart(4, '0')
}

/** find's `%T@` (seconds with a fraction) as ISO 8601 UTC (milliseconds). */
export function mtimeIso(mtime: string): string | undefined {
  const seconds = Number(mtime)
  return Number.isFinite(seconds) ? new Date(Math.floor(seconds * 1000)).toISOString() : undefined
}

/** An entry in the documents: what find saw of it. */
export function entryDocument(entry: TreeEntry | undefined) {
  if (entry === undefined) return undefined
  return {
    type: typeText(entry.type),
    size: entry.size,
    mtime: mtimeIso(entry.mtime),
    mtimeSeconds: entry.mtime,
    mode: modeText(entry.mode),
    uid: entry.uid,
    gid: entry.gid,
    inode: entry.inode,
    links: entry.links,
    target: entry.type === 'l' ? entry.target : undefined,
  }
}

/** One change in the documents; `prefix` is joined before its path (the PATH of `rsb versions`). */
export function changeDocument(change: EntryChange, prefix = '') {
  return {
    path: path.posix.join(prefix, change.path) || '.',
    change: change.kind,
    type: typeText((change.after ?? change.before)!.type),
    fields: change.fields,
    hardLinkOf: change.hardLinkOf === undefined ? undefined : path.posix.join(prefix, change.hardLinkOf),
    before: entryDocument(change.before),
    after: entryDocument(change.after),
  }
}

/** The totals in the documents. */
export function totalsDocument(totals: DiffTotals) {
  return {
    added: totals.added,
    removed: totals.removed,
    content: totals.content,
    metadata: totals.metadata,
    unchanged: totals.unchanged,
  }
}

const KIND_TEXT: Readonly<Record<EntryChange['kind'], string>> = {
  added: 'added',
  removed: 'removed',
  content: 'content',
  metadata: 'metadata',
}

function fieldText(field: ChangedField, change: EntryChange): string {
  const before = change.before!
  const after = change.after!
  switch (field) {
    case 'type':
      return `${typeText(before.type)} → ${typeText(after.type)}`
    case 'size':
      return `size ${formatBytes(before.size)} → ${formatBytes(after.size)}`
    case 'mtime':
      return 'mtime'
    case 'target':
      return `target ${shown(before.target)} → ${shown(after.target)}`
    case 'data':
      return 'content hash'
    case 'mode':
      return `mode ${modeText(before.mode)} → ${modeText(after.mode)}`
    case 'uid':
      return `uid ${before.uid} → ${after.uid}`
    case 'gid':
      return `gid ${before.gid} → ${after.gid}`
  }
}

/** What a change line says after its path: what differs, or the path an added hard link shares its inode with. */
function detailText(change: EntryChange, prefix: string): string {
  if (change.hardLinkOf !== undefined) return ` (hard link of ${shown(path.posix.join(prefix, change.hardLinkOf))})`
  if (change.kind === 'metadata' && change.fields.length === 0) return ' (new inode, same mode, owner, size and mtime)'
  if (change.fields.length === 0) return ''
  return ` (${change.fields.map((f) => fieldText(f, change)).join(', ')})`
}

/** The changes as a table: CHANGE, TYPE, SIZE, PATH (a directory with a trailing `/`) and what differs. */
export function changesTable(changes: readonly EntryChange[], prefix = '', indent = ''): string[] {
  const header = ['CHANGE', 'TYPE', 'SIZE', 'PATH']
  const rows = changes.map((c) => {
    const entry = (c.after ?? c.before)!
    const name = path.posix.join(prefix, c.path)
    return [
      KIND_TEXT[c.kind],
      typeText(entry.type),
      entry.type === 'd' ? '-' : formatBytes(entry.size),
      `${shown(name === '.' ? '' : name)}${entry.type === 'd' && name !== '' && name !== '.' ? '/' : ''}${detailText(c, prefix)}`,
    ]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    indent +
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : i === 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return rows.length === 0 ? [] : [line(header), ...rows.map(line)]
}

/** The totals in one line: `added 2 (24 B), removed 1 (4 B), content 1 (5 B), metadata only 1 (3 B); 4 unchanged`. */
export function totalsLine(totals: DiffTotals): string {
  const part = (word: string, t: { entries: number; bytes: number }) => `${word} ${t.entries} (${formatBytes(t.bytes)})`
  return `${[
    part('added', totals.added),
    part('removed', totals.removed),
    part('content', totals.content),
    part('metadata only', totals.metadata),
  ].join(', ')}; ${totals.unchanged.entries} unchanged`
}

/** The totals as a table (`--stat`). */
export function totalsTable(totals: DiffTotals): string[] {
  const rows: [string, string, string][] = [
    ['added', String(totals.added.entries), formatBytes(totals.added.bytes)],
    ['removed', String(totals.removed.entries), formatBytes(totals.removed.bytes)],
    ['content', String(totals.content.entries), formatBytes(totals.content.bytes)],
    ['metadata only', String(totals.metadata.entries), formatBytes(totals.metadata.bytes)],
    ['unchanged', String(totals.unchanged.entries), formatBytes(totals.unchanged.bytes)],
  ]
  const all: [string, string, string][] = [['CHANGE', 'ENTRIES', 'BYTES'], ...rows]
  const widths = [0, 1, 2].map((i) => Math.max(...all.map((r) => r[i]!.length)))
  return all.map((r) => `${r[0].padEnd(widths[0]!)}  ${r[1].padStart(widths[1]!)}  ${r[2].padStart(widths[2]!)}`.trimEnd())
}

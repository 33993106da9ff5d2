// `rsb du [OPTIONS] DESTINATION`: per snapshot, the space and files only it holds (what deleting it would free) and
// what it shares, the store's total and its filesystem's free space and inodes. One walk of the store by inode, on the
// server over SSH. Reads only (no lock: never waits for nor blocks a backup).
import { joinPath } from '@rsb/rotation/io'
import { buildCatalog, readCatalog, type Catalog, type CatalogSnapshot } from '../../session/catalog.js'
import { readableSnapshots } from '../../session/walk.js'
import { formatOptions, paragraphs } from '../../kit/help.js'
import { createLogger } from '../../kit/log.js'
import { json } from '../../kit/render.js'
import { CliError } from '../../errors.js'
import type { MainIo } from '../../main.js'
import type { Parsed } from '../index.js'
import { fail } from '../list/index.js'
import { fixLocale, formatBytes, parseReading, readingOptions, type ReadingArgs } from '../list/options.js'
import { measureStore, type StoreUsage, type TreeUsage } from './usage.js'

// the rotation's options of the other reading commands have nothing to say here
export const options = readingOptions('Print the figures as one JSON document on standard output (see the README for its fields).').filter(
  (o) => o.name !== 'rotation' && o.name !== 'keep-latest',
)

export function help(): string {
  return [
    'Usage: rsb du [OPTIONS] DESTINATION',
    '',
    ...paragraphs(
      "Show the space of the snapshots of DESTINATION: the DESTINATION of 'rsb backup' (the mirror, such as " +
        '/mnt/backups/latest or HOST:/srv/backups/latest), or the store that holds the snapshots. Every snapshot and ' +
        'mirror of the store is counted, whichever is given.',
      'Each line: the snapshot, the space and files only it holds (what deleting it would free: an inode whose every ' +
        'hard link is inside it; a link in the mirror, in another snapshot or anywhere else keeps it), and the space ' +
        'and files it shares with others. Space is disk usage, its directories and symbolic links included; hard ' +
        "links count once. The newest snapshot shares its files with the mirror (rsync's target), so it frees little. " +
        "Then the store's total (every distinct inode) and its filesystem's size, free space and free inodes.",
      'It walks the store once (over SSH on the server: only one line per snapshot crosses the connection), reads ' +
        'metadata only, takes no lock and writes nothing.',
    ),
    '',
    'Options:',
    ...formatOptions(options),
    '',
    'Exit status:',
    '  0         shown',
    '  1         DESTINATION is not a backup, or its store could not be read (the error says why)',
    '  2         usage error',
    '  130, 143  interrupted by SIGINT, SIGTERM',
    '',
  ].join('\n')
}

export function parse(argv: readonly string[]): Parsed<ReadingArgs> {
  return parseReading('du', argv, options)
}

/** What `rsb du` measured: the store's catalogue (every mirror), the trees walked and their figures. */
export interface DuReport {
  readonly catalog: Catalog
  /** The snapshots walked, newest first, with their figures. */
  readonly snapshots: readonly { readonly snapshot: CatalogSnapshot; readonly usage: TreeUsage }[]
  /** The mirrors walked, with their figures (undefined: the mirror's directory is not there). */
  readonly mirrors: readonly { readonly name: string; readonly usage: TreeUsage | undefined }[]
  readonly total: StoreUsage['total']
  readonly filesystem: StoreUsage['filesystem']
}

export async function run(args: ReadingArgs, io: MainIo): Promise<number> {
  fixLocale()
  const logger = createLogger(io.stderr, args.verbosity)
  let report: DuReport
  try {
    const opened = await readCatalog({ destination: args.destination, sudo: args.sudo, env: io.env, logger, signal: io.signal })
    try {
      // the whole store, whichever mirror was given: a link in any mirror or snapshot keeps an inode
      const names = [...new Set([...opened.state.mirrors.map((m) => m.name), ...opened.mirrorNames])]
      const catalog = buildCatalog(opened.state, names, { scheme: args.scheme, keepLatest: args.keepLatest, now: new Date() })
      const snapshots = readableSnapshots(catalog.snapshots).toReversed()
      const roots = [...snapshots.map((s) => joinPath(catalog.store, s.name)), ...names.map((n) => joinPath(catalog.store, n))]
      logger.log('debug', `walking ${roots.length} tree(s) of ${catalog.store}`)
      const usage = await measureStore(opened.context, catalog.store, roots, io.signal)
      report = {
        catalog,
        snapshots: snapshots.map((snapshot, i) => ({ snapshot, usage: usage.trees[i]! })),
        mirrors: names.map((name, i) => ({ name, usage: usage.trees[snapshots.length + i] })),
        total: usage.total,
        filesystem: usage.filesystem,
      }
      const gone = report.snapshots.find((s) => s.usage === undefined)
      if (gone !== undefined) {
        throw new CliError(
          'ERR_RSB_CLI_DU_FAILED',
          `Snapshot ${gone.snapshot.name} of ${catalog.store} went away while rsb du read the store.`,
          {
            path: joinPath(catalog.store, gone.snapshot.name),
            hint: 'A rotation removed it meanwhile: run rsb du again.',
          },
        )
      }
    } finally {
      await opened.close()
    }
  } catch (error) {
    return fail(error, args, io)
  }
  if (args.json) io.stdout.write(json(duDocument(report, args)))
  else io.stdout.write(duText(report))
  return 0
}

/** The text of `rsb du`: a heading, one line per snapshot (newest first) and per mirror, the store and its filesystem. */
export function duText(report: DuReport): string {
  const { catalog } = report
  const several = catalog.mirrors.length > 1 || report.snapshots.some((s) => s.snapshot.mirror === undefined)
  const heading =
    `Store ${catalog.store}` +
    (catalog.mirrors.length === 0
      ? ', no mirror'
      : `, ${catalog.mirrors.length > 1 ? 'mirrors' : 'mirror'} ${catalog.mirrors.map((m) => m.name).join(', ')}`) +
    `: ${report.snapshots.length} snapshot(s)`
  const header = ['SNAPSHOT', ...(several ? ['MIRROR'] : []), 'EXCLUSIVE', 'EXCLUSIVE FILES', 'SHARED', 'SHARED FILES']
  const row = (name: string, mirror: string, usage: TreeUsage | undefined) => [
    name,
    ...(several ? [mirror] : []),
    usage === undefined ? '-' : formatBytes(usage.exclusiveBytes),
    usage === undefined ? '-' : String(usage.exclusiveFiles),
    usage === undefined ? '-' : formatBytes(usage.bytes - usage.exclusiveBytes),
    usage === undefined ? '-' : String(usage.files - usage.exclusiveFiles),
  ]
  const rows = [
    ...report.snapshots.map(({ snapshot, usage }) => row(snapshot.name, snapshot.mirror ?? '-', usage)),
    ...report.mirrors.map(({ name, usage }) => row(`${name} (mirror)`, name, usage)),
  ]
  const first = several ? 2 : 1
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i < first ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd()
  const { total, filesystem } = report
  const footer = [
    `Store total: ${formatBytes(total.bytes)} on disk (${formatBytes(total.apparentBytes)} apparent), ${total.inodes} inode(s)`,
    filesystem === undefined
      ? 'Filesystem: - (stat -f could not tell)'
      : `Filesystem: ${formatBytes(filesystem.sizeBytes)}, ${formatBytes(filesystem.freeBytes)} free, ${filesystem.freeInodes} of ${filesystem.inodes} inode(s) free`,
  ]
  return `${[heading, line(header), ...rows.map(line), ...footer].join('\n')}\n`
}

function treeDocument(usage: TreeUsage) {
  return {
    bytes: usage.bytes,
    apparentBytes: usage.apparentBytes,
    files: usage.files,
    directories: usage.directories,
    exclusiveBytes: usage.exclusiveBytes,
    exclusiveApparentBytes: usage.exclusiveApparentBytes,
    exclusiveFiles: usage.exclusiveFiles,
    sharedBytes: usage.bytes - usage.exclusiveBytes,
    sharedApparentBytes: usage.apparentBytes - usage.exclusiveApparentBytes,
    sharedFiles: usage.files - usage.exclusiveFiles,
  }
}

/** The `--json` document of `rsb du` (schema version 1: fields are only ever added). */
export function duDocument(report: DuReport, args: ReadingArgs) {
  const { catalog } = report
  return {
    schemaVersion: 1,
    destination: args.destination,
    store: catalog.store,
    snapshots: report.snapshots.map(({ snapshot, usage }) => ({
      name: snapshot.name,
      path: joinPath(catalog.store, snapshot.name),
      mirror: snapshot.mirror,
      status: snapshot.status,
      ...treeDocument(usage),
    })),
    mirrors: report.mirrors.map(({ name, usage }) => ({
      name,
      path: joinPath(catalog.store, name),
      exists: usage !== undefined,
      ...(usage === undefined ? {} : treeDocument(usage)),
    })),
    total: report.total,
    filesystem: report.filesystem,
    exitCode: 0,
    error: undefined,
  }
}

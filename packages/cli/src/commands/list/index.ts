// `rsb list [OPTIONS] DESTINATION`: the snapshots of a store, newest first, with their status, their run's figures
// and what the next backup's rotation does with each. Reads only (no lock: never waits for nor blocks a backup).
import { joinPath } from '@rsb/rotation/io'
import type { RunRecord } from '../../session/store.js'
import { buildCatalog, readCatalog, type Catalog, type CatalogSnapshot } from '../../session/catalog.js'
import { describeHolder, type LockHolder } from '../../session/lock.js'
import { formatRotationSpec } from '../../kit/values.js'
import { paragraphs, formatOptions } from '../../kit/help.js'
import { createLogger } from '../../kit/log.js'
import { errorReport, json } from '../../kit/render.js'
import { isRsbError } from '../../errors.js'
import type { MainIo } from '../../main.js'
import type { Parsed } from '../index.js'
import { fixLocale, formatAge, formatBytes, parseReading, readingOptions, type ReadingArgs } from './options.js'

export const options = readingOptions('Print the list as one JSON document on standard output (see the README for its fields).')

export function help(): string {
  return [
    'Usage: rsb list [OPTIONS] DESTINATION',
    '',
    ...paragraphs(
      "List the snapshots of DESTINATION, newest first: the DESTINATION of 'rsb backup' (the mirror, such as " +
        '/mnt/backups/latest or HOST:/srv/backups/latest), or the store that holds the snapshots (then every mirror of it).',
      'Each line: the snapshot, its age, its status (complete; no manifest: made before rsb kept manifests, such as the ' +
        "original's, or its manifest could not be written (that run warned); incomplete: being made, or claimed by a " +
        'run that was stopped (or whose directory was removed by hand): the next backup removes the claim; in ' +
        'deletion: a rotation began deleting it, the next backup finishes), the entries in it, the files and ' +
        'bytes its run transferred, and what the next backup does with it: "keep: daily, weekly" (the periods it stands ' +
        'for) or "expires". The rotation is planned as \'rsb backup\' plans it, with the same --rotation and ' +
        '--keep-latest (give the ones your backups use), as if the next backup made its snapshot now.',
      'It only reads: it takes no lock, so it never waits for a backup, and shows one that is at work.',
    ),
    '',
    'Options:',
    ...formatOptions(options),
    '',
    'Exit status:',
    '  0         listed',
    '  1         DESTINATION is not a backup, or its store could not be read (the error says why)',
    '  2         usage error',
    '  130, 143  interrupted by SIGINT, SIGTERM',
    '',
  ].join('\n')
}

export function parse(argv: readonly string[]): Parsed<ReadingArgs> {
  return parseReading('list', argv, options)
}

export async function run(args: ReadingArgs, io: MainIo): Promise<number> {
  fixLocale()
  const logger = createLogger(io.stderr, args.verbosity)
  const now = new Date()
  let catalog: Catalog
  try {
    const opened = await readCatalog({ destination: args.destination, sudo: args.sudo, env: io.env, logger, signal: io.signal })
    try {
      catalog = buildCatalog(opened.state, opened.mirrorNames, { scheme: args.scheme, keepLatest: args.keepLatest, now })
    } finally {
      await opened.close()
    }
  } catch (error) {
    return fail(error, args, io)
  }
  if (args.json) io.stdout.write(json(listDocument(catalog, args, now)))
  else io.stdout.write(listText(catalog, now))
  return 0
}

/** A run-time error: one line on stderr (and the document with `--json`); exit 1 (130/143 when stopped). */
export function fail(error: unknown, args: { readonly json: boolean }, io: MainIo): number {
  const reason: unknown = io.signal?.aborted ? io.signal.reason : undefined
  const exitCode = reason === 'SIGINT' ? 130 : reason === 'SIGTERM' ? 143 : 1
  io.stderr.write(errorReport(error, 'rsb'))
  if (args.json) {
    const code = isRsbError(error) ? error.code : 'ERR_RSB_CLI_INTERNAL'
    const message = error instanceof Error ? error.message : String(error)
    io.stdout.write(json({ schemaVersion: 1, exitCode, error: { code, message, hint: isRsbError(error) ? error.hint : undefined } }))
  }
  return exitCode
}

const STATUS_TEXT: Readonly<Record<CatalogSnapshot['status'], string>> = {
  complete: 'complete',
  'no-manifest': 'no manifest',
  incomplete: 'incomplete',
  deleting: 'in deletion',
}

/** The rotation column: `keep: daily, weekly`, `expires`, … */
export function rotationText(snapshot: CatalogSnapshot): string {
  const { action, reasons } = snapshot.rotation
  switch (action) {
    case 'keep':
      return `keep: ${reasons.map((r) => (r === 'keep-latest' ? 'keep-latest' : r === 'protected' ? 'newest' : r)).join(', ')}`
    case 'expire':
      return 'expires'
    case 'future':
      return 'kept: dated in the future (check the clock)'
    case 'unowned':
      return "kept: no mirror's (never rotated)"
    case 'none':
      return '-'
  }
}

/** The bytes a snapshot's run sent and received, when its manifest says. */
function transferred(snapshot: CatalogSnapshot): number | undefined {
  const figures = snapshot.manifest?.statistics
  if (figures?.bytesSent === undefined && figures?.bytesReceived === undefined) return undefined
  return (figures.bytesSent ?? 0) + (figures.bytesReceived ?? 0)
}

function lastRunOf(catalog: Catalog): RunRecord | undefined {
  return catalog.runs.at(-1)
}

/** The text of `rsb list`: a heading line, then one line per snapshot in columns. */
export function listText(catalog: Catalog, now: Date): string {
  const several = catalog.mirrors.length > 1 || catalog.snapshots.some((s) => s.mirror === undefined)
  const running = catalog.mirrors.filter((m) => m.running !== undefined)
  const heading = [
    `Store ${catalog.store}`,
    catalog.mirrors.length === 0 ? ', no mirror' : `, ${several ? 'mirrors' : 'mirror'} ${catalog.mirrors.map((m) => m.name).join(', ')}`,
    catalog.legacy ? ' (no rsb records yet: its first rsb backup adopts it)' : '',
    ...running.map((m) => `; a backup of ${m.name} is running (${describeHolder(m.running!)})`),
    `: ${catalog.snapshots.length} snapshot(s)`,
  ].join('')
  const header = ['SNAPSHOT', ...(several ? ['MIRROR'] : []), 'AGE', 'STATUS', 'FILES', 'CHANGED', 'TRANSFERRED', 'ROTATION']
  const rows = catalog.snapshots.map((s) => {
    const status = s.status === 'incomplete' && running.some((m) => m.name === s.mirror) ? 'incomplete (being made)' : STATUS_TEXT[s.status]
    return [
      s.name,
      ...(several ? [s.mirror ?? '-'] : []),
      formatAge(now.getTime() - s.created.getTime()),
      status,
      s.manifest?.entries === undefined ? '-' : String(s.manifest.entries),
      s.manifest?.statistics?.filesTransferred === undefined ? '-' : String(s.manifest.statistics.filesTransferred),
      formatBytes(transferred(s)),
      rotationText(s),
    ]
  })
  const numeric = new Set(['FILES', 'CHANGED', 'TRANSFERRED'])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : numeric.has(header[i]!) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  const last = lastRunOf(catalog)
  const footer =
    last === undefined
      ? []
      : [
          `Last run: ${last.outcome} ${formatAge(now.getTime() - Date.parse(last.ended))} ago (${last.ended})${last.error ? `: ${last.error.message} (${last.error.code})` : ''}`,
        ]
  return `${[heading, ...(rows.length > 0 ? [line(header), ...rows.map(line)] : []), ...footer].join('\n')}\n`
}

/** A lock's holder as the documents show it: who and since when. */
export function holderDocument(holder: LockHolder | undefined) {
  return holder === undefined ? undefined : { pid: holder.pid, host: holder.host, since: holder.since }
}

/** The `--json` document of `rsb list` (schema version 1: fields are only ever added). */
export function listDocument(catalog: Catalog, args: ReadingArgs, now: Date) {
  return {
    schemaVersion: 1,
    destination: args.destination,
    store: catalog.store,
    legacy: catalog.legacy,
    now: now.toISOString(),
    rotation: { scheme: formatRotationSpec(args.scheme), keepLatest: args.keepLatest },
    mirrors: catalog.mirrors.map((m) => ({ name: m.name, id: m.id, running: holderDocument(m.running) })),
    snapshots: catalog.snapshots.map((s) => ({
      name: s.name,
      path: joinPath(catalog.store, s.name),
      mirror: s.mirror,
      created: Number.isNaN(s.created.getTime()) ? undefined : s.created.toISOString(),
      ageSeconds: Number.isNaN(s.created.getTime()) ? undefined : Math.round((now.getTime() - s.created.getTime()) / 1000),
      status: s.status,
      adopted: s.adopted,
      entries: s.manifest?.entries,
      bytes: s.manifest?.bytes,
      changedFiles: s.manifest?.statistics?.filesTransferred,
      bytesTransferred: transferred(s),
      rotation: s.rotation,
      manifest: s.manifest,
    })),
    lastRun: lastRunOf(catalog),
    exitCode: 0,
    error: undefined,
  }
}

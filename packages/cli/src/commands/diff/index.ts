// `rsb diff [OPTIONS] DESTINATION [A [B]]`: what changed between two snapshots (by default the two newest): added,
// removed, content changed, metadata only, with counts and bytes. One walk of each snapshot where the store lives (on
// the server over SSH); unchanged files are recognised by the inode both snapshots share, no file is read. Reads only.
import { CliError } from '../../errors.js'
import { formatOptions, paragraphs } from '../../kit/help.js'
import { createLogger } from '../../kit/log.js'
import { json } from '../../kit/render.js'
import type { MainIo } from '../../main.js'
import type { CatalogSnapshot } from '../../session/catalog.js'
import { compareTrees, type TreeDiff } from '../../session/compare.js'
import { readHashRecord } from '../../session/hashes.js'
import { findSnapshot, walkTrees } from '../../session/walk.js'
import type { Parsed } from '../index.js'
import { fail } from '../list/index.js'
import { fixLocale } from '../list/options.js'
import {
  changeDocument,
  changesTable,
  comparingOptions,
  openSnapshots,
  parseComparing,
  totalsDocument,
  totalsLine,
  totalsTable,
  type ComparingArgs,
} from './options.js'

export const options = comparingOptions('Print the changes as one JSON document on standard output (see the README for its fields).', [
  { name: 'stat', description: 'Print only the totals: how many entries were added, removed, changed, and their bytes.' },
])

/** `rsb diff`'s typed arguments. */
export interface DiffArgs extends ComparingArgs {
  /** The older snapshot (a name or `latest`); undefined: the one before the newest. */
  readonly from: string | undefined
  /** The newer snapshot; undefined: the newest. */
  readonly to: string | undefined
  readonly stat: boolean
}

export function help(): string {
  return [
    'Usage: rsb diff [OPTIONS] DESTINATION [A [B]]',
    '',
    ...paragraphs(
      "Show what changed from the snapshot A to the snapshot B of DESTINATION (the DESTINATION of 'rsb backup', such " +
        'as /mnt/backups/latest or HOST:/srv/backups/latest, or its store). A and B are snapshot names ' +
        "('2026-11-30 03:00:01') or latest; without B, B is the newest snapshot; without A and B, the two newest.",
      'Each line: the change (added, removed, content: its type, size, mtime or link target changed, metadata: only ' +
        'its mode or owner, or a new inode with nothing else changed), the type, the size and the path (a directory ' +
        'ends with /), then what differs; the totals follow. A file both snapshots share (the same inode) is unchanged; ' +
        'directories compare by mode and owner. No file is read: each snapshot is walked once, where the store lives.',
      'It only reads: it takes no lock and writes nothing.',
    ),
    '',
    'Options:',
    ...formatOptions(options),
    '',
    'Exit status:',
    '  0         compared (also when something changed)',
    '  1         DESTINATION is not a backup (ERR_RSB_CLI_NOT_A_BACKUP), a snapshot is',
    '            not there (ERR_RSB_CLI_SNAPSHOT_NOT_FOUND), or the snapshots could not',
    '            be read (ERR_RSB_CLI_WALK_FAILED)',
    '  2         usage error',
    '  130, 143  interrupted by SIGINT, SIGTERM',
    '',
  ].join('\n')
}

export function parse(argv: readonly string[]): Parsed<DiffArgs> {
  let stat = false
  const parsed = parseComparing('diff', argv, options, { min: 0, max: 2, usage: 'DESTINATION [A [B]]' }, (option) => {
    if (option.name === 'stat') stat = true
  })
  if (parsed.kind !== 'run') return parsed
  return { kind: 'run', args: { ...parsed.args, from: parsed.rest[0], to: parsed.rest[1], stat } }
}

/** The two snapshots to compare. */
function pick(snapshots: readonly CatalogSnapshot[], args: DiffArgs): [CatalogSnapshot, CatalogSnapshot] {
  if (args.from === undefined) {
    if (snapshots.length < 2) {
      throw new CliError(
        'ERR_RSB_CLI_SNAPSHOT_NOT_FOUND',
        `${args.destination} has ${snapshots.length === 0 ? 'no complete snapshot' : 'one complete snapshot only'}: nothing to compare.`,
        { destination: args.destination, hint: 'Compare two snapshots once rsb backup has made a second one.' },
      )
    }
    return [snapshots.at(-2)!, snapshots.at(-1)!]
  }
  return [findSnapshot(snapshots, args.from, args.destination), findSnapshot(snapshots, args.to ?? 'latest', args.destination)]
}

export async function run(args: DiffArgs, io: MainIo): Promise<number> {
  fixLocale()
  const logger = createLogger(io.stderr, args.verbosity)
  let document: ReturnType<typeof diffDocument>
  let text: string
  try {
    const opened = await openSnapshots(args, io, logger)
    try {
      const [from, to] = pick(opened.snapshots, args)
      const roots = [opened.directory(from), opened.directory(to)]
      logger.log('debug', `Walking ${roots.join(' and ')}`)
      const [before, after] = await walkTrees(opened.context, roots, io.signal)
      for (const [tree, snapshot] of [
        [before, from],
        [after, to],
      ] as const) {
        if (tree?.entries === undefined) {
          throw new CliError('ERR_RSB_CLI_SNAPSHOT_NOT_FOUND', `The snapshot ${snapshot.name} is gone (a rotation removed it meanwhile).`, {
            destination: args.destination,
            hint: `List the snapshots there are with 'rsb list ${args.destination}'.`,
          })
        }
      }
      // the content hashes the backups recorded (metadata files, nothing read in the snapshots) decide content against
      // metadata where both snapshots have them
      const recorded = async (name: string) => {
        try {
          const record = await readHashRecord(opened.context, opened.catalog.store, name, io.signal)
          return record === undefined ? undefined : new Map(record.entries.map((e) => [e.name, e.hash]))
        } catch (error) {
          if (io.signal?.aborted) throw error
          logger.log(
            'warning',
            `The content hashes of snapshot ${name} cannot be read (${(error as Error).message}): size and mtime decide.`,
          )
          return undefined
        }
      }
      const hashes = { before: await recorded(from.name), after: await recorded(to.name) }
      const diff = compareTrees(before!.entries!, after!.entries!, hashes)
      const store = opened.catalog.store
      document = diffDocument(args, store, [from.name, to.name], roots, diff)
      text = diffText(args, store, [from.name, to.name], diff)
    } finally {
      await opened.close()
    }
  } catch (error) {
    return fail(error, args, io)
  }
  io.stdout.write(args.json ? json(document) : text)
  return 0
}

/** The text of `rsb diff`: a heading, the changes in columns (not with --stat), the totals. */
export function diffText(args: DiffArgs, store: string, names: readonly [string, string], diff: TreeDiff): string {
  const heading = `Store ${store}: from ${names[0]} to ${names[1]}`
  if (args.stat) return `${[heading, ...totalsTable(diff.totals)].join('\n')}\n`
  const table = changesTable(diff.changes)
  return `${[heading, ...(table.length === 0 ? ['No changes.'] : table), `Total: ${totalsLine(diff.totals)}.`].join('\n')}\n`
}

/** The `--json` document of `rsb diff` (schema version 1: fields are only ever added). */
export function diffDocument(args: DiffArgs, store: string, names: readonly [string, string], roots: readonly string[], diff: TreeDiff) {
  return {
    schemaVersion: 1,
    destination: args.destination,
    store,
    from: { name: names[0], path: roots[0] },
    to: { name: names[1], path: roots[1] },
    totals: totalsDocument(diff.totals),
    changes: args.stat ? undefined : diff.changes.map((c) => changeDocument(c)),
    exitCode: 0,
    error: undefined,
  }
}

// `rsb versions [OPTIONS] DESTINATION PATH`: every distinct version of PATH across the snapshots (the first and last
// snapshot that hold it, its size, mtime, mode and owner, its content hash with --hash), as dirvish-locate; for a
// directory also what changed inside it from one snapshot to the next. Walks where the store lives (on the server
// over SSH); a symbolic link among PATH's parents inside a snapshot is never followed. Reads only.
import { HASH_ALGORITHM, hashFiles } from '../../session/hashes.js'
import path from 'node:path'
import type { Context } from '@rsb/exec'
import { CliError, UsageError } from '../../errors.js'
import { formatOptions, paragraphs } from '../../kit/help.js'
import { createLogger } from '../../kit/log.js'
import { json } from '../../kit/render.js'
import type { MainIo } from '../../main.js'
import { pathVersions, subtreeChanges, type PathVersion, type SubtreeChange } from '../../session/compare.js'
import { walkTrees, type TreeEntry } from '../../session/walk.js'
import type { Parsed } from '../index.js'
import { fail } from '../list/index.js'
import { fixLocale, formatBytes } from '../list/options.js'
import {
  changeDocument,
  changesTable,
  comparingOptions,
  entryDocument,
  modeText,
  mtimeIso,
  openSnapshots,
  parseComparing,
  shown,
  totalsDocument,
  totalsLine,
  typeText,
  type ComparingArgs,
} from '../diff/options.js'

export const options = comparingOptions('Print the versions as one JSON document on standard output (see the README for its fields).', [
  {
    name: 'hash',
    description: `Also print each file version's content hash (${HASH_ALGORITHM}, as rsb verify's; computed where the store lives: this reads the files).`,
  },
])

/** `rsb versions`' typed arguments. */
export interface VersionsArgs extends ComparingArgs {
  /** PATH as given. */
  readonly path: string
  /** PATH relative to a snapshot's root, normalised (`''`: the whole snapshot). */
  readonly relative: string
  readonly hash: boolean
}

export function help(): string {
  return [
    'Usage: rsb versions [OPTIONS] DESTINATION PATH',
    '',
    ...paragraphs(
      "List every distinct version of PATH in the snapshots of DESTINATION (the DESTINATION of 'rsb backup', such as " +
        '/mnt/backups/latest or HOST:/srv/backups/latest, or its store), oldest first. PATH is relative to the ' +
        'backed-up SOURCE: /etc/hosts and etc/hosts are SNAPSHOT/etc/hosts.',
      'Each line: the first and the last snapshot that hold the version, how many do, its size, mtime (UTC), mode, ' +
        'owner (uid:gid), how it came to be (new; content or metadata changed; reappeared after snapshots without ' +
        `it) and with --hash its content hash (${HASH_ALGORITHM}). A version is what snapshots share unchanged (the same inode; a directory: ` +
        'the same mode and owner). For a directory, what changed inside it follows, for each pair of consecutive ' +
        "snapshots that hold it and differ there (as 'rsb diff' shows it). A symbolic link among PATH's parents in a " +
        'snapshot is never followed: that snapshot is taken as not holding PATH, and said so.',
      'It only reads: it takes no lock and writes nothing.',
    ),
    '',
    'Options:',
    ...formatOptions(options),
    '',
    'Exit status:',
    '  0         listed',
    '  1         DESTINATION is not a backup (ERR_RSB_CLI_NOT_A_BACKUP), PATH is in no',
    '            snapshot (ERR_RSB_CLI_PATH_NOT_IN_SNAPSHOTS), the snapshots could not be',
    '            read (ERR_RSB_CLI_WALK_FAILED) or hashed (ERR_RSB_CLI_HASHES_FAILED)',
    '  2         usage error (also a PATH with a .. component)',
    '  130, 143  interrupted by SIGINT, SIGTERM',
    '',
  ].join('\n')
}

/**
 * PATH relative to a snapshot's root: `/etc/hosts`, `etc/hosts` and `./etc//hosts/` are `etc/hosts`; `/` is the root.
 *
 * @throws {UsageError} for an empty PATH, a NUL byte or a `..` component
 */
export function normalizeVersionsPath(given: string): string {
  const refuse = (why: string) =>
    new UsageError(`The PATH ${JSON.stringify(given)} ${why}.`, {
      hint: 'Give the path as it is in the snapshots, relative to the backed-up SOURCE, without .. (for example etc/hosts or /etc/hosts).',
    })
  if (given === '') throw refuse('is empty')
  if (given.includes('\0')) throw refuse('holds a NUL byte')
  const components = given.split('/').filter((part) => part !== '' && part !== '.')
  if (components.includes('..')) throw refuse('holds a .. component, which could lead out of the snapshot')
  return components.join('/')
}

export function parse(argv: readonly string[]): Parsed<VersionsArgs> {
  let hash = false
  const parsed = parseComparing('versions', argv, options, { min: 1, max: 1, usage: 'DESTINATION PATH' }, (option) => {
    if (option.name === 'hash') hash = true
  })
  if (parsed.kind !== 'run') return parsed
  const given = parsed.rest[0]!
  return { kind: 'run', args: { ...parsed.args, path: given, relative: normalizeVersionsPath(given), hash } }
}

// For each snapshot: `ok\0\0`, `missing\0\0`, or `symlink\0COMPONENT\0` / `notdir\0COMPONENT\0` when a parent
// component of the path in it is a symbolic link or no directory (never followed: the path would lead outside it).
const CHECK_SCRIPT = `
r=$1; shift
for s do
  p=$s; rest=$r; bad=
  while :; do
    case $rest in */*) c=\${rest%%/*}; rest=\${rest#*/} ;; *) break ;; esac
    p=$p/$c
    if [ -L "$p" ]; then bad=symlink; break; fi
    if [ ! -d "$p" ]; then if [ -e "$p" ]; then bad=notdir; else bad=missing; fi; break; fi
  done
  if [ "$bad" = missing ]; then printf 'missing\\0\\0'; continue; fi
  if [ -n "$bad" ]; then printf '%s\\0%s\\0' "$bad" "\${p#"$s"/}"; continue; fi
  [ -z "$rest" ] || p=$p/$rest
  if [ -e "$p" ] || [ -L "$p" ]; then printf 'ok\\0\\0'; else printf 'missing\\0\\0'; fi
done
`

/** A snapshot whose copy of PATH was not looked at: a parent component in it is a symbolic link or no directory. */
interface NotFollowed {
  readonly snapshot: string
  readonly component: string
  readonly reason: 'symlink' | 'notdir'
}

type Check = { readonly status: 'ok' | 'missing' } | { readonly status: 'symlink' | 'notdir'; readonly component: string }

async function checkParents(
  context: Context,
  relative: string,
  roots: readonly string[],
  signal: AbortSignal | undefined,
): Promise<Check[]> {
  if (roots.length === 0) return []
  const result = await context.run(['sh', '-c', CHECK_SCRIPT, 'sh', relative, ...roots], { signal, check: false })
  const fields = result.stdout.split('\0')
  if (result.exitCode !== 0 || fields.length < roots.length * 2) {
    throw new CliError(
      'ERR_RSB_CLI_WALK_FAILED',
      `Could not look at the snapshots on ${context.host}: ${result.stderr.trim() || `exit status ${result.exitCode}`}`,
      { hint: 'Run as root (or let rsb use sudo): snapshots keep the owners and modes of SOURCE.' },
    )
  }
  return roots.map((_root, i) => {
    const status = fields[i * 2]!
    if (status === 'symlink' || status === 'notdir') return { status, component: fields[i * 2 + 1]! }
    return { status: status === 'ok' ? 'ok' : 'missing' }
  })
}

/** Each file's content hash ({@link HASH_ALGORITHM}, as the backups record them), computed where the store lives. */
async function hashVersions(context: Context, files: readonly string[], signal: AbortSignal | undefined): Promise<string[]> {
  if (files.length === 0) return []
  const bytes = files.map((file) => Buffer.from(file).toString('latin1'))
  const { hashes, errors } = await hashFiles(context, bytes, signal)
  const found = bytes.map((file) => hashes.get(file))
  if (found.some((hash) => hash === undefined)) {
    throw new CliError(
      'ERR_RSB_CLI_HASHES_FAILED',
      `Could not compute the content hashes on ${context.host}: ${errors || 'a file could not be read'}`,
      {
        hint: 'Run as root (or let rsb use sudo) to read every file; b2sum (coreutils 8.26 or later) must be installed there.',
      },
    )
  }
  return found as string[]
}

/** What `rsb versions` found. */
export interface VersionsResult {
  readonly store: string
  /** How many snapshots there are, and how many hold PATH. */
  readonly snapshots: number
  readonly holding: number
  readonly versions: readonly PathVersion[]
  /** Each version's content hash (files only, with --hash). */
  readonly hashes: readonly (string | undefined)[]
  /** For a directory: what changed inside it; undefined for anything else. */
  readonly changes: readonly SubtreeChange[] | undefined
  readonly notFollowed: readonly NotFollowed[]
}

export async function run(args: VersionsArgs, io: MainIo): Promise<number> {
  fixLocale()
  const logger = createLogger(io.stderr, args.verbosity)
  let result: VersionsResult
  try {
    const opened = await openSnapshots(args, io, logger)
    try {
      const { snapshots, context } = opened
      const roots = snapshots.map((s) => opened.directory(s))
      const checks = await checkParents(context, args.relative, roots, io.signal)
      const notFollowed: NotFollowed[] = []
      checks.forEach((check, i) => {
        if (check.status === 'symlink' || check.status === 'notdir') {
          notFollowed.push({ snapshot: snapshots[i]!.name, component: check.component, reason: check.status })
        }
      })
      const wanted = checks.flatMap((check, i) => (check.status === 'ok' ? [i] : []))
      const walked = await walkTrees(
        context,
        wanted.map((i) => path.posix.join(roots[i]!, args.relative)),
        io.signal,
      )
      const trees: (readonly TreeEntry[] | undefined)[] = snapshots.map(() => undefined)
      wanted.forEach((index, i) => (trees[index] = walked[i]?.entries))
      const holding = trees.filter((t) => t !== undefined).length
      if (holding === 0) {
        const skipped = notFollowed[0]
        const newest = snapshots.at(-1)
        throw new CliError(
          'ERR_RSB_CLI_PATH_NOT_IN_SNAPSHOTS',
          `${shown(args.path)} is in none of the ${snapshots.length} snapshot(s) of ${args.destination}.`,
          {
            path: args.path,
            hint:
              skipped === undefined
                ? newest === undefined
                  ? 'Make a snapshot with rsb backup first.'
                  : `Give the path as it was below the backed-up SOURCE (look in ${shown(opened.directory(newest))}).`
                : `In ${skipped.snapshot}, ${shown(skipped.component)} is ${skipped.reason === 'symlink' ? 'a symbolic link' : 'no directory'} (never followed): give the path its target names.`,
          },
        )
      }
      const entries = snapshots.map((s, i) => ({ snapshot: s.name, entry: trees[i]?.find((e) => e.path === '') }))
      const versions = pathVersions(entries)
      const isDirectory = entries.some((e) => e.entry?.type === 'd')
      const changes = isDirectory ? subtreeChanges(snapshots.map((s, i) => ({ snapshot: s.name, entries: trees[i] }))) : undefined
      let hashes: (string | undefined)[] = versions.map(() => undefined)
      if (args.hash) {
        const files = versions.flatMap((v, i) => (v.entry.type === 'f' ? [i] : []))
        const byName = new Map(snapshots.map((s) => [s.name, s]))
        const computed = await hashVersions(
          context,
          files.map((i) => path.posix.join(opened.directory(byName.get(versions[i]!.first)!), args.relative)),
          io.signal,
        )
        files.forEach((index, i) => (hashes[index] = computed[i]))
      }
      result = { store: opened.catalog.store, snapshots: snapshots.length, holding, versions, hashes, changes, notFollowed }
    } finally {
      await opened.close()
    }
  } catch (error) {
    return fail(error, args, io)
  }
  io.stdout.write(args.json ? json(versionsDocument(args, result)) : versionsText(args, result))
  return 0
}

function mtimeText(mtime: string): string {
  return mtimeIso(mtime)?.replace(/\.\d+Z$/, 'Z') ?? '-'
}

/** The text of `rsb versions`: a heading, the versions in columns, notes, and for a directory the changes inside it. */
export function versionsText(args: VersionsArgs, result: VersionsResult): string {
  const name = shown(args.relative)
  const lines = [
    `Store ${result.store}: ${result.versions.length} version(s) of ${name} in ${result.holding} of ${result.snapshots} snapshot(s)`,
  ]
  const header = ['FIRST', 'LAST', 'SNAPSHOTS', 'TYPE', 'SIZE', 'MTIME', 'MODE', 'OWNER', 'CHANGE', ...(args.hash ? ['HASH'] : [])]
  const rows = result.versions.map((v, i) => [
    v.first,
    v.last,
    String(v.snapshots),
    typeText(v.entry.type),
    v.entry.type === 'd' ? '-' : formatBytes(v.entry.size),
    mtimeText(v.entry.mtime),
    modeText(v.entry.mode),
    `${v.entry.uid}:${v.entry.gid}`,
    v.fields.length > 0 ? `${v.change} (${v.fields.join(', ')})` : v.change,
    ...(args.hash ? [result.hashes[i] ?? '-'] : []),
  ])
  const numeric = new Set(['SNAPSHOTS', 'SIZE'])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : numeric.has(header[i]!) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  lines.push(line(header), ...rows.map(line))
  for (const skipped of result.notFollowed) {
    lines.push(
      `Not followed in ${skipped.snapshot}: ${shown(skipped.component)} is ${skipped.reason === 'symlink' ? 'a symbolic link' : 'no directory'} there.`,
    )
  }
  if (result.changes !== undefined) {
    if (result.changes.length === 0) lines.push('', `Nothing changed inside ${name}.`)
    for (const change of result.changes) {
      lines.push(
        '',
        `From ${change.from} to ${change.to}: ${totalsLine(change.totals)}`,
        ...changesTable(change.changes, args.relative, '  '),
      )
    }
  }
  return `${lines.join('\n')}\n`
}

/** The `--json` document of `rsb versions` (schema version 1: fields are only ever added). */
export function versionsDocument(args: VersionsArgs, result: VersionsResult) {
  return {
    schemaVersion: 1,
    destination: args.destination,
    store: result.store,
    path: args.path,
    relative: args.relative,
    snapshots: result.snapshots,
    holding: result.holding,
    versions: result.versions.map((v, i) => ({
      first: v.first,
      last: v.last,
      snapshots: v.snapshots,
      change: v.change,
      fields: v.fields,
      ...entryDocument(v.entry),
      hash: result.hashes[i],
    })),
    changes:
      result.changes?.map((c) => ({
        from: c.from,
        to: c.to,
        totals: totalsDocument(c.totals),
        changes: c.changes.map((e) => changeDocument(e, args.relative)),
      })) ?? undefined,
    notFollowed: result.notFollowed,
    exitCode: 0,
    error: undefined,
  }
}

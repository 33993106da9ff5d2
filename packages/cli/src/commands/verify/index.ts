// `rsb verify [OPTIONS] DESTINATION [SNAPSHOT…]`: each snapshot's files against the content hashes its backup
// recorded (bit rot, tampering, a bad disk). Reads only: no lock, nothing written.
import { DEFAULT_ROTATION_SCHEME } from '../../args.js'
import { UsageError } from '../../errors.js'
import { getopt, type OptionDefinition } from '../../kit/getopt.js'
import { formatOptions, paragraphs } from '../../kit/help.js'
import { createLogger } from '../../kit/log.js'
import { json } from '../../kit/render.js'
import type { MainIo } from '../../main.js'
import { buildCatalog, readCatalog } from '../../session/catalog.js'
import { HASH_ALGORITHM } from '../../session/hashes.js'
import { findSnapshot, readableSnapshots } from '../../session/walk.js'
import type { Parsed } from '../index.js'
import { fail } from '../list/index.js'
import { fixLocale, formatBytes, parseReading, readingOptions } from '../list/options.js'
import { verifySnapshots, type Problem, type Verification } from './check.js'

const SHARED = new Set(['json', 'no-sudo', 'verbose', 'quiet', 'version', 'help'])

export const options: OptionDefinition[] = [
  {
    name: 'sample',
    value: 'PERCENT',
    description:
      'Read only this share of the recorded files (chosen at random, 0 < PERCENT ≤ 100; default 100: all), for a quick ' +
      'check. Missing and extra files are always looked for in full.',
  },
  ...readingOptions('Print the result as one JSON document on standard output.').filter((o) => SHARED.has(o.name)),
]

export interface VerifyArgs {
  readonly destination: string
  readonly snapshots: readonly string[]
  readonly sample: number
  readonly sudo: boolean
  readonly json: boolean
  readonly verbosity: number
}

export function help(): string {
  return [
    'Usage: rsb verify [OPTIONS] DESTINATION [SNAPSHOT…]',
    '',
    ...paragraphs(
      "Check that the snapshots of DESTINATION (the DESTINATION of 'rsb backup', or its store) still hold what their " +
        'backups put in them: every regular file is read and its content compared with the hash recorded when the ' +
        `snapshot was made (${HASH_ALGORITHM}, in the store's .rsb/hashes/), and every file is looked for: one that is ` +
        'missing, one that was added, and one whose content or size changed (bit rot, tampering, a failing disk) is ' +
        'reported with its snapshot and path. A file that several snapshots share (one inode) is read once and ' +
        'reported for each of them.',
      'SNAPSHOT is a snapshot name or latest; default: every complete snapshot. Snapshots made before rsb recorded ' +
        'hashes are reported as unverifiable, never as failed. Each backup hashes only the files that are new in its ' +
        'snapshot; the others keep the hash recorded when they were new.',
      'Over SSH the files are read and hashed on the server (b2sum), never copied. It only reads: it takes no lock.',
    ),
    '',
    'Options:',
    ...formatOptions(options),
    '',
    'Exit status:',
    '  0         every snapshot checked is as it was made (unverifiable ones are listed)',
    '  1         a file changed, is missing, was added or cannot be read; or DESTINATION is not a backup, or cannot be read',
    '  2         usage error',
    '  130, 143  interrupted by SIGINT, SIGTERM',
    '',
  ].join('\n')
}

/** `--sample`'s value: a percentage above 0 and at most 100 (`10`, `2.5`, `10%`). */
export function parseSample(value: string, as: string): number {
  const number = /^\d+(\.\d+)?%?$/.test(value) ? Number.parseFloat(value) : Number.NaN
  if (!(number > 0 && number <= 100)) {
    throw new UsageError(`${as} needs a percentage above 0 and at most 100 (got ${JSON.stringify(value)}).`, {
      hint: `For example ${as}=10 reads a tenth of the files.`,
    })
  }
  return number
}

export function parse(argv: readonly string[]): Parsed<VerifyArgs> {
  const { options: given, positionals } = getopt(argv, options)
  if (given.some((o) => o.name === 'help')) return { kind: 'help' }
  if (given.some((o) => o.name === 'version')) return { kind: 'version' }
  let sample = 100
  const shared: string[] = []
  for (const option of given) {
    if (option.name === 'sample') sample = parseSample(option.value ?? '', option.as)
    else shared.push(option.as.startsWith('--') && option.value !== undefined ? `${option.as}=${option.value}` : option.as)
  }
  if (positionals.length === 0) {
    throw new UsageError('rsb verify needs a DESTINATION.', {
      hint: "Usage: rsb verify [OPTIONS] DESTINATION [SNAPSHOT…]; see 'rsb verify --help'.",
    })
  }
  const [destination, ...snapshots] = positionals as [string, ...string[]]
  // DESTINATION and the shared options are checked as every reading command checks them
  const reading = parseReading('verify', [...shared, '--', destination], options)
  if (reading.kind !== 'run') return reading
  for (const name of snapshots) if (name === '') throw new UsageError('A SNAPSHOT is empty.')
  const { sudo, json: asJson, verbosity } = reading.args
  return { kind: 'run', args: { destination, snapshots, sample, sudo, json: asJson, verbosity } }
}

export async function run(args: VerifyArgs, io: MainIo): Promise<number> {
  fixLocale()
  const logger = createLogger(io.stderr, args.verbosity)
  const started = performance.now()
  let result: Verification
  let store: string
  try {
    const opened = await readCatalog({ destination: args.destination, sudo: args.sudo, env: io.env, logger, signal: io.signal })
    try {
      const catalog = buildCatalog(opened.state, opened.mirrorNames, { scheme: DEFAULT_ROTATION_SCHEME, keepLatest: 0, now: new Date() })
      store = catalog.store
      const all = readableSnapshots(catalog.snapshots)
      const chosen =
        args.snapshots.length === 0 ? all : [...new Set(args.snapshots.map((given) => findSnapshot(all, given, args.destination)))]
      const order = new Map(all.map((s, i) => [s.name, i]))
      chosen.sort((a, b) => order.get(a.name)! - order.get(b.name)!)
      result = await verifySnapshots({
        context: opened.context,
        store,
        snapshots: chosen.map((s) => ({ name: s.name, hashesRecorded: s.manifest?.hashes !== undefined })),
        sample: args.sample,
        signal: io.signal,
      })
    } finally {
      await opened.close()
    }
  } catch (error) {
    return fail(error, args, io)
  }
  const exitCode = result.problems.length > 0 ? 1 : 0
  const seconds = Math.round(performance.now() - started) / 1000
  if (args.json) io.stdout.write(json(verifyDocument(result, store, args, exitCode, seconds)))
  else io.stdout.write(verifyText(result, store, args, seconds))
  return exitCode
}

/** A path for a line of text: as it is, or quoted as JSON when it holds control characters (a newline). */
export function printablePath(path: string): string {
  return /[\p{Cc}\uFFFD]/u.test(path) || path === '' ? JSON.stringify(path) : path
}

const KIND_WORDS: Record<Problem['kind'], string> = {
  changed: 'changed',
  missing: 'missing',
  extra: 'added',
  unreadable: 'unreadable',
  record: 'record',
}

export function verifyText(result: Verification, store: string, args: VerifyArgs, seconds: number): string {
  const lines: string[] = []
  const count = result.snapshots.length
  if (count === 0) return `${store} has no complete snapshot to verify.\n`
  const sample = args.sample < 100 ? ` (a ${args.sample}% sample)` : ''
  lines.push(
    `Verified ${count} snapshot(s) of ${store}${sample}: read ${result.filesRead} file(s), ${formatBytes(result.bytesRead)}, in ${seconds}s.`,
  )
  const width = Math.max(...result.snapshots.map((s) => s.name.length))
  for (const s of result.snapshots) {
    const what =
      s.status === 'gone'
        ? 'gone: deleted while it was verified (a rotation)'
        : s.status === 'unverifiable'
          ? 'unverifiable: no hashes were recorded when it was made'
          : `${s.status === 'ok' ? 'ok' : `FAILED: ${s.problems} problem(s)`}, ${s.checked} of ${s.files} file(s) checked${s.unhashed > 0 ? `, ${s.unhashed} unreadable when recorded` : ''}`
    lines.push(`  ${s.name.padEnd(width)}  ${what}`)
  }
  if (result.problems.length > 0) {
    lines.push('', 'Problems:')
    for (const p of result.problems) {
      lines.push(`  ${KIND_WORDS[p.kind].padEnd(10)} ${p.snapshot}  ${p.path === '' ? '' : `${printablePath(p.path)}: `}${p.detail}`)
    }
  } else if (result.snapshots.some((s) => s.status === 'ok')) {
    lines.push('No file changed since its snapshot was made.')
  }
  return `${lines.join('\n')}\n`
}

export function verifyDocument(result: Verification, store: string, args: VerifyArgs, exitCode: number, seconds: number): object {
  return {
    schemaVersion: 1,
    store,
    algorithm: HASH_ALGORITHM,
    sample: args.sample,
    snapshots: result.snapshots,
    problems: result.problems,
    filesRead: result.filesRead,
    bytesRead: result.bytesRead,
    durationSeconds: seconds,
    exitCode,
  }
}

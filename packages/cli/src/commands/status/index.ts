// `rsb status [OPTIONS] DESTINATION`: whether the newest snapshot is fresh and the last run succeeded, for a
// monitoring cron line (exit 0 or 1), a person (one line per mirror) and node_exporter (`--metrics=FILE`). Reads only.
import fs from 'node:fs'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Context } from '@rsb/exec'
import type { RotationScheme } from '@rsb/rotation'
import { CliError, UsageError } from '../../errors.js'
import { formatOptions, paragraphs } from '../../kit/help.js'
import { createLogger } from '../../kit/log.js'
import { errorReport, json } from '../../kit/render.js'
import { parseDuration } from '../../kit/values.js'
import type { MainIo } from '../../main.js'
import { buildCatalog, readCatalog, type Catalog, type CatalogMirror, type CatalogSnapshot } from '../../session/catalog.js'
import { describeHolder } from '../../session/lock.js'
import type { RunRecord } from '../../session/store.js'
import type { Parsed } from '../index.js'
import { fail, holderDocument } from '../list/index.js'
import { fixLocale, formatAge, parseReading, readingOptions, type ReadingArgs } from '../list/options.js'

const OWN = [
  {
    name: 'max-age',
    value: 'DURATION',
    description:
      'How old the newest snapshot may be (90m, 26h, 2d…). Default: the finest period of the rotation scheme and a ' +
      'twelfth of it: 26h for daily, 7d14h for weekly, and 65m for the default scheme (hourly=24,…): for daily ' +
      'backups give their --rotation (--rotation=daily=7) or --max-age=26h.',
  },
  {
    name: 'metrics',
    value: 'FILE',
    description:
      "Also write the figures in Prometheus' text format to FILE (for node_exporter's textfile collector, FILE ending " +
      'in .prom), atomically: a new file beside it, renamed over it. Written whatever the status, also when the store ' +
      'cannot be read.',
  },
]

export const options = readingOptions('Print the status as one JSON document on standard output.', OWN)

export interface StatusArgs extends ReadingArgs {
  /** In seconds; undefined: from the rotation scheme. */
  readonly maxAge: number | undefined
  readonly metrics: string | undefined
}

export function help(): string {
  return [
    'Usage: rsb status [OPTIONS] DESTINATION',
    '',
    ...paragraphs(
      "Check that the backups of DESTINATION (the DESTINATION of 'rsb backup', or its store: then each of its mirrors) " +
        'are fresh: the newest complete snapshot is younger than --max-age, and the last run succeeded. One line per ' +
        'mirror says which, since when, and the last error with its code.',
      'Runs that stopped before they reached the store (a disk that was not there, a wrong command line) leave no ' +
        'record in it: their snapshots are missing, and the age says so. A snapshot dated in the future is not taken ' +
        'as the newest.',
      'It only reads: it takes no lock, never waits for a backup, and shows one that is at work.',
    ),
    '',
    'Options:',
    ...formatOptions(options),
    '',
    'Exit status:',
    '  0         fresh: the newest snapshot is younger than the limit and the last run succeeded',
    '  1         stale, the last run failed or was refused, or the store could not be read',
    '  2         usage error',
    '  130, 143  interrupted by SIGINT, SIGTERM',
    '',
  ].join('\n')
}

export function parse(argv: readonly string[]): Parsed<StatusArgs> {
  let maxAge: number | undefined
  let metrics: string | undefined
  const parsed = parseReading('status', argv, options, (option) => {
    if (option.name === 'max-age') {
      maxAge = parseDuration(option.value ?? '', option.as)
      if (maxAge === 0) throw new UsageError(`${option.as} must be more than 0.`)
    }
    if (option.name === 'metrics') {
      if (!option.value) throw new UsageError(`${option.as} needs a file name.`)
      metrics = option.value
    }
  })
  return parsed.kind === 'run' ? { kind: 'run', args: { ...parsed.args, maxAge, metrics } } : parsed
}

/** The default limit: the finest period the scheme keeps, and a twelfth of it (daily: 26h). */
export function defaultMaxAge(scheme: Readonly<RotationScheme>): number {
  const periods: [keyof RotationScheme, number][] = [
    ['minutely', 60],
    ['hourly', 3600],
    ['daily', 86_400],
    ['weekly', 7 * 86_400],
    ['monthly', 31 * 86_400],
    ['yearly', 366 * 86_400],
  ]
  const finest = periods.find(([frequency]) => scheme[frequency] !== undefined && scheme[frequency] !== 0)?.[1] ?? 86_400
  return finest + finest / 12
}

/** The status of one mirror. */
export interface MirrorStatus {
  readonly mirror: CatalogMirror
  readonly newest: CatalogSnapshot | undefined
  /** Complete snapshots (with or without manifest) of the mirror. */
  readonly snapshots: number
  readonly lastRun: RunRecord | undefined
  /** The last successful run. */
  readonly lastSuccess: RunRecord | undefined
  /** The first of the failed runs since the last success (undefined when the last run succeeded). */
  readonly failingSince: RunRecord | undefined
  readonly stale: boolean
  readonly failed: boolean
}

/** The status of each mirror of a catalogue. Pure. */
export function mirrorStatuses(catalog: Catalog, now: Date, maxAgeSeconds: number): MirrorStatus[] {
  return catalog.mirrors.map((mirror) => {
    const complete = catalog.snapshots.filter(
      (s) => s.mirror === mirror.name && (s.status === 'complete' || s.status === 'no-manifest') && !Number.isNaN(s.created.getTime()),
    )
    // a snapshot dated in the future (a clock that was wrong) is never the proof of a fresh backup
    const newest = complete.filter((s) => s.created.getTime() <= now.getTime()).sort((a, b) => b.created.getTime() - a.created.getTime())[0]
    // a run refused because another one held the lock did nothing wrong: the other run's outcome is the one that counts
    const runs = catalog.runs.filter(
      (r) => r.mirrorName === mirror.name && (mirror.id === undefined || r.mirror === mirror.id) && r.error?.code !== 'ERR_RSB_CLI_LOCKED',
    )
    const lastRun = runs.at(-1)
    const successIndex = runs.findLastIndex((r) => r.outcome === 'succeeded')
    const failed = lastRun !== undefined && lastRun.outcome !== 'succeeded'
    const stale = newest === undefined || now.getTime() - newest.created.getTime() > maxAgeSeconds * 1000
    return {
      mirror,
      newest,
      snapshots: complete.length,
      lastRun,
      lastSuccess: successIndex === -1 ? undefined : runs[successIndex],
      failingSince: failed ? runs[successIndex + 1] : undefined,
      stale,
      failed,
    }
  })
}

/** One line for a person. */
export function statusLine(status: MirrorStatus, store: string, now: Date, maxAgeSeconds: number): string {
  const { newest, lastRun, mirror } = status
  const where = `${mirror.name} of ${store}`
  const limit = formatAge(maxAgeSeconds * 1000)
  const age = newest ? formatAge(now.getTime() - newest.created.getTime()) : undefined
  const parts: string[] = []
  if (status.failed && lastRun) {
    const error = lastRun.error ? `: ${lastRun.error.message} (${lastRun.error.code})` : ''
    const since = status.failingSince && status.failingSince !== lastRun ? `; failing since ${status.failingSince.started}` : ''
    parts.push(
      `FAILED: ${where}: the last run (${lastRun.started}) ${lastRun.outcome === 'failed' ? 'failed' : `was ${lastRun.outcome}`}${error}${since}`,
    )
    parts.push(newest ? `newest snapshot ${newest.name} is ${age} old (limit ${limit})` : 'no snapshot')
  } else if (status.stale) {
    parts.push(
      newest
        ? `STALE: ${where}: the newest snapshot ${newest.name} is ${age} old, older than the limit of ${limit} (stale since ${new Date(newest.created.getTime() + maxAgeSeconds * 1000).toISOString()})`
        : `STALE: ${where}: no complete snapshot`,
    )
    if (lastRun) parts.push(`the last run (${lastRun.started}) succeeded`)
  } else {
    parts.push(`OK: ${where}: the newest snapshot ${newest!.name} is ${age} old (limit ${limit})`)
    parts.push(lastRun ? `the last run (${lastRun.started}) succeeded` : 'no run recorded')
  }
  if (mirror.running) parts.push(`a backup is running (${describeHolder(mirror.running)})`)
  return `${parts.join('; ')}.`
}

/** The store's filesystem (`stat -f`), for the metrics. */
export interface FilesystemFigures {
  readonly sizeBytes: number
  readonly freeBytes: number
  readonly inodes: number
  readonly freeInodes: number
}

/** The store's filesystem figures in its context; undefined when `stat -f` cannot tell. */
export async function filesystemFigures(context: Context, store: string, signal?: AbortSignal): Promise<FilesystemFigures | undefined> {
  const result = await context.run(['stat', '-f', '-c', '%S %b %a %c %d', '--', store], { ionice: undefined, check: false, signal })
  const numbers = result.stdout.trim().split(' ').map(Number)
  if (result.exitCode !== 0 || numbers.length !== 5 || numbers.some((n) => !Number.isSafeInteger(n))) return undefined
  const [block, blocks, available, inodes, freeInodes] = numbers as [number, number, number, number, number]
  return { sizeBytes: block * blocks, freeBytes: block * available, inodes, freeInodes }
}

export async function run(args: StatusArgs, io: MainIo): Promise<number> {
  fixLocale()
  const logger = createLogger(io.stderr, args.verbosity)
  const now = new Date()
  const maxAge = args.maxAge ?? defaultMaxAge(args.scheme)
  let catalog: Catalog
  let filesystem: FilesystemFigures | undefined
  try {
    const opened = await readCatalog({ destination: args.destination, sudo: args.sudo, env: io.env, logger, signal: io.signal })
    try {
      catalog = buildCatalog(opened.state, opened.mirrorNames, { scheme: args.scheme, keepLatest: args.keepLatest, now })
      if (args.metrics !== undefined) filesystem = await filesystemFigures(opened.context, catalog.store, io.signal)
    } finally {
      await opened.close()
    }
  } catch (error) {
    // a check stopped by SIGINT/SIGTERM says nothing about the store: the metrics are left as they were
    if (args.metrics !== undefined && !io.signal?.aborted)
      writeMetricsQuietly(args, metricsText(args.destination, [], undefined, now, maxAge, false), io)
    return fail(error, args, io)
  }
  const statuses = mirrorStatuses(catalog, now, maxAge)
  const fresh = statuses.length > 0 && statuses.every((s) => !s.stale && !s.failed)
  if (args.metrics !== undefined && !writeMetricsQuietly(args, metricsText(args.destination, statuses, filesystem, now, maxAge, true), io))
    return 1
  if (args.json) {
    io.stdout.write(json(statusDocument(args, catalog, statuses, now, maxAge, fresh)))
  } else {
    const lines = statuses.map((s) => statusLine(s, catalog.store, now, maxAge))
    io.stdout.write(`${lines.length > 0 ? lines.join('\n') : `STALE: ${catalog.store}: no mirror`}\n`)
  }
  return fresh ? 0 : 1
}

/** The `--json` document of `rsb status` (schema version 1: fields are only ever added). */
export function statusDocument(
  args: StatusArgs,
  catalog: Catalog,
  statuses: readonly MirrorStatus[],
  now: Date,
  maxAge: number,
  fresh: boolean,
) {
  return {
    schemaVersion: 1,
    destination: args.destination,
    store: catalog.store,
    now: now.toISOString(),
    maxAgeSeconds: maxAge,
    fresh,
    mirrors: statuses.map((s) => ({
      name: s.mirror.name,
      id: s.mirror.id,
      fresh: !s.stale && !s.failed,
      stale: s.stale,
      lastRunFailed: s.failed,
      snapshots: s.snapshots,
      newest: s.newest
        ? {
            name: s.newest.name,
            created: s.newest.created.toISOString(),
            ageSeconds: Math.round((now.getTime() - s.newest.created.getTime()) / 1000),
          }
        : undefined,
      lastRun: s.lastRun,
      lastSuccess: s.lastSuccess?.ended,
      failingSince: s.failingSince?.started,
      running: holderDocument(s.mirror.running),
    })),
    exitCode: fresh ? 0 : 1,
    error: undefined,
  }
}

/** A label value of the text format: backslash, double quote and line feed escaped. */
function label(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')
}

const seconds = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso) / 1000)

/**
 * The metrics in Prometheus' text exposition format (version 0.0.4), one family per figure, labelled with the
 * DESTINATION as given and the mirror. `readable` false: only `rsb_store_readable 0` and the time of the check.
 */
export function metricsText(
  destination: string,
  statuses: readonly MirrorStatus[],
  filesystem: FilesystemFigures | undefined,
  now: Date,
  maxAge: number,
  readable: boolean,
): string {
  const base = `destination="${label(destination)}"`
  const families: { name: string; help: string; samples: [string, number | undefined][] }[] = []
  const add = (name: string, help: string, samples: [string, number | undefined][]) => families.push({ name, help, samples })
  const each = (value: (s: MirrorStatus) => number | undefined): [string, number | undefined][] =>
    statuses.map((s) => [`{${base},mirror="${label(s.mirror.name)}"}`, value(s)])
  add('rsb_status_check_timestamp_seconds', 'When rsb status ran.', [[`{${base}}`, now.getTime() / 1000]])
  add('rsb_store_readable', 'Whether the store could be read (1) or not (0).', [[`{${base}}`, readable ? 1 : 0]])
  if (readable) {
    add(
      'rsb_fresh',
      'Whether the newest snapshot is younger than the limit and the last run succeeded (1) or not (0).',
      each((s) => (s.stale || s.failed ? 0 : 1)),
    )
    add(
      'rsb_max_age_seconds',
      'The age limit of the newest snapshot.',
      each(() => maxAge),
    )
    add(
      'rsb_last_run_success',
      'Whether the last recorded run succeeded (1) or not (0).',
      each((s) => (s.lastRun === undefined ? undefined : s.failed ? 0 : 1)),
    )
    add(
      'rsb_last_run_timestamp_seconds',
      'When the last recorded run ended.',
      each((s) => seconds(s.lastRun?.ended)),
    )
    add(
      'rsb_last_run_duration_seconds',
      'How long the last recorded run took.',
      each((s) => s.lastRun?.durationSeconds),
    )
    add(
      'rsb_last_run_exit_code',
      "The last recorded run's exit status.",
      each((s) => s.lastRun?.exitCode),
    )
    add(
      'rsb_last_success_timestamp_seconds',
      'When the last successful run ended.',
      each((s) => seconds(s.lastSuccess?.ended)),
    )
    add(
      'rsb_last_run_files_transferred',
      'Regular files the last run transferred.',
      each((s) => s.lastRun?.statistics?.filesTransferred),
    )
    add(
      'rsb_last_run_bytes_transferred',
      'Bytes the last run sent and received.',
      each((s) => sum(s.lastRun?.statistics?.bytesSent, s.lastRun?.statistics?.bytesReceived)),
    )
    add(
      'rsb_newest_snapshot_timestamp_seconds',
      "The newest complete snapshot's moment.",
      each((s) => (s.newest ? s.newest.created.getTime() / 1000 : undefined)),
    )
    add(
      'rsb_newest_snapshot_files',
      'Entries in the newest snapshot (from its manifest).',
      each((s) => s.newest?.manifest?.entries),
    )
    add(
      'rsb_newest_snapshot_bytes',
      'Bytes in the newest snapshot (from its manifest).',
      each((s) => s.newest?.manifest?.bytes),
    )
    add(
      'rsb_snapshots',
      'Complete snapshots of the mirror.',
      each((s) => s.snapshots),
    )
    add(
      'rsb_running',
      'Whether a backup of the mirror is at work (1) or not (0).',
      each((s) => (s.mirror.running ? 1 : 0)),
    )
    if (filesystem) {
      add('rsb_store_size_bytes', "The size of the store's filesystem.", [[`{${base}}`, filesystem.sizeBytes]])
      add('rsb_store_free_bytes', "Space on the store's filesystem available to rsb's user.", [[`{${base}}`, filesystem.freeBytes]])
      add('rsb_store_inodes', "Inodes of the store's filesystem.", [[`{${base}}`, filesystem.inodes]])
      add('rsb_store_free_inodes', "Free inodes of the store's filesystem.", [[`{${base}}`, filesystem.freeInodes]])
    }
  }
  const lines: string[] = []
  for (const family of families) {
    // the records are read as they are: a value that is not a number (a damaged record) is left out, never printed
    const samples = family.samples.filter(
      (sample): sample is [string, number] => typeof sample[1] === 'number' && Number.isFinite(sample[1]),
    )
    if (samples.length === 0) continue
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} gauge`)
    for (const [labels, value] of samples) lines.push(`${family.name}${labels} ${value}`)
  }
  return `${lines.join('\n')}\n`
}

function sum(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0)
}

/**
 * Writes FILE atomically: a new file beside it (a random name, created exclusively: never through a link another
 * user planted), then renamed over FILE. Returns false (after a one-line error) when it cannot.
 */
function writeMetricsQuietly(args: StatusArgs, text: string, io: MainIo): boolean {
  const file = path.resolve(args.metrics!)
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    const fd = fs.openSync(temporary, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644)
    try {
      fs.writeSync(fd, text)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(temporary, file)
    return true
  } catch (error) {
    fs.rmSync(temporary, { force: true })
    const failure = new CliError('ERR_RSB_CLI_METRICS_FAILED', `The metrics could not be written to ${file}: ${(error as Error).message}`, {
      path: file,
      hint: 'Check that its directory exists and that rsb may write in it.',
    })
    io.stderr.write(errorReport(failure, 'rsb'))
    return false
  }
}

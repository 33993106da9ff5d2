// What a backup run records in its store (see session/store.ts): the manifest of the snapshot it makes, and a run
// record of every run that got as far as a store it checked (also failed and refused runs; never a dry run).
import os from 'node:os'
import path from 'node:path'
import type { Context } from '@rsb/exec'
import type { RsyncStats } from '@rsb/rsync'
import { isRsbError } from '../errors.js'
import {
  readStore,
  STORE_VERSION,
  writeRunRecord,
  type MirrorRecord,
  type RunOutcome,
  type RunRecord,
  type StoreState,
  type TransferFigures,
} from '../session/store.js'
import { version } from '../version.js'

/** The version in `rsync --version`'s first line (`rsync  version 3.4.1  protocol version 32`), or undefined. */
export function parseRsyncVersion(text: string): string | undefined {
  return /^rsync\s+version\s+v?(\S+)/m.exec(text)?.[1]
}

/** rsync's version where `context` runs commands; undefined when it cannot be asked (never throws). */
export async function rsyncVersion(context: Context, signal?: AbortSignal): Promise<string | undefined> {
  try {
    const result = await context.run(['rsync', '--version'], { ionice: undefined, check: false, sudo: false, signal })
    return result.exitCode === 0 ? parseRsyncVersion(result.stdout) : undefined
  } catch {
    return undefined
  }
}

/** rsync options whose value is a command line (a remote shell may carry a password: `sshpass -p …`). */
const COMMAND_OPTION = /^(--rsh|--rsync-path|--remote-option)(=)(.*)$|^(-[eM])(.+)$/s

/** An rsync option as the records keep it: the value of an option that holds a command replaced by `<redacted>`. */
export function redactRsyncOption(option: string): string {
  const match = COMMAND_OPTION.exec(option)
  if (!match) return option
  return match[1] !== undefined ? `${match[1]}=<redacted>` : `${match[4]}<redacted>`
}

/** `--rsync-option` and its unique prefixes (GNU getopt), with `=VALUE` or the value as the next argument. */
const RSYNC_OPTION = /^--rsync-(?:o(?:p(?:t(?:i(?:o(?:n)?)?)?)?)?)?(?==|$)/

/** A command line as the run record keeps it: the values of `--rsync-option` redacted where they hold a command. */
export function redactArgv(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      out.push(...argv.slice(i))
      break
    }
    const name = RSYNC_OPTION.exec(arg)?.[0]
    if (name === undefined) out.push(arg)
    else if (arg.length > name.length) out.push(`${name}=${redactRsyncOption(arg.slice(name.length + 1))}`)
    else {
      out.push(arg)
      if (i + 1 < argv.length) out.push(redactRsyncOption(argv[++i]!))
    }
  }
  return out
}

/** The figures a manifest and a run record keep of rsync's statistics. */
export function transferFigures(stats: RsyncStats | undefined): TransferFigures | undefined {
  if (stats === undefined) return undefined
  return {
    files: stats.files?.total,
    filesTransferred: stats.regularFilesTransferred,
    bytesSent: stats.bytesSent,
    bytesReceived: stats.bytesReceived,
    totalSize: stats.totalFileSize,
  }
}

/** `+HH:MM`: the local time zone's offset from UTC at `date`. */
export function utcOffset(date: Date): string {
  const minutes = -date.getTimezoneOffset()
  const sign = minutes < 0 ? '-' : '+'
  const abs = Math.abs(minutes)
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}

/** The user rsb runs as (its name, else its UID). */
export function userName(): string {
  try {
    return os.userInfo().username
  } catch {
    return String(process.getuid?.() ?? '')
  }
}

// Counts the entries of a tree ($1, itself included, as rsync's "Number of files") and the bytes of its regular files
// and symbolic links (as rsync's "Total file size"), without following links.
const COUNT_SCRIPT = `find "$1" -printf '%y %s\\n' | awk '{ n++ } $1 == "f" || $1 == "l" { s += $2 } END { printf "%d %d\\n", n, s }'`

/** The entries and bytes of a tree in `context` (one walk); undefined when it cannot be counted. */
export async function countTree(
  context: Context,
  directory: string,
  signal?: AbortSignal,
): Promise<{ entries: number; bytes: number } | undefined> {
  const result = await context.run(['sh', '-c', COUNT_SCRIPT, 'sh', directory], { check: false, signal })
  const match = /^(\d+) (\d+)$/.exec(result.stdout.trim())
  if (result.exitCode !== 0 || !match) return undefined
  return { entries: Number(match[1]), bytes: Number(match[2]) }
}

/**
 * Where a run may leave its record: the store's context and directory, and, once known, the store as read and the
 * mirror. Filled in by the workflow as it goes; a run that never got this far (a usage error, a disk that is not
 * there) has nowhere to leave one.
 */
export interface RunTrail {
  context?: Context | undefined
  store?: string | undefined
  mirrorName?: string | undefined
  state?: StoreState | undefined
  mirror?: MirrorRecord | undefined
}

/** Codes of the checks that stop a run before it writes anything: such a run is `refused`. */
const REFUSALS = /^ERR_RSB_CLI_(SOURCE_|DESTINATION_|OVERLAP|LOCKED|MIRROR_INCOMPLETE|PLATFORM)/

/** How a run that ended with `error` (undefined: success) ended, and its exit status. */
export function runOutcome(error: unknown, signal: AbortSignal | undefined): { outcome: RunOutcome; exitCode: number } {
  if (error === undefined) return { outcome: 'succeeded', exitCode: 0 }
  const reason: unknown = signal?.aborted ? signal.reason : undefined
  if (reason === 'SIGINT') return { outcome: 'interrupted', exitCode: 130 }
  if (reason === 'SIGTERM') return { outcome: 'interrupted', exitCode: 143 }
  if (isRsbError(error) && REFUSALS.test(error.code)) return { outcome: 'refused', exitCode: 1 }
  return { outcome: 'failed', exitCode: 1 }
}

/** What the run record of a finished run says. */
export interface FinishedRun {
  readonly started: Date
  readonly ended: Date
  readonly argv: readonly string[]
  readonly actions: readonly string[]
  /**
   * SOURCE as given; with several SOURCEs `/` (the root the mirror keeps their whole paths from), also with one into a
   * mirror that keeps its SOURCEs under their whole paths (it had several).
   */
  readonly source: string | undefined
  /** Every SOURCE as given, only when there are several (or one under its whole path, see `source`). */
  readonly sources?: readonly string[] | undefined
  readonly destination: string
  readonly outcome: RunOutcome
  readonly exitCode: number
  readonly error: RunRecord['error']
  readonly snapshot: string | undefined
  readonly statistics: TransferFigures | undefined
  readonly warnings: readonly string[]
}

/**
 * Leaves the run record of a finished run in its store, when the run got as far as a store it read and checked whose
 * mirror is registered (a run refused before that, or for a directory that is not a store, writes nothing there).
 *
 * @returns undefined when written; else why not (for a log line)
 */
export async function recordRun(trail: RunTrail, run: FinishedRun): Promise<string | undefined> {
  const { context, store } = trail
  if (context === undefined || store === undefined) return 'the store was not reached'
  let mirror = trail.mirror
  if (mirror === undefined) {
    // refused before the store was read (another run holds the lock): read now, and write only into a real store
    let state: StoreState
    try {
      state = trail.state ?? (await readStore(context, store))
    } catch (error) {
      // a store this run was refused for (another user could steer it) gets nothing written
      return `the store could not be read (${error instanceof Error ? error.message : String(error)})`
    }
    if (state.store === undefined) return `${store} is not an rsb store`
    mirror = state.mirrors.find((m) => m.name === (trail.mirrorName ?? path.posix.basename(store)))
    if (mirror === undefined) return `${store} has no mirror named ${trail.mirrorName ?? ''}`
  }
  // several SOURCEs (or one under its whole path): `sources` lists them (RunRecord's `source` is then `/`); a record of
  // one SOURCE at the top of its mirror is as it was
  const record: RunRecord & { readonly sources?: readonly string[] } = {
    version: STORE_VERSION,
    mirror: mirror.id,
    mirrorName: mirror.name,
    started: run.started.toISOString(),
    ended: run.ended.toISOString(),
    durationSeconds: Math.round(run.ended.getTime() - run.started.getTime()) / 1000,
    host: os.hostname(),
    user: userName(),
    pid: process.pid,
    rsbVersion: version(),
    actions: run.actions,
    argv: run.argv,
    source: run.source,
    ...(run.sources !== undefined && (run.sources.length > 1 || run.source === '/') ? { sources: run.sources } : {}),
    destination: run.destination,
    outcome: run.outcome,
    exitCode: run.exitCode,
    error: run.error,
    snapshot: run.snapshot,
    statistics: run.statistics,
    warnings: run.warnings,
  }
  await writeRunRecord(context, store, record)
  return undefined
}

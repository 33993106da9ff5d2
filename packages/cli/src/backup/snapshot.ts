import { quoteCommandLine, type Context } from '@rsb/exec'
import { formatSnapshotName, parseSnapshotName } from '@rsb/rotation'
import { formatDuration, joinPath } from '@rsb/rotation/io'
import { CliError } from '../errors.js'
import type { Logger } from '../kit/log.js'
import { hashesDirectory, hashFileName, hashTemporaryPrefix } from '../session/hashes.js'
import {
  metadataPath,
  removeRecords,
  snapshotFileName,
  STORE_VERSION,
  TEMPORARY_PREFIX,
  writeRecords,
  type MirrorRecord,
  type SnapshotManifest,
  type SnapshotRecord,
  type StoreState,
} from '../session/store.js'

export { TEMPORARY_PREFIX } from '../session/store.js'

export interface SnapshotStep {
  readonly context: Context
  readonly logger: Logger
  /** The resolved destination directory (the mirror). */
  readonly directory: string
  /** The resolved store directory (the mirror's parent). */
  readonly store: string
  /** The mirror's record (in a dry run of a new mirror: a stand-in). */
  readonly mirror: MirrorRecord
  readonly dryRun: boolean
  readonly signal: AbortSignal | undefined
  /** The clock (tests pass a fixed one). */
  readonly now?: () => Date
  /**
   * The snapshot's manifest, asked for once the copy (`temporary`, in the destination's context) is complete (with the
   * snapshot step's warnings so far); it is
   * written into the snapshot's record before the snapshot gets its name. A manifest that cannot be made or written
   * costs a warning, never the snapshot.
   */
  readonly manifest?: ((temporary: string, warnings: string[], snapshot: string) => Promise<SnapshotManifest>) | undefined
  /**
   * Work on the mirror that runs while cp copies it (the copy shares every inode with the mirror, which nothing
   * changes meanwhile: the run holds its lock), started once the snapshot's name is claimed; awaited before the
   * snapshot is named or its claim released. Its failures are its own (it is awaited, never thrown from here). Its
   * signal is the run's, and is also aborted when the copy fails (nothing waits for work whose snapshot is not made).
   */
  readonly alongside?: ((snapshot: string, signal: AbortSignal) => Promise<unknown>) | undefined
}

/** How many snapshot names (one per second) are tried before giving up. */
const ATTEMPTS = 3

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Temporary snapshots of earlier rsb versions: `.rsb-snapshot-PID-MS` (no mirror id). */
const LEGACY_TEMPORARY = /^\.rsb-snapshot-\d+-\d+$/

/**
 * Finishes or undoes what interrupted runs of this mirror left in the store, and nothing of any other mirror's:
 * its temporary snapshots (`.rsb-snapshot-<id>-…`), its deletions in progress (`.rsb/deleting/<id>/`) and
 * records of its snapshots whose directory is gone (a claim whose copy never got its name). The run lock of
 * the mirror proves that no live run of it owns them. Temporary snapshots of earlier rsb versions (no mirror
 * id) are removed only when this mirror is the store's only one. A dry run removes nothing.
 * The stages of exact snapshots (`.rsb/staged/`) are not its: they are left to the next backup (see exact.ts).
 *
 * @returns the paths removed
 */
export async function removeLeftovers(step: SnapshotStep, state: StoreState): Promise<string[]> {
  if (step.dryRun || state.store === undefined) return []
  const { context, logger, mirror } = step
  const onlyMirror = state.mirrors.length === 1 && state.mirrors[0]?.id === mirror.id
  const removed: string[] = []
  for (const [name] of state.entries) {
    if (name.startsWith(`${TEMPORARY_PREFIX}${mirror.id}-`) || (onlyMirror && LEGACY_TEMPORARY.test(name))) {
      const target = joinPath(step.store, name)
      logger.log('info', `Removing the leftover of an interrupted snapshot: ${target}`)
      await context.run(['rm', '-fR', '--', target], { signal: step.signal })
      removed.push(target)
    }
  }
  if (state.deleting.includes(mirror.id)) {
    const target = metadataPath(step.store, 'deleting', mirror.id)
    logger.log('info', `Finishing the deletion of snapshots that an interrupted run began: ${target}`)
    await context.run(['rm', '-fR', '--', target], { signal: step.signal })
    removed.push(target)
  }
  // hash records of this mirror's killed runs, half written (their temporary names carry the mirror's id); through sh,
  // which the README's least-privilege sudoers rule allows (find is not in it)
  await context.run(
    [
      'sh',
      '-c',
      '[ -d "$1" ] || exit 0; find "$1" -maxdepth 1 -type f -name "$2*" -delete',
      'sh',
      hashesDirectory(step.store),
      hashTemporaryPrefix(mirror.id),
    ],
    { signal: step.signal, check: false, ionice: undefined },
  )
  const stale = [...state.snapshots.values()].filter((r) => r.mirror === mirror.id && state.entries.get(r.snapshot) !== 'd')
  if (stale.length > 0) {
    logger.log('verbose', `Removing ${stale.length} record(s) of snapshots that no longer exist.`)
    await removeRecords(
      context,
      hashesDirectory(step.store),
      stale.map((r) => hashFileName(r.snapshot)),
      step.signal,
    )
    await removeRecords(
      context,
      metadataPath(step.store, 'snapshots'),
      stale.map((r) => snapshotFileName(r.snapshot)),
      step.signal,
    )
  }
  return removed
}

/** Writes the records of adopted snapshots (made before the store kept records): their moment is read from the name. */
export async function adoptSnapshots(
  context: Context,
  store: string,
  mirror: MirrorRecord,
  names: readonly string[],
  signal?: AbortSignal,
): Promise<void> {
  const records = new Map<string, SnapshotRecord>()
  for (const name of names) records.set(snapshotFileName(name), adoptedRecord(name, mirror))
  await writeRecords(context, metadataPath(store, 'snapshots'), records, 'new', signal)
}

/** The record of a snapshot made before the store kept records, its moment read from its name in the local time zone. */
export function adoptedRecord(name: string, mirror: MirrorRecord): SnapshotRecord {
  const moment = parseSnapshotName(name) ?? new Date(Number.NaN)
  return { version: STORE_VERSION, snapshot: name, mirror: mirror.id, created: moment.toISOString(), adopted: true }
}

/** What {@link createSnapshot} made. */
export interface SnapshotResult {
  /** The snapshot's full path (in a dry run, the path it would have). */
  readonly path: string
  /** Warnings for the summary: files copied instead of linked because they had as many links as the filesystem allows. */
  readonly warnings: string[]
}

/**
 * Completes a copy that `cp --archive --link` left without the files it could not link (EMLINK): rsync copies
 * exactly the entries missing from the copy (`--ignore-existing` never touches one that exists, so nothing it
 * shares with the mirror and the older snapshots changes), with their owner, mode, times, ACLs and xattrs.
 * `--hard-links` keeps the names of one inode of the mirror one inode in the snapshot where the filesystem lets
 * it (the names cp linked stay linked to the full inode, the others become one new inode). `--out-format=%n`
 * prints one line per entry made, directories with a trailing `/`.
 */
const COMPLETE_COPY = [
  'rsync',
  '--archive',
  '--hard-links',
  '--acls',
  '--xattrs',
  '--numeric-ids',
  '--ignore-existing',
  '--out-format=%n',
] as const

/** cp's line for a name it could not link because the inode has as many links as the filesystem allows. */
const LINK_LIMIT_LINE = /^cp: cannot create hard link .*: Too many links$/

/**
 * Creates a snapshot atomically: claims its name (its record, linked into `.rsb/snapshots/`, which fails
 * when another run claimed it first), `cp --archive --link` into a hidden temporary name of this mirror, then
 * `mv --no-target-directory` to the name (the local time, `YYYY-MM-DD HH:MM:SS`). Never copies into an
 * existing snapshot: when the name is taken (two runs in one second), it waits for the next second. A dry run
 * only logs the command.
 *
 * A file whose inode has as many links as the filesystem allows (ext4: 65000) never makes it fail: when cp's
 * only errors are such links, rsync copies those files into the temporary copy instead ({@link COMPLETE_COPY}),
 * and a warning counts them.
 *
 * @returns the snapshot's full path (in a dry run, the path it would have) and the warnings for the summary
 * @throws {CliError} ERR_RSB_CLI_SNAPSHOT_FAILED when the copy fails; ERR_RSB_CLI_SNAPSHOT_EXISTS when no free name is found
 */
export async function createSnapshot(step: SnapshotStep): Promise<SnapshotResult> {
  const now = step.now ?? (() => new Date())
  const { context, logger } = step
  if (step.dryRun) {
    const target = joinPath(step.store, formatSnapshotName(now()))
    const line = await context.commandLine(['cp', '--archive', '--link', step.directory, target])
    logger.log('info', `Snapshot command: ${quoteCommandLine(line.argv)}`)
    return { path: target, warnings: [] }
  }
  const records = metadataPath(step.store, 'snapshots')
  let claimed: { name: string; target: string; record: SnapshotRecord } | undefined
  for (let attempt = 1; attempt <= ATTEMPTS && claimed === undefined; attempt++) {
    const moment = now()
    const name = formatSnapshotName(moment)
    const target = joinPath(step.store, name)
    if (!(await context.exists(target, { ionice: undefined }))) {
      const record: SnapshotRecord = {
        version: STORE_VERSION,
        snapshot: name,
        mirror: step.mirror.id,
        created: moment.toISOString(),
        adopted: false,
      }
      const taken = await writeRecords(context, records, new Map([[snapshotFileName(name), record]]), 'new', step.signal)
      if (taken.length === 0) claimed = { name, target, record }
    }
    if (claimed === undefined && attempt < ATTEMPTS) await sleep(1000 - (now().getTime() % 1000) + 10)
  }
  if (claimed === undefined) {
    throw new CliError('ERR_RSB_CLI_SNAPSHOT_EXISTS', `A snapshot named like this run's exists already in ${step.store}.`, {
      path: step.store,
      hint: 'Check the clock of this machine.',
    })
  }
  const { name, target, record } = claimed
  const release = () =>
    removeRecords(context, hashesDirectory(step.store), [hashFileName(name)])
      .then(() => removeRecords(context, records, [snapshotFileName(name)]))
      .catch(() => undefined)
  const started = performance.now()
  const stopAlongside = new AbortController()
  const alongsideSignal = step.signal ? AbortSignal.any([step.signal, stopAlongside.signal]) : stopAlongside.signal
  const alongside = step.alongside?.(name, alongsideSignal).catch(() => undefined)
  const temporary = joinPath(step.store, `${TEMPORARY_PREFIX}${step.mirror.id}-${process.pid}-${Date.now()}`)
  const warnings: string[] = []
  logger.log('info', `Creating snapshot: ${target}`)
  // every line of cp's errors is looked at as it comes (only their tail is kept): one that is not a link at the
  // limit keeps the failure
  const cpErrors = lineCounter((line) => LINK_LIMIT_LINE.test(line))
  let linkLimitHint: string | undefined
  try {
    try {
      await context.run(['cp', '--archive', '--link', '--no-target-directory', '--', step.directory, temporary], {
        signal: step.signal,
        capture: false,
        onStderr: cpErrors.push,
      })
    } catch (error) {
      const errors = cpErrors.finish()
      const code = (error as { code?: unknown }).code
      const exitCode = (error as { exitCode?: unknown }).exitCode
      if (code !== 'ERR_RSB_EXEC_COMMAND_FAILED' || exitCode !== 1 || errors.matching === 0 || errors.other > 0) throw error
      linkLimitHint = snapshotFailureHint((error as { stderrTail?: string }).stderrTail ?? '')
      const copied = await completeCopy(step, temporary)
      if (copied > 0) {
        const message = `${copied} file(s) had as many hard links as the filesystem allows: copied into snapshot ${target} instead of linked (they take space of their own).`
        logger.log('warning', message)
        warnings.push(message)
      }
    }
    if (step.manifest) await writeManifest(step, records, record, temporary, warnings)
  } catch (error) {
    // also when stopped (SIGINT/SIGTERM): the half copy and the claim go now, not at the next run
    stopAlongside.abort('the copy failed')
    await alongside
    await context.run(['rm', '-fR', '--', temporary], { check: false })
    await release()
    // sudo refusing cp or rsync (a least-privilege rule without it) keeps its own code and hint
    if (step.signal?.aborted || isSudoRefusal(error)) throw error
    const stderr = (error as { stderrTail?: string }).stderrTail ?? ''
    throw new CliError('ERR_RSB_CLI_SNAPSHOT_FAILED', `Failed to create snapshot ${target}: ${(error as Error).message}`, {
      cause: error,
      path: target,
      hint: snapshotFailureHint(stderr) ?? linkLimitHint,
    })
  }
  await alongside
  try {
    await context.run(['mv', '--no-target-directory', '--', temporary, target], { ionice: undefined })
  } catch (error) {
    await context.run(['rm', '-fR', '--', temporary], { check: false })
    await release()
    if (isSudoRefusal(error)) throw error
    throw new CliError('ERR_RSB_CLI_SNAPSHOT_FAILED', `Failed to name snapshot ${target}: ${(error as Error).message}`, {
      cause: error,
      path: target,
    })
  }
  logger.log('info', `Took ${formatDuration(performance.now() - started)} to create snapshot.`)
  return { path: target, warnings }
}

/**
 * Replaces the snapshot's claim with its record and manifest (renamed over it: a reader sees one or the other).
 * Throws only when the run was stopped; any other failure is a warning (the snapshot is listed without a manifest).
 */
async function writeManifest(
  step: SnapshotStep,
  records: string,
  record: SnapshotRecord,
  temporary: string,
  warnings: string[],
): Promise<void> {
  try {
    const manifest = await step.manifest!(temporary, warnings, record.snapshot)
    await writeRecords(
      step.context,
      records,
      new Map([[snapshotFileName(record.snapshot), { ...record, manifest }]]),
      'replace',
      step.signal,
    )
  } catch (error) {
    if (step.signal?.aborted) throw error
    const message = `The manifest of snapshot ${record.snapshot} could not be written (${error instanceof Error ? error.message : String(error)}): it is listed without one.`
    step.logger.log('warning', message)
    warnings.push(message)
  }
}

/**
 * Copies into `temporary` what cp could not link ({@link COMPLETE_COPY}), with `HOME` empty as for the backup's
 * rsync (`sudo -H` with sudo): root's rsync never reads the invoking user's `~/.popt`.
 *
 * @returns how many files it copied (the lines of its output that are not directories)
 * @throws {ExecError} when rsync fails
 */
async function completeCopy(step: SnapshotStep, temporary: string): Promise<number> {
  const made = lineCounter((line) => !line.endsWith('/'))
  await step.context.run([...COMPLETE_COPY, '--', asDirectory(step.directory), asDirectory(temporary)], {
    env: { HOME: '' },
    signal: step.signal,
    capture: false,
    onStdout: made.push,
  })
  return made.finish().matching
}

/**
 * A directory operand for rsync: its contents (a trailing `/`), and never read as `HOST:PATH` (a relative path
 * gets `./`; the resolved paths here are absolute).
 */
function asDirectory(path: string): string {
  const local = path.startsWith('/') ? path : `./${path}`
  return local.endsWith('/') ? local : `${local}/`
}

/** Counts the non-empty lines of a stream as its chunks arrive: those `test` accepts and the others. */
function lineCounter(test: (line: string) => boolean) {
  const counts = { matching: 0, other: 0 }
  let rest = ''
  const count = (line: string) => {
    if (line !== '') counts[test(line) ? 'matching' : 'other']++
  }
  return {
    push: (chunk: string): void => {
      const lines = `${rest}${chunk}`.split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) count(line)
    },
    finish: (): { matching: number; other: number } => {
      count(rest)
      rest = ''
      return counts
    },
  }
}

/** What to do when `cp --archive --link` failed: free space (ENOSPC, quota) or links (EMLINK), else nothing to say. */
function snapshotFailureHint(stderr: string): string | undefined {
  const rotate = "'rsb --rotate --rotation=daily=7,weekly=4' with the same DESTINATION"
  if (/Too many links/.test(stderr)) {
    return (
      'A file in the backup has as many hard links as the filesystem allows (every snapshot adds one); older snapshots were left intact. ' +
      `Keep fewer snapshots, for example ${rotate}, or use a filesystem with a higher link limit (ext4 allows 65000).`
    )
  }
  if (/No space left|Disk quota/.test(stderr)) {
    return (
      'The destination filesystem is full (space or inodes); older snapshots were left intact. ' +
      `To free space, keep fewer snapshots, for example ${rotate}, then run the backup again.`
    )
  }
  return undefined
}

/** sudo would not run the command (ERR_RSB_EXEC_SUDO_DENIED, ERR_RSB_EXEC_SUDO_PASSWORD): reported as it is. */
export function isSudoRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code
  return code === 'ERR_RSB_EXEC_SUDO_DENIED' || code === 'ERR_RSB_EXEC_SUDO_PASSWORD'
}

import type { Context } from '@rsb/exec'
import {
  isSnapshotName,
  planRotation,
  timestampFromDate,
  type Backup,
  type KeepReason,
  type RotationPlan,
  type RotationScheme,
} from '@rsb/rotation'
import { formatDuration, joinPath, joinWords, removalError } from '@rsb/rotation/io'
import type { Logger } from '../kit/log.js'
import { adoptedRecord, isSudoRefusal } from './snapshot.js'
import { hashesDirectory, hashFileName } from '../session/hashes.js'
import { metadataPath, removeRecords, snapshotFileName, type MirrorRecord, type StoreState } from '../session/store.js'

export interface RotateStep {
  readonly context: Context
  readonly logger: Logger
  /** The resolved store directory. */
  readonly store: string
  /** The store as read just before the rotation. */
  readonly state: StoreState
  /** The mirror whose snapshots are rotated (only its own are ever candidates). */
  readonly mirror: MirrorRecord
  /** Snapshot-named directories taken as this mirror's in this run (a dry run's adoption, not written). */
  readonly adopt: readonly string[]
  readonly scheme: Readonly<RotationScheme>
  readonly keepLatest: number
  /** The snapshot this run made (real run) or would have made (dry run): always kept. */
  readonly snapshot: string | undefined
  readonly dryRun: boolean
  readonly signal: AbortSignal | undefined
  /** The clock (tests pass a fixed one): snapshots dated after it are never counted. */
  readonly now?: () => Date
}

export interface RotateResult {
  readonly kept: string[]
  readonly deleted: string[]
  /** Warnings for the summary (snapshots dated in the future, snapshots that no mirror owns). */
  readonly warnings: string[]
}

function describe(reasons: readonly KeepReason[]): string {
  const periods = reasons.filter((r) => r !== 'protected' && r !== 'keep-latest').map((r) => `'${r}'`)
  if (periods.length > 0) return `matches ${joinWords(periods)} retention period${periods.length === 1 ? '' : 's'}`
  return reasons.includes('keep-latest') ? 'one of the --keep-latest newest' : 'the snapshot of this run'
}

/** What {@link planMirrorRotation} is given besides the store and the mirror. */
export interface MirrorPlanOptions {
  /** Snapshot-named directories taken as this mirror's although they have no record yet (an adoption). */
  readonly adopt: readonly string[]
  readonly scheme: Readonly<RotationScheme>
  readonly keepLatest: number
  /** The snapshot the run made or would make: always kept. */
  readonly snapshot: string | undefined
  /** `snapshot` does not exist yet: planned as if it did, dated `now` (a dry run; `rsb list`'s next backup). */
  readonly planned: boolean
  readonly now: Date
}

/** The rotation of a mirror's snapshots, before anything is deleted. */
export interface MirrorPlan {
  readonly plan: RotationPlan
  /** This mirror's snapshots dated after now: kept, never counted. */
  readonly future: readonly string[]
  /** Snapshot-named directories with no record of their mirror: kept, never rotated. */
  readonly unowned: number
  /** How many snapshots the plan counts. */
  readonly counted: number
}

/**
 * Which of a mirror's snapshots the rotation keeps and which it deletes (see {@link rotateSnapshots}). Pure: `rsb
 * backup`'s rotation and `rsb list`'s column are this one plan.
 */
export function planMirrorRotation(state: StoreState, mirror: MirrorRecord, options: MirrorPlanOptions): MirrorPlan {
  const { now, snapshot } = options
  const adopt = new Set(options.adopt)
  const backups: Backup[] = []
  const future: string[] = []
  let unowned = 0
  const names = [...state.entries]
    .filter(([name, type]) => type === 'd' && name !== mirror.name && isSnapshotName(name))
    .map(([name]) => name)
  if (options.planned && snapshot !== undefined && !state.entries.has(snapshot)) names.push(snapshot)
  for (const name of names) {
    let record = state.snapshots.get(name)
    if (record === undefined && (adopt.has(name) || name === snapshot)) record = adoptedRecord(name, mirror)
    if (record === undefined || record.mirror !== mirror.id) {
      if (record === undefined) unowned++
      continue
    }
    const moment = name === snapshot && options.planned ? now : new Date(record.created)
    if (moment.getTime() > now.getTime()) {
      future.push(name)
      continue
    }
    backups.push({ name, timestamp: timestampFromDate(moment) })
  }
  const plan = planRotation(backups, {
    scheme: { ...options.scheme },
    keepLatest: options.keepLatest,
    protect: snapshot === undefined ? [] : [snapshot],
  })
  return { plan, future, unowned, counted: backups.length }
}

/**
 * Rotates this mirror's snapshots in the store, and only those: directories named `YYYY-MM-DD HH:MM:SS` whose
 * record names this mirror (files, symlinks, other mirrors' snapshots and unrecorded snapshots are never
 * touched). Each snapshot's moment comes from its record (UTC), so a changed `TZ` or a clock that moved does not
 * move the windows; snapshots dated after now are kept, never counted, and reported. This run's snapshot is
 * always kept (in a dry run it is planned as if it existed). A deleted snapshot is first renamed into
 * `.rsb/deleting/<mirror id>/` and its record removed, then the tree is removed, so an interrupted deletion never
 * leaves a partial tree under a snapshot name (the next run finishes it).
 *
 * @throws {RotationError} ERR_RSB_ROTATION_REMOVAL_FAILED when a deletion failed (the others still ran)
 */
export async function rotateSnapshots(step: RotateStep): Promise<RotateResult> {
  const { context, logger, store, state, mirror } = step
  const now = (step.now ?? (() => new Date()))()
  const warnings: string[] = []
  logger.log('info', `Scanning ${store} for backups ..`)
  const { plan, future, unowned, counted } = planMirrorRotation(state, mirror, {
    adopt: step.adopt,
    scheme: step.scheme,
    keepLatest: step.keepLatest,
    snapshot: step.snapshot,
    planned: step.dryRun,
    now,
  })
  for (const name of future) {
    const message = `Snapshot ${joinPath(store, name)} is dated in the future; it is kept and not counted by the rotation (check the clock and TZ).`
    logger.log('warning', message)
    warnings.push(message)
  }
  if (unowned > 0) {
    const message = `${unowned} snapshot(s) in ${store} have no record of the mirror they belong to; they are kept and never rotated.`
    logger.log('warning', message)
    warnings.push(message)
  }
  logger.log('info', counted > 0 ? `Found ${counted} timestamped backups in ${store}.` : `No backups found in ${store}.`)
  const kept: string[] = []
  const deleted: string[] = []
  const failures: { path: string; error: unknown }[] = []
  const deleting = metadataPath(store, 'deleting', mirror.id)
  for (const decision of plan.decisions) {
    const path = joinPath(store, decision.name)
    if (decision.action === 'keep') {
      logger.log('info', `Preserving ${path} (${describe(decision.reasons)}) ..`)
      kept.push(path)
      continue
    }
    logger.log('info', `Deleting ${path} ..`)
    deleted.push(path)
    if (step.dryRun) continue
    if (step.signal?.aborted) break
    const started = performance.now()
    try {
      if (deleted.length === 1) await context.run(['mkdir', '-p', '--', deleting], { ionice: undefined, signal: step.signal })
      const hidden = `${deleting}/${decision.name}.${Date.now()}`
      await context.run(['mv', '--no-target-directory', '--', path, hidden], { ionice: undefined, signal: step.signal })
      // the hash record first: a run killed in between leaves the snapshot record, by which the next run removes both
      await removeRecords(context, hashesDirectory(store), [hashFileName(decision.name)], step.signal)
      await removeRecords(context, metadataPath(store, 'snapshots'), [snapshotFileName(decision.name)], step.signal)
      await context.run(['rm', '-fR', '--', hidden], { signal: step.signal, capture: false })
      logger.log('verbose', `Deleted ${path} in ${formatDuration(performance.now() - started)}.`)
    } catch (error) {
      // stopped, or sudo refusing mv or rm (a least-privilege rule without them): the next deletions would fail alike
      if (step.signal?.aborted || isSudoRefusal(error)) throw error
      logger.log('error', `Failed to delete ${path}: ${error instanceof Error ? error.message : String(error)}`)
      failures.push({ path, error })
    }
  }
  for (const name of future) kept.push(joinPath(store, name))
  if (deleted.length === 0) logger.log('info', 'Nothing to do! (all backups preserved)')
  const failure = removalError([{ failures }], {
    hint: 'The other deletions still ran; check the permissions of the store (or run as root).',
  })
  if (failure) throw failure
  return { kept, deleted, warnings }
}

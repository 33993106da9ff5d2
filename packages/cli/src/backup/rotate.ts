import type { Context } from '@rsb/exec'
import type { KeepReason, RotationScheme } from '@rsb/rotation'
import { applyRotation, removalError, type RotationEvent } from '@rsb/rotation/io'
import { formatDuration, joinWords } from '@rsb/rotation/io'
import type { Logger } from '../log.js'

export interface RotateStep {
  readonly context: Context
  readonly logger: Logger
  readonly parent: string
  /** The destination directory's own name: never a candidate, even when it looks like a snapshot. */
  readonly destinationName: string
  readonly scheme: Readonly<RotationScheme>
  readonly keepLatest: number
  /** The snapshot this run made (real run) or would have made (dry run): always kept. */
  readonly snapshot: string | undefined
  readonly dryRun: boolean
  readonly signal: AbortSignal | undefined
}

export interface RotateResult {
  readonly kept: string[]
  readonly deleted: string[]
}

function describe(reasons: readonly KeepReason[]): string {
  const periods = reasons.filter((r) => r !== 'protected' && r !== 'keep-latest').map((r) => `'${r}'`)
  if (periods.length > 0) return `matches ${joinWords(periods)} retention period${periods.length === 1 ? '' : 's'}`
  return reasons.includes('keep-latest') ? 'one of the --keep-latest newest' : 'the snapshot of this run'
}

/** Turns the rotation's events into rotate-backups' log lines. */
function logEvent(logger: Logger, event: RotationEvent): void {
  switch (event.type) {
    case 'scanning':
      logger.log('info', `Scanning ${event.location} for backups ..`)
      break
    case 'found':
      logger.log(
        'info',
        event.count > 0 ? `Found ${event.count} timestamped backups in ${event.location}.` : `No backups found in ${event.location}.`,
      )
      break
    case 'decision':
      if (event.decision.action === 'keep') logger.log('info', `Preserving ${event.path} (${describe(event.decision.reasons)}) ..`)
      else logger.log('info', `Deleting ${event.path} ..`)
      break
    case 'removed':
      logger.log('verbose', `Deleted ${event.path} in ${formatDuration(event.durationMs)}.`)
      break
    case 'removal-failed':
      logger.log('error', `Failed to delete ${event.path}: ${event.error instanceof Error ? event.error.message : String(event.error)}`)
      break
    default:
      break
  }
}

/**
 * Rotates the snapshots beside the destination with `@rsb/rotation/io`: only entries whose whole name is a
 * snapshot name take part, never the destination directory itself, and this run's snapshot is always kept
 * (in a dry run it is planned as if it existed, so the plan shows what a real run would delete). Removals run
 * as `rm -fR` in the destination's context (its sudo and ionice settings).
 *
 * @throws {RotationError} ERR_RSB_ROTATION_* when the directory cannot be checked or listed, or a removal failed
 */
export async function rotateSnapshots(step: RotateStep): Promise<RotateResult> {
  const { context, logger, parent } = step
  if (step.dryRun && !(await context.isDirectory(parent))) {
    logger.log('info', `No backups found in ${parent} (it does not exist yet).`)
    return { kept: [], deleted: [] }
  }
  const protect = step.snapshot === undefined ? [] : [step.snapshot]
  const result = await applyRotation(context, parent, {
    scheme: { ...step.scheme },
    keepLatest: step.keepLatest,
    snapshotNamesOnly: true,
    ignore: [step.destinationName],
    protect,
    extraNames: step.dryRun ? protect : [],
    dryRun: step.dryRun,
    signal: step.signal,
    onEvent: (event) => logEvent(logger, event),
  })
  const failure = removalError([result])
  if (failure) throw failure
  const paths = (action: 'keep' | 'delete') =>
    result.plan.decisions
      .filter((d) => d.action === action)
      .map((d) => (parent.endsWith('/') ? `${parent}${d.name}` : `${parent}/${d.name}`))
  if (result.removals.length === 0) logger.log('info', 'Nothing to do! (all backups preserved)')
  return { kept: paths('keep'), deleted: paths('delete') }
}

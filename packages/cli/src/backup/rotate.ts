import { type Context } from '@rsb/exec'
import { collectBackups, planRotation, SNAPSHOT_NAME_PATTERN, type KeepReason, type RotationScheme } from '@rsb/rotation'
import { formatDuration, joinWords } from '../duration.js'
import type { Logger } from '../log.js'
import { joinPath } from './snapshot.js'

export interface RotateStep {
  readonly context: Context
  readonly logger: Logger
  readonly parent: string
  /** The destination directory's own name: never a candidate, even when it looks like a snapshot. */
  readonly destinationName: string
  readonly scheme: Readonly<RotationScheme>
  readonly keepLatest: number
  /** Names that are always kept: the snapshot this run made (in a dry run: the one it would have made). */
  readonly protect: readonly string[]
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

/**
 * Rotates the snapshots beside the destination (`@rsb/rotation`'s planner): only entries whose whole name is
 * a snapshot name take part, never the destination directory itself, and `protect` is always kept. Deletes
 * with `rm -fR` in the destination's context (sudo and ionice as the context says); a dry run deletes nothing.
 */
export async function rotateSnapshots(step: RotateStep): Promise<RotateResult> {
  const { context, logger, parent } = step
  logger.log('info', `Scanning ${parent} for backups ..`)
  if (step.dryRun && !(await context.isDirectory(parent))) {
    logger.log('info', `No backups found in ${parent} (it does not exist yet).`)
    return { kept: [], deleted: [] }
  }
  const entries = (await context.listEntries(parent)).filter((name) => name !== step.destinationName)
  const names = [...new Set([...entries, ...step.protect])]
  const { backups } = collectBackups(names, { pattern: SNAPSHOT_NAME_PATTERN })
  if (backups.length === 0) {
    logger.log('info', `No backups found in ${parent}.`)
    return { kept: [], deleted: [] }
  }
  logger.log('info', `Found ${backups.length} timestamped backups in ${parent}.`)
  const plan = planRotation(backups, { scheme: { ...step.scheme }, keepLatest: step.keepLatest, protect: step.protect })
  const kept: string[] = []
  const deleted: string[] = []
  for (const decision of plan.decisions) {
    const target = joinPath(parent, decision.name)
    if (decision.action === 'keep') {
      logger.log('info', `Preserving ${target} (${describe(decision.reasons)}) ..`)
      kept.push(target)
    } else {
      deleted.push(target)
    }
  }
  for (const target of deleted) {
    logger.log('info', `Deleting ${target} ..`)
    if (step.dryRun) continue
    const started = performance.now()
    await context.run(['rm', '-fR', target], { signal: step.signal })
    logger.log('verbose', `Deleted ${target} in ${formatDuration(performance.now() - started)}.`)
  }
  if (deleted.length === 0) logger.log('info', 'Nothing to do! (all backups preserved)')
  return { kept, deleted }
}

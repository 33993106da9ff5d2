import { quoteCommandLine, type Context } from '@rsb/exec'
import type { Frequency, RotationScheme } from '../args.js'
import { formatDuration, joinWords } from '../duration.js'
import type { Logger } from '../log.js'
import { isSnapshotName } from './names.js'
import { joinPath } from './snapshot.js'

export interface RotateStep {
  readonly context: Context
  readonly logger: Logger
  readonly parent: string
  /** The destination directory's own name (never a candidate). */
  readonly destinationName: string
  readonly scheme: Readonly<RotationScheme>
  readonly keepLatest: number
  /** Names that must be kept: the snapshot this run made (or would have made, in a dry run). */
  readonly protect: readonly string[]
  readonly dryRun: boolean
  readonly signal: AbortSignal | undefined
}

export interface RotateResult {
  readonly kept: string[]
  readonly deleted: string[]
}

interface Decision {
  name: string
  keep: boolean
  periods: string[]
}

const ORDER: readonly Frequency[] = ['minutely', 'hourly', 'daily', 'weekly', 'monthly', 'yearly']

function parseName(name: string): Date {
  const [d, t] = name.split(' ') as [string, string]
  const [y, mo, da] = d.split('-').map(Number) as [number, number, number]
  const [h, mi, s] = t.split(':').map(Number) as [number, number, number]
  return new Date(Date.UTC(y, mo - 1, da, h, mi, s))
}

function bucket(date: Date, frequency: Frequency): string {
  const iso = date.toISOString()
  switch (frequency) {
    case 'minutely':
      return iso.slice(0, 16)
    case 'hourly':
      return iso.slice(0, 13)
    case 'daily':
      return iso.slice(0, 10)
    case 'weekly': {
      const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()))
      const weekday = (day.getUTCDay() + 6) % 7
      day.setUTCDate(day.getUTCDate() - weekday + 3)
      const week = 1 + Math.floor((day.getTime() - Date.UTC(day.getUTCFullYear(), 0, 1)) / (7 * 86_400_000))
      return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`
    }
    case 'monthly':
      return iso.slice(0, 7)
    case 'yearly':
      return iso.slice(0, 4)
  }
}

function minimum(newest: Date, frequency: Frequency, count: number): Date {
  const d = new Date(newest)
  const addMonths = (months: number) => {
    const day = d.getUTCDate()
    d.setUTCDate(1)
    d.setUTCMonth(d.getUTCMonth() - months)
    const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate()
    d.setUTCDate(Math.min(day, last))
  }
  const unit = { minutely: 60_000, hourly: 3_600_000, daily: 86_400_000, weekly: 7 * 86_400_000 } as Record<string, number>
  if (frequency === 'monthly') addMonths(count)
  else if (frequency === 'yearly') addMonths(12 * count)
  else d.setTime(d.getTime() - count * (unit[frequency] as number))
  return d
}

/** Plans the rotation of snapshot names (strict windows, the oldest of each period kept). */
export function planSnapshots(
  names: readonly string[],
  scheme: Readonly<RotationScheme>,
  keepLatest: number,
  protect: readonly string[],
): Decision[] {
  const sorted = [...names].sort()
  const decisions = new Map<string, Decision>(sorted.map((name) => [name, { name, keep: false, periods: [] }]))
  if (sorted.length === 0) return []
  const newest = parseName(sorted.at(-1) as string)
  for (const frequency of ORDER) {
    const retention = scheme[frequency]
    if (retention === undefined) continue
    const buckets = new Map<string, string>()
    for (const name of sorted) {
      const key = bucket(parseName(name), frequency)
      if (!buckets.has(key)) buckets.set(key, name)
    }
    let chosen = [...buckets.entries()].sort(([a], [b]) => (a < b ? -1 : 1))
    if (retention !== 'always') {
      const floor = minimum(newest, frequency, retention)
      chosen = chosen.filter(([, name]) => parseName(name) >= floor)
      chosen = retention === 0 ? chosen : chosen.slice(-retention)
    }
    for (const [, name] of chosen) {
      const decision = decisions.get(name) as Decision
      decision.keep = true
      decision.periods.push(frequency)
    }
  }
  for (const name of sorted.slice(sorted.length - Math.min(keepLatest, sorted.length))) {
    const decision = decisions.get(name) as Decision
    if (!decision.keep) decision.periods.push('keep-latest')
    decision.keep = true
  }
  for (const name of protect) {
    const decision = decisions.get(name)
    if (decision) decision.keep = true
  }
  return [...decisions.values()]
}

/**
 * Rotates the snapshots beside the destination: only entries named like snapshots take part, never the
 * destination directory itself, and the protected names (this run's snapshot) are always kept.
 */
export async function rotateSnapshots(step: RotateStep): Promise<RotateResult> {
  const { context, logger, parent } = step
  logger.log('info', `Scanning ${parent} for backups ..`)
  const entries = await context.listEntries(parent)
  const names = [...new Set([...entries.filter((n) => isSnapshotName(n) && n !== step.destinationName), ...step.protect])]
  if (names.length === 0) {
    logger.log('info', `No backups found in ${parent}.`)
    return { kept: [], deleted: [] }
  }
  logger.log('info', `Found ${names.length} timestamped backups in ${parent}.`)
  const plan = planSnapshots(names, step.scheme, step.keepLatest, step.protect)
  const kept: string[] = []
  const deleted: string[] = []
  for (const decision of plan) {
    const target = joinPath(parent, decision.name)
    if (decision.keep) {
      const periods = decision.periods.map((p) => `'${p}'`)
      const why =
        periods.length === 0
          ? 'the snapshot of this run'
          : `matches ${joinWords(periods)} retention period${periods.length === 1 ? '' : 's'}`
      logger.log('info', `Preserving ${target} (${why}) ..`)
      kept.push(target)
      continue
    }
    logger.log('info', `Deleting ${target} ..`)
    deleted.push(target)
    if (step.dryRun) continue
    const started = performance.now()
    const argv = ['rm', '-fR', target]
    logger.log('debug', `Running ${quoteCommandLine(argv)}`)
    await context.run(argv, { signal: step.signal })
    logger.log('verbose', `Deleted ${target} in ${formatDuration(performance.now() - started)}.`)
  }
  if (deleted.length === 0) logger.log('info', 'Nothing to do! (all backups preserved)')
  return { kept, deleted }
}

import { debuglog } from 'node:util'
import type { Context, IoniceClass, RunOptions } from '@rsb/exec'
import { collectBackups, type Collection, type SkippedEntry } from '../collect.js'
import { RotationError } from '../errors.js'
import { planRotation, type BackupDecision, type PlanOptions, type RotationPlan } from '../plan.js'
import { SNAPSHOT_NAME_PATTERN } from '../snapshot-name.js'
import type { TimestampPattern } from '../timestamp-pattern.js'
import { joinPath } from './location.js'

const debug = debuglog('rsb:rotation')

/** rotate-backups' default removal command (the path is appended). */
export const DEFAULT_REMOVAL_COMMAND: readonly string[] = ['rm', '-fR']

/** What the I/O layer reports while it works. The CLI turns these into log lines. */
export type RotationEvent =
  | { readonly type: 'scanning'; readonly location: string }
  | {
      readonly type: 'check'
      readonly location: string
      readonly check: 'exists' | 'readable' | 'writable'
      readonly ok: boolean
    }
  | { readonly type: 'skipped'; readonly location: string; readonly entry: SkippedEntry }
  | { readonly type: 'found'; readonly location: string; readonly count: number }
  | { readonly type: 'decision'; readonly location: string; readonly path: string; readonly decision: BackupDecision }
  /** A removal command is about to run; `argv` is the final command line (with sudo and ionice prefixes). */
  | { readonly type: 'removing'; readonly location: string; readonly path: string; readonly argv: readonly string[] }
  | { readonly type: 'removed'; readonly location: string; readonly path: string; readonly durationMs: number }
  | { readonly type: 'removal-failed'; readonly location: string; readonly path: string; readonly error: unknown }

/** Options of {@link prepareRotation} and {@link applyRotation}. */
export interface RotationOptions extends Omit<PlanOptions, 'protect'> {
  /** Timestamp pattern (compiled, or a regex with named groups). Default: rotate-backups' default pattern. */
  timestampPattern?: TimestampPattern | RegExp | undefined
  /** Consider only snapshot names (`YYYY-MM-DD HH:MM:SS`, the whole name); overrides `timestampPattern`. */
  snapshotNamesOnly?: boolean | undefined
  /** Shell patterns: only matching names are backups (default: all). */
  include?: readonly string[] | undefined
  /** Shell patterns: matching names are never backups. */
  exclude?: readonly string[] | undefined
  /** Entry names that never take part (for example the backup workflow's destination directory). */
  ignore?: Iterable<string> | undefined
  /** Names planned as if they were listed (a dry run's snapshot that would have been made). */
  extraNames?: Iterable<string> | undefined
  /** Names that are always kept. */
  protect?: Iterable<string> | undefined
  /** Log and plan only; run no removal command and skip the writability check. */
  dryRun?: boolean | undefined
  /** The removal command; the path is appended. Default: `rm -fR`. A custom command skips the writability check. */
  removalCommand?: readonly string[] | undefined
  /** sudo for every command of the location (when not root). Default: the context's default. */
  useSudo?: boolean | undefined
  /** `ionice -c CLASS` for the removal commands (dropped where ionice does not exist). Default: the context's. */
  ionice?: IoniceClass | undefined
  /** Failing sanity checks (exists, readable, writable) are reported as events instead of errors. */
  force?: boolean | undefined
  /** The location as shown in events and errors (default: the directory). */
  label?: string | undefined
  /** Receives progress events. */
  onEvent?: ((event: RotationEvent) => void) | undefined
  /** Stops the work: running commands are stopped and the call rejects. */
  signal?: AbortSignal | undefined
}

/** One planned removal. */
export interface Removal {
  readonly name: string
  /** The full path (directory + name). */
  readonly path: string
  /** The removal command with the path (without sudo/ionice prefixes, which the context adds). */
  readonly argv: readonly string[]
}

/** The outcome of one removal. */
export interface RemovalResult extends Removal {
  /** `removed`; `failed` (see `error`); `planned` in a dry run; `cancelled` when aborted before it ran. */
  readonly status: 'removed' | 'failed' | 'planned' | 'cancelled'
  readonly error?: unknown
  readonly durationMs?: number
}

/** A location after listing and planning, ready for {@link executeRotation}. */
export interface PreparedRotation {
  readonly context: Context
  readonly directory: string
  /** The location as shown in events (`label`, else the directory). */
  readonly location: string
  readonly collection: Collection
  readonly plan: RotationPlan
  /** The deletions, oldest first. */
  readonly removals: Removal[]
  readonly dryRun: boolean
  /** The per-command options (sudo, ionice, signal) of the removals. */
  readonly runOptions: RunOptions
  readonly onEvent: ((event: RotationEvent) => void) | undefined
}

/** The result of rotating one location. */
export interface RotationResult extends PreparedRotation {
  /** One entry per removal, oldest first. */
  readonly results: RemovalResult[]
  /** The removals that failed. */
  readonly failures: RemovalResult[]
}

function sanityError(check: 'exists' | 'readable' | 'writable', location: string, privileged: boolean): RotationError {
  const what = { exists: "doesn't exist or isn't a directory", readable: "isn't readable", writable: "isn't writable" }[check]
  const code = {
    exists: 'ERR_RSB_ROTATION_LOCATION_MISSING',
    readable: 'ERR_RSB_ROTATION_LOCATION_UNREADABLE',
    writable: 'ERR_RSB_ROTATION_LOCATION_UNWRITABLE',
  } as const
  const sudo = privileged ? '' : 'use --use-sudo if only root can access it, or '
  return new RotationError(code[check], `It seems ${location} ${what}!`, {
    target: location,
    hint: `Check the location; ${sudo}use --force to continue anyway.`,
  })
}

/**
 * Checks and lists one directory and plans its rotation, without deleting anything: `test -d` and `test -r`
 * (errors unless `force`), the listing (`find DIR -mindepth 1 -maxdepth 1 -print0`), timestamps,
 * include/exclude, the plan, and (real runs with the default removal command) `test -w`.
 *
 * @param context - where the directory is (`LocalContext` or `SshContext` of `@rsb/exec`)
 * @param directory - the directory holding the backups
 * @param options - the scheme and settings
 * @throws {RotationError} ERR_RSB_ROTATION_LOCATION_MISSING, _UNREADABLE, _UNWRITABLE (without `force`),
 *   ERR_RSB_ROTATION_LIST_FAILED, ERR_RSB_ROTATION_EMPTY_SCHEME, ERR_RSB_ROTATION_BAD_RETENTION,
 *   ERR_RSB_ROTATION_BAD_PATTERN
 */
export async function prepareRotation(context: Context, directory: string, options: RotationOptions): Promise<PreparedRotation> {
  const location = options.label ?? directory
  const emit = options.onEvent
  const dryRun = options.dryRun ?? false
  const removalCommand = options.removalCommand ?? DEFAULT_REMOVAL_COMMAND
  if (removalCommand.length === 0 || removalCommand[0] === '') {
    throw new RotationError('ERR_RSB_ROTATION_BAD_OPTION', 'The removal command is empty.', { hint: 'Give a program, e.g. rm -fR.' })
  }
  const base: RunOptions = {
    ...(options.useSudo === undefined ? {} : { sudo: options.useSudo }),
    ...(options.signal ? { signal: options.signal } : {}),
  }
  const quiet: RunOptions = { ...base, ionice: undefined }
  const check = async (kind: 'exists' | 'readable' | 'writable', ok: Promise<boolean>) => {
    const result = await ok
    emit?.({ type: 'check', location, check: kind, ok: result })
    if (!result && !options.force) throw sanityError(kind, location, await context.isPrivileged())
  }

  emit?.({ type: 'scanning', location })
  await check('exists', context.isDirectory(directory, quiet))
  await check('readable', context.isReadable(directory, quiet))
  let entries: string[]
  try {
    entries = await context.listEntries(directory, quiet)
  } catch (error) {
    if (options.signal?.aborted) throw error
    throw new RotationError(
      'ERR_RSB_ROTATION_LIST_FAILED',
      `Failed to list ${location}: ${error instanceof Error ? error.message : String(error)}`,
      {
        target: location,
        cause: error,
      },
    )
  }
  const ignore = new Set(options.ignore ?? [])
  let names: Iterable<string> = entries
  if (ignore.size > 0 || options.extraNames !== undefined || !strictlyAscending(entries)) {
    const unique = new Set(entries.filter((name) => !ignore.has(name)))
    for (const name of options.extraNames ?? []) if (!ignore.has(name)) unique.add(name)
    names = unique
  }
  const collection = collectBackups(names, {
    pattern: options.snapshotNamesOnly ? SNAPSHOT_NAME_PATTERN : options.timestampPattern,
    include: options.include,
    exclude: options.exclude,
  })
  for (const entry of collection.skipped) emit?.({ type: 'skipped', location, entry })
  const plan = planRotation(collection.backups, { ...options, protect: options.protect })
  emit?.({ type: 'found', location, count: collection.backups.length })
  if (collection.backups.length > 0 && !dryRun && options.removalCommand === undefined) {
    await check('writable', context.isWritable(directory, quiet))
  }
  const removals: Removal[] = []
  for (let i = 0; i < plan.decisions.length; i++) {
    const decision = plan.decisions[i]!
    if (decision.action !== 'delete') continue
    const path = joinPath(directory, decision.name)
    removals.push({ name: decision.name, path, argv: removalCommand.concat(path) })
  }
  const runOptions: RunOptions = { ...base, ...(options.ionice === undefined ? {} : { ionice: options.ionice }) }
  return { context, directory, location, collection, plan, removals, dryRun, runOptions, onEvent: emit }
}

async function remove(prepared: PreparedRotation, removal: Removal): Promise<RemovalResult> {
  const { location, onEvent: emit } = prepared
  if (prepared.dryRun) return planned(removal)
  if (prepared.runOptions.signal?.aborted) return { ...removal, status: 'cancelled' }
  const started = performance.now()
  try {
    if (emit) {
      const line = await prepared.context.commandLine(removal.argv, prepared.runOptions)
      emit({ type: 'removing', location, path: removal.path, argv: line.argv })
    }
    await prepared.context.run(removal.argv, { ...prepared.runOptions, capture: false })
    const durationMs = performance.now() - started
    emit?.({ type: 'removed', location, path: removal.path, durationMs })
    return { ...removal, status: 'removed', durationMs }
  } catch (error) {
    debug('removal of %s failed: %s', removal.path, error)
    if (prepared.runOptions.signal?.aborted) return { ...removal, status: 'cancelled', error }
    emit?.({ type: 'removal-failed', location, path: removal.path, error })
    return { ...removal, status: 'failed', error, durationMs: performance.now() - started }
  }
}

function emitDecision(prepared: PreparedRotation, decision: BackupDecision): void {
  prepared.onEvent?.({ type: 'decision', location: prepared.location, path: joinPath(prepared.directory, decision.name), decision })
}

/** The sequential walk of a dry run: nothing to wait for, so one synchronous loop (which the JIT optimises). */
function walkDryRun(p: PreparedRotation, byName: ReadonlyMap<string, Removal>, list: RemovalResult[]): void {
  const decisions = p.plan.decisions
  for (let i = 0; i < decisions.length; i++) {
    const decision = decisions[i]!
    emitDecision(p, decision)
    const removal = byName.get(decision.name)
    if (removal) list.push(planned(removal))
  }
}

/** The decision events of a location, in one synchronous loop (parallel mode reports them all first). */
function emitDecisions(p: PreparedRotation): void {
  const decisions = p.plan.decisions
  for (let i = 0; i < decisions.length; i++) emitDecision(p, decisions[i]!)
}

/** `{ ...removal, status: 'planned' }` (Object.assign is several times faster than a spread before optimisation). */
function planned(removal: Removal): RemovalResult {
  const result: { status?: 'planned' } & Removal = Object.assign({}, removal)
  result.status = 'planned'
  return result as RemovalResult
}

/** Whether names are sorted and without duplicates (what listEntries returns), checked in one pass. */
function strictlyAscending(names: readonly string[]): boolean {
  for (let i = 1; i < names.length; i++) if (!(names[i - 1]! < names[i]!)) return false
  return true
}

/** Options of {@link executeRotation}. */
export interface ExecuteOptions {
  /**
   * Run the removals of all locations at once, up to `limit` commands at a time, one at a time per
   * (host, mount point) group (rotate-backups' `--parallel`). Default: sequential, in plan order.
   */
  parallel?: boolean | undefined
  /** At most this many commands at once in parallel mode. Default: 10. */
  limit?: number | undefined
}

/**
 * Runs the removals of prepared locations. A failing removal is reported (event `removal-failed`, status
 * `failed`) and the other removals still run. Sequential mode walks every location's decisions in order
 * (event `decision` before each removal); parallel mode reports all decisions first.
 *
 * @returns one result per prepared location, in the same order
 */
export async function executeRotation(prepared: readonly PreparedRotation[], options: ExecuteOptions = {}): Promise<RotationResult[]> {
  const results = new Map<PreparedRotation, RemovalResult[]>(prepared.map((p) => [p, []]))
  if (!options.parallel) {
    for (const p of prepared) {
      const byName = new Map<string, Removal>()
      for (let i = 0; i < p.removals.length; i++) byName.set(p.removals[i]!.name, p.removals[i]!)
      if (p.dryRun) {
        walkDryRun(p, byName, results.get(p)!)
        continue
      }
      for (const decision of p.plan.decisions) {
        emitDecision(p, decision)
        const removal = byName.get(decision.name)
        if (removal) results.get(p)!.push(await remove(p, removal))
      }
    }
  } else {
    for (const p of prepared) emitDecisions(p)
    // Group by (context, mount point): one command at a time per group, up to `limit` groups at once.
    const groups = new Map<string, { prepared: PreparedRotation; removal: Removal; index: number }[]>()
    const contextIds = new Map<Context, number>()
    for (const p of prepared) {
      if (p.removals.length === 0 || p.dryRun) {
        results.set(p, p.removals.map(planned)) // nothing to run
        continue
      }
      let id = contextIds.get(p.context)
      if (id === undefined) contextIds.set(p.context, (id = contextIds.size))
      const mountPoint = await p.context
        .mountPointOf(p.directory, { ...p.runOptions, ionice: undefined })
        .catch(() => `(stat failed: ${p.location})`)
      const key = `${id}\0${mountPoint}`
      const group = groups.get(key) ?? []
      groups.set(key, group)
      p.removals.forEach((removal, index) => group.push({ prepared: p, removal, index }))
    }
    const queue = [...groups.values()]
    const worker = async () => {
      for (let group = queue.shift(); group; group = queue.shift()) {
        for (const job of group) {
          const list = results.get(job.prepared)!
          list[job.index] = await remove(job.prepared, job.removal)
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(options.limit ?? 10, queue.length) }, worker))
  }
  return prepared.map((p) => {
    const list = results.get(p)!
    return { ...p, results: list, failures: list.filter((r) => r.status === 'failed') }
  })
}

/**
 * Rotates one directory: {@link prepareRotation}, then {@link executeRotation}. Removal failures do not
 * throw: they are in `failures` (and reported as events); {@link removalError} turns them into an error.
 *
 * @param context - where the directory is
 * @param directory - the directory holding the backups
 * @param options - the scheme and settings
 * @returns the plan and the outcome of every removal
 * @throws {RotationError} as {@link prepareRotation}
 * @example
 * ```ts
 * import { LocalContext } from '@rsb/exec'
 * import { applyRotation } from '@rsb/rotation/io'
 * const result = await applyRotation(new LocalContext(), '/mnt/backups', {
 *   scheme: { hourly: 24, daily: 7, weekly: 4, monthly: 'always' },
 *   snapshotNamesOnly: true, ignore: ['latest'], dryRun: true,
 * })
 * console.log(result.removals.map((r) => r.path))
 * ```
 */
export async function applyRotation(context: Context, directory: string, options: RotationOptions): Promise<RotationResult> {
  const prepared = await prepareRotation(context, directory, options)
  const [result] = await executeRotation([prepared])
  return result!
}

/**
 * The error for failed removals, or undefined when none failed.
 *
 * @param results - the rotation results (or anything listing failed removals by path)
 * @param options.hint - what to do about it (default: rsb-rotate's advice)
 * @returns a RotationError ERR_RSB_ROTATION_REMOVAL_FAILED naming the failed paths, with the first failure as `cause`
 */
export function removalError(
  results: readonly { readonly failures: readonly { readonly path: string; readonly error?: unknown }[] }[],
  options: { hint?: string } = {},
): RotationError | undefined {
  const failures = results.flatMap((r) => r.failures)
  if (failures.length === 0) return undefined
  const first = failures[0]!
  const reason = first.error instanceof Error ? first.error.message : String(first.error)
  const more = failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''
  return new RotationError('ERR_RSB_ROTATION_REMOVAL_FAILED', `Failed to delete ${first.path}${more}: ${reason}`, {
    target: first.path,
    cause: first.error,
    hint: options.hint ?? 'The other deletions still ran; check permissions (--use-sudo) or the removal command.',
  })
}

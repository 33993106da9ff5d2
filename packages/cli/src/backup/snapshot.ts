import { quoteCommandLine, type Context } from '@rsb/exec'
import { formatDuration } from '@rsb/rotation/io'
import { CliError } from '../errors.js'
import type { Logger } from '../log.js'
import { formatSnapshotName } from '@rsb/rotation'
import { joinPath } from '@rsb/rotation/io'

/** Prefix of the hidden temporary names snapshots are copied to before the rename. */
export const TEMPORARY_PREFIX = '.rsb-snapshot-'

export interface SnapshotStep {
  readonly context: Context
  readonly logger: Logger
  /** The destination directory exactly as parsed. */
  readonly directory: string
  readonly parent: string
  readonly dryRun: boolean
  readonly signal: AbortSignal | undefined
  /** The clock (tests pass a fixed one). */
  readonly now?: () => Date
}

/** How many snapshot names (one per second) are tried before giving up. */
const ATTEMPTS = 3

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Removes hidden temporary snapshots left by interrupted runs (the run lock guarantees that none belongs
 * to a live run).
 */
export async function removeLeftovers(step: SnapshotStep): Promise<string[]> {
  if (step.dryRun || !(await step.context.isDirectory(step.parent, { ionice: undefined }))) return []
  const leftovers = (await step.context.listEntries(step.parent)).filter((name) => name.startsWith(TEMPORARY_PREFIX))
  for (const name of leftovers) {
    const target = joinPath(step.parent, name)
    step.logger.log('info', `Removing the leftover of an interrupted snapshot: ${target}`)
    await step.context.run(['rm', '-fR', target], { signal: step.signal })
  }
  return leftovers
}

/**
 * Creates a snapshot atomically: `cp --archive --link` into a hidden temporary name beside the destination,
 * then `mv --no-target-directory` to the final name (the local time, `YYYY-MM-DD HH:MM:SS`). Never copies
 * into an existing snapshot: when the name exists (two runs in one second), it waits for the next second.
 * A dry run only logs the command.
 *
 * @returns the snapshot's full path (in a dry run, the path it would have)
 * @throws {CliError} ERR_RSB_CLI_SNAPSHOT_FAILED when the copy fails; ERR_RSB_CLI_SNAPSHOT_EXISTS when no free name is found
 */
export async function createSnapshot(step: SnapshotStep): Promise<string> {
  const now = step.now ?? (() => new Date())
  const { context, logger } = step
  if (step.dryRun) {
    const target = joinPath(step.parent, formatSnapshotName(now()))
    const line = await context.commandLine(['cp', '--archive', '--link', step.directory, target])
    logger.log('info', `Snapshot command: ${quoteCommandLine(line.argv)}`)
    return target
  }
  let target: string | undefined
  for (let attempt = 1; attempt <= ATTEMPTS && target === undefined; attempt++) {
    const candidate = joinPath(step.parent, formatSnapshotName(now()))
    if (!(await context.exists(candidate, { ionice: undefined }))) target = candidate
    else if (attempt < ATTEMPTS) await sleep(1000 - (now().getTime() % 1000) + 10)
  }
  if (target === undefined) {
    throw new CliError('ERR_RSB_CLI_SNAPSHOT_EXISTS', `A snapshot named like this run's exists already in ${step.parent}.`, {
      path: step.parent,
      hint: 'Check the clock of this machine.',
    })
  }
  const started = performance.now()
  const temporary = joinPath(step.parent, `${TEMPORARY_PREFIX}${process.pid}-${Date.now()}`)
  logger.log('info', `Creating snapshot: ${target}`)
  try {
    await context.run(['cp', '--archive', '--link', '--no-target-directory', step.directory, temporary], { signal: step.signal })
  } catch (error) {
    if (step.signal?.aborted) throw error
    await context.run(['rm', '-fR', temporary], { check: false })
    const stderr = (error as { stderrTail?: string }).stderrTail ?? ''
    throw new CliError('ERR_RSB_CLI_SNAPSHOT_FAILED', `Failed to create snapshot ${target}: ${(error as Error).message}`, {
      cause: error,
      path: target,
      hint: /No space left|Too many links|Disk quota/.test(stderr)
        ? 'The destination filesystem is full (space or inodes); older snapshots were left intact. Free space or rotate more snapshots.'
        : undefined,
    })
  }
  await context.run(['mv', '--no-target-directory', temporary, target], { ionice: undefined })
  logger.log('info', `Took ${formatDuration(performance.now() - started)} to create snapshot.`)
  return target
}

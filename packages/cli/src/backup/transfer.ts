import type { Context } from '@rsb/exec'
import type { RunOptions } from '../args.js'
import type { Logger } from '../log.js'
import type { TransferStatistics } from './summary.js'

export interface TransferStep {
  readonly context: Context
  readonly logger: Logger
  readonly options: RunOptions
  /** rsync's destination argument (before the trailing slash). */
  readonly destination: string
  readonly progress: ((percent: number, text: string) => void) | undefined
  readonly signal: AbortSignal | undefined
  readonly stderr: { write(text: string): unknown }
}

export interface TransferResult {
  readonly exitCode: number
  readonly statistics: TransferStatistics | undefined
}

/** Runs rsync (local adapter until @rsb/rsync exports runRsync). */
export async function runTransfer(step: TransferStep): Promise<TransferResult> {
  const { options } = step
  const trail = (s: string) => (s === '' ? s : `${s.replace(/\/+$/, '')}/`)
  const argv = ['rsync']
  if (options.dryRun) argv.push('--dry-run', '--verbose')
  argv.push('--delete', '--delete-excluded', '--acls', '--archive', '--hard-links', '--numeric-ids', '--xattrs')
  if (!options.multiFs) argv.push('--one-file-system')
  for (const root of ['/dev/', '/home/*/.cache/', '/media/', '/mnt/', '/proc/', '/run/', '/sys/', '/tmp/', '/var/cache/', '/var/tmp/']) {
    argv.push(`--filter=-/ ${root}`)
  }
  for (const pattern of options.exclude) argv.push(`--exclude=${pattern}`)
  argv.push(...options.rsyncOptions)
  argv.push(trail(options.source), trail(step.destination))
  const result = await step.context.run(argv, {
    env: { HOME: '' },
    check: false,
    capture: false,
    signal: step.signal,
    onStdout: (chunk) => step.stderr.write(chunk),
    onStderr: (chunk) => step.stderr.write(chunk),
  })
  return { exitCode: result.exitCode ?? 1, statistics: undefined }
}

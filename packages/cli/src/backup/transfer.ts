import { quoteCommandLine, SSH_KEEPALIVE, type Context, type SshContext } from '@rsb/exec'
import { runRsync, type RsyncDestination, type RsyncStats } from '@rsb/rsync'
import type { RunOptions } from '../args.js'
import { formatDuration } from '@rsb/rotation/io'
import type { Logger, TextSink } from '../kit/log.js'
import { ProgressBar } from './progress.js'

export interface TransferStep {
  readonly context: Context
  readonly logger: Logger
  readonly options: RunOptions
  readonly destination: RsyncDestination
  /** The resolved SOURCE. */
  readonly source: string
  /** Several resolved SOURCEs (rsync `--relative`: each at its whole path in DESTINATION); `source` is then ignored. */
  readonly sources?: readonly string[] | undefined
  /**
   * One SOURCE into a mirror that keeps its SOURCEs under their whole paths (it had several): rsync `--relative` with
   * that one, so that it lands at its whole path and `--delete` acts only inside it (the others' copies stay). `/`
   * needs no `--relative` (its whole path is the mirror). Ignored with several `sources` (they have it anyway).
   */
  readonly wholePaths?: boolean | undefined
  /** Absolute locations never copied (default: rsync's DEFAULT_EXCLUDED_ROOTS). */
  readonly excludedRoots?: readonly string[] | undefined
  /** rsync's `--link-dest` directories on the destination (exact.ts: the files moved aside for new inodes). */
  readonly linkDest?: readonly string[] | undefined
  /** The SSH connection of `--tunnel`, when given. */
  readonly tunnel: SshContext | undefined
  readonly signal: AbortSignal | undefined
  readonly stderr: TextSink
  /** rsb's environment: the variables of rsync's that it forwards are picked from it (see `FORWARDED`). */
  readonly env: Readonly<Record<string, string | undefined>>
}

export interface TransferResult {
  readonly exitCode: number
  readonly warning: string | undefined
  readonly stats: RsyncStats | undefined
}

/**
 * rsync's variables that rsb passes on to rsync. `@rsb/rsync` turns each into what works through sudo with a rule
 * that has no SETENV: `RSYNC_RSH` into `--rsh` (SSH destinations), `RSYNC_PASSWORD` into standard input
 * (`--password-file=-`, daemons); `RSYNC_PROXY` and `RSYNC_CONNECT_PROG` have no option and stay environment for
 * daemon destinations only (through sudo only where sudoers keeps them: `env_keep`). Nothing else of rsb's
 * environment reaches rsync (with sudo, sudo's own `env_reset` applies). For an SSH destination, `RSYNC_RSH` (default
 * `ssh`) also gets rsb's keepalive, `-o ServerAliveInterval=15 -o ServerAliveCountMax=4`, unless the user's ssh
 * settings already set one (see `withSshKeepalive` of `@rsb/rsync`).
 */
const FORWARDED = ['RSYNC_RSH', 'RSYNC_PASSWORD', 'RSYNC_CONNECT_PROG', 'RSYNC_PROXY'] as const

/**
 * The backup step: rsync through `@rsb/rsync` (its argv, sudo, ionice, exit statuses), with the progress bar
 * on a terminal and rsync's own output on stderr. Logs the original's lines (`Took … to create backup.`,
 * the partial-transfer warning, `Backup failed after …! (rsync exited with N)`).
 *
 * @throws {RsyncError} ERR_RSB_RSYNC_* when rsync fails (not for 23/24)
 */
export async function runTransfer(step: TransferStep): Promise<TransferResult> {
  const { options, logger, stderr } = step
  const started = performance.now()
  const bar = options.progress && stderr.isTTY === true ? new ProgressBar(stderr) : undefined
  if (bar) logger.beforeWrite = () => bar.clear()
  const env: Record<string, string> = {}
  for (const name of FORWARDED) {
    const value = step.env[name]
    if (value !== undefined) env[name] = value
  }
  logger.log('info', 'Creating system backup using rsync ..')
  const several = step.sources !== undefined && step.sources.length > 1
  // before the user's options (a --no-relative among them is refused, run.ts)
  const relative = !several && step.wholePaths === true && step.source.replace(/\/+$/, '') !== ''
  try {
    const result = await runRsync({
      context: step.context,
      ...(several ? { sources: step.sources } : { source: step.source }),
      excludedRoots: step.excludedRoots,
      linkDest: step.linkDest,
      destination: step.destination,
      dryRun: options.dryRun,
      multiFs: options.multiFs,
      excludes: options.exclude,
      rsyncOptions: relative ? ['--relative', ...options.rsyncOptions] : options.rsyncOptions,
      progress: bar !== undefined,
      // the statistics also go into the snapshot's manifest and the run record (rsync's summary lines are never shown)
      stats: options.json || !options.dryRun,
      timeout: options.timeout,
      connectTimeout: options.connectTimeout,
      // rsync's ssh gets the keepalive of rsb's own connection, where the user's ssh settings set none
      sshKeepalive: SSH_KEEPALIVE,
      env,
      signal: step.signal,
      ...(step.tunnel ? { tunnel: { context: step.tunnel } } : {}),
      onEvent(event) {
        if (event.type === 'progress') {
          bar?.update(event.percent, `${event.rate}  ${event.time}`)
        } else if (event.type === 'command') {
          logger.log('verbose', `Running ${quoteCommandLine(event.argv)}`)
        } else if (event.type === 'output') {
          if (event.stream === 'stderr' || logger.enabled('info')) {
            bar?.clear()
            stderr.write(`${event.line}\n`)
          }
        }
      },
    })
    bar?.clear()
    logger.beforeWrite = undefined
    logger.log('info', `Took ${formatDuration(performance.now() - started)} to create backup.`)
    if (result.warning !== undefined) {
      logger.log('warning', `Ignoring \`partial transfer' warnings (rsync exited with ${result.exitCode}).`)
    }
    return { exitCode: result.exitCode, warning: result.warning, stats: result.stats }
  } catch (error) {
    bar?.clear()
    logger.beforeWrite = undefined
    const exitCode = (error as { exitCode?: unknown }).exitCode
    const code = (error as { code?: unknown }).code
    // only rsync's own statuses: a status 1 of sudo refusing to start rsync is not "rsync exited with 1"
    const fromRsync = typeof code === 'string' && code.startsWith('ERR_RSB_RSYNC_') && code !== 'ERR_RSB_RSYNC_SUDO_PASSWORD'
    if (typeof exitCode === 'number' && fromRsync) {
      logger.log('error', `Backup failed after ${formatDuration(performance.now() - started)}! (rsync exited with ${exitCode})`)
    }
    throw error
  }
}

// The run of `rsb run`: each job's before hook, start alert, backup (rsb backup's workflow, in this process), success
// or failure alerts, on-failure and after hooks, one after the other; the worst exit status.
import os from 'node:os'
import { parseArgs, type RunOptions } from '../../args.js'
import { isRsbError, UsageError } from '../../errors.js'
import { createLogger, type Logger } from '../../kit/log.js'
import { errorLine, errorReport, json, oneLine } from '../../kit/render.js'
import type { MainIo } from '../../main.js'
import { findJob } from '../../config/expand.js'
import { backupArgv, configFile, loadConfig, type Config, type ConfigJob } from '../../config/load.js'
import { runHook, sendAlert, type AlertEvent, type AlertOutcome, type HookResult } from '../../alerts/index.js'
import type { RunSummary } from '../../backup/summary.js'
import { acquireRunLock, lockDirectory, type RunLock } from '../../session/lock.js'
import { backupOnce } from '../backup/index.js'
import type { RunArgs } from './index.js'

/** How a job ended. */
export type JobStatus = 'success' | 'failure' | 'skipped'

/** One hook that ran (or, in a dry run, would have). */
export interface HookReport {
  readonly hook: 'before' | 'after' | 'on-failure'
  readonly ok: boolean
  readonly exitCode: number | undefined
  readonly timedOut: boolean
  /** Stopped by SIGINT or SIGTERM. */
  readonly aborted: boolean
  /** Not run: a dry run. */
  readonly dryRun: boolean
}

/** One job of a run, as `--json` prints it. */
export interface JobReport {
  readonly job: string
  readonly status: JobStatus
  readonly exitCode: number
  /** Why it failed or was skipped (one line). */
  readonly reason: string | undefined
  readonly summary: RunSummary | undefined
  readonly hooks: HookReport[]
  readonly alerts: { readonly event: AlertEvent; readonly outcomes: readonly AlertOutcome[] }[]
}

/** The exit status of the run: 130/143 if stopped, else the worst (0 < 1 < 2). */
function worst(codes: readonly number[]): number {
  return codes.reduce((a, b) => Math.max(a, b), 0)
}

/** Runs `rsb run`'s jobs; returns the exit status. */
export async function runJobs(args: RunArgs, io: MainIo): Promise<number> {
  const logger = createLogger(io.stderr, args.verbosity)
  let config: Config
  let jobs: ConfigJob[]
  try {
    config = loadConfig(configFile(args.config, io.env))
    jobs = args.jobs.length === 0 ? config.jobs.filter((job) => !job.daemon) : args.jobs.map((name) => findJob(config, name))
    for (const job of jobs) checkMode(job, args)
  } catch (error) {
    const exitCode = isRsbError(error) ? 2 : 1
    io.stderr.write(errorReport(error, 'rsb'))
    if (args.json) io.stdout.write(json({ schemaVersion: 1, jobs: [], exitCode, error: refusal(error) }))
    return exitCode
  }
  if (args.reportFailure) return reportFailure(jobs[0] as ConfigJob, config, io, logger)
  if (jobs.length === 0)
    logger.log('warning', `${config.file} has no job that rsb run runs (daemon jobs run from the rsync daemon's hooks).`)

  const reports: JobReport[] = []
  for (const job of jobs) {
    if (io.signal?.aborted) break
    const report = await runJob(job, config, args, io, logger)
    reports.push(report)
    if (!args.json && args.verbosity >= 0 && args.daemonHook === undefined) io.stdout.write(`${summaryLine(report)}\n`)
  }
  const reason: unknown = io.signal?.aborted ? io.signal.reason : undefined
  const exitCode = reason === 'SIGINT' ? 130 : reason === 'SIGTERM' ? 143 : worst(reports.map((r) => r.exitCode))
  if (args.json) io.stdout.write(json({ schemaVersion: 1, config: config.file, jobs: reports, exitCode }))
  return exitCode
}

/** A daemon job runs only as a daemon hook, and a daemon hook runs only a daemon job. */
function checkMode(job: ConfigJob, args: RunArgs): void {
  if (args.daemonHook !== undefined && !job.daemon) {
    throw new UsageError(`Job '${job.name}' is not a daemon job: --daemon-hook runs a job with daemon = true.`, {
      hint: `Run 'rsb run ${job.name}' without --daemon-hook.`,
    })
  }
  if (args.daemonHook === undefined && !args.reportFailure && job.daemon) {
    throw new UsageError(`Job '${job.name}' is a daemon job: the rsync daemon's module hooks run it.`, {
      hint: `In rsyncd.conf: pre-xfer exec = rsb run --daemon-hook=pre ${job.name}, post-xfer exec = rsb run --daemon-hook=post ${job.name}.`,
    })
  }
}

function refusal(error: unknown): { code: string; message: string; hint: string | undefined } {
  if (isRsbError(error)) return { code: error.code, message: error.message, hint: error.hint }
  return { code: 'ERR_RSB_CLI_INTERNAL', message: error instanceof Error ? error.message : String(error), hint: undefined }
}

/** The `rsb backup` options of a job in this run. */
function jobOptions(job: ConfigJob, args: RunArgs, env: MainIo['env']): RunOptions {
  const extra = [
    ...(args.dryRun ? ['--dry-run'] : []),
    ...(args.progress ? [] : ['--no-progress']),
    ...Array.from({ length: Math.max(args.verbosity, 0) }, () => '--verbose'),
    ...Array.from({ length: Math.max(-args.verbosity, 0) }, () => '--quiet'),
  ]
  let argv: string[]
  if (args.daemonHook === undefined) argv = backupArgv(job, extra)
  else {
    const actions = new Set(['--backup', '--snapshot', '--rotate'])
    const options = job.options.filter((o) => !actions.has(o))
    const chosen = job.options.filter((o) => o === '--snapshot' || o === '--rotate')
    argv = [
      ...options,
      ...extra,
      `--daemon-hook=${args.daemonHook}`,
      ...(args.daemonHook === 'post' ? (chosen.length > 0 ? chosen : ['--snapshot', '--rotate']) : []),
    ]
  }
  const parsed = parseArgs(argv, env)
  if (parsed.kind !== 'run') throw new UsageError(`The command line of job ${job.name} asks for ${parsed.kind}, not a backup.`)
  return parsed.options
}

/** The variables every hook of a job gets. */
function hookEnv(job: ConfigJob, config: Config, args: RunArgs, env: MainIo['env']): Record<string, string> {
  return {
    RSB_JOB: job.name,
    RSB_CONFIG: config.file,
    RSB_DESTINATION: job.destination ?? env.RSYNC_MODULE_PATH ?? '',
    RSB_SOURCE: job.sources.join('\n'),
    RSB_DRY_RUN: args.dryRun ? '1' : '0',
  }
}

async function runOneHook(
  hook: HookReport['hook'],
  command: string | undefined,
  variables: Record<string, string>,
  job: ConfigJob,
  args: RunArgs,
  io: MainIo,
  logger: Logger,
): Promise<HookReport | undefined> {
  if (command === undefined) return undefined
  if (args.dryRun) {
    logger.log('info', `Job ${job.name}: dry run: the ${hook} hook would run: ${oneLine(command)}`)
    return { hook, ok: true, exitCode: undefined, timedOut: false, aborted: false, dryRun: true }
  }
  logger.log('verbose', `Job ${job.name}: running the ${hook} hook: ${oneLine(command)}`)
  const result: HookResult = await runHook(command, variables, { timeout: job.hooks.timeout * 1000, signal: io.signal, baseEnv: io.env })
  for (const line of result.output.split('\n').filter((l) => l !== ''))
    logger.log(result.ok ? 'info' : 'warning', `[${job.name} ${hook}] ${line}`)
  if (!result.ok) {
    const why = result.timedOut
      ? `ran longer than ${job.hooks.timeout} s and was stopped`
      : result.exitCode !== undefined
        ? `exited with status ${result.exitCode}`
        : `was ended by ${result.signal ?? 'a signal'}`
    logger.log('warning', `Job ${job.name}: the ${hook} hook ${why}.`)
  }
  return { hook, ok: result.ok, exitCode: result.exitCode, timedOut: result.timedOut, aborted: result.aborted, dryRun: false }
}

/** Sends one event of a job (not in a dry run); logs what could not be sent. */
async function alert(
  job: ConfigJob,
  event: AlertEvent,
  line: string,
  record: Record<string, unknown>,
  error: string | undefined,
  args: Pick<RunArgs, 'dryRun'>,
  io: MainIo,
  logger: Logger,
): Promise<{ event: AlertEvent; outcomes: AlertOutcome[] } | undefined> {
  const settings = job.alerts
  if (settings.webhook === undefined && settings.mailTo.length === 0 && !settings.syslog) return undefined
  if (args.dryRun) {
    logger.log('verbose', `Job ${job.name}: dry run: no ${event} alert sent.`)
    return undefined
  }
  const outcomes = await sendAlert({ job: job.name, event, line, error, record }, settings, { env: io.env })
  for (const outcome of outcomes) {
    if (!outcome.ok) logger.log('warning', `Job ${job.name}: the ${event} alert by ${outcome.channel} was not sent: ${outcome.detail}`)
    else logger.log('verbose', `Job ${job.name}: ${event} alert sent by ${outcome.channel}: ${outcome.detail}`)
  }
  return { event, outcomes }
}

/**
 * Runs one job with its run lock held from its before hook to its after hook: a second `rsb run` of the same job (a
 * cron line that overlaps, a run by hand during the timer's) neither runs its hooks nor its backup, and alerts nothing.
 * The daemon's pre hook takes none (it only records the connection, and must never fail for a lock).
 */
async function runJob(job: ConfigJob, config: Config, args: RunArgs, io: MainIo, logger: Logger): Promise<JobReport> {
  if (args.daemonHook === 'pre' || args.dryRun) return runLockedJob(job, config, args, io, logger)
  let lock: RunLock
  try {
    lock = acquireRunLock(`rsb job\0${config.file}\0${job.name}`, `job ${job.name}`, lockDirectory(io.env).directory)
  } catch (error) {
    const reason = isRsbError(error) ? errorLine(error) : String(error)
    logger.log(isRsbError(error) && error.code === 'ERR_RSB_CLI_LOCKED' ? 'warning' : 'error', `Job ${job.name}: ${reason}`)
    return { job: job.name, status: 'skipped', exitCode: 1, reason, summary: undefined, hooks: [], alerts: [] }
  }
  try {
    return await runLockedJob(job, config, args, io, logger)
  } finally {
    lock.release()
  }
}

async function runLockedJob(job: ConfigJob, config: Config, args: RunArgs, io: MainIo, logger: Logger): Promise<JobReport> {
  const variables = hookEnv(job, config, args, io.env)
  const hooks: HookReport[] = []
  const alerts: JobReport['alerts'] = []
  const host = os.hostname()
  const push = <T>(list: T[], item: T | undefined) => item !== undefined && list.push(item)
  const daemonPre = args.daemonHook === 'pre'
  logger.log('verbose', `Job ${job.name}: starting.`)

  let options: RunOptions
  try {
    options = jobOptions(job, args, io.env)
  } catch (error) {
    // checked by rsb config check; reachable through $RSYNC_MODULE_PATH (a daemon hook) only
    logger.log('error', `Job ${job.name}: ${isRsbError(error) ? errorLine(error) : String(error)}`)
    return { job: job.name, status: 'failure', exitCode: 1, reason: refusal(error).message, summary: undefined, hooks, alerts }
  }

  let status: JobStatus
  let exitCode: number
  let reason: string | undefined
  let summary: RunSummary | undefined
  const before = daemonPre
    ? undefined
    : await runOneHook('before', job.hooks.before, { ...variables, RSB_STATUS: 'starting' }, job, args, io, logger)
  push(hooks, before)
  if (before !== undefined && !before.ok) {
    status = 'skipped'
    exitCode = 1
    reason = `the before hook ${before.aborted ? 'was stopped' : before.timedOut ? 'timed out' : `failed (exit ${before.exitCode ?? 'by a signal'})`}`
  } else {
    if (!daemonPre) {
      push(
        alerts,
        await alert(
          job,
          'start',
          `job ${job.name}: backup started on ${host}`,
          { schemaVersion: 1, job: job.name, host, event: 'start', startedAt: new Date().toISOString() },
          undefined,
          args,
          io,
          logger,
        ),
      )
    }
    const result = await backupOnce(options, io, 'rsb', logger)
    summary = result.summary
    // a job's own refusal (exit 2 of rsb backup) is a failed job: 2 is rsb run's own usage error
    exitCode = result.exitCode === 2 ? 1 : result.exitCode
    status = exitCode === 0 ? 'success' : 'failure'
    if (exitCode !== 0) reason = summary.error ? errorLine(summary.error) : `exit status ${exitCode}`
  }

  // Also when rsb was stopped (SIGTERM from systemd or cron): the alerts and the after hook (which may undo what
  // before did: start a database again) still run, each within its own time limit.
  const stopped = io.signal?.aborted === true
  if (stopped) reason = `stopped by ${String(io.signal?.reason)}${reason ? `: ${reason}` : ''}`
  const later: MainIo = stopped ? { ...io, signal: undefined } : io
  if (!daemonPre) {
    const event: AlertEvent = status === 'success' ? 'success' : 'failure'
    const line =
      status === 'success'
        ? `job ${job.name}: backup succeeded on ${host}${summary?.snapshot ? `: ${summary.snapshot}` : ''}`
        : `job ${job.name}: backup ${status === 'skipped' ? 'skipped' : 'failed'} on ${host}: ${reason ?? ''}`
    const record = { schemaVersion: 1, job: job.name, host, event, status, exitCode, reason, summary }
    push(alerts, await alert(job, event, line, record, reason, args, later, logger))
    const after = {
      ...variables,
      RSB_STATUS: status === 'success' ? 'success' : 'failure',
      RSB_EXIT_CODE: String(exitCode),
      RSB_SNAPSHOT: summary?.snapshot ?? '',
      RSB_ERROR: reason ?? '',
    }
    if (status !== 'success') push(hooks, await runOneHook('on-failure', job.hooks.onFailure, after, job, args, later, logger))
    push(hooks, await runOneHook('after', job.hooks.after, after, job, args, later, logger))
  }
  return { job: job.name, status, exitCode, reason, summary, hooks, alerts }
}

/** `JOB: ok, snapshot NAME (12.3 s)`, `JOB: FAILED (exit 1): …`, `JOB: SKIPPED: the before hook failed (exit 3)`. */
export function summaryLine(report: JobReport): string {
  const seconds = report.summary ? ` (${report.summary.durationSeconds.toFixed(1)} s)` : ''
  const snapshot = report.summary?.snapshot ? `, snapshot ${report.summary.snapshot.split('/').at(-1)}` : ''
  const dry = report.summary?.dryRun ? ' (dry run)' : ''
  switch (report.status) {
    case 'success':
      return `${report.job}: ok${dry}${snapshot}${seconds}`
    case 'skipped':
      return `${report.job}: SKIPPED: ${report.reason ?? ''}`
    case 'failure':
      return `${report.job}: FAILED (exit ${report.exitCode}): ${report.reason ?? ''}${seconds}`
  }
}

/**
 * `rsb run --report-failure JOB`, in the job's systemd OnFailure= unit: sends the failure alerts (and runs the
 * on-failure hook) when the unit failed without rsb reporting it (killed, out of memory, an internal error, a wrong
 * command line or configuration: exit 2); a unit that ended with exit status 1, 130 or 143 from rsb itself was reported
 * by that run already. Without systemd's `$MONITOR_*` variables (systemd before 251) it cannot tell, and alerts: a
 * second alert rather than none.
 */
async function reportFailure(job: ConfigJob, config: Config, io: MainIo, logger: Logger): Promise<number> {
  const result = io.env.MONITOR_SERVICE_RESULT
  const status = io.env.MONITOR_EXIT_STATUS
  if (result === 'exit-code' && (status === '1' || status === '130' || status === '143')) {
    logger.log('info', `Job ${job.name}: the unit failed with rsb's exit status ${status}; rsb reported it then.`)
    return 0
  }
  const host = os.hostname()
  const how = result === undefined ? 'the unit failed' : `the unit failed (${result}${status ? `, exit status ${status}` : ''})`
  const reason = `rsb-${job.name}.service: ${how}; see journalctl -u rsb-${job.name}.service`
  const record = {
    schemaVersion: 1,
    job: job.name,
    host,
    event: 'failure',
    status: 'failure',
    reason,
    unit: io.env.MONITOR_UNIT,
    result,
    exitStatus: status,
    invocation: io.env.MONITOR_INVOCATION_ID,
  }
  const args = { dryRun: false }
  const sent = await alert(job, 'failure', `job ${job.name}: backup failed on ${host}: ${reason}`, record, reason, args, io, logger)
  const variables = {
    ...hookEnv(job, config, { ...runDefaults, dryRun: false }, io.env),
    RSB_STATUS: 'failure',
    RSB_EXIT_CODE: status ?? '',
    RSB_SNAPSHOT: '',
    RSB_ERROR: reason,
  }
  await runOneHook('on-failure', job.hooks.onFailure, variables, job, { ...runDefaults, dryRun: false }, io, logger)
  return sent === undefined || sent.outcomes.every((o) => o.ok) ? 0 : 1
}

const runDefaults: RunArgs = {
  config: undefined,
  jobs: [],
  dryRun: false,
  daemonHook: undefined,
  reportFailure: true,
  json: false,
  progress: false,
  verbosity: 0,
}

// `rsb run [OPTIONS] [JOB…]`: runs the jobs of the configuration file one after the other (all by default), with
// their hooks and alerts; a failed job does not stop the others; one summary line per job; the worst exit status.
// The option table and the pure parse are here, the run is ./jobs.ts (loaded only when the command runs).
import { parseDaemonHook, type DaemonHook } from '../../args.js'
import { UsageError } from '../../errors.js'
import { getopt, type OptionDefinition } from '../../kit/getopt.js'
import { formatExitStatuses, formatOptions, paragraphs } from '../../kit/help.js'
import type { MainIo } from '../../main.js'
import { CONFIG_OPTION } from '../../config/expand.js'
import type { Parsed } from '../index.js'

export const options: readonly OptionDefinition[] = [
  CONFIG_OPTION,
  {
    name: 'dry-run',
    short: 'n',
    description: 'Run each job as rsb backup --dry-run: nothing is written, no hook runs and no alert is sent (both are listed).',
  },
  {
    name: 'daemon-hook',
    value: 'WHEN',
    description:
      "Run one daemon job (daemon = true) as an rsync daemon module's hook: pre in its pre-xfer exec, post in its " +
      'post-xfer exec (snapshot and rotate after a push that succeeded), on the module at $RSYNC_MODULE_PATH; see rsb --daemon-hook.',
  },
  {
    name: 'report-failure',
    description:
      "Send the failure alerts of one job whose systemd unit failed (the job's OnFailure= unit runs this), unless rsb " +
      'reported the failure itself: systemd says how the unit ended in $MONITOR_SERVICE_RESULT and $MONITOR_EXIT_STATUS.',
  },
  { name: 'json', description: 'Print one JSON document on standard output: each job with its status, hooks, alerts and run summary.' },
  { name: 'no-progress', description: 'Do not show a progress bar.' },
  { name: 'verbose', short: 'v', repeatable: true, description: 'More log output. Repeatable.' },
  { name: 'quiet', short: 'q', repeatable: true, description: 'Less log output (and no summary lines with -q). Repeatable.' },
  { name: 'help', short: 'h', description: 'Print this help and exit.' },
]

export interface RunArgs {
  readonly config: string | undefined
  /** The jobs named (empty: every job but the daemon jobs). */
  readonly jobs: readonly string[]
  readonly dryRun: boolean
  readonly daemonHook: DaemonHook | undefined
  readonly reportFailure: boolean
  readonly json: boolean
  readonly progress: boolean
  readonly verbosity: number
}

const EXIT_STATUSES: readonly [string, string][] = [
  ['0', 'every job succeeded'],
  ['1', 'a job failed or was skipped by its before hook (the others ran); the summary line of each says why'],
  [
    '2',
    'a wrong command line, an unknown job (ERR_RSB_CLI_JOB_UNKNOWN), or a configuration file that is missing, unsafe or has problems (ERR_RSB_CLI_CONFIG_*): no job ran',
  ],
  ['130, 143', 'interrupted by SIGINT, SIGTERM: the job at work stopped as rsb backup stops, the next ones did not start'],
]

export function help(): string {
  return [
    'Usage: rsb run [OPTIONS] [JOB…]',
    '       rsb run --daemon-hook=pre|post JOB',
    '       rsb run --report-failure JOB',
    '',
    ...paragraphs(
      'Run the jobs of the configuration file (/etc/rsb/rsb.toml, see rsb config), the ones named or all of them, one ' +
        'after the other, each as rsb backup with its options. A job that fails does not stop the next ones. One line ' +
        'per job says how it went; the exit status is the worst of them.',
      'For each job: its before hook (a shell command; if it fails, the job is skipped and counts as failed), the start ' +
        "alert (the webhook's /start ping, a syslog line), the backup, then the success or failure alerts (webhook, " +
        'mail, syslog, and the desktop notification as rsb backup sends it), its on-failure hook if it failed, and its ' +
        'after hook. Hooks get RSB_JOB, RSB_STATUS (starting, success, failure), RSB_EXIT_CODE, RSB_SNAPSHOT, ' +
        'RSB_DESTINATION, RSB_SOURCE (the sources, one per line), RSB_ERROR, RSB_CONFIG and RSB_DRY_RUN, run with ' +
        'sh -c in /, and are stopped after hook-timeout. An alert that cannot be sent is a warning: it never fails the ' +
        'backup.',
      "Daemon jobs (daemon = true) are run by an rsync daemon's module hooks with --daemon-hook, never by rsb run alone.",
    ),
    '',
    'Options:',
    ...formatOptions(options),
    '',
    'Exit status:',
    ...formatExitStatuses(EXIT_STATUSES),
    '',
    'Examples:',
    '  rsb run                      # every job',
    '  rsb run --dry-run home       # what the job home would do',
    '  rsb run --config=./rsb.toml system home',
    '',
  ].join('\n')
}

export function parse(argv: readonly string[]): Parsed<RunArgs> {
  const { options: given, positionals } = getopt(argv, options)
  if (given.some((o) => o.name === 'help')) return { kind: 'help' }
  let config: string | undefined
  let daemonHook: DaemonHook | undefined
  let verbosity = 0
  for (const option of given) {
    if (option.name === 'config') {
      if (!option.value) throw new UsageError(`${option.as} needs a file name.`)
      config = option.value
    }
    if (option.name === 'daemon-hook') daemonHook = parseDaemonHook(option.value ?? '')
    if (option.name === 'verbose') verbosity++
    if (option.name === 'quiet') verbosity--
  }
  const has = (name: string) => given.some((o) => o.name === name)
  const dryRun = has('dry-run')
  const reportFailure = has('report-failure')
  if (new Set(positionals).size !== positionals.length) throw new UsageError('A job is named twice.')
  if ((daemonHook !== undefined || reportFailure) && positionals.length !== 1) {
    throw new UsageError(
      `${daemonHook !== undefined ? '--daemon-hook' : '--report-failure'} runs one job: name it (got ${positionals.length}).`,
    )
  }
  if (daemonHook !== undefined && reportFailure) throw new UsageError('--daemon-hook and --report-failure do not go together.')
  if (reportFailure && dryRun) throw new UsageError('--report-failure sends alerts: it has no dry run.')
  return {
    kind: 'run',
    args: { config, jobs: positionals, dryRun, daemonHook, reportFailure, json: has('json'), progress: !has('no-progress'), verbosity },
  }
}

export async function run(args: RunArgs, io: MainIo): Promise<number> {
  const { runJobs } = await import('./jobs.js')
  return runJobs(args, io)
}

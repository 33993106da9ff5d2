// The systemd units of `rsb systemd` (pure: text in, text out): per job a oneshot service that runs `rsb run JOB` and
// a timer that starts it on the job's schedule, and once the template service that sends a job's failure alert
// (systemd starts rsb-failure@JOB.service through the job's OnFailure=).
import path from 'node:path'
import type { IoniceClass } from '@rsb/exec'
import type { ConfigJob } from '../../config/load.js'
import { parseIonice } from '../../kit/values.js'

/** The unit directory when `--unit-dir` is not given. */
export const DEFAULT_UNIT_DIR = '/etc/systemd/system'

/** The template unit of the failure alerts (one for every job: the job is its instance, `%i`). */
export const FAILURE_UNIT = 'rsb-failure@.service'

/** One unit file: its name in the unit directory and its text. */
export interface UnitFile {
  readonly name: string
  readonly text: string
}

/** What every unit needs to know besides the job. */
export interface UnitSettings {
  /** The rsb program the units run (an absolute path). */
  readonly rsb: string
  /** The configuration file (an absolute path). */
  readonly config: string
}

/** The service of a job: `rsb-JOB.service`. */
export function serviceName(job: string): string {
  return `rsb-${job}.service`
}

/** The timer of a job: `rsb-JOB.timer`. */
export function timerName(job: string): string {
  return `rsb-${job}.timer`
}

/** The job of a timer's file name (`rsb-home.timer` → `home`), or undefined for another file. */
export function jobOfTimer(file: string): string | undefined {
  return /^rsb-(.+)\.timer$/.exec(file)?.[1]
}

/**
 * One argument of a command line of a unit (`ExecStart=`) in systemd's syntax (systemd.service(5), "Command lines"):
 * `%` becomes `%%` (specifiers), `$` becomes `$$` (variables); an argument with white space, a quote, a backslash or
 * a `;`, or an empty one, is double-quoted with `\` and `"` escaped. Line breaks and other control characters cannot
 * be written (the caller refuses them).
 *
 * @example
 * ```ts
 * quoteExecArgument('--config=/etc/my rsb/100%.toml') // '"--config=/etc/my rsb/100%%.toml"'
 * ```
 */
export function quoteExecArgument(argument: string): string {
  const text = argument.replaceAll('%', '%%').replaceAll('$', '$$$$')
  if (text !== '' && !/[\s"'\\;]/.test(text)) return text
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

/** A command line of a unit: each argument quoted by {@link quoteExecArgument}. */
export function execLine(argv: readonly string[]): string {
  return argv.map(quoteExecArgument).join(' ')
}

/** A value of a unit's setting other than a command line: `%` escaped (specifiers are expanded in most settings). */
function value(text: string): string {
  return text.replaceAll('%', '%%')
}

const IO_CLASS: Readonly<Record<IoniceClass, string>> = {
  idle: 'idle',
  '3': 'idle',
  'best-effort': 'best-effort',
  '2': 'best-effort',
  realtime: 'realtime',
  '1': 'realtime',
}

/** The service's `IOSchedulingClass=`: the job's `ionice` class, idle by default. */
export function ioSchedulingClass(job: ConfigJob): string {
  const given = job.values.ionice
  return typeof given === 'string' ? IO_CLASS[parseIonice(given)] : 'idle'
}

/** The `rsb run` command line of a job. */
export function runArgv(job: string, settings: UnitSettings): string[] {
  return [settings.rsb, 'run', `--config=${settings.config}`, job]
}

/** The `rsb run --report-failure` command line of the failure template (`%i`: the job). */
export function failureArgv(settings: UnitSettings): string[] {
  return [settings.rsb, 'run', `--config=${settings.config}`, '--report-failure']
}

/** In the first line of every unit rsb writes: only such files are ever removed (`--prune`). */
export const WRITTEN_BY = "written by 'rsb systemd --install'"

const WRITTEN_FROM = `, ${WRITTEN_BY} from `
const HEADER_END = ': edit the job there and install again.'

function header(what: string, settings: UnitSettings): string {
  return `# ${what}${WRITTEN_FROM}${settings.config}${HEADER_END}`
}

/**
 * The configuration file a unit's first line says rsb wrote it from, exactly as it was written there (no quoting: the
 * line is a comment); undefined for a line rsb did not write. What precedes the path names a job, whose name has
 * only letters, digits, - and _, so the path starts after the first `written by … from `, whatever it holds. Pure.
 *
 * @example
 * ```ts
 * writtenFrom("# The backup job home, written by 'rsb systemd --install' from /etc/rsb/rsb.toml: edit the job there and install again.")
 * // '/etc/rsb/rsb.toml'
 * ```
 */
export function writtenFrom(firstLine: string): string | undefined {
  if (!firstLine.startsWith('# ') || !firstLine.endsWith(HEADER_END)) return undefined
  const at = firstLine.indexOf(WRITTEN_FROM)
  if (at === -1 || at + WRITTEN_FROM.length >= firstLine.length - HEADER_END.length) return undefined
  return firstLine.slice(at + WRITTEN_FROM.length, firstLine.length - HEADER_END.length)
}

/** Whether a unit's file name is one rsb writes: `rsb-JOB.service`, `rsb-JOB.timer`, {@link FAILURE_UNIT}. */
export function isRsbUnitName(file: string): boolean {
  return /^rsb-.+\.(service|timer)$/.test(file)
}

function sections(parts: readonly (readonly string[])[]): string {
  return `${parts.map((lines) => lines.join('\n')).join('\n\n')}\n`
}

/**
 * The service of a job: a oneshot `rsb run --config=FILE JOB` at the lowest CPU and I/O priority, the failure alert
 * on failure, started after the network is up. No `[Install]`: the timer is what gets enabled.
 *
 * @example
 * ```ts
 * renderService(job, { rsb: '/usr/local/bin/rsb', config: '/etc/rsb/rsb.toml' }).name // 'rsb-home.service'
 * ```
 */
export function renderService(job: ConfigJob, settings: UnitSettings): UnitFile {
  const text = sections([
    [
      header(`The backup job ${job.name}`, settings),
      '[Unit]',
      `Description=rsb backup job ${job.name}`,
      'Documentation=man:rsb(1)',
      `OnFailure=rsb-failure@${job.name}.service`,
      'After=network-online.target',
      'Wants=network-online.target',
    ],
    [
      '[Service]',
      'Type=oneshot',
      `ExecStart=${execLine(runArgv(job.name, settings))}`,
      'Nice=19',
      `IOSchedulingClass=${ioSchedulingClass(job)}`,
      'CPUSchedulingPolicy=batch',
      // a first backup of a large disk takes hours; rsync's own --timeout ends a transfer that hangs
      'TimeoutStartSec=infinity',
      // SIGTERM to rsb alone, which stops rsync and undoes its mounts; SIGKILL to what is left after TimeoutStopSec
      'KillMode=mixed',
      `SyslogIdentifier=rsb-${job.name}`,
    ],
  ])
  return { name: serviceName(job.name), text }
}

/**
 * The timer of a job: its schedule (`OnCalendar=`), a run missed while the machine was off made up at boot
 * (`Persistent=true`), and the job's random delay. Enabled through `timers.target`.
 */
export function renderTimer(job: ConfigJob, settings: UnitSettings): UnitFile {
  const text = sections([
    [
      header(`The schedule of the backup job ${job.name}`, settings),
      '[Unit]',
      `Description=Schedule of rsb backup job ${job.name}`,
      'Documentation=man:rsb(1)',
    ],
    [
      '[Timer]',
      `OnCalendar=${value(job.schedule)}`,
      'Persistent=true',
      `RandomizedDelaySec=${job.randomizedDelay}`,
      `Unit=${serviceName(job.name)}`,
    ],
    ['[Install]', 'WantedBy=timers.target'],
  ])
  return { name: timerName(job.name), text }
}

/**
 * The failure template: started by systemd as `rsb-failure@JOB.service` when a job's service fails, it runs
 * `rsb run --report-failure JOB`, which reads the failed unit's result from `$MONITOR_SERVICE_RESULT` and
 * `$MONITOR_EXIT_STATUS` (systemd 251+) and sends the job's alert unless rsb sent it already.
 */
export function renderFailureUnit(settings: UnitSettings): UnitFile {
  const text = sections([
    [
      header('The failure alert of the backup jobs', settings),
      '[Unit]',
      'Description=rsb failure alert of backup job %i',
      'Documentation=man:rsb(1)',
    ],
    ['[Service]', 'Type=oneshot', `ExecStart=${execLine(failureArgv(settings))} %i`, 'SyslogIdentifier=rsb-failure'],
  ])
  return { name: FAILURE_UNIT, text }
}

/** Every unit of these jobs (none of them a daemon job): each job's service and timer, then the failure template. */
export function renderUnits(jobs: readonly ConfigJob[], settings: UnitSettings): UnitFile[] {
  if (jobs.length === 0) return []
  return [...jobs.flatMap((job) => [renderService(job, settings), renderTimer(job, settings)]), renderFailureUnit(settings)]
}

/** Units as printed: each after a comment line with the file it would be. */
export function unitsText(units: readonly UnitFile[], unitDir: string): string {
  return units.map((unit) => `# ${path.join(unitDir, unit.name)}\n${unit.text}`).join('\n')
}

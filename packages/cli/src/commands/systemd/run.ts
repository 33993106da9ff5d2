// `rsb systemd --install`'s workflow (loaded only then): check the unit directory, write the units, name (or prune)
// the timers of jobs that are gone, run systemctl.
import fs from 'node:fs'
import path from 'node:path'
import { quoteCommandLine, type Context } from '@rsb/exec'
import type { Config, ConfigJob } from '../../config/load.js'
import { CliError, UsageError } from '../../errors.js'
import type { Logger } from '../../kit/log.js'
import type { MainIo } from '../../main.js'
import type { SystemdArgs } from './index.js'
import {
  checkProgram,
  checkUnitDirectory,
  otherConfigUnits,
  planActivation,
  removeUnits,
  staleTimers,
  writeUnit,
  writtenByRsb,
} from './install.js'
import { FAILURE_UNIT, jobOfTimer, timerName, unitsText, type UnitFile, type UnitSettings } from './units.js'

/** What the install works with. */
export interface InstallRequest {
  readonly args: SystemdArgs
  readonly config: Config
  /** The jobs to install (none a daemon job). */
  readonly jobs: readonly ConfigJob[]
  readonly units: readonly UnitFile[]
  readonly settings: UnitSettings
  readonly context: Context
  readonly logger: Logger
  readonly io: MainIo
}

/**
 * Writes the units into `--unit-dir` and enables the timers (see ./install.ts's planActivation); with `--dry-run`
 * prints them and the commands instead.
 *
 * @returns 0
 * @throws {CliError} ERR_RSB_CLI_UNIT_DIR_UNSAFE, ERR_RSB_CLI_INSTALL_FAILED (also for a program another user could
 *   change: the units run it as root; not checked for ROOT/etc/systemd/system, whose units run another system's)
 * @throws {UsageError} ERR_RSB_CLI_USAGE when the program the units would run is not executable
 */
export async function install(request: InstallRequest): Promise<number> {
  const { args, config, jobs, units, settings, context, logger, io } = request
  const dir = checkUnitDirectory(args.unitDir)
  refuseOtherConfig(dir, config.file)
  const timers = jobs.map((job) => timerName(job.name))
  const stale = staleTimers(
    dir,
    config.jobs.filter((job) => !job.daemon).map((job) => job.name),
  )
  // --prune touches only the timers rsb wrote from this file; another's rsb-NAME.timer is named, never disabled
  const prunable = args.prune ? stale.filter((timer) => writtenByRsb(path.join(dir, timer), config.file)) : []
  const kept = stale.filter((timer) => !prunable.includes(timer))
  const activation = planActivation(args.unitDir, timers, prunable)
  if (activation.kind === 'live' && !isExecutable(settings.rsb)) {
    throw new UsageError(`The units would run ${settings.rsb}, which is not a program this user may execute.`, {
      hint: 'Give the installed rsb with --rsb=PATH (for example --rsb=/usr/local/bin/rsb).',
    })
  }
  // root runs it: nobody else may be able to change it (under ROOT it is a file of another system, not checked here)
  if (activation.kind !== 'root') checkProgram(settings.rsb)
  const shown = (argv: readonly string[]) => quoteCommandLine(argv)
  if (args.dryRun) {
    io.stdout.write(unitsText(units, dir))
    for (const unit of units) logger.log('info', `Would write ${path.join(dir, unit.name)}.`)
    if (prunable.length > 0) logger.log('info', `Would disable and remove ${prunable.join(', ')}: no job of ${config.file} has them.`)
    reportStale(kept, args.prune, config, dir, logger)
    for (const argv of [activation.disable, activation.reload, activation.enable]) {
      if (argv !== undefined) logger.log('info', `Would run: ${shown(argv)}`)
    }
    if (activation.kind === 'none') logger.log('warning', notEnabled(dir))
    return 0
  }
  for (const unit of units) {
    const outcome = writeUnit(dir, unit)
    logger.log('info', outcome === 'written' ? `Wrote ${path.join(dir, unit.name)}.` : `${path.join(dir, unit.name)} is up to date.`)
  }
  const systemctl = async (argv: readonly string[] | undefined) => {
    if (argv === undefined) return
    const result = await context.run(argv, { check: false, signal: io.signal })
    if (result.exitCode !== 0) {
      const tail = result.stderr.trim().split('\n').at(-1) ?? ''
      throw new CliError('ERR_RSB_CLI_INSTALL_FAILED', `${shown(argv)} failed${tail === '' ? '' : `: ${tail}`}`, {
        hint:
          `The units are written in ${dir}. Is systemd running (systemctl needs it as PID 1)? ` +
          "Without systemd use 'rsb systemd --all --cron > /etc/cron.d/rsb'.",
      })
    }
    logger.log('verbose', `Ran ${shown(argv)}.`)
  }
  await systemctl(activation.disable)
  for (const timer of prunable) {
    for (const file of removeUnits(dir, jobOfTimer(timer) as string, config.file)) logger.log('info', `Removed ${file}.`)
  }
  reportStale(kept, args.prune, config, dir, logger)
  await systemctl(activation.reload)
  await systemctl(activation.enable)
  if (activation.kind === 'live') logger.log('success', `Enabled and started ${timers.join(', ')}.`)
  else if (activation.kind === 'root')
    logger.log('success', `Enabled ${timers.join(', ')} in ${activation.root} (not started: another system's units).`)
  else logger.log('warning', notEnabled(dir))
  return 0
}

/**
 * Refuses a unit directory with units rsb wrote from another configuration file: one unit directory takes the jobs of
 * one file, since rsb-failure@.service runs `rsb run --config=FILE --report-failure` of one FILE (and two files may
 * name a job alike, whose units would replace each other).
 *
 * @throws {CliError} ERR_RSB_CLI_INSTALL_FAILED
 */
function refuseOtherConfig(dir: string, config: string): void {
  const others = otherConfigUnits(dir, config)
  if (others.length === 0) return
  const files = others.map((unit) => unit.file)
  const configs = [...new Set(others.map((unit) => unit.config))]
  const timers = others.map((unit) => path.basename(unit.file)).filter((name) => name.endsWith('.timer'))
  const disable = planActivation(dir, [], timers).disable
  const remove = [...(disable === undefined ? [] : [quoteCommandLine(disable)]), quoteCommandLine(['rm', '--', ...files])]
  throw new CliError(
    'ERR_RSB_CLI_INSTALL_FAILED',
    `${dir} has units rsb wrote from another configuration file, ${configs.join(', ')} ` +
      `(${files.map((file) => path.basename(file)).join(', ')}): one unit directory takes the jobs of one file ` +
      `(its ${FAILURE_UNIT} sends the alerts of that file's jobs, and two files may name a job alike).`,
    {
      path: dir,
      hint: `Put the jobs of ${config} into ${configs.join(', ')}, or give another --unit-dir, or remove the other units first: ${remove.join(' && ')}`,
    },
  )
}

function notEnabled(dir: string): string {
  return `${dir} is not a systemd unit directory (nor ROOT/etc/systemd/system): the units are written there, not enabled.`
}

/** Names the timers in the unit directory of jobs the file does not have (and, with --prune, that rsb did not write). */
function reportStale(stale: readonly string[], prune: boolean, config: Config, dir: string, logger: Logger): void {
  if (stale.length === 0) return
  const files = stale.map((timer) => path.join(dir, timer)).join(', ')
  const one = stale.length === 1
  logger.log(
    'warning',
    `${files} ${one ? 'belongs' : 'belong'} to no job of ${config.file}: left as ${one ? 'it is' : 'they are'} ` +
      (prune ? '(rsb did not write them, so --prune leaves them).' : "('rsb systemd --install --prune' disables and removes them)."),
  )
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

// `--job=NAME` (and `--config=FILE`) on every command that takes a DESTINATION: the job's DESTINATION (and SOURCE)
// and the options of the job that the command has, put into the command line before the command parses it.
import { CliError, UsageError } from '../errors.js'
import { getopt, type OptionDefinition, type OptionOccurrence } from '../kit/getopt.js'
import type { Config, ConfigJob } from './load.js'

/** `--config=FILE`: the configuration file of jobs (rsb run, rsb config, rsb systemd and, with --job, the others). */
export const CONFIG_OPTION: OptionDefinition = Object.freeze({
  name: 'config',
  value: 'FILE',
  description: 'The configuration file of jobs (default $RSB_CONFIG, else /etc/rsb/rsb.toml).',
})

/** `--job=NAME` and `--config=FILE`, as every command that takes a DESTINATION has them. */
export const JOB_OPTIONS: readonly OptionDefinition[] = Object.freeze([
  {
    name: 'job',
    value: 'NAME',
    description:
      "Take DESTINATION (for rsb backup and rsb doctor also SOURCE) and the job's options from the job NAME of the " +
      'configuration file (see rsb config); options given here are added. An unknown job or a configuration file ' +
      'that cannot be used is refused like a wrong command line (exit 2).',
  },
  CONFIG_OPTION,
])

/** The words of `--job`, `--config` as typed: only the whole names count, so that no abbreviation of an older option changes meaning. */
export function mentionsJob(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false
    if (arg === '--job' || arg.startsWith('--job=') || arg === '--config' || arg.startsWith('--config=')) return true
  }
  return false
}

/** An option occurrence as one argument again (`--name=value`, `--name`). */
export function formatOccurrence(option: OptionOccurrence): string {
  return option.value === undefined ? `--${option.name}` : `--${option.name}=${option.value}`
}

/** The job of this name in the file. @throws {CliError} ERR_RSB_CLI_JOB_UNKNOWN (a usage error: exit 2) */
export function findJob(config: Config, name: string): ConfigJob {
  const job = config.jobs.find((candidate) => candidate.name === name)
  if (job !== undefined) return job
  const names = config.jobs.map((candidate) => candidate.name)
  throw new CliError('ERR_RSB_CLI_JOB_UNKNOWN', `There is no job '${name}' in ${config.file}.`, {
    hint: names.length > 0 ? `Its jobs: ${names.join(', ')}.` : 'It has no jobs.',
    path: config.file,
  })
}

/** What {@link splitJobOptions} finds. */
export interface JobSelection {
  readonly job: string | undefined
  readonly config: string | undefined
  /** The other options, one argument each. */
  readonly options: readonly string[]
  readonly positionals: readonly string[]
}

/**
 * Finds `--job` and `--config` in a command line (undefined when it has neither: the line is left as it is).
 *
 * @throws {UsageError} for a command line getopt refuses, or `--job` given twice
 */
export function splitJobOptions(argv: readonly string[], table: readonly OptionDefinition[]): JobSelection | undefined {
  if (!mentionsJob(argv)) return undefined
  const { options, positionals } = getopt(argv, [...table.filter((o) => o.name !== 'job' && o.name !== 'config'), ...JOB_OPTIONS])
  let job: string | undefined
  let config: string | undefined
  const rest: string[] = []
  for (const option of options) {
    if (option.name === 'job' || option.name === 'config') {
      if (option.value === undefined || option.value === '') throw new UsageError(`${option.as} needs a value.`)
      if ((option.name === 'job' ? job : config) !== undefined) throw new UsageError(`${option.as} is given twice.`)
      if (option.name === 'job') job = option.value
      else config = option.value
    } else rest.push(formatOccurrence(option))
  }
  return { job, config, options: rest, positionals }
}

/**
 * The command line of `command` for a job: `rsb backup` gets the job's whole command line (its options, the given
 * ones, SOURCE and DESTINATION); the reading commands get the job's DESTINATION as their first argument and those of
 * the job's options they have (`--rotation`, `--keep-latest`, `--no-sudo`); `rsb doctor` also its SOURCE.
 *
 * @throws {UsageError} positionals that the job gives already, a daemon job (its store is the daemon's), an unknown job
 *   (ERR_RSB_CLI_JOB_UNKNOWN)
 * @throws {ConfigError} the configuration file's
 */
export async function jobCommandLine(
  command: string,
  selection: JobSelection,
  table: readonly OptionDefinition[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<string[]> {
  if (selection.job === undefined) {
    throw new UsageError('--config=FILE is for --job=NAME (it names the file the job is in).', {
      hint: 'Add --job=NAME, or leave out --config.',
    })
  }
  // loaded only here: the parser and the schema's validator are not needed by a command line without --job
  const { backupArgv, configFile, loadConfig } = await import('./load.js')
  const config = loadConfig(configFile(selection.config, env))
  const job = findJob(config, selection.job)
  if (job.destination === undefined) {
    throw new UsageError(`Job '${job.name}' is an rsync daemon's job: its store is on the daemon's machine, in the module's directory.`, {
      hint: "Run rsb there, on the module's directory (or 'rsb run --daemon-hook=post JOB' in the module's post-xfer exec).",
    })
  }
  if (command === 'backup') {
    if (selection.positionals.length > 0) {
      throw new UsageError(`--job=${job.name} gives SOURCE and DESTINATION already (${[...job.sources, job.destination].join(' ')}).`, {
        hint: `Leave out ${selection.positionals.map((p) => `'${p}'`).join(' and ')}.`,
      })
    }
    return backupArgv(job, selection.options)
  }
  const names = new Set(table.map((o) => o.name))
  const jobOptions = job.options.filter((argument) => names.has(/^--([^=]+)/.exec(argument)?.[1] ?? ''))
  const lead = command === 'doctor' && job.sources.length === 1 ? [job.sources[0] as string, job.destination] : [job.destination]
  if (command === 'doctor' && selection.positionals.length > 0) {
    throw new UsageError(`--job=${job.name} gives SOURCE and DESTINATION already.`, { hint: 'Leave out the positional arguments.' })
  }
  return [...jobOptions, ...selection.options, '--', ...lead, ...selection.positionals]
}

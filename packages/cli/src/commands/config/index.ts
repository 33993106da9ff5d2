// `rsb config check|jobs|schema|example`: the configuration file of jobs (/etc/rsb/rsb.toml): check it (every problem
// with file, line and key), list its jobs, print its JSON Schema or an annotated example.
import fs from 'node:fs'
import path from 'node:path'
import { UsageError, isRsbError } from '../../errors.js'
import { getopt, type OptionDefinition } from '../../kit/getopt.js'
import { formatOptions, paragraphs } from '../../kit/help.js'
import { errorReport, json } from '../../kit/render.js'
import type { MainIo } from '../../main.js'
import { CONFIG_OPTION } from '../../config/expand.js'
import type { Parsed } from '../index.js'

const ACTIONS = ['check', 'jobs', 'schema', 'example'] as const
type Action = (typeof ACTIONS)[number]

export const options: readonly OptionDefinition[] = [
  CONFIG_OPTION,
  { name: 'json', description: 'check: print the result as one JSON document on standard output (the problems with file, line, key).' },
  { name: 'quiet', short: 'q', description: 'check: print nothing when the file is valid.' },
  { name: 'help', short: 'h', description: 'Print this help and exit.' },
]

export interface ConfigArgs {
  readonly action: Action
  readonly config: string | undefined
  readonly json: boolean
  readonly quiet: boolean
}

export function help(): string {
  return [
    'Usage: rsb config check [--config=FILE] [--json] [-q]',
    '       rsb config jobs [--config=FILE]',
    '       rsb config schema',
    '       rsb config example',
    '',
    ...paragraphs(
      'The configuration file of jobs: TOML, /etc/rsb/rsb.toml unless --config=FILE or $RSB_CONFIG names another. A ' +
        '[defaults] table applies to every job; each [jobs.NAME] table is one job, with the long options of rsb backup ' +
        "as keys (source, destination, exclude, rotation, keep-latest, sudo = false, …) and the job's schedule, alerts " +
        "and hooks. 'rsb run' runs the jobs, 'rsb systemd' schedules them, and every command that takes a DESTINATION " +
        'takes --job=NAME.',
      'check reads the file and prints every problem as FILE:LINE: KEY: MESSAGE: TOML errors, unknown keys, values of ' +
        'the wrong type, values rsb backup would refuse, two jobs writing into one store, schedules systemd-analyze ' +
        'calendar cannot read (where it is installed). It also refuses a file (or ' +
        'directory) another user could write, since the hooks run as the user rsb runs as. jobs prints the names of ' +
        'the jobs, one per line. schema prints the JSON Schema of the file (for editors: taplo reads a "#:schema" ' +
        'comment). example prints an annotated example file.',
    ),
    '',
    'Options:',
    ...formatOptions(options),
    '',
    'Exit status:',
    '  0         the file is valid (check), or the output was printed',
    '  1         the file has problems, is missing, or another user could write it',
    '  2         usage error',
    '',
    'Examples:',
    '  (umask 077; rsb config example > /etc/rsb/rsb.toml) && rsb config check',
    '  rsb config check --config=./rsb.toml',
    '',
  ].join('\n')
}

export function parse(argv: readonly string[]): Parsed<ConfigArgs> {
  const { options: given, positionals } = getopt(argv, options)
  if (given.some((o) => o.name === 'help')) return { kind: 'help' }
  const [word, ...extra] = positionals
  if (word === undefined) throw new UsageError('rsb config needs an action: check, jobs, schema or example.')
  if (!(ACTIONS as readonly string[]).includes(word)) {
    throw new UsageError(`Unknown action '${word}' of rsb config.`, { hint: 'Use check, jobs, schema or example.' })
  }
  if (extra.length > 0) throw new UsageError(`rsb config ${word} takes no arguments (got ${extra.map((e) => `'${e}'`).join(' ')}).`)
  let config: string | undefined
  for (const option of given) {
    if (option.name !== 'config') continue
    if (!option.value) throw new UsageError(`${option.as} needs a file name.`)
    config = option.value
  }
  return {
    kind: 'run',
    args: { action: word as Action, config, json: given.some((o) => o.name === 'json'), quiet: given.some((o) => o.name === 'quiet') },
  }
}

/** The annotated example configuration shipped with the package (examples/rsb.toml). */
export function exampleConfig(): string {
  return fs.readFileSync(path.join(import.meta.dirname, '../../../examples/rsb.toml'), 'utf8')
}

export async function run(args: ConfigArgs, io: MainIo): Promise<number> {
  const { configFile, loadConfig, formatProblem, ConfigError } = await import('../../config/load.js')
  if (args.action === 'schema') {
    const { configSchema } = await import('../../config/keys.js')
    io.stdout.write(json(configSchema()))
    return 0
  }
  if (args.action === 'example') {
    io.stdout.write(exampleConfig())
    return 0
  }
  const file = configFile(args.config, io.env)
  try {
    const config = loadConfig(file)
    if (args.action === 'jobs') {
      io.stdout.write(config.jobs.map((job) => `${job.name}\n`).join(''))
      return 0
    }
    // the schedules, as systemd reads them (where systemd-analyze is installed)
    const [{ normalizeSchedules }, { LocalContext }] = await Promise.all([import('../systemd/index.js'), import('@rsb/exec')])
    await normalizeSchedules(
      config,
      config.jobs.filter((job) => !job.daemon),
      new LocalContext(),
      io.signal,
    )
    // a webhook's path is its secret (a healthchecks UUID): anyone who reads it can ping success for a failing job
    const warnings: string[] = []
    if (config.jobs.some((job) => job.alerts.webhook !== undefined) && (fs.statSync(file).mode & 0o044) !== 0) {
      warnings.push(`${file} holds webhook URLs, whose paths are secrets, and other users may read it: chmod 600 '${file}'.`)
    }
    for (const warning of warnings) io.stderr.write(`rsb: warning: ${warning}\n`)
    if (args.json)
      io.stdout.write(json({ schemaVersion: 1, file, valid: true, jobs: config.jobs.map((job) => job.name), problems: [], warnings }))
    else if (!args.quiet) {
      const names = config.jobs.map((job) => (job.daemon ? `${job.name} (daemon)` : job.name))
      io.stdout.write(`${file}: valid, ${names.length} job${names.length === 1 ? '' : 's'}: ${names.join(', ')}\n`)
    }
    return 0
  } catch (error) {
    if (!isRsbError(error)) throw error
    const problems = error instanceof ConfigError ? error.problems : []
    if (args.json && args.action === 'check') {
      io.stdout.write(
        json({
          schemaVersion: 1,
          file,
          valid: false,
          jobs: [],
          problems: problems.length > 0 ? problems : [{ file, line: undefined, key: '', message: error.message }],
          error: { code: error.code, message: error.message, hint: error.hint },
        }),
      )
    } else if (problems.length > 0 && args.action === 'check') {
      io.stderr.write(problems.map((problem) => `${formatProblem(problem)}\n`).join(''))
      io.stderr.write(`rsb: error: ${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'} (${error.code})\n`)
    } else {
      io.stderr.write(errorReport(error, 'rsb'))
    }
    return 1
  }
}

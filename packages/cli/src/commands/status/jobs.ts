// `rsb status` without DESTINATION: the status of every job of the configuration file, one after the other, each
// line prefixed with the job's name; exit 0 only when every job is fresh.
import fs from 'node:fs'
import { parseDestination } from '@rsb/destination'
import { UsageError } from '../../errors.js'
import { getopt } from '../../kit/getopt.js'
import { json } from '../../kit/render.js'
import type { MainIo } from '../../main.js'
import { formatOccurrence, jobCommandLine, type JobSelection } from '../../config/expand.js'
import type { CommandModule } from '../index.js'

/**
 * Runs `rsb status` for every job when the command line names no DESTINATION (nor `--job`); undefined when it does
 * (or asks for the help), or when there is no configuration file and none was named: then status's own parse says
 * what is missing.
 *
 * @throws {ConfigError} the configuration file's; {@link UsageError} for `--metrics` (one file per job: `--job`)
 */
export async function allJobsStatus(
  selection: JobSelection | undefined,
  rest: readonly string[],
  module: CommandModule<unknown>,
  io: MainIo,
): Promise<number | undefined> {
  let options: readonly string[]
  let positionals: readonly string[]
  try {
    const split = selection ?? getopt(rest, module.options)
    if (split.positionals.length > 0) return undefined
    options = 'job' in split ? split.options : split.options.map(formatOccurrence)
    positionals = split.positionals
  } catch {
    return undefined
  }
  if (options.some((o) => /^--(help|version)$/.test(o))) return undefined
  const { configFile, loadConfig } = await import('../../config/load.js')
  const file = configFile(selection?.config, io.env)
  if (selection?.config === undefined && !io.env.RSB_CONFIG && !fs.existsSync(file)) return undefined
  if (options.some((o) => o.startsWith('--metrics'))) {
    throw new UsageError('--metrics writes the figures of one DESTINATION: give --job=NAME (or DESTINATION) with it.', {
      hint: "Run one 'rsb status --job=NAME --metrics=DIR/rsb-NAME.prom' per job: node_exporter reads every .prom file of its directory.",
    })
  }
  const config = loadConfig(file)
  const asJson = options.includes('--json')
  const documents: unknown[] = []
  let worst = 0
  const prefixed = (text: string, job: string) => text.replace(/^(?=.)/gm, `${job}: `)
  for (const job of config.jobs) {
    if (job.destination === undefined) continue
    if (isDaemon(job.destination)) {
      // a daemon does not expose its store: the job of the daemon's machine checks it there
      if (!asJson) io.stdout.write(`${job.name}: not checked: ${job.destination} is an rsync daemon's; run rsb status on its machine.\n`)
      continue
    }
    const argv = await jobCommandLine('status', { job: job.name, config: file, options, positionals }, module.options, io.env)
    let out = ''
    let err = ''
    const parsed = module.parse(argv, io.env)
    if (parsed.kind !== 'run') continue
    const code = await module.run(parsed.args, {
      ...io,
      stdout: { write: (chunk: string) => (out += chunk) },
      stderr: { write: (chunk: string) => (err += chunk) },
    })
    worst = Math.max(worst, code)
    io.stderr.write(prefixed(err, job.name))
    if (asJson) documents.push({ job: job.name, ...(JSON.parse(out) as object) })
    else io.stdout.write(prefixed(out, job.name))
    if (io.signal?.aborted) break
  }
  if (asJson) io.stdout.write(json({ schemaVersion: 1, config: file, jobs: documents, exitCode: worst }))
  return worst
}

function isDaemon(destination: string): boolean {
  try {
    return parseDestination(destination).kind === 'daemon'
  } catch {
    return false
  }
}

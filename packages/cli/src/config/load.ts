// Reads and checks rsb's configuration file: TOML (toml-eslint-parser, which keeps every key's line for the messages),
// validated with the JSON Schema of ./keys.ts (ajv), then each value through the same parse as the command line. The
// result is one ConfigJob per [jobs.NAME] table, [defaults] merged in.
import fs from 'node:fs'
import path from 'node:path'
import { parseDestination, parentDirectory, type Destination } from '@rsb/destination'
import { Ajv, type ErrorObject } from 'ajv'
import { getStaticTOMLValue, parseTOML, type AST } from 'toml-eslint-parser'
import type { AlertSettings } from '../alerts/types.js'
import { checkMailAddress } from '../alerts/mail.js'
import { checkWebhookUrl } from '../alerts/webhook.js'
import { parseArgs } from '../args.js'
import { CliError, isRsbError } from '../errors.js'
import { findUnsafePath } from '../kit/owner.js'
import { parseDuration } from '../kit/values.js'
import {
  CONFIG_KEYS,
  configSchema,
  DEFAULT_HOOK_TIMEOUT,
  DEFAULT_RANDOMIZED_DELAY,
  DEFAULT_SCHEDULE,
  findKey,
  type ConfigKey,
} from './keys.js'

/** Where the configuration file is when neither `--config=FILE` nor `$RSB_CONFIG` says. */
export const DEFAULT_CONFIG_FILE = '/etc/rsb/rsb.toml'

/** The largest configuration file read (a typo'd path to a disk image must not be read whole). */
const MAX_SIZE = 1024 * 1024

/** One thing wrong in the file: where (file, line, key) and what. */
export interface ConfigProblem {
  readonly file: string
  /** 1-based. */
  readonly line: number
  /** The key as a TOML path: `jobs.home.rotation`, `defaults`, `jobs.home`. */
  readonly key: string
  readonly message: string
}

/**
 * An unusable configuration file: `ERR_RSB_CLI_CONFIG_MISSING` (no file), `ERR_RSB_CLI_CONFIG_UNSAFE` (another user
 * could write it) or `ERR_RSB_CLI_CONFIG_INVALID` (its problems, each with file, line and key).
 */
export class ConfigError extends CliError {
  override readonly name: string = 'ConfigError'
  readonly problems: readonly ConfigProblem[]

  constructor(
    code: 'ERR_RSB_CLI_CONFIG_MISSING' | 'ERR_RSB_CLI_CONFIG_UNSAFE' | 'ERR_RSB_CLI_CONFIG_INVALID',
    message: string,
    details: { hint?: string | undefined; path: string; problems?: readonly ConfigProblem[]; cause?: unknown },
  ) {
    super(code, message, details)
    this.problems = details.problems ?? []
  }
}

/** The alert settings of a job (sent by ../alerts). */
export type JobAlerts = AlertSettings

/** The hooks of a job: shell commands, and how long each may run. */
export interface JobHooks {
  readonly before: string | undefined
  readonly after: string | undefined
  readonly onFailure: string | undefined
  /** Seconds. */
  readonly timeout: number
}

/** One job of the file, with `[defaults]` merged in. */
export interface ConfigJob {
  readonly name: string
  /** The line of its `[jobs.NAME]` table. */
  readonly line: number
  /** Where each of its keys is written (in its table or in `[defaults]`): the line and the key's path. */
  readonly keys: Readonly<Record<string, { readonly line: number; readonly key: string }>>
  /** Its values by key (the job's own over `[defaults]`), as written. */
  readonly values: Readonly<Record<string, unknown>>
  /** What it backs up (`['/']` by default; empty for a daemon job). */
  readonly sources: readonly string[]
  /** Its DESTINATION (undefined for a daemon job). */
  readonly destination: string | undefined
  /** A job of an rsync daemon's module (`daemon = true`). */
  readonly daemon: boolean
  /**
   * Its `rsb backup` options, one argument each (`--rotation=…`, `--no-sudo`), without SOURCE and DESTINATION (see
   * {@link backupArgv}).
   */
  readonly options: readonly string[]
  /** systemd `OnCalendar=`. */
  readonly schedule: string
  /** systemd `RandomizedDelaySec=`, in seconds. */
  readonly randomizedDelay: number
  readonly alerts: JobAlerts
  readonly hooks: JobHooks
}

/** A configuration file read and checked. */
export interface Config {
  /** The file, as an absolute path. */
  readonly file: string
  readonly jobs: readonly ConfigJob[]
}

/**
 * The configuration file to read: `--config=FILE`, else `$RSB_CONFIG`, else {@link DEFAULT_CONFIG_FILE}.
 *
 * @example
 * ```ts
 * configFile(undefined, { RSB_CONFIG: '/srv/rsb.toml' }) // '/srv/rsb.toml'
 * ```
 */
export function configFile(option: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  return path.resolve(option ?? (env.RSB_CONFIG || DEFAULT_CONFIG_FILE))
}

/**
 * The `rsb backup` command line of a job: its options, then `extra` (the caller's own: `--dry-run`, `-v`), then `--`
 * and its SOURCEs and DESTINATION (a daemon job has none: its DESTINATION is `$RSYNC_MODULE_PATH`).
 *
 * @example
 * ```ts
 * backupArgv(job, ['--dry-run']) // ['--rotation=daily=7', '--dry-run', '--', '/etc', '/home', '/mnt/backups/latest']
 * ```
 */
export function backupArgv(job: ConfigJob, extra: readonly string[] = []): string[] {
  const positionals = job.destination === undefined ? [] : [...job.sources, job.destination]
  return [...job.options, ...extra, ...(positionals.length > 0 ? ['--', ...positionals] : [])]
}

/**
 * Reads and checks the configuration file.
 *
 * @param file - an absolute path (see {@link configFile})
 * @throws {ConfigError} ERR_RSB_CLI_CONFIG_MISSING, ERR_RSB_CLI_CONFIG_UNSAFE, ERR_RSB_CLI_CONFIG_INVALID (with every
 *   problem found, not only the first)
 */
export function loadConfig(file: string): Config {
  const text = readConfigText(file)
  return checkConfig(text, file)
}

/**
 * Checks a configuration text (pure: reads nothing, runs nothing).
 *
 * @param text - the file's content
 * @param file - its name, for the messages
 * @throws {ConfigError} ERR_RSB_CLI_CONFIG_INVALID with every problem
 * @example
 * ```ts
 * checkConfig('[jobs.home]\nsource = "/home"\ndestination = "/mnt/b/latest"\n', 'rsb.toml').jobs[0].name // 'home'
 * ```
 */
export function checkConfig(text: string, file: string): Config {
  let ast: AST.TOMLProgram
  try {
    ast = parseTOML(text)
  } catch (error) {
    const given = (error as { lineNumber?: unknown }).lineNumber
    const line = typeof given === 'number' ? given : 1
    const message = error instanceof Error ? error.message : String(error)
    throw invalid(file, [{ file, line, key: keyOnLine(text, line), message: `not valid TOML: ${message}.` }])
  }
  const lines = lineIndex(ast)
  const where = (keyPath: readonly (string | number)[]): number => lineOf(lines, keyPath)
  const value = getStaticTOMLValue(ast) as Record<string, unknown>
  const problems: ConfigProblem[] = []
  const problem = (keyPath: readonly (string | number)[], message: string): void => {
    const found = { file, line: where(keyPath), key: keyText(keyPath), message }
    // a value of [defaults] is checked with each job: said once
    if (!problems.some((p) => p.line === found.line && p.key === found.key && p.message === found.message)) problems.push(found)
  }

  const failed = new Set<string>()
  for (const error of schemaErrors(value)) {
    // ajv reports a bad job name twice: as the pattern of propertyNames (with error.propertyName) and as propertyNames
    if (error.keyword !== 'propertyNames' && (error as { propertyName?: unknown }).propertyName !== undefined) continue
    const { keyPath, message } = describe(error)
    const id = keyPath.join('\0')
    if (failed.has(id)) continue
    failed.add(id)
    problem(keyPath, message)
  }
  const broken = (keyPath: readonly (string | number)[]): boolean =>
    [...failed].some((id) => id === keyPath.join('\0') || id.startsWith(`${keyPath.join('\0')}\0`))

  const defaults = isTable(value.defaults) ? value.defaults : {}
  const tables = isTable(value.jobs) ? value.jobs : {}
  if (Object.keys(tables).length === 0 && problems.length === 0)
    problem([], 'no jobs: add a [jobs.NAME] table with at least a destination.')

  const jobs: ConfigJob[] = []
  for (const [name, table] of Object.entries(tables)) {
    if (!isTable(table) || failed.has(['jobs', name].join('\0'))) continue
    const merged: Record<string, unknown> = { ...defaults, ...table }
    const origin = (key: string): (string | number)[] => (key in table ? ['jobs', name, key] : ['defaults', key])
    const before = problems.length
    const schemaBroken = broken(['jobs', name]) || broken(['defaults'])
    for (const [key, given] of Object.entries(merged)) {
      const spec = findKey(key)
      if (spec === undefined || broken(origin(key))) continue
      const message = checkValue(spec, given)
      if (message !== undefined) problem(origin(key), message)
    }
    const daemon = merged.daemon === true
    const destination = typeof merged.destination === 'string' ? merged.destination : undefined
    const sources = daemon ? [] : listOf(merged.source ?? '/')
    if (daemon) {
      for (const key of ['destination', 'source'] as const) {
        if (key in merged) problem(origin(key), `a daemon job has no ${key}: the rsync daemon sets $RSYNC_MODULE_PATH for its hooks.`)
      }
    } else if (destination === undefined) {
      problem(['jobs', name], `job '${name}' has no destination.`)
    }
    if (merged.backup === false && merged.snapshot === false && merged.rotate === false) {
      problem(origin('backup'), 'backup, snapshot and rotate are all false: the job would do nothing.')
    }
    const options = optionsOf(merged)
    if (problems.length === before && !schemaBroken) {
      const job: ConfigJob = {
        name,
        line: where(['jobs', name]),
        keys: Object.fromEntries(Object.keys(merged).map((key) => [key, { line: where(origin(key)), key: keyText(origin(key)) }])),
        values: merged,
        sources,
        destination,
        daemon,
        options,
        schedule: typeof merged.schedule === 'string' ? merged.schedule : DEFAULT_SCHEDULE,
        randomizedDelay: seconds(merged['randomized-delay'], DEFAULT_RANDOMIZED_DELAY),
        alerts: {
          webhook: typeof merged.webhook === 'string' ? merged.webhook : undefined,
          mailTo: merged['mail-to'] === undefined ? [] : listOf(merged['mail-to']),
          mailOnSuccess: merged['mail-on-success'] === true,
          mailFrom: stringOf(merged['mail-from']),
          sendmail: stringOf(merged.sendmail),
          syslog: merged.syslog === true,
        },
        hooks: {
          before: stringOf(merged.before),
          after: stringOf(merged.after),
          onFailure: stringOf(merged['on-failure']),
          timeout: seconds(merged['hook-timeout'], DEFAULT_HOOK_TIMEOUT),
        },
      }
      // The whole command line, as `rsb backup` will parse it (conflicting options, several sources).
      try {
        parseArgs(daemon ? [...options, '--daemon-hook=post', '--snapshot', '--rotate'] : backupArgv(job), {
          RSYNC_MODULE_PATH: '/srv/module',
        })
        jobs.push(job)
      } catch (error) {
        problem(['jobs', name], `job '${name}': ${messageOf(error)}`)
      }
    }
  }

  // Two jobs in one store would rotate each other's snapshots and fight over the mirror.
  const stores = new Map<string, string>()
  for (const job of jobs) {
    if (job.destination === undefined) continue
    const store = storeOf(job.destination)
    if (store === undefined) continue
    const other = stores.get(store)
    if (other === undefined) stores.set(store, job.name)
    else {
      const keyPath =
        'destination' in (tables[job.name] as Record<string, unknown>) ? ['jobs', job.name, 'destination'] : ['jobs', job.name]
      problem(
        keyPath,
        `jobs '${other}' and '${job.name}' write into one store (${store}): each job needs a folder of its own (/mnt/backups/${other}/latest, /mnt/backups/${job.name}/latest).`,
      )
    }
  }

  if (problems.length > 0)
    throw invalid(
      file,
      problems.sort((a, b) => a.line - b.line),
    )
  return { file, jobs }
}

/** The key a line of a file that is not TOML defines (its table's name before it), for the message. */
function keyOnLine(text: string, line: number): string {
  const lines = text.split('\n').slice(0, line)
  const table = lines.findLast((l) => /^\s*\[/.test(l))?.replace(/^\s*\[+\s*|\s*\]+.*$/g, '')
  const key = /^\s*([A-Za-z0-9_.-]+|"[^"]*")\s*=/.exec(lines[line - 1] ?? '')?.[1]
  return [table, key].filter((part) => part !== undefined && part !== '').join('.')
}

/** Reads the file, refusing one that another user could have written: its hooks run as the user rsb runs as. */
function readConfigText(file: string): string {
  let fd: number
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      throw new ConfigError('ERR_RSB_CLI_CONFIG_MISSING', `There is no configuration file ${file}.`, {
        path: file,
        hint: `Write one (see 'rsb config example'), or give --config=FILE or $RSB_CONFIG.`,
        cause: error,
      })
    }
    if (code === 'ELOOP') {
      throw new ConfigError('ERR_RSB_CLI_CONFIG_UNSAFE', `The configuration file ${file} is a symbolic link.`, {
        path: file,
        hint: 'Give the file itself (a link could be pointed at another file by whoever owns its directory).',
      })
    }
    throw new ConfigError('ERR_RSB_CLI_CONFIG_INVALID', `Cannot read the configuration file ${file}: ${messageOf(error)}`, {
      path: file,
      cause: error,
      hint: code === 'EACCES' ? 'Run rsb as the user the file belongs to (root, with sudo), or give --config=FILE.' : undefined,
    })
  }
  try {
    const stat = fs.fstatSync(fd)
    if (!stat.isFile()) {
      throw new ConfigError('ERR_RSB_CLI_CONFIG_INVALID', `The configuration file ${file} is not a regular file.`, { path: file })
    }
    // the file read is the file checked, and nobody but root and this user can change it or a directory above it
    const real = fs.statSync(file)
    const unsafe =
      real.dev === stat.dev && real.ino === stat.ino ? findUnsafePath(file) : { path: file, reason: 'was replaced while rsb read it' }
    if (unsafe !== undefined) {
      const what = unsafe.path === fs.realpathSync(file) ? 'file' : 'directory'
      throw new ConfigError(
        'ERR_RSB_CLI_CONFIG_UNSAFE',
        `The configuration ${what} ${unsafe.path} ${unsafe.reason}, so another user could change what rsb runs (its hooks run as rsb's user).`,
        {
          path: unsafe.path,
          hint: `Make it root's (or yours) and not writable by others: chown root: '${unsafe.path}' && chmod go-w '${unsafe.path}'.`,
        },
      )
    }
    if (stat.size > MAX_SIZE) {
      throw new ConfigError('ERR_RSB_CLI_CONFIG_INVALID', `The configuration file ${file} is larger than 1 MiB.`, { path: file })
    }
    const bytes = fs.readFileSync(fd)
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw new ConfigError('ERR_RSB_CLI_CONFIG_INVALID', `Cannot read the configuration file ${file}: ${messageOf(error)}`, {
      path: file,
      cause: error,
      hint: error instanceof TypeError ? 'Save it as UTF-8.' : undefined,
    })
  } finally {
    fs.closeSync(fd)
  }
}

function invalid(file: string, problems: readonly ConfigProblem[]): ConfigError {
  const first = problems[0] as ConfigProblem
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : ''
  return new ConfigError('ERR_RSB_CLI_CONFIG_INVALID', `${formatProblem(first)}${more}`, {
    path: file,
    problems,
    hint: `Run 'rsb config check${file === DEFAULT_CONFIG_FILE ? '' : ` --config=${file}`}' for every problem.`,
  })
}

/**
 * A problem as the line `rsb config check` prints: `FILE:LINE: KEY: MESSAGE` (the format of compilers, which editors
 * jump to).
 */
export function formatProblem(problem: ConfigProblem): string {
  return `${problem.file}:${problem.line}: ${problem.key === '' ? '' : `${problem.key}: `}${problem.message}`
}

// ---- the schema

let validator: ((value: unknown) => boolean) & { errors?: ErrorObject[] | null | undefined }

function schemaErrors(value: unknown): ErrorObject[] {
  validator ??= new Ajv({ allErrors: true, strict: true }).compile(configSchema())
  return validator(value) ? [] : (validator.errors ?? [])
}

const KIND_TEXT: Record<ConfigKey['kind'], string> = {
  string: 'a non-empty string',
  boolean: 'true or false',
  count: 'a whole number from 0',
  time: 'a number of seconds or a string with a unit ("90s", "10m", "1h")',
  list: 'a list of non-empty strings (["a", "b"])',
  'one-or-list': 'a non-empty string or a list of them',
}

function describe(error: ErrorObject): { keyPath: (string | number)[]; message: string } {
  const keyPath = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part))
  if (error.keyword === 'additionalProperties') {
    const extra = String((error.params as { additionalProperty: string }).additionalProperty)
    const where = keyPath.length === 0 ? 'at the top (only [defaults] and [jobs.NAME] tables)' : `in [${keyText(keyPath)}]`
    const jobOnly = keyPath[0] === 'defaults' && findKey(extra)?.jobOnly === true
    return {
      keyPath: [...keyPath, extra],
      message: jobOnly
        ? `'${extra}' belongs in a [jobs.NAME] table, not in [defaults].`
        : `unknown key '${extra}' ${where}${suggest(extra)}.`,
    }
  }
  if (error.keyword === 'propertyNames') {
    const name = String((error.params as { propertyName: string }).propertyName)
    return { keyPath: [...keyPath, name], message: `job name '${name}': use letters, digits, - and _ (it names systemd units).` }
  }
  // A value of the wrong type: named by its key, whatever part of an anyOf failed.
  const keyIndex = keyPath.findIndex((part, i) => i >= 1 && typeof part === 'string' && findKey(part) !== undefined)
  const keyName = keyIndex === -1 ? undefined : (keyPath[keyIndex] as string)
  const spec = keyName === undefined ? undefined : findKey(keyName)
  if (spec !== undefined) return { keyPath: keyPath.slice(0, keyIndex + 1), message: `must be ${KIND_TEXT[spec.kind]}.` }
  return { keyPath, message: keyPath.length <= 2 ? 'must be a table ([defaults], [jobs.NAME]).' : (error.message ?? 'is not valid.') }
}

function suggest(name: string): string {
  const close = CONFIG_KEYS.map((key) => ({ known: key.name, d: distance(key.name, name) }))
    .filter(({ d }) => d <= 2)
    .sort((a, b) => a.d - b.d)
  return close.length > 0 ? ` (did you mean '${close[0]!.known}'?)` : ''
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number
      row[j] = Math.min(current + 1, (row[j - 1] as number) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length] as number
}

// ---- the values

/** The problem with one value whose type the schema accepted, by the command line's own parse; undefined if none. */
function checkValue(key: ConfigKey, value: unknown): string | undefined {
  if (key.name === 'destination' && typeof value === 'string') return checkDestination(value)
  if (key.name === 'source')
    return listOf(value)
      .map(checkSource)
      .find((m) => m !== undefined)
  if (key.name === 'exclude-from')
    return listOf(value)
      .map((file) => absolute(file, 'an exclude file'))
      .find((m) => m !== undefined)
  if (key.name === 'sendmail' && typeof value === 'string') return absolute(value, 'the sendmail program')
  if (key.name === 'webhook' && typeof value === 'string') return checkWebhookUrl(value)
  if (key.name === 'mail-to' || key.name === 'mail-from')
    return listOf(value)
      .map(checkMailAddress)
      .find((m) => m !== undefined)
  if (key.name === 'schedule' && typeof value === 'string' && /[\0\n\r]/.test(value)) return 'must not hold a NUL byte or a line break.'
  if (key.kind === 'time' && key.option === undefined) {
    try {
      parseDuration(String(value), key.name)
    } catch (error) {
      return messageOf(error)
    }
    return undefined
  }
  if (key.option === undefined || key.option.as !== 'value') return textProblem(value)
  try {
    parseArgs([...optionArgs(key, value), '/srv/backups/latest'])
    return undefined
  } catch (error) {
    return messageOf(error)
  }
}

function textProblem(value: unknown): string | undefined {
  if (typeof value === 'string' && /[\0\n\r]/.test(value)) return 'must not hold a NUL byte or a line break.'
  return undefined
}

function absolute(text: string, what: string): string | undefined {
  if (/[\0\n]/.test(text)) return `${what} must not hold a NUL byte or a line break.`
  return path.isAbsolute(text) ? undefined : `${what} must be an absolute path ('${text}' would depend on the directory rsb runs in).`
}

function checkSource(source: string): string | undefined {
  return absolute(source, 'a source')
}

function checkDestination(text: string): string | undefined {
  let destination: Destination
  try {
    destination = parseDestination(text)
  } catch (error) {
    return messageOf(error)
  }
  if (destination.kind === 'local') return absolute(text, 'a local destination')
  return undefined
}

/** The store of a destination (the directory that holds its mirror and snapshots), as a comparable string. */
function storeOf(text: string): string | undefined {
  try {
    const destination = parseDestination(text)
    const parent = path.posix.normalize(parentDirectory(destination))
    switch (destination.kind) {
      case 'local':
        return parent
      case 'ssh':
        // another login to the same host writes into the same directories
        return `${destination.hostname}:${parent}`
      case 'daemon':
        return `rsync://${destination.hostname}:${destination.port}/${destination.module}/${parent}`
    }
  } catch {
    return undefined
  }
}

/** The `rsb backup` options of a job's values, in the order of the keys table. */
function optionsOf(values: Readonly<Record<string, unknown>>): string[] {
  const actions = (['backup', 'snapshot', 'rotate'] as const).filter((action) => action in values)
  const argv: string[] = []
  // Actions: none given runs all three; any given false runs the others (as -b/-s/-r name what runs).
  if (actions.some((action) => values[action] === false)) {
    for (const action of ['backup', 'snapshot', 'rotate'] as const) if (values[action] !== false) argv.push(`--${action}`)
  }
  for (const key of CONFIG_KEYS) {
    if (key.option === undefined || !(key.name in values) || actions.includes(key.name as 'backup')) continue
    argv.push(...optionArgs(key, values[key.name]))
  }
  return argv
}

function optionArgs(key: ConfigKey, value: unknown): string[] {
  const option = key.option
  if (option === undefined) return []
  switch (option.as) {
    case 'flag':
      return value === true ? [`--${option.name}`] : []
    case 'negated':
      return value === false ? [`--${option.name}`] : []
    case 'value':
      return listOf(value).map((item) => `--${option.name}=${String(item)}`)
  }
}

// ---- helpers

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function listOf(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).map((item) => String(item))
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function seconds(value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  return typeof value === 'number' ? value : parseDuration(String(value), 'time')
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return isRsbError(error) && error.hint ? `${text} (${error.hint})` : text
}

function keyText(keyPath: readonly (string | number)[]): string {
  return keyPath
    .map((part) => (typeof part === 'number' ? `[${part}]` : /^[A-Za-z0-9_-]+$/.test(part) ? part : JSON.stringify(part)))
    .join('.')
    .replace(/\.\[/g, '[')
}

/** Every key path of the file with its line (tables, keys, array elements). */
function lineIndex(ast: AST.TOMLProgram): Map<string, number> {
  const lines = new Map<string, number>()
  const set = (keyPath: readonly (string | number)[], line: number): void => {
    const id = keyPath.join('\0')
    if (!lines.has(id)) lines.set(id, line)
  }
  const keyNames = (key: AST.TOMLKey): string[] => key.keys.map((k) => (k.type === 'TOMLBare' ? k.name : k.value))
  const visitValue = (keyPath: (string | number)[], node: AST.TOMLContentNode): void => {
    if (node.type === 'TOMLArray')
      node.elements.forEach((element, i) => {
        set([...keyPath, i], element.loc.start.line)
        visitValue([...keyPath, i], element)
      })
    if (node.type === 'TOMLInlineTable') for (const kv of node.body) visitKeyValue(keyPath, kv)
  }
  const visitKeyValue = (base: (string | number)[], kv: AST.TOMLKeyValue): void => {
    const names = keyNames(kv.key)
    for (let i = 1; i <= names.length; i++) set([...base, ...names.slice(0, i)], kv.loc.start.line)
    visitValue([...base, ...names], kv.value)
  }
  const top = ast.body[0]
  for (const node of top.body) {
    if (node.type === 'TOMLKeyValue') visitKeyValue([], node)
    else {
      const base = node.resolvedKey.map((part) => part)
      for (let i = 1; i <= base.length; i++) set(base.slice(0, i), node.loc.start.line)
      for (const kv of node.body) visitKeyValue(base, kv)
    }
  }
  return lines
}

function lineOf(lines: Map<string, number>, keyPath: readonly (string | number)[]): number {
  for (let n = keyPath.length; n > 0; n--) {
    const line = lines.get(keyPath.slice(0, n).join('\0'))
    if (line !== undefined) return line
  }
  return 1
}

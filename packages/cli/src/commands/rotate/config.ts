import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { RotationError, type RotationScheme } from '@rsb/rotation'
import { FREQUENCIES, parseCount, parseIonice, parseRetentionValue, type IoniceClass } from '../../kit/values.js'
import { compareCodePoints, parseLocation, type Location } from '@rsb/rotation/io'
import { compilePythonTimestampPattern } from './python-regex.js'
import { mergeIni, parseIni, type IniData, type IniEntry } from './ini.js'
import { parseBoolean, splitShellWords } from './values.js'

/** The settings a configuration section gives (only the keys it has). */
export interface SectionSettings {
  scheme?: RotationScheme
  include?: string[]
  exclude?: string[]
  preferRecent?: boolean
  strict?: boolean
  useSudo?: boolean
  sshUser?: string
  ionice?: IoniceClass
  removalCommand?: string[]
  timestampPattern?: string
  legacyWeekBuckets?: boolean
  keepLatest?: number
}

/** One configured location. */
export interface ConfigSection {
  /** The raw section name. */
  readonly name: string
  /** The location, with a local directory expanded (`$VAR`, `~`) and made absolute. */
  readonly location: Location
  /** The directory holds a `*`. */
  readonly glob: boolean
  readonly settings: SectionSettings
}

/** The merged configuration. */
export interface RotationConfig {
  /** Sections in sorted order of their raw names (`DEFAULT` excluded). */
  readonly sections: ConfigSection[]
  /** Files that were read. */
  readonly files: string[]
  /** Unknown keys and unreadable default files. */
  readonly warnings: string[]
}

const KNOWN_KEYS = new Set<string>([
  ...FREQUENCIES,
  'include-list',
  'exclude-list',
  'prefer-recent',
  'strict',
  'use-sudo',
  'ssh-user',
  'ionice',
  'removal-command',
  'timestamp-pattern',
  'legacy-week-buckets',
  'keep-latest',
])

const SUGGESTIONS: Record<string, string> = {
  include: "did you mean 'include-list'?",
  exclude: "did you mean 'exclude-list'?",
  relaxed: "did you mean 'strict = no'?",
  removal_command: "did you mean 'removal-command'?",
  prefer_recent: "did you mean 'prefer-recent'?",
  sudo: "did you mean 'use-sudo'?",
}

/**
 * The default configuration files that exist, in loading order: `/etc/rotate-backups.ini`,
 * `/etc/rotate-backups.d/*.ini`, `~/.rotate-backups.ini`, `~/.rotate-backups.d/*.ini`,
 * `$XDG_CONFIG_HOME/rotate-backups.ini` (default `~/.config`) and its `.d/*.ini` (natural order).
 */
export function defaultConfigFiles(env: Readonly<Record<string, string | undefined>>, systemDir = '/etc'): string[] {
  const home = env.HOME || os.homedir()
  const xdg = env.XDG_CONFIG_HOME || path.join(home, '.config')
  const files: string[] = []
  for (const [file, dir] of [
    [path.join(systemDir, 'rotate-backups.ini'), path.join(systemDir, 'rotate-backups.d')],
    [path.join(home, '.rotate-backups.ini'), path.join(home, '.rotate-backups.d')],
    [path.join(xdg, 'rotate-backups.ini'), path.join(xdg, 'rotate-backups.d')],
  ] as const) {
    if (fs.existsSync(file)) files.push(file)
    let names: string[] = []
    try {
      names = fs.readdirSync(dir).filter((name) => name.endsWith('.ini'))
    } catch {
      // no such directory
    }
    if (names.length > 1) names.sort(new Intl.Collator('en', { numeric: true }).compare)
    files.push(...names.map((name) => path.join(dir, name)))
  }
  return files
}

/** Python's `os.path.expandvars`, then `expanduser` (`~` alone or `~/…`), then made absolute. */
export function resolveLocalDirectory(directory: string, env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  const expanded = directory.replace(
    /\$(\w+)|\$\{([^}]*)\}/g,
    (match, a: string | undefined, b: string | undefined) => env[a ?? b ?? ''] ?? match,
  )
  const home = env.HOME || os.homedir()
  const user = expanded === '~' || expanded.startsWith('~/') ? home + expanded.slice(1) : expanded
  return path.resolve(cwd, user)
}

function valueError(entry: IniEntry, section: string, key: string, error: unknown): RotationError {
  const reason = error instanceof Error ? error.message : String(error)
  return new RotationError(
    'ERR_RSB_ROTATION_BAD_CONFIG',
    `Invalid value for '${key}' in section [${section}] (${entry.file}, line ${entry.line}): ${reason}`,
    {
      target: entry.file,
      cause: error,
      hint: error instanceof RotationError ? error.hint : undefined,
    },
  )
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

function sectionSettings(name: string, entries: Map<string, IniEntry>): SectionSettings {
  const settings: SectionSettings = {}
  const scheme: RotationScheme = {}
  for (const [key, entry] of entries) {
    const value = entry.value
    try {
      if ((FREQUENCIES as readonly string[]).includes(key)) scheme[key as (typeof FREQUENCIES)[number]] = parseRetentionValue(value)
      else if (key === 'include-list' && list(value).length > 0) settings.include = list(value)
      else if (key === 'exclude-list' && list(value).length > 0) settings.exclude = list(value)
      else if (key === 'prefer-recent') settings.preferRecent = parseBoolean(value, key)
      else if (key === 'strict') settings.strict = parseBoolean(value, key)
      else if (key === 'use-sudo') settings.useSudo = parseBoolean(value, key)
      else if (key === 'legacy-week-buckets') settings.legacyWeekBuckets = parseBoolean(value, key)
      else if (key === 'ssh-user' && value !== '') settings.sshUser = value
      else if (key === 'ionice' && value !== '') settings.ionice = parseIonice(value)
      else if (key === 'keep-latest') settings.keepLatest = parseCount(value, key)
      else if (key === 'timestamp-pattern' && value !== '') {
        compilePythonTimestampPattern(value)
        settings.timestampPattern = value
      } else if (key === 'removal-command' && value !== '') {
        const words = splitShellWords(value)
        if (words.length > 0) settings.removalCommand = words
      }
    } catch (error) {
      throw valueError(entry, name, key, error)
    }
  }
  if (Object.keys(scheme).length > 0) settings.scheme = scheme
  return settings
}

/**
 * Builds the configuration from parsed files: `[DEFAULT]` is inherited by every section, values are checked
 * (a bad value names file, section and line), unknown keys are warned about.
 *
 * @throws {RotationError} ERR_RSB_ROTATION_BAD_CONFIG
 */
export function buildConfig(
  data: IniData,
  options: { env: Readonly<Record<string, string | undefined>>; cwd: string; files?: string[]; warnings?: string[] },
): RotationConfig {
  const warnings = options.warnings ?? []
  for (const [name, entries] of data) {
    for (const [key, entry] of entries) {
      if (KNOWN_KEYS.has(key)) continue
      const suggestion = SUGGESTIONS[key] ? `; ${SUGGESTIONS[key]}` : ''
      warnings.push(`Ignoring unknown key '${key}' in section [${name}] of ${entry.file} (line ${entry.line})${suggestion}`)
    }
  }
  const defaults = data.get('DEFAULT') ?? new Map<string, IniEntry>()
  const names = [...data.keys()].filter((name) => name !== 'DEFAULT').sort(compareCodePoints)
  const sections = names.map((name): ConfigSection => {
    const merged = new Map([...defaults, ...data.get(name)!])
    const parsed = parseLocation(name)
    const location: Location =
      parsed.kind === 'local' ? { kind: 'local', directory: resolveLocalDirectory(parsed.directory, options.env, options.cwd) } : parsed
    return { name, location, glob: location.directory.includes('*'), settings: sectionSettings(name, merged) }
  })
  return { sections, files: options.files ?? [], warnings }
}

/**
 * Reads configuration files and merges them (later files override earlier ones key by key).
 *
 * @param files - the files, in order
 * @param explicit - true for `--config FILE`: a missing or unreadable file is an error (otherwise a warning)
 * @throws {RotationError} ERR_RSB_ROTATION_BAD_CONFIG
 */
export function loadConfig(
  files: readonly string[],
  options: { explicit: boolean; env: Readonly<Record<string, string | undefined>>; cwd: string },
): RotationConfig {
  const data: IniData = new Map()
  const warnings: string[] = []
  const read: string[] = []
  for (const file of files) {
    let text: string
    try {
      text = fs.readFileSync(path.resolve(options.cwd, file), 'utf8')
    } catch (error) {
      if (options.explicit) {
        throw new RotationError('ERR_RSB_ROTATION_BAD_CONFIG', `Failed to load configuration file! (${file}: ${readFailure(error)})`, {
          target: file,
          cause: error,
          hint: 'Give a readable configuration file (a regular file).',
        })
      }
      warnings.push(`Failed to read configuration file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
      continue
    }
    mergeIni(data, parseIni(text, file))
    read.push(file)
  }
  return buildConfig(data, { env: options.env, cwd: options.cwd, files: read, warnings })
}

/** Why a file could not be read, in words: `is a directory`, `permission denied`, `no such file` or the errno code. */
function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  switch (code) {
    case 'ENOENT':
      return 'no such file'
    case 'EISDIR':
      return 'is a directory'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    default:
      return code ?? (error instanceof Error ? error.message : String(error))
  }
}

function normalizeDirectory(location: Location): string {
  const normalized = path.posix.normalize(location.directory)
  return normalized.length > 1 ? normalized.replace(/\/$/, '') : normalized
}

function globRegex(directory: string): RegExp {
  return new RegExp(
    `^${directory
      .split('*')
      .map((part) => part.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'))
      .join('.*')}$`,
    'u',
  )
}

/**
 * The section that applies to a location: a section without `*` whose directory equals the location's beats
 * any glob section; among glob sections (where `*` also crosses `/`) the first in sorted order wins. The SSH
 * host must be the same (or both local).
 */
export function findSection(config: RotationConfig, location: Location): ConfigSection | undefined {
  const host = (l: Location) => (l.kind === 'local' ? '' : l.host)
  const directory = normalizeDirectory(location)
  const candidates = config.sections.filter((s) => host(s.location) === host(location))
  return (
    candidates.find((s) => !s.glob && normalizeDirectory(s.location) === directory) ??
    candidates.find((s) => s.glob && globRegex(normalizeDirectory(s.location)).test(directory))
  )
}

import { RotationError } from '@rsb/rotation'

/** One `key = value` of a configuration file, with where it came from. */
export interface IniEntry {
  readonly value: string
  readonly file: string
  readonly line: number
}

/** Sections (including `DEFAULT`) → lower-cased keys → entries. */
export type IniData = Map<string, Map<string, IniEntry>>

function parseError(file: string, line: number, message: string): RotationError {
  return new RotationError('ERR_RSB_ROTATION_BAD_CONFIG', `${message} (${file}, line ${line})`, {
    target: file,
    hint: 'Fix the configuration file (INI format: [section] headers and key = value lines).',
  })
}

/**
 * Parses an INI file as Python's `RawConfigParser` reads it: `[section]` headers, `key = value` or
 * `key: value` (keys lower-cased, values stripped), whole-line `#`/`;` comments, no inline comments,
 * indented lines continue the previous value, no interpolation.
 *
 * @throws {RotationError} ERR_RSB_ROTATION_BAD_CONFIG for a line before any section, a line that is not a
 *   header or a key, and a duplicate section or key within the file (naming file and line)
 */
export function parseIni(text: string, file: string): IniData {
  const data: IniData = new Map()
  let section: Map<string, IniEntry> | undefined
  let sectionName = ''
  let last: { key: string; indent: number } | undefined
  const lines = text.split(/\r\n|\n|\r/)
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]!
    const lineNo = index + 1
    const stripped = raw.trim()
    if (stripped === '' || stripped.startsWith('#') || stripped.startsWith(';')) {
      if (stripped === '') last = undefined
      continue
    }
    const indent = raw.length - raw.trimStart().length
    if (last && section && indent > last.indent) {
      const entry = section.get(last.key)!
      section.set(last.key, { ...entry, value: `${entry.value}\n${stripped}`.trim() })
      continue
    }
    if (stripped.startsWith('[') && stripped.endsWith(']') && stripped.length > 2) {
      sectionName = stripped.slice(1, -1)
      if (data.has(sectionName)) throw parseError(file, lineNo, `Duplicate section [${sectionName}]`)
      section = new Map()
      data.set(sectionName, section)
      last = undefined
      continue
    }
    if (!section) throw parseError(file, lineNo, `The file does not start with a [section] header`)
    const delimiter = /[=:]/.exec(stripped)
    if (!delimiter || delimiter.index === 0) throw parseError(file, lineNo, `Cannot parse the line ${JSON.stringify(stripped)}`)
    const key = stripped.slice(0, delimiter.index).trim().toLowerCase()
    const value = stripped.slice(delimiter.index + 1).trim()
    if (section.has(key)) throw parseError(file, lineNo, `Duplicate key '${key}' in section [${sectionName}]`)
    section.set(key, { value, file, line: lineNo })
    last = { key, indent }
  }
  return data
}

/** Merges `source` into `target`: sections are combined, later keys override earlier ones. */
export function mergeIni(target: IniData, source: IniData): void {
  for (const [name, entries] of source) {
    const section = target.get(name) ?? new Map<string, IniEntry>()
    target.set(name, section)
    for (const [key, entry] of entries) section.set(key, entry)
  }
}

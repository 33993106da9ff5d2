import { decodeCrypttabField } from './escapes.js'

/** One usable line of a crypttab file. All fields are decoded (`\040` → space, see {@link decodeCrypttabField}). */
export interface CrypttabEntry {
  /** 1-based line number in the file. */
  readonly line: number
  /** The mapping name (first field); the unlocked device is `/dev/mapper/<target>`. */
  readonly target: string
  /** The encrypted device or image as written (second field): a path, or `UUID=…`, `LABEL=…`, `PARTUUID=…`, `PARTLABEL=…`. */
  readonly source: string
  /**
   * The key file (third field), or undefined when the field is `none`, `-` or absent (the passphrase is then typed
   * on a terminal). With a `keyscript=` option this is the script's argument.
   */
  readonly keyFile: string | undefined
  /**
   * The options (fourth field) by canonical name (`read-only` → `readonly`, `key-slot` → `keyslot`, …): `true` for
   * a flag, the decoded value for `name=value`; a repeated option keeps its last value. Unknown options are left
   * out (with a warning), as Debian ignores them.
   */
  readonly options: Readonly<Record<string, string | true>>
  /** The raw options field as written (empty when absent). */
  readonly optionsText: string
  /** Why the entry cannot be used as written (malformed option values, a `/` in the target); empty when usable. */
  readonly problems: readonly string[]
}

/** A line that was skipped or an option that was ignored, with its line number. */
export interface CrypttabWarning {
  /** 1-based line number. */
  readonly line: number
  /** One sentence (without the file name or line number). */
  readonly message: string
}

/** The result of {@link parseCrypttab}. */
export interface ParsedCrypttab {
  /** The usable entries, in file order. */
  readonly entries: readonly CrypttabEntry[]
  /** Skipped lines and ignored options, in file order. */
  readonly warnings: readonly CrypttabWarning[]
}

type Rule = 'flag' | 'non-empty' | 'positive' | 'non-negative' | 'tmp' | 'any-value' | 'check'

/** Debian's crypttab options (cryptsetup 2.6 `crypttab_validate_option`) and how their values are checked. */
const OPTION_RULES: Readonly<Record<string, Rule>> = {
  cipher: 'non-empty',
  hash: 'non-empty',
  header: 'non-empty',
  keyscript: 'non-empty',
  size: 'positive',
  'keyfile-size': 'positive',
  'sector-size': 'positive',
  offset: 'non-negative',
  skip: 'non-negative',
  tries: 'non-negative',
  keyslot: 'non-negative',
  'keyfile-offset': 'non-negative',
  tmp: 'tmp',
  checkargs: 'any-value',
  check: 'check',
  verify: 'flag',
  loud: 'flag',
  quiet: 'flag',
  initramfs: 'flag',
  noearly: 'flag',
  noauto: 'flag',
  readonly: 'flag',
  discard: 'flag',
  plain: 'flag',
  luks: 'flag',
  swap: 'flag',
  tcrypt: 'flag',
  veracrypt: 'flag',
  tcrypthidden: 'flag',
  bitlk: 'flag',
  fvault2: 'flag',
  'same-cpu-crypt': 'flag',
  'submit-from-crypt-cpus': 'flag',
  'no-read-workqueue': 'flag',
  'no-write-workqueue': 'flag',
}

const ALIASES: Readonly<Record<string, string>> = {
  'read-only': 'readonly',
  'key-slot': 'keyslot',
  'tcrypt-hidden': 'tcrypthidden',
  'tcrypt-veracrypt': 'veracrypt',
}

function validValue(rule: Rule, value: string | undefined): boolean {
  switch (rule) {
    case 'non-empty':
      return value !== undefined && value !== ''
    case 'positive':
      return value !== undefined && /^0*[1-9][0-9]*$/.test(value)
    case 'non-negative':
      return value !== undefined && /^[0-9]+$/.test(value)
    case 'tmp':
      return value === undefined || value !== ''
    case 'any-value':
      return value !== undefined
    case 'check':
    case 'flag':
      return true
  }
}

/** Splits a line like `read -r a b c d` with IFS=" \t": three fields and the rest of the line. */
function splitLine(text: string): string[] {
  const fields: string[] = []
  let rest = text.replace(/^[ \t]+/, '')
  while (rest !== '' && fields.length < 3) {
    const end = rest.search(/[ \t]/)
    if (end === -1) {
      fields.push(rest)
      rest = ''
    } else {
      fields.push(rest.slice(0, end))
      rest = rest.slice(end).replace(/^[ \t]+/, '')
    }
  }
  rest = rest.replace(/[ \t]+$/, '')
  if (rest !== '') fields.push(rest)
  return fields
}

function parseOptions(
  text: string,
  line: number,
  target: string,
  warnings: CrypttabWarning[],
): { options: Record<string, string | true>; problems: string[] } {
  const options: Record<string, string | true> = Object.create(null) as Record<string, string | true>
  const problems: string[] = []
  // Debian splits the raw field at commas first and decodes only each option's value (so `\054` stays inside it).
  for (const item of text.split(',')) {
    if (item === '') continue
    const equals = item.indexOf('=')
    const written = equals === -1 ? item : item.slice(0, equals)
    const value = equals === -1 ? undefined : decodeCrypttabField(item.slice(equals + 1))
    const name = ALIASES[written] ?? written
    const rule = OPTION_RULES[name]
    if (rule === undefined) {
      warnings.push({ line, message: `Ignoring unknown option '${written}' of '${target}'.` })
      continue
    }
    if (!validValue(rule, value)) {
      const problem = `invalid value for option '${written}'${value === undefined ? ' (a value is required)' : `: '${value}'`}`
      problems.push(problem)
      warnings.push({ line, message: `Entry '${target}' has an ${problem}; it cannot be unlocked as written.` })
      continue
    }
    options[name] = value ?? true
  }
  return { options, problems }
}

/**
 * Parses the text of a crypttab file in Debian's format (cryptsetup 2.6, `crypttab(5)`): one entry per line,
 * fields separated by spaces and tabs, `target source [key-file [options]]`, the options field being the rest of
 * the line. A line whose first field starts with `#` is a comment; a `#` later in a line is not. Fields are decoded
 * like Debian's scripts do (`\040`, `\011`, `\\`, …); the options field is split at commas before its values are
 * decoded. A key file of `none` or `-`, or no third field, means "no key file".
 *
 * Malformed lines (a single field, a NUL byte) are skipped with a warning that has their line number; the parser
 * never throws. Unknown options are ignored with a warning; options with malformed values (`tries=x`) are recorded
 * in the entry's `problems`.
 *
 * Pure: text in, entries and warnings out.
 *
 * @param text - the whole file
 * @returns the entries in file order (lookups use the first match) and the warnings
 * @example
 * ```ts
 * const { entries, warnings } = parseCrypttab('backups UUID=1012dd1a-a455 /root/keys/backups.key luks,discard\noops!\n')
 * entries[0]?.options.discard // true
 * warnings[0] // { line: 2, message: "Line 'oops!' is missing fields (target source [key-file [options]]); skipped." }
 * ```
 */
export function parseCrypttab(text: string): ParsedCrypttab {
  const entries: CrypttabEntry[] = []
  const warnings: CrypttabWarning[] = []
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  lines.forEach((raw, index) => {
    const line = index + 1
    const content = raw.replace(/\r$/, '')
    const fields = splitLine(content)
    const [first, source, key, optionsText = ''] = fields
    if (first === undefined || first.startsWith('#')) return
    if (content.includes('\0')) {
      warnings.push({ line, message: 'Line contains a NUL byte; skipped.' })
      return
    }
    const target = decodeCrypttabField(first)
    if (source === undefined) {
      const shown = content.trim().length > 60 ? `${content.trim().slice(0, 57)}...` : content.trim()
      warnings.push({ line, message: `Line '${shown}' is missing fields (target source [key-file [options]]); skipped.` })
      return
    }
    const keyField = key === undefined ? undefined : decodeCrypttabField(key)
    const { options, problems } = parseOptions(optionsText, line, target, warnings)
    if (target.includes('/') || target === '.' || target === '..') {
      problems.unshift(`the target '${target}' is not a plain name`)
      warnings.push({ line, message: `Entry '${target}' has a target that is not a plain name; it cannot be unlocked.` })
    }
    entries.push({
      line,
      target,
      source: decodeCrypttabField(source),
      keyFile: keyField === undefined || keyField === 'none' || keyField === '-' ? undefined : keyField,
      options,
      optionsText,
      problems,
    })
  })
  return { entries, warnings }
}

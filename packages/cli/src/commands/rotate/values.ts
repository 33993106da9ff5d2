// The values only rotate-backups' command line and configuration files have (booleans, shell words, Python's
// list repr); the others (retention, ionice, counts) are the kit's, shared by every command.
import { RotationError } from '@rsb/rotation'

const TRUE = ['1', 'yes', 'true', 'on']
const FALSE = ['', '0', 'no', 'false', 'off']

/**
 * Parses a boolean like rotate-backups: 1/yes/true/on, 0/no/false/off (any case; empty means false).
 *
 * @throws {RotationError} ERR_RSB_ROTATION_BAD_OPTION
 */
export function parseBoolean(value: string, what: string): boolean {
  const normalized = value.trim().toLowerCase()
  if (TRUE.includes(normalized)) return true
  if (FALSE.includes(normalized)) return false
  throw new RotationError('ERR_RSB_ROTATION_BAD_OPTION', `Invalid boolean for ${what}: '${value}'.`, {
    target: value,
    hint: 'Use 1, yes, true, on or 0, no, false, off.',
  })
}

/**
 * Splits a command like a POSIX shell (Python's `shlex.split`): whitespace separates words, single quotes
 * are literal, double quotes allow `\\`, `\"`, `\$` and `` \` ``, a backslash outside quotes escapes the next
 * character. No expansion of any kind.
 *
 * @throws {RotationError} ERR_RSB_ROTATION_BAD_OPTION for an unterminated quote or a trailing backslash
 * @example
 * ```ts
 * splitShellWords(`rm -fR --one-file-system "a b"`) // ['rm', '-fR', '--one-file-system', 'a b']
 * ```
 */
export function splitShellWords(text: string): string[] {
  const words: string[] = []
  let word: string | undefined
  const bad = (message: string) =>
    new RotationError('ERR_RSB_ROTATION_BAD_OPTION', `Cannot split the command ${JSON.stringify(text)}: ${message}.`, { target: text })
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word)
      word = undefined
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1)
      if (end < 0) throw bad('no closing quotation')
      word = (word ?? '') + text.slice(i + 1, end)
      i = end
    } else if (c === '"') {
      word ??= ''
      for (i++; ; i++) {
        if (i >= text.length) throw bad('no closing quotation')
        const d = text[i]!
        if (d === '"') break
        if (d === '\\' && i + 1 < text.length && '\\"$`\n'.includes(text[i + 1]!)) word += text[++i]
        else word += d
      }
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw bad('no escaped character')
      word = (word ?? '') + text[++i]
    } else {
      word = (word ?? '') + c
    }
  }
  if (word !== undefined) words.push(word)
  return words
}

/** Python's `repr` of a list of strings, as rotate-backups logs the removal command: `['rm', '-fR']`. */
export function pythonListRepr(values: readonly string[]): string {
  const repr = (value: string) => {
    const escaped = value.replaceAll('\\', '\\\\')
    return value.includes("'") && !value.includes('"') ? `"${escaped}"` : `'${escaped.replaceAll("'", "\\'")}'`
  }
  return `[${values.map(repr).join(', ')}]`
}

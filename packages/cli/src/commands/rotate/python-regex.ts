// rotate-backups' --timestamp-pattern is a Python regex (VERBOSE mode): this translates it to a JavaScript one,
// faithfully or not at all. Part of the compatibility layer of `rsb rotate`; @rsb/rotation itself takes a RegExp.
import { compileTimestampPattern, RotationError, type TimestampPattern } from '@rsb/rotation'

/** The result of {@link translatePythonRegex}. */
export interface TranslatedRegex {
  /** JavaScript regex source (to be compiled with {@link TranslatedRegex.flags}). */
  source: string
  /** JavaScript flags: always `u`, plus `i` for a leading `(?i)`. */
  flags: string
  /** The named groups, in order of appearance. */
  groupNames: string[]
}

const VERBOSE_WHITESPACE = ' \t\n\r\v\f'
const JS_SYNTAX = '^$\\.*+?()[]{}|/'
const WORD = '\\p{L}\\p{N}_'
const ASCII_WORD = 'A-Za-z0-9_'
// Python's str.isspace(): what `\s` matches in a Unicode pattern.
const SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'
const ASCII_SPACE = ' \\t\\n\\r\\f\\v'
const SIMPLE_ESCAPES: Record<string, string> = { n: '\\n', t: '\\t', r: '\\r', f: '\\f', v: '\\v', a: '\\x07' }

function fail(pattern: string, message: string, hint?: string): never {
  throw new RotationError('ERR_RSB_ROTATION_BAD_PATTERN', `Invalid timestamp pattern ${JSON.stringify(pattern)}: ${message}.`, {
    target: pattern,
    hint: hint ?? 'Timestamp patterns use Python regex syntax (compiled in VERBOSE mode); escape a literal space as "\\ ".',
  })
}

function untranslatable(pattern: string, construct: string): never {
  fail(
    pattern,
    `${construct} has no faithful JavaScript translation`,
    'Rewrite the pattern without it (plain groups, classes and quantifiers always work).',
  )
}

/**
 * Translates a Python regular expression (as rotate-backups compiles it: `re.VERBOSE`, applied with `search`)
 * into an equivalent JavaScript one. `(?P<n>…)` becomes `(?<n>…)`, `(?P=n)` `\k<n>`; VERBOSE whitespace and
 * comments are dropped outside character classes; `.`, `^`, `$`, `\A`, `\Z`, `\w`, `\s`, `\b` keep Python's
 * meaning; `\d` means the ASCII digits (an rsb decision); leading global flags `(?aimsux)` are honoured.
 *
 * @param pattern - the Python pattern
 * @param options - `verbose: false` to compile without VERBOSE (default: true, as rotate-backups does)
 * @throws {RotationError} ERR_RSB_ROTATION_BAD_PATTERN for invalid syntax and for constructs without a
 *   faithful translation (atomic groups, possessive quantifiers, conditionals, scoped or late inline flags,
 *   `\N{…}`, the LOCALE flag)
 * @example
 * ```ts
 * translatePythonRegex('(?P<year>\\d{4}) - (?P<month>\\d{2})').source // '(?<year>[0-9]{4})-(?<month>[0-9]{2})'
 * ```
 */
export function translatePythonRegex(pattern: string, options: { verbose?: boolean } = {}): TranslatedRegex {
  let verbose = options.verbose ?? true
  let ignoreCase = false
  let dotAll = false
  let multiline = false
  let ascii = false
  let out = ''
  let emitted = false
  let i = 0
  const names: string[] = []
  const n = pattern.length

  const readName = (start: number, terminator: string): [string, number] => {
    const end = pattern.indexOf(terminator, start)
    if (end < 0) fail(pattern, `missing ${terminator}, unterminated name`)
    const name = pattern.slice(start, end)
    if (!/^[\p{L}_][\p{L}\p{N}_]*$/u.test(name)) fail(pattern, `bad character in group name ${JSON.stringify(name)}`)
    return [name, end + 1]
  }

  const hex = (start: number, count: number, what: string): string => {
    const digits = pattern.slice(start, start + count)
    if (digits.length !== count || !/^[0-9a-fA-F]+$/.test(digits)) fail(pattern, `incomplete escape \\${what}${digits}`)
    const code = Number.parseInt(digits, 16)
    if (code > 0x10ffff) fail(pattern, `bad escape \\${what}${digits}`)
    return `\\u{${code.toString(16)}}`
  }

  // Escapes valid both inside and outside classes. Returns [translation, next index] or undefined.
  const commonEscape = (at: number): [string, number] | undefined => {
    const d = pattern[at + 1]!
    if (d in SIMPLE_ESCAPES) return [SIMPLE_ESCAPES[d]!, at + 2]
    if (d === 'x') return [hex(at + 2, 2, 'x'), at + 4]
    if (d === 'u') return [hex(at + 2, 4, 'u'), at + 6]
    if (d === 'U') return [hex(at + 2, 8, 'U'), at + 10]
    if (d === 'N') untranslatable(pattern, 'A named character escape \\N{…}')
    if (d === '0' || (/[1-7]/.test(d) && /^[0-7]{3}$/.test(pattern.slice(at + 1, at + 4)))) {
      const digits = /^[0-7]{1,3}/.exec(pattern.slice(at + 1))![0]
      const code = Number.parseInt(digits, 8)
      if (code > 0o377) fail(pattern, `octal escape value \\${digits} outside of range 0-0o377`)
      return [`\\u{${code.toString(16)}}`, at + 1 + digits.length]
    }
    return undefined
  }

  const literal = (char: string, inClass: boolean): string => {
    if (inClass) return '\\]^-['.includes(char) ? `\\${char}` : char
    return JS_SYNTAX.includes(char) ? `\\${char}` : char
  }

  const charAt = (at: number): string => String.fromCodePoint(pattern.codePointAt(at)!)

  const wordBoundary = (negated: boolean): string => {
    const w = `[${ascii ? ASCII_WORD : WORD}]`
    return negated ? `(?:(?<=${w})(?=${w})|(?<!${w})(?!${w}))` : `(?:(?<=${w})(?!${w})|(?<!${w})(?=${w}))`
  }

  const quantifierSuffix = () => {
    if (pattern[i] === '?') {
      out += '?'
      i++
    } else if (pattern[i] === '+') {
      untranslatable(pattern, 'A possessive quantifier')
    }
  }

  const parseClass = () => {
    out += '['
    i++
    if (pattern[i] === '^') {
      out += '^'
      i++
    }
    let first = true
    for (;;) {
      if (i >= n) fail(pattern, 'unterminated character set')
      const c = pattern[i]!
      if (c === ']' && !first) break
      first = false
      if (c === '\\') {
        if (i + 1 >= n) fail(pattern, 'bad escape (end of pattern)')
        const common = commonEscape(i)
        if (common) {
          out += common[0]
          i = common[1]
          continue
        }
        const d = pattern[i + 1]!
        i += 2
        if (d === 'd') out += '0-9'
        else if (d === 'D') out += '\\D'
        else if (d === 'w') out += ascii ? ASCII_WORD : WORD
        else if (d === 'W' && ascii) out += '\\W'
        else if (d === 's') out += ascii ? ASCII_SPACE : SPACE
        else if (d === 'b') out += '\\x08'
        else if (d === 'W' || d === 'S') untranslatable(pattern, `\\${d} inside a character class`)
        else if (/[A-Za-z0-9]/.test(d)) fail(pattern, `bad escape \\${d}`)
        else {
          const char = charAt(i - 1)
          out += literal(char, true)
          i += char.length - 1
        }
        continue
      }
      const char = charAt(i)
      out += c === '-' ? '-' : literal(char, true)
      i += char.length
    }
    out += ']'
    i++
  }

  const parseGroupStart = () => {
    // pattern[i] === '(' and pattern[i + 1] === '?'
    const kind = pattern[i + 2]
    if (kind === 'P') {
      if (pattern[i + 3] === '<') {
        const [name, next] = readName(i + 4, '>')
        if (names.includes(name)) fail(pattern, `redefinition of group name ${JSON.stringify(name)}`)
        names.push(name)
        out += `(?<${name}>`
        i = next
        return
      }
      if (pattern[i + 3] === '=') {
        const [name, next] = readName(i + 4, ')')
        if (!names.includes(name)) fail(pattern, `unknown group name ${JSON.stringify(name)}`)
        out += `\\k<${name}>`
        i = next
        return
      }
      fail(pattern, 'unknown extension ?P' + (pattern[i + 3] ?? ''))
    }
    if (kind === ':' || kind === '=' || kind === '!') {
      out += `(?${kind}`
      i += 3
      return
    }
    if (kind === '<' && (pattern[i + 3] === '=' || pattern[i + 3] === '!')) {
      out += `(?<${pattern[i + 3]}`
      i += 4
      return
    }
    if (kind === '#') {
      const end = pattern.indexOf(')', i)
      if (end < 0) fail(pattern, 'missing ), unterminated comment')
      i = end + 1
      return
    }
    if (kind === '>') untranslatable(pattern, 'An atomic group (?>…)')
    if (kind === '(') untranslatable(pattern, 'A conditional group (?(…)…)')
    const flags = /^[aiLmsux]*(?:-[imsx]*)?[:)]/.exec(pattern.slice(i + 2))
    if (!flags) fail(pattern, `unknown extension ?${kind ?? ''}`)
    const text = flags[0]
    if (text.endsWith(':') || text.includes('-')) untranslatable(pattern, `A scoped inline flag group (?${text}…)`)
    if (emitted) untranslatable(pattern, `An inline flag (?${text} that is not at the start of the pattern`)
    for (const flag of text.slice(0, -1)) {
      if (flag === 'i') ignoreCase = true
      else if (flag === 'x') verbose = true
      else if (flag === 's') dotAll = true
      else if (flag === 'm') multiline = true
      else if (flag === 'a') ascii = true
      else if (flag === 'L') untranslatable(pattern, 'The LOCALE flag (?L)')
    }
    i += 2 + text.length
  }

  while (i < n) {
    const c = pattern[i]!
    if (verbose && VERBOSE_WHITESPACE.includes(c)) {
      i++
      continue
    }
    if (verbose && c === '#') {
      const end = pattern.indexOf('\n', i)
      i = end < 0 ? n : end + 1
      continue
    }
    if (c === '(' && pattern[i + 1] === '?') {
      const before = out.length
      parseGroupStart()
      if (out.length !== before) emitted = true
      continue
    }
    emitted = true
    switch (c) {
      case '\\': {
        if (i + 1 >= n) fail(pattern, 'bad escape (end of pattern)')
        const common = commonEscape(i)
        if (common) {
          out += common[0]
          i = common[1]
          break
        }
        const d = pattern[i + 1]!
        if (/[1-9]/.test(d)) {
          const ref = /^[0-9]{1,2}/.exec(pattern.slice(i + 1))![0]
          out += `(?:\\${ref})`
          i += 1 + ref.length
          break
        }
        i += 2
        if (d === 'A') out += '^'
        else if (d === 'Z' || d === 'z') out += '$'
        else if (d === 'b') out += wordBoundary(false)
        else if (d === 'B') out += wordBoundary(true)
        else if (d === 'd') out += '[0-9]'
        else if (d === 'D') out += '[^0-9]'
        else if (d === 'w') out += `[${ascii ? ASCII_WORD : WORD}]`
        else if (d === 'W') out += `[^${ascii ? ASCII_WORD : WORD}]`
        else if (d === 's') out += `[${ascii ? ASCII_SPACE : SPACE}]`
        else if (d === 'S') out += `[^${ascii ? ASCII_SPACE : SPACE}]`
        else if (/[A-Za-z0-9]/.test(d)) fail(pattern, `bad escape \\${d}`)
        else {
          const char = charAt(i - 1)
          out += literal(char, false)
          i += char.length - 1
        }
        break
      }
      case '[':
        parseClass()
        break
      case '(':
      case ')':
      case '|':
        out += c
        i++
        break
      case '.':
        out += dotAll ? '[\\s\\S]' : '[^\\n]'
        i++
        break
      case '^':
        out += multiline ? '(?:^|(?<=\\n))' : '^'
        i++
        break
      case '$':
        out += multiline ? '(?=\\n|$)' : '(?=\\n?$)'
        i++
        break
      case '*':
      case '+':
      case '?':
        out += c
        i++
        quantifierSuffix()
        break
      case '{': {
        const q = /^\{([0-9]*)(,([0-9]*))?\}/.exec(pattern.slice(i))
        if (!q || (q[1] === '' && q[2] === undefined)) {
          out += '\\{'
          i++
          break
        }
        const min = q[1] === '' ? '0' : q[1]!
        out += q[2] === undefined ? `{${min}}` : `{${min},${q[3] ?? ''}}`
        i += q[0].length
        quantifierSuffix()
        break
      }
      default: {
        const char = charAt(i)
        out += literal(char, false)
        i += char.length
      }
    }
  }
  return { source: out, flags: ignoreCase ? 'iu' : 'u', groupNames: names }
}

/**
 * Translates and compiles a Python regex (see {@link translatePythonRegex}).
 *
 * @throws {RotationError} ERR_RSB_ROTATION_BAD_PATTERN
 */
export function compilePythonRegex(pattern: string, options: { verbose?: boolean } = {}): { regex: RegExp; groupNames: string[] } {
  const translated = translatePythonRegex(pattern, options)
  try {
    return { regex: new RegExp(translated.source, translated.flags), groupNames: translated.groupNames }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    return fail(
      pattern,
      message
        .slice(message.lastIndexOf(': ') + 2)
        .replace(/\.$/, '')
        .toLowerCase(),
    )
  }
}

/**
 * Compiles a timestamp pattern written in Python regex syntax (VERBOSE mode, as rotate-backups'
 * `--timestamp-pattern`): unescaped whitespace and `#` comments are ignored, `(?P<name>…)` groups name the
 * components (`year`, `month` and `day` required).
 *
 * @throws {RotationError} ERR_RSB_ROTATION_BAD_PATTERN when the pattern is invalid, has no faithful JavaScript
 *   translation, or lacks a required group
 * @example
 * ```ts
 * compilePythonTimestampPattern(String.raw`(?P<day>\d{2})-(?P<month>\d{2})-(?P<year>\d{4})`)
 * ```
 */
export function compilePythonTimestampPattern(pattern: string): TimestampPattern {
  return compileTimestampPattern(compilePythonRegex(pattern).regex, pattern)
}

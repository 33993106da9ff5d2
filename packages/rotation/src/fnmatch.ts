const SYNTAX = '^$\\.*+?()[]{}|/'

function escapeChar(char: string): string {
  return SYNTAX.includes(char) ? `\\${char}` : char
}

function escapeSetChunk(chunk: string): string {
  return chunk.replace(/[\\\-\][^]/g, (c) => `\\${c}`)
}

/**
 * Translates a shell pattern with Python `fnmatch` semantics into a regex source that must match the whole
 * name: `*` any sequence (also `/` and a leading `.`), `?` one character, `[seq]`, `[!seq]` (a `]` right after
 * `[` or `[!` is a member; a `[` without its `]` is literal); a backslash is an ordinary character.
 * Port of CPython's `fnmatch.translate`.
 */
export function translateShellPattern(pattern: string): string {
  const chars = Array.from(pattern)
  const n = chars.length
  let out = ''
  let i = 0
  while (i < n) {
    const c = chars[i++]!
    if (c === '*') {
      if (!out.endsWith('[\\s\\S]*')) out += '[\\s\\S]*'
    } else if (c === '?') {
      out += '[\\s\\S]'
    } else if (c === '[') {
      let j = i
      if (j < n && chars[j] === '!') j++
      if (j < n && chars[j] === ']') j++
      while (j < n && chars[j] !== ']') j++
      if (j >= n) {
        out += '\\['
        continue
      }
      let stuff: string
      if (!chars.slice(i, j).includes('-')) {
        stuff = escapeSetChunk(chars.slice(i, j).join(''))
      } else {
        const chunks: string[][] = []
        let start = i
        let k = chars[i] === '!' ? i + 2 : i + 1
        for (;;) {
          k = chars.indexOf('-', k)
          if (k < 0 || k >= j) break
          chunks.push(chars.slice(start, k))
          start = k + 1
          k = k + 3
        }
        const last = chars.slice(start, j)
        if (last.length > 0) chunks.push(last)
        else chunks[chunks.length - 1]!.push('-')
        // Remove empty ranges (invalid in a regex).
        for (let m = chunks.length - 1; m > 0; m--) {
          const previous = chunks[m - 1]!
          const current = chunks[m]!
          if (previous[previous.length - 1]!.codePointAt(0)! > current[0]!.codePointAt(0)!) {
            chunks[m - 1] = [...previous.slice(0, -1), ...current.slice(1)]
            chunks.splice(m, 1)
          }
        }
        stuff = chunks.map((chunk) => escapeSetChunk(chunk.join(''))).join('-')
      }
      i = j + 1
      if (stuff === '') out += '(?!)'
      else if (stuff === '!') out += '[\\s\\S]'
      else if (stuff.startsWith('!')) out += `[^${stuff.slice(1)}]`
      else out += `[${stuff}]`
    } else {
      out += escapeChar(c)
    }
  }
  return `^(?:${out})$`
}

/** A compiled list of shell patterns (ORed). */
export interface ShellPatternList {
  readonly patterns: readonly string[]
  /** True when any pattern matches the whole name. */
  matches(name: string): boolean
}

/**
 * Compiles shell patterns (Python `fnmatch`, case-sensitive) into one matcher; several patterns are ORed.
 *
 * @example
 * ```ts
 * compileShellPatterns(['2014-*']).matches('2014-01-01@20:07') // true
 * ```
 */
export function compileShellPatterns(patterns: readonly string[]): ShellPatternList {
  const regexes = patterns.map((pattern) => new RegExp(translateShellPattern(pattern), 'u'))
  return { patterns: [...patterns], matches: (name) => regexes.some((regex) => regex.test(name)) }
}

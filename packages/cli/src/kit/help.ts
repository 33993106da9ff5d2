// The help formatter of every rsb command and program: paragraphs wrapped at 80 columns, options as a heading line
// (`-n, --dry-run`, `-x PATTERN, --exclude=PATTERN`) with their description indented below.
import type { OptionDefinition } from './getopt.js'

/** The width help texts are wrapped at. */
export const HELP_WIDTH = 80
const INDENT = 6

/**
 * Wraps text at word boundaries into lines of at most `width` columns (a longer word stands alone), each
 * starting with `indent`.
 *
 * @example
 * ```ts
 * wrap('a b c', 3, '') // ['a b', 'c']
 * ```
 */
export function wrap(text: string, width: number = HELP_WIDTH, indent = ''): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (word === '') continue
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line)
      line = word
    } else {
      line = line === '' ? word : `${line} ${word}`
    }
  }
  if (line !== '') lines.push(indent + line)
  return lines
}

/** Text as paragraphs (separated by blank lines in the input), each wrapped. */
export function paragraphs(...texts: string[]): string[] {
  return texts.flatMap((text, i) => [...(i > 0 ? [''] : []), ...wrap(text)])
}

function optionHeading(option: OptionDefinition): string {
  const long = option.value === undefined ? `--${option.name}` : `--${option.name}=${option.value}`
  if (option.short === undefined) return `  ${long}`
  const short = option.value === undefined ? `-${option.short}` : `-${option.short} ${option.value}`
  return `  ${short}, ${long}`
}

/**
 * An option table as help lines: for each option its heading, then its description wrapped and indented.
 *
 * @example
 * ```ts
 * formatOptions([{ name: 'dry-run', short: 'n', description: 'Change nothing.' }])
 * // ['  -n, --dry-run', '      Change nothing.']
 * ```
 */
export function formatOptions(options: readonly OptionDefinition[]): string[] {
  return options.flatMap((option) => [optionHeading(option), ...wrap(option.description, HELP_WIDTH, ' '.repeat(INDENT))])
}

/**
 * An exit status table as help lines: each status in a column of 10, its meaning wrapped beside it.
 *
 * @example
 * ```ts
 * formatExitStatuses([['0', 'success'], ['130, 143', 'interrupted']])
 * // ['  0         success', '  130, 143  interrupted']
 * ```
 */
export function formatExitStatuses(statuses: readonly (readonly [string, string])[]): string[] {
  return statuses.flatMap(([code, meaning]) =>
    wrap(meaning, HELP_WIDTH, ' '.repeat(12)).map((line, i) => (i === 0 ? `  ${code.padEnd(10)}${line.trimStart()}` : line)),
  )
}

import { UsageError } from '../errors.js'

/** One option of a program: data, not code. */
export interface OptionDefinition {
  /** Long name without dashes (`dry-run`). */
  readonly name: string
  /** Short letter (`n`), if any. */
  readonly short?: string
  /** Name of the value in help texts (`DIR`); set when the option takes a value. */
  readonly value?: string
  /** May be given more than once (all occurrences are kept). */
  readonly repeatable?: boolean
  /** One or more sentences for `--help`. */
  readonly description: string
  /**
   * An option of the original program: when an abbreviation matches several options and exactly one of
   * them is original, that one wins, so that abbreviations written for the original keep their meaning
   * (`--rot` stays `--rotate` although `--rotation` was added).
   */
  readonly original?: boolean
}

/** One option occurrence, in command-line order. */
export interface OptionOccurrence {
  /** The option's long name. */
  readonly name: string
  /** Its value, for options that take one. */
  readonly value: string | undefined
  /** How it was typed (`-n`, `--dry`), for messages. */
  readonly as: string
}

/** The result of {@link getopt}. */
export interface GetoptResult {
  readonly options: OptionOccurrence[]
  readonly positionals: string[]
}

/**
 * Splits a command line the way GNU `getopt_long` does: clustered short options (`-nu`), attached or
 * separate short values (`-xfoo`, `-x foo`), `--opt=value` and `--opt value`, unique prefixes of long
 * options (`--dry`), options and positionals in any order, `--` ends the options, `-` is a positional.
 *
 * @param argv - the arguments (without `node` and the script)
 * @param table - the program's options
 * @throws {UsageError} ERR_RSB_CLI_USAGE for an unknown option, an ambiguous prefix, a missing value, or a
 *   value given to an option that takes none
 * @example
 * ```ts
 * getopt(['-nx', '*.log', 'src', '--dry'], table)
 * // options: dry-run (-n), exclude '*.log' (-x), dry-run (--dry); positionals: ['src']
 * ```
 */
export function getopt(argv: readonly string[], table: readonly OptionDefinition[]): GetoptResult {
  const options: OptionOccurrence[] = []
  const positionals: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=')
      const typed = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
      const option = findLong(typed, table)
      if (option.value === undefined) {
        if (eq !== -1) throw new UsageError(`option --${option.name} must not have an argument`)
        options.push({ name: option.name, value: undefined, as: `--${typed}` })
      } else if (eq !== -1) {
        options.push({ name: option.name, value: arg.slice(eq + 1), as: `--${typed}` })
      } else {
        if (i + 1 >= argv.length) throw new UsageError(`option --${option.name} requires argument`)
        options.push({ name: option.name, value: argv[++i], as: `--${typed}` })
      }
    } else if (arg.startsWith('-') && arg !== '-') {
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j] as string
        const option = table.find((o) => o.short === letter)
        if (!option) throw new UsageError(`option -${letter} not recognized`)
        if (option.value === undefined) {
          options.push({ name: option.name, value: undefined, as: `-${letter}` })
          continue
        }
        if (j + 1 < arg.length) {
          options.push({ name: option.name, value: arg.slice(j + 1), as: `-${letter}` })
        } else {
          if (i + 1 >= argv.length) throw new UsageError(`option -${letter} requires argument`)
          options.push({ name: option.name, value: argv[++i], as: `-${letter}` })
        }
        break
      }
    } else {
      positionals.push(arg)
    }
  }
  return { options, positionals }
}

function findLong(typed: string, table: readonly OptionDefinition[]): OptionDefinition {
  const exact = table.find((o) => o.name === typed)
  if (exact) return exact
  const candidates = typed === '' ? [] : table.filter((o) => o.name.startsWith(typed))
  if (candidates.length === 1) return candidates[0] as OptionDefinition
  const originals = candidates.filter((o) => o.original)
  if (originals.length === 1 && candidates.some((o) => !o.original)) return originals[0] as OptionDefinition
  if (candidates.length > 1) {
    throw new UsageError(`option --${typed} not a unique prefix`, {
      hint: `It could mean ${candidates.map((o) => `--${o.name}`).join(', ')}.`,
    })
  }
  throw new UsageError(`option --${typed} not recognized`)
}

/**
 * Whether a command line asks for an option without a value (`json`), by its name or a unique prefix (`--j`…,
 * also with a value attached), before `--`; for the document a refusal still owes. A value that happens to read
 * `--json` (`-x --json`) counts too: a document too many is harmless.
 *
 * @example
 * ```ts
 * asksFor(['--js', '--bogus'], table, 'json') // true
 * asksFor(['--', '--json'], table, 'json')    // false
 * ```
 */
export function asksFor(argv: readonly string[], table: readonly OptionDefinition[], name: string): boolean {
  for (const arg of argv) {
    if (arg === '--') return false
    if (!arg.startsWith('--')) continue
    const eq = arg.indexOf('=')
    try {
      if (getopt([eq === -1 ? arg : arg.slice(0, eq)], table).options[0]?.name === name) return true
    } catch {
      // not an option (or an ambiguous prefix, or one that needs a value): not this one
    }
  }
  return false
}

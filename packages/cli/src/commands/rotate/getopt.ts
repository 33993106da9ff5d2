import { RotationError } from '@rsb/rotation'

/** One option of `rsb-rotate`: data, not code. */
export interface OptionDefinition {
  /** Long name without dashes (`dry-run`). */
  readonly name: string
  /** Short letter, if any. */
  readonly short?: string
  /** Name of the value in the help text; set when the option takes a value. */
  readonly value?: string
  /** The help text. */
  readonly description: string
}

/** One option occurrence, in command-line order. */
export interface OptionOccurrence {
  readonly name: string
  readonly value: string | undefined
  /** How it was typed (`-n`, `--dry`). */
  readonly as: string
}

function usage(message: string, hint = "Try 'rsb-rotate --help' for the options."): RotationError {
  return new RotationError('ERR_RSB_ROTATION_USAGE', message, { hint })
}

/**
 * Splits a command line like GNU `getopt_long` with permutation: clustered short options (`-nu`), attached or
 * separate values (`-d7`, `-d 7`, `--daily=7`, `--daily 7`), unique prefixes of long options (`--dry`),
 * options after positionals; `--` ends the options; `-` is a positional.
 *
 * @throws {RotationError} ERR_RSB_ROTATION_USAGE for an unknown or ambiguous option, a missing value, or a
 *   value given to an option that takes none
 */
export function getopt(
  argv: readonly string[],
  table: readonly OptionDefinition[],
): { options: OptionOccurrence[]; positionals: string[] } {
  const options: OptionOccurrence[] = []
  const positionals: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=')
      const typed = eq < 0 ? arg.slice(2) : arg.slice(2, eq)
      const exact = table.find((o) => o.name === typed)
      const candidates = exact ? [exact] : table.filter((o) => o.name.startsWith(typed))
      if (candidates.length === 0) throw usage(`Unrecognized option '--${typed}'.`)
      if (candidates.length > 1) {
        throw usage(`Option '--${typed}' is ambiguous; possibilities: ${candidates.map((o) => `'--${o.name}'`).join(' ')}.`)
      }
      const option = candidates[0]!
      const as = `--${typed}`
      if (option.value === undefined) {
        if (eq >= 0) throw usage(`Option '--${option.name}' doesn't allow an argument.`)
        options.push({ name: option.name, value: undefined, as })
      } else if (eq >= 0) {
        options.push({ name: option.name, value: arg.slice(eq + 1), as })
      } else {
        if (i + 1 >= argv.length) throw usage(`Option '--${option.name}' requires an argument.`)
        options.push({ name: option.name, value: argv[++i], as })
      }
      continue
    }
    if (arg.startsWith('-') && arg !== '-') {
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j]!
        const option = table.find((o) => o.short === letter)
        if (!option) throw usage(`Invalid option -- '${letter}'.`)
        const as = `-${letter}`
        if (option.value === undefined) {
          options.push({ name: option.name, value: undefined, as })
          continue
        }
        if (j + 1 < arg.length) options.push({ name: option.name, value: arg.slice(j + 1), as })
        else if (i + 1 < argv.length) options.push({ name: option.name, value: argv[++i], as })
        else throw usage(`Option requires an argument -- '${letter}'.`)
        break
      }
      continue
    }
    positionals.push(arg)
  }
  return { options, positionals }
}

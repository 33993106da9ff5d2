const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/

/**
 * Quotes one argument for a POSIX shell, like Python's `shlex.quote`.
 *
 * @param argument - any string (spaces, quotes, `$()`, newlines, non-ASCII)
 * @returns the argument bare when it is made only of safe characters, else single-quoted
 * @example
 * ```ts
 * quoteArgument("it's") // 'it'"'"'s'
 * ```
 */
export function quoteArgument(argument: string): string {
  if (argument === '') return "''"
  if (SAFE.test(argument)) return argument
  return `'${argument.replaceAll("'", `'"'"'`)}'`
}

/**
 * Quotes an argv into one shell command line (each argument per {@link quoteArgument}, joined by spaces).
 *
 * @example
 * ```ts
 * quoteCommandLine(['cp', '--archive', '/a b']) // "cp --archive '/a b'"
 * ```
 */
export function quoteCommandLine(argv: readonly string[]): string {
  return argv.map(quoteArgument).join(' ')
}

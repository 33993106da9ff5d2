// The quoting of @rsb/exec's quoteArgument and quoteCommandLine (Python's shlex.quote), repeated here so that
// describing events (log lines) does not load @rsb/exec; test/quote.test.ts checks that both agree.
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/

/** One argument for a POSIX shell: bare when made only of safe characters, else single-quoted. */
export function quoteArgument(argument: string): string {
  if (argument === '') return "''"
  if (SAFE.test(argument)) return argument
  return `'${argument.replaceAll("'", `'"'"'`)}'`
}

/** An argv as one shell command line. */
export function quoteCommandLine(argv: readonly string[]): string {
  return argv.map(quoteArgument).join(' ')
}

// context.ts imports this module too: the cycle is harmless (nothing here runs while the modules load).
import { tailLines, type Context, type RunResult } from './context.js'
import { ExecError } from './errors.js'
import { quoteCommandLine } from './quote.js'

/**
 * The options rsb gives sudo itself, between `sudo` and the command: `-n` (never prompt), `-H` (HOME is the target
 * user's home), `-l` (list: may this command run?), `--preserve-env=NAME,…`. Never `NAME=value`: sudo accepts that
 * only from users whose rule has SETENV (or is `ALL`), so a least-privilege rule could not run it.
 */
const SUDO_OPTION = /^(-n|-H|-l|--preserve-env=[A-Za-z_][A-Za-z0-9_]*(,[A-Za-z_][A-Za-z0-9_]*)*)$/
/** `NAME=value` arguments, as older rsb versions and callers building sudo lines by hand put them. */
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/

/**
 * The command a final argv makes sudo run: the argv without `sudo` and sudo's options (and without `NAME=value`
 * arguments); an argv that does not start with `sudo` as it is.
 *
 * @example
 * ```ts
 * sudoCommand(['sudo', '-n', '-H', 'rsync', '-a', 'x', 'y']) // ['rsync', '-a', 'x', 'y']
 * ```
 */
export function sudoCommand(argv: readonly string[]): string[] {
  if (argv[0] !== 'sudo') return [...argv]
  let i = 1
  while (argv[i] !== undefined && (SUDO_OPTION.test(argv[i] as string) || ASSIGNMENT.test(argv[i] as string))) i++
  if (argv[i] === '--') i++
  return argv.slice(i)
}

/** Why sudo did not run a command, from its own words (see {@link classifySudoRefusal}). */
export type SudoRefusal =
  /** `a password is required`: a password would be needed, or (with `-n`) the command is in no rule at all. */
  | { kind: 'password' }
  /** `… is not allowed to execute …`, `… may not run sudo …`: no rule allows this command for this user. */
  | { kind: 'command' }
  /** `sorry, you are not allowed to set the following environment variables: A, B` (or to preserve the environment). */
  | { kind: 'environment'; names: string[] }
  /** `sorry, you must have a tty to run sudo` (the `requiretty` default). */
  | { kind: 'tty' }

const PASSWORD = /^sudo: (a password is required|a terminal is required to read the password)/m
const NOT_ALLOWED = /is not allowed to execute '|may not run sudo on /
const ENVIRONMENT = /sorry, you are not allowed to set the following environment variables: ([^\n]*)/
const PRESERVE = /sorry, you are not allowed to preserve the environment/
const TTY = /sorry, you must have a tty to run sudo/

/**
 * Reads sudo's refusal from a command's standard error (sudo 1.8 and 1.9 wording); undefined when sudo ran the
 * command (its own failures are the command's business). Pure: for exit status 1 of a command run through sudo.
 *
 * @example
 * ```ts
 * classifySudoRefusal('sudo: sorry, you are not allowed to set the following environment variables: HOME\n')
 * // { kind: 'environment', names: ['HOME'] }
 * ```
 */
export function classifySudoRefusal(stderr: string): SudoRefusal | undefined {
  const environment = ENVIRONMENT.exec(stderr)
  if (environment) return { kind: 'environment', names: (environment[1] ?? '').split(/[\s,]+/).filter(Boolean) }
  if (PRESERVE.test(stderr)) return { kind: 'environment', names: [] }
  if (NOT_ALLOWED.test(stderr)) return { kind: 'command' }
  if (TTY.test(stderr)) return { kind: 'tty' }
  if (PASSWORD.test(stderr)) return { kind: 'password' }
  return undefined
}

const RULE_HINT = 'the README of rsb, "Running with sudo", lists every program rsb runs through sudo and the exact rule'

/**
 * Turns a command that sudo refused into the error that says so: `ERR_RSB_EXEC_SUDO_DENIED` when the sudoers rules
 * do not allow the command (or the environment it was given), `ERR_RSB_EXEC_SUDO_PASSWORD` when they allow it
 * only with a password. With `sudo -n`, sudo answers `a password is required` in both cases, so then this asks
 * sudo itself (`sudo -n -l COMMAND`, which runs nothing): a command the rules allow needs a
 * password; one they do not allow is denied. Undefined when the command did not go through sudo, or sudo ran it.
 *
 * @param context - where the command ran (the `sudo -n -l` question is asked there)
 * @param result - the finished command (its final argv, exit status and standard error)
 * @returns the error to throw, or undefined
 */
export async function explainSudoFailure(context: Context, result: RunResult): Promise<ExecError | undefined> {
  if (result.argv[0] !== 'sudo' || result.exitCode !== 1 || isSudoQuestion(result.argv)) return undefined
  const refusal = classifySudoRefusal(result.stderr)
  if (refusal === undefined) return undefined
  const command = sudoCommand(result.argv)
  const program = command[0] ?? 'the command'
  const shown = quoteCommandLine(result.argv)
  const details = {
    argv: result.argv,
    host: context.host,
    exitCode: result.exitCode,
    signal: result.signal,
    stderrTail: tailLines(result.stderr),
  }
  const denied = (message: string, hint: string) => new ExecError('ERR_RSB_EXEC_SUDO_DENIED', message, { ...details, hint })
  switch (refusal.kind) {
    case 'environment': {
      const names = refusal.names.length > 0 ? refusal.names.join(', ') : 'its environment'
      return denied(
        `sudo on ${context.host} refused to pass ${names} to ${program}: ${shown}`,
        `A rule without SETENV passes no environment: add \`Defaults!/path/to/${program} env_keep += "${refusal.names.join(' ')}"\` ` +
          `to the sudoers rule in /etc/sudoers.d/, leave the variable out, run as root, or use --no-sudo (${RULE_HINT}).`,
      )
    }
    case 'tty':
      return denied(
        `sudo on ${context.host} refused to run ${program} without a terminal (requiretty): ${shown}`,
        `Add \`Defaults:USER !requiretty\` to the sudoers rule in /etc/sudoers.d/, run as root, or use --no-sudo (${RULE_HINT}).`,
      )
    case 'command':
      return denied(`sudo on ${context.host} does not allow this user to run ${program}: ${shown}`, commandHint(program))
    case 'password': {
      const allowed = await askSudo(context, command)
      if (allowed === false) {
        return denied(`sudo on ${context.host} does not allow this user to run ${program}: ${shown}`, commandHint(program))
      }
      return new ExecError('ERR_RSB_EXEC_SUDO_PASSWORD', `sudo on ${context.host} asked for a password: ${shown}`, {
        ...details,
        hint: 'Allow these commands without a password (a NOPASSWD rule in /etc/sudoers.d/), run as root, or use --no-sudo.',
      })
    }
  }
}

function commandHint(program: string): string {
  return (
    `Add ${program} (its full path, as \`which ${program}\` prints it) to the NOPASSWD sudoers rule of this user in ` +
    `/etc/sudoers.d/ (${RULE_HINT}), run as root, or use --no-sudo.`
  )
}

/** Whether an argv is `sudo … -l …` (a question to sudo, never explained in turn). */
function isSudoQuestion(argv: readonly string[]): boolean {
  const options = argv.slice(1, argv.length - sudoCommand(argv).length)
  return options.includes('-l')
}

/**
 * `sudo -n -l COMMAND`: true when the rules allow the command (sudo prints its path), false when they do not,
 * undefined when sudo cannot tell without a password (the user has no passwordless rule at all) or the question
 * itself failed.
 */
async function askSudo(context: Context, command: readonly string[]): Promise<boolean | undefined> {
  if (command.length === 0) return undefined
  try {
    const answer = await context.run(['sudo', '-n', '-l', '--', ...command], {
      sudo: false,
      ionice: undefined,
      check: false,
      capture: true,
    })
    if (answer.exitCode === 0) return true
    if (answer.exitCode === 1 && classifySudoRefusal(answer.stderr) === undefined) return false
    return undefined
  } catch {
    return undefined
  }
}

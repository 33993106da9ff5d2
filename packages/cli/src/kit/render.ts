// How every command and program of rsb shows errors and documents: one format for all of them.
import { isRsbError } from '../errors.js'
import type { TextSink } from './log.js'

/** A `--json` document: undefined fields as null, two-space indents, one trailing newline. */
export function json(document: object): string {
  return `${JSON.stringify(document, (_key, value: unknown) => (value === undefined ? null : value), 2)}\n`
}

/** Line breaks in a message (a value, a file name) become spaces: an error is one line. */
export function oneLine(text: string): string {
  return text.replace(/\r?\n|\r/g, ' ')
}

/** An error as one line: `MESSAGE (CODE)`, then ` Hint: HINT` when it has a hint (the shape rsb-rotate uses). */
export function errorLine(error: { code: string; message: string; hint?: string | undefined }): string {
  return oneLine(`${error.message} (${error.code})${error.hint ? ` Hint: ${error.hint}` : ''}`)
}

/**
 * An error as the line a program prints on stderr: `PROGRAM: error: MESSAGE (CODE) Hint: HINT` for rsb's errors
 * (a usage error without a hint gets `Try 'PROGRAM --help' for more information.`), `PROGRAM: internal error:
 * MESSAGE` for anything else (a bug).
 */
export function errorReport(error: unknown, program: string): string {
  if (!isRsbError(error)) return `${program}: internal error: ${oneLine(error instanceof Error ? error.message : String(error))}\n`
  const hint = error.hint ?? (error.code.endsWith('_USAGE') ? `Try '${program} --help' for more information.` : undefined)
  return `${program}: error: ${errorLine({ code: error.code, message: error.message, hint })}\n`
}

/**
 * Reports an error of the command line itself (nothing ran): `PROGRAM: error: …` on stderr, and with `asJson` (the
 * command line asked for `--json`) a document with the error on stdout. Returns 2 (1 for an error that is not
 * rsb's: a bug).
 */
export function refuseCommandLine(
  error: unknown,
  io: { readonly stdout: TextSink; readonly stderr: TextSink },
  program: string,
  asJson: boolean,
): number {
  const exitCode = isRsbError(error) ? 2 : 1
  const refusal = isRsbError(error)
    ? { code: error.code, message: error.message, hint: error.hint ?? `Try '${program} --help' for more information.` }
    : { code: 'ERR_RSB_CLI_INTERNAL', message: error instanceof Error ? error.message : String(error), hint: undefined }
  io.stderr.write(exitCode === 2 ? `${program}: error: ${errorLine(refusal)}\n` : errorReport(error, program))
  if (asJson) io.stdout.write(json({ schemaVersion: 1, exitCode, error: refusal }))
  return exitCode
}

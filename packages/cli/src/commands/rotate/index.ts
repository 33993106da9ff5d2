// `rsb rotate [OPTIONS] [DIRECTORY, ..]`: rsb-rotate (rotate-backups 8.1's command line), the same program: the
// same options, output and exit statuses.
import { Settings } from 'luxon'
import type { MainIo } from '../../main.js'
import type { Parsed } from '../index.js'
import { OPTIONS, parseArgs, type CliOptions } from './args.js'
import { helpText } from './help.js'
import { main, refuse as refuseArgs, rotate } from './main.js'

/** The name in its errors and `--version`: the same program as `rsb-rotate`. */
export const program = 'rsb-rotate'

/** The options of `rsb rotate` (rotate-backups 8.1's, and rsb's additions). */
export const options = OPTIONS

export function help(): string {
  return helpText()
}

export function parse(argv: readonly string[]): Parsed<CliOptions> {
  const parsed = parseArgs(argv)
  return parsed.kind === 'run' ? { kind: 'run', args: parsed.options } : parsed
}

export function run(args: CliOptions, io: MainIo): Promise<number> {
  fixLocale()
  return rotate(args, io)
}

/** Its usage errors as rsb-rotate shows them (`rsb-rotate: error: …`, exit 2; no document on stdout). */
export function refuse(error: unknown, _argv: readonly string[], io: MainIo): number {
  return refuseArgs(error, io)
}

/** The `rsb-rotate` program: parse and run (see ../../bin/rsb-rotate.ts). */
export function runProgram(argv: readonly string[], io: MainIo): Promise<number> {
  fixLocale()
  return main(argv, io)
}

// The program's own choice (the library leaves luxon's settings alone): a fixed locale spares luxon's first calendar
// arithmetic from asking Intl for the system locale (~20 ms at start-up); rotation never formats text with luxon, so
// the locale changes nothing visible.
function fixLocale(): void {
  Settings.defaultLocale = 'en-US'
}

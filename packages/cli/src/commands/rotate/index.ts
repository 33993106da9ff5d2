// `rsb rotate [OPTIONS] [DIRECTORY, ..]`: rsb-rotate (rotate-backups 8.1's command line), the same program: the
// same options, output and exit statuses.
import { Settings } from 'luxon'
import type { MainIo } from '../../main.js'
import { helpText } from './help.js'
import { main } from './main.js'

export function help(): string {
  return helpText()
}

export function run(argv: readonly string[], io: MainIo): Promise<number> {
  // The program's own choice (the library leaves luxon's settings alone): a fixed locale spares luxon's first
  // calendar arithmetic from asking Intl for the system locale (~20 ms at start-up); rotation never formats text
  // with luxon, so the locale changes nothing visible.
  Settings.defaultLocale = 'en-US'
  return main(argv, io)
}

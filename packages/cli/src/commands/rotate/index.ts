// `rsb rotate [OPTIONS] [DIRECTORY, ..]`: rsb-rotate (rotate-backups 8.1's command line), the same program: the
// same options, output and exit statuses.
import { helpText, main } from '@rsb/rotation/cli'
import type { MainIo } from '../../main.js'

export function help(): string {
  return helpText()
}

export function run(argv: readonly string[], io: MainIo): Promise<number> {
  return main(argv, io)
}

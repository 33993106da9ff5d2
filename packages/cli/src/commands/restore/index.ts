// `rsb restore [--snapshot=NAME|--at=TIME|--latest] DESTINATION PATH… (--to=DIR | --in-place)`: copies paths back
// from a snapshot with rsync. The option table and the pure parse are ./args.ts, the choices ./plan.ts, the workflow
// ./run.ts (loaded only when the command runs).
import { createLogger } from '../../kit/log.js'
import { formatExitStatuses, formatOptions, HELP_WIDTH, paragraphs, wrap } from '../../kit/help.js'
import type { MainIo } from '../../main.js'
import type { Parsed } from '../index.js'
import { OPTIONS, parseRestoreArgs, type RestoreArgs } from './args.js'

/** The options of `rsb restore`. */
export const options = OPTIONS

/** `rsb restore ARGS` into typed arguments (pure). @throws usage errors (exit 2), see `parseRestoreArgs` */
export function parse(argv: readonly string[]): Parsed<RestoreArgs> {
  const parsed = parseRestoreArgs(argv)
  return parsed.kind === 'run' ? { kind: 'run', args: parsed.args } : parsed
}

/** Runs the restore; returns the exit status. */
export async function run(args: RestoreArgs, io: MainIo): Promise<number> {
  const logger = createLogger(io.stderr, args.verbosity)
  if (args.dryRun) logger.log('info', 'Performing a dry run (because of --dry-run): nothing is written.')
  const { runRestore } = await import('./run.js')
  return runRestore(args, io, logger)
}

const EXIT_STATUSES: readonly [string, string][] = [
  ['0', 'restored (or the dry run listed the changes)'],
  [
    '1',
    'an error: no such snapshot (ERR_RSB_CLI_SNAPSHOT_NOT_FOUND), a PATH missing in it (ERR_RSB_CLI_RESTORE_PATH_MISSING) or ' +
      'under a symbolic link in it or, in place, on this machine (ERR_RSB_CLI_RESTORE_PATH_SYMLINK), no SOURCE recorded ' +
      'for a restore in place (ERR_RSB_CLI_RESTORE_NO_SOURCE) or a snapshot of another machine ' +
      '(ERR_RSB_CLI_RESTORE_OTHER_HOST), a --to DIR that cannot take the files (ERR_RSB_CLI_RESTORE_TARGET_INVALID), ' +
      "rsync failing (ERR_RSB_RSYNC_*, the message gives rsync's exit status)",
  ],
  [
    '2',
    'a wrong command line (ERR_RSB_CLI_USAGE; a PATH with .. ERR_RSB_CLI_RESTORE_UNSAFE_PATH; a daemon DESTINATION ' +
      'ERR_RSB_CLI_DESTINATION_DAEMON; a restore in place without --in-place ERR_RSB_CLI_RESTORE_IN_PLACE): nothing ran',
  ],
  ['130, 143', 'interrupted by SIGINT, SIGTERM (rsync is stopped; what it had copied stays)'],
]

/** `rsb restore --help`. */
export function help(): string {
  const lines = [
    'Usage: rsb restore [OPTIONS] DESTINATION PATH… --to=DIR',
    '       rsb restore [OPTIONS] DESTINATION PATH… --in-place',
    '',
    ...wrap('The snapshot: --snapshot=NAME, --at=TIME or --latest (the default), one of them.', HELP_WIDTH, ''),
    '',
    ...paragraphs(
      'Copy files and directories back from a snapshot with rsync, exactly as they are in it: content, mode, owner, ' +
        'times, ACLs, xattrs and the hard links among them (rsync -aHAX --numeric-ids). DESTINATION is what rsb backup ' +
        'was given (the mirror: /mnt/backups/latest, or USER@HOST:/srv/backups/latest, pulled over SSH as the backup ' +
        'pushes); the snapshots beside it are read, never changed, and no lock is taken.',
      'PATH is relative to the backed-up SOURCE: /etc/hosts and etc/hosts both mean SNAPSHOT/etc/hosts; / is the whole ' +
        'snapshot. With --to=DIR each PATH goes into DIR under its last component, as cp -a PATH… DIR (--to=/tmp/r etc/ssh ' +
        'gives /tmp/r/ssh). Without --to, --in-place restores each PATH over SOURCE/PATH, SOURCE being what the backup ' +
        'that made the snapshot backed up. Nothing is ever deleted unless --delete is given. Everything is checked ' +
        'before anything is written.',
    ),
    '',
    'Options:',
    ...formatOptions(OPTIONS),
    '',
    'Exit status:',
    ...formatExitStatuses(EXIT_STATUSES),
    '',
    'Examples:',
    '  rsb restore --to=./restored /mnt/backups/latest /etc/hosts',
    "  rsb restore --at='2026-11-30 12:00' --dry-run --in-place /mnt/backups/latest home/alice",
    '',
  ]
  return `${lines.join('\n')}`
}

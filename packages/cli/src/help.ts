import { OPTIONS } from './args.js'
import { COMMANDS, JOB_HELP } from './commands/index.js'
import { formatOptions, HELP_WIDTH, wrap } from './kit/help.js'

const WIDTH = HELP_WIDTH

/** The usage line of the backup command line (`rsb`'s default command). */
export const USAGE = 'Usage: rsb [OPTIONS] [SOURCE] DESTINATION'

/** Which program's help: `rsb` (with its commands), `rsb backup`, or `rsync-system-backup` (no commands). */
export type HelpProgram = 'rsb' | 'rsb backup' | 'rsync-system-backup'

/** The usage line of several SOURCEs (rsb's grammar; `rsync-system-backup` takes one). */
const SEVERAL = 'SOURCE… DESTINATION   (several SOURCEs into one mirror)'

function usageLines(program: HelpProgram): string[] {
  if (program === 'rsb')
    return [USAGE, `       rsb [OPTIONS] ${SEVERAL}`, '       rsb COMMAND [OPTIONS] [ARGS]   (rsb help COMMAND: its help)']
  if (program === 'rsb backup') return [`Usage: ${program} [OPTIONS] [SOURCE] DESTINATION`, `       ${program} [OPTIONS] ${SEVERAL}`]
  return [`Usage: ${program} [OPTIONS] [SOURCE] DESTINATION`]
}

/** What several SOURCEs do (rsb's grammar only). */
const SEVERAL_SOURCES =
  'Several SOURCEs (absolute paths, none inside another) are backed up into the one DESTINATION under their ' +
  'whole paths, as rsync --relative does: rsb /etc /home /mnt/backups/latest makes latest/etc and latest/home ' +
  '(and /srv/a/b becomes latest/srv/a/b). Each is a SOURCE of its own for every check and for --one-file-system ' +
  '(/home on its own filesystem is copied whole). A SOURCE left out of a later run is never deleted from the ' +
  'mirror: its copy stays as it was, and rsb warns with the command that removes it. So a mirror that had several ' +
  'keeps that layout when one is left: rsb /home /mnt/backups/latest then still writes latest/home (rsync ' +
  '--relative), and latest/etc stays. The records name / as their SOURCE, so rsb restore --in-place etc/hosts ' +
  'writes /etc/hosts.'

function commandLines(): string[] {
  const lines = ['Commands:']
  const column = Math.max(...COMMANDS.map((command) => command.name.length)) + 2
  for (const command of COMMANDS)
    lines.push(
      ...wrap(command.summary, WIDTH, ' '.repeat(column + 2)).map((line, i) =>
        i === 0 ? `  ${command.name.padEnd(column)}${line.trimStart()}` : line,
      ),
    )
  lines.push(
    '',
    ...wrap(
      'Without a command, rsb backs up (rsb backup). A command word comes first; a directory of that name is written ./NAME (rsb ./list /mnt/backups/latest).',
      WIDTH,
      '',
    ),
    '',
  )
  return lines
}

/**
 * The text of `rsb --help` (or of `rsb backup --help`, `rsync-system-backup --help`): what it does, the commands
 * (rsb's only), every option and the exit statuses.
 *
 * @example
 * ```ts
 * process.stdout.write(helpText())
 * ```
 */
export function helpText(program: HelpProgram = 'rsb'): string {
  const paragraphs = [
    ...usageLines(program),
    '',
    ...wrap(
      'Make a full system backup with rsync. SOURCE (default /, the root filesystem) is copied into ' +
        'DESTINATION, one fixed directory that every run updates. Then a timestamped snapshot ' +
        '(a hard-link copy, for example 2024-01-02 03:04:05) is made beside DESTINATION, and old ' +
        'snapshots are rotated (deleted) according to a retention scheme.',
      WIDTH,
      '',
    ),
    '',
    ...wrap(
      "DESTINATION uses rsync's syntax: a local directory, [USER@]HOST:DIR over SSH, or an rsync daemon " +
        'module [USER@]HOST::MODULE[/DIR] or rsync://[USER@]HOST[:PORT]/MODULE[/DIR], possibly through an ' +
        'SSH tunnel (--tunnel). Other filesystems below SOURCE are left out unless --multi-fs is given.',
      WIDTH,
      '',
    ),
    '',
    ...(program === 'rsync-system-backup' ? [] : [...wrap(SEVERAL_SOURCES, WIDTH, ''), '']),
    ...wrap(
      'Use --dry-run until the command line is known to be right: swapping SOURCE and DESTINATION ' +
        'destroys data (rsync runs with --delete).',
      WIDTH,
      '',
    ),
    '',
    ...wrap(
      'For an rsync daemon destination only the backup runs; snapshots and rotation run on the server, from ' +
        "the module's hooks: 'pre-xfer exec = rsb --daemon-hook=pre' and 'post-xfer exec = rsb " +
        "--daemon-hook=post --snapshot --rotate' (a listing, a pull or a client's dry run then makes no " +
        "snapshot; the post-xfer line alone, or 'rsb --snapshot --rotate', snapshots every transfer that " +
        'succeeded). Without DESTINATION, rsb uses $RSYNC_MODULE_PATH (and needs -s or -r, but for ' +
        '--daemon-hook=pre); a module path that is / or directly under / is refused.',
      WIDTH,
      '',
    ),
    '',
    ...(program === 'rsb' ? commandLines() : []),
    'Options:',
  ]
  const options = formatOptions(OPTIONS)
  const tail = [
    ...(program === 'rsync-system-backup' ? [] : ['', ...JOB_HELP.trimEnd().split('\n')]),
    '',
    'Long options may be abbreviated to any unique prefix (--dry, --disable).',
    '',
    'Exit status:',
    '  0    success (also when rsync reported a partial transfer, 23 or 24, with',
    '       a warning; and when the --crypto disk is not connected in a run',
    '       without a terminal)',
    '  1    error (also a refused SOURCE or DESTINATION, and an --exclude-from',
    '       FILE that cannot be read; nothing was written)',
    '  2    usage error (wrong command line); nothing was done',
    '  130  interrupted by SIGINT (Ctrl-C); cleanups ran',
    '  143  stopped by SIGTERM; cleanups ran',
    '',
    'Environment:',
    '  RSYNC_MODULE_PATH  the default DESTINATION (set by rsync daemons for their',
    '                     pre-xfer and post-xfer exec)',
    '  RSYNC_PID, RSYNC_ARG0…, RSYNC_EXIT_STATUS',
    '                     what an rsync daemon tells its hooks about a connection',
    '                     (--daemon-hook)',
    '  RSYNC_RSH          the remote shell rsync uses for HOST:DIR destinations;',
    "                     rsb's own SSH connections follow its -F, -p, -l, -i, -o,",
    '                     -4, -6, -b (through ssh -G), ignore -v, -q, -C, -T, -x and',
    '                     the like, and refuse another program than ssh, -J,',
    '                     ProxyJump and ProxyCommand; not read for them when',
    "                     RSB_SSH_CONFIG is set. rsync's ssh gets a keepalive",
    '                     (-o ServerAliveInterval=15 -o ServerAliveCountMax=4)',
    '                     unless one is set already',
    ...(program === 'rsync-system-backup' ? [] : ['  RSB_CONFIG         the configuration file of jobs (default /etc/rsb/rsb.toml)']),
    "  RSB_SSH_CONFIG     the ssh_config file for rsb's own SSH connections",
    '  RSB_LOCK_DIR       where run locks are kept (default /run/rsb as root)',
    '  TZ                 the time zone of snapshot names',
    '  NODE_DEBUG=rsb:*   debug tracing of the commands rsb runs',
    '',
  ]
  return [...paragraphs, ...options, ...tail].join('\n')
}

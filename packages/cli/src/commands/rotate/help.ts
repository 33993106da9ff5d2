import { formatOptions, paragraphs } from '../../kit/help.js'
import { OPTIONS } from './args.js'

/** The `--help` text of `rsb rotate` (`rsb-rotate`). */
export function helpText(): string {
  return [
    'Usage: rsb-rotate [OPTIONS] [DIRECTORY, ..]',
    '       rsb rotate [OPTIONS] [DIRECTORY, ..]',
    '',
    ...paragraphs(
      'Delete old timestamped backups in each DIRECTORY according to a rotation scheme: per minute, hour, day, ' +
        'ISO week, month and year, the oldest backup of each time slot (or the newest, with --prefer-recent) is kept ' +
        'for the last COUNT slots. Compatible with rotate-backups 8.1. A DIRECTORY may be remote: [user@]host:/dir ' +
        '(over SSH; rsb reads ~/.ssh/config, or $RSB_SSH_CONFIG). Options may come before or after the directories.',
      'Without a DIRECTORY, every location of the configuration files is rotated: /etc/rotate-backups.ini, ' +
        '~/.rotate-backups.ini, ~/.config/rotate-backups.ini and their .d/*.ini directories (or only --config FILE).',
    ),
    '',
    'Options:',
    ...formatOptions(OPTIONS),
    '',
    ...paragraphs(
      'Long options may be abbreviated to any unique prefix (--dry, --pref).',
      'Retention COUNT: a whole number (0 or more), simple arithmetic such as "7 * 2", or "always". ' +
        'Timestamps are found anywhere in a name (YYYY-MM-DD, optionally followed by HH:MM[:SS], one optional ' +
        'separator between the parts). Entries without a timestamp are never touched.',
      '--json prints {"locations": [{"directory": …, "backups": [{"name": …, "timestamp": "YYYY-MM-DDTHH:MM:SS", ' +
        '"action": "keep"|"delete", "periods": […]}]}]} (on one line, without spaces) on standard output; logs go ' +
        'to standard error.',
    ),
    '',
    'Exit status:',
    '  0    success (also when nothing was found or nothing had to be deleted)',
    '  1    error (a missing or unreadable location, an unreadable configuration',
    '       file, a failed removal)',
    '  2    usage error (unknown option, bad retention value, empty rotation',
    '       scheme, bad timestamp pattern); nothing was deleted',
    '  130  interrupted by SIGINT (Ctrl-C)',
    '  143  stopped by SIGTERM',
    '',
    'Environment:',
    '  HOME, XDG_CONFIG_HOME  where the configuration files are',
    '  RSB_SSH_CONFIG         the ssh_config file for remote locations',
    '  NODE_DEBUG=rsb:rotation,rsb:exec',
    '                         debug tracing',
    '',
  ].join('\n')
}

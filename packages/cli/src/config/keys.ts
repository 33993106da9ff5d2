// The keys of rsb's configuration file (/etc/rsb/rsb.toml), as data: their types, where they may stand, the
// `rsb backup` option each one becomes, and the JSON Schema of the file made from them (shipped as
// schema/rsb.schema.json for editors; `rsb config schema` prints it).

/** How a key's value is written in TOML. */
export type KeyKind =
  /** A non-empty string. */
  | 'string'
  | 'boolean'
  /** A whole number from 0. */
  | 'count'
  /** A whole number of seconds, or a string with a unit (`90s`, `10m`, `1h`). */
  | 'time'
  /** A list of non-empty strings. */
  | 'list'
  /** A non-empty string, or a list of them. */
  | 'one-or-list'

/** One key of a `[jobs.NAME]` table (and, unless `jobOnly`, of `[defaults]`). */
export interface ConfigKey {
  readonly name: string
  readonly kind: KeyKind
  readonly description: string
  /** Only in a job's table (not in `[defaults]`). */
  readonly jobOnly?: boolean
  /**
   * How it becomes `rsb backup` options: the option it is (`value` for one that takes the value, `flag` for one given
   * when the key is true, `negated` for one given when the key is false). Keys without one are the job's own
   * (schedule, alerts, hooks) or positionals (`source`, `destination`).
   */
  readonly option?: { readonly name: string; readonly as: 'value' | 'flag' | 'negated' }
}

/** The default `schedule` (systemd `OnCalendar=`). */
export const DEFAULT_SCHEDULE = 'hourly'
/** The default `randomized-delay`, in seconds (systemd `RandomizedDelaySec=`). */
export const DEFAULT_RANDOMIZED_DELAY = 300
/** The default `hook-timeout`, in seconds. */
export const DEFAULT_HOOK_TIMEOUT = 600

/** Job names: also systemd unit names and shell words, so letters, digits, `-` and `_`, starting with a letter or digit. */
export const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

/** Every key, in the order of the documentation. */
export const CONFIG_KEYS: readonly ConfigKey[] = Object.freeze([
  {
    name: 'source',
    kind: 'one-or-list',
    description: 'What to back up: a directory, or a list of directories backed up into one mirror with their paths kept. Default /.',
  },
  {
    name: 'destination',
    kind: 'string',
    jobOnly: true,
    description: 'Where to back up: the mirror directory (/mnt/backups/latest, HOST:/srv/backups/latest, HOST::module/latest).',
  },
  {
    name: 'daemon',
    kind: 'boolean',
    jobOnly: true,
    description:
      "A job of an rsync daemon's module: no source and no destination; the module's pre-xfer exec runs 'rsb run " +
      "--daemon-hook=pre JOB' and its post-xfer exec 'rsb run --daemon-hook=post JOB'. 'rsb run' without --daemon-hook skips it.",
  },
  { name: 'backup', kind: 'boolean', option: { name: 'backup', as: 'flag' }, description: 'Run the backup action (default true).' },
  { name: 'snapshot', kind: 'boolean', option: { name: 'snapshot', as: 'flag' }, description: 'Run the snapshot action (default true).' },
  { name: 'rotate', kind: 'boolean', option: { name: 'rotate', as: 'flag' }, description: 'Run the rotate action (default true).' },
  { name: 'mount', kind: 'string', option: { name: 'mount', as: 'value' }, description: 'As --mount=DIR.' },
  { name: 'crypto', kind: 'string', option: { name: 'crypto', as: 'value' }, description: 'As --crypto=NAME.' },
  { name: 'tunnel', kind: 'string', option: { name: 'tunnel', as: 'value' }, description: 'As --tunnel=[USER@]HOST[:PORT].' },
  { name: 'ionice', kind: 'string', option: { name: 'ionice', as: 'value' }, description: 'As --ionice=CLASS.' },
  { name: 'sudo', kind: 'boolean', option: { name: 'no-sudo', as: 'negated' }, description: 'false: as --no-sudo (default true).' },
  { name: 'multi-fs', kind: 'boolean', option: { name: 'multi-fs', as: 'flag' }, description: 'As --multi-fs.' },
  { name: 'exclude', kind: 'list', option: { name: 'exclude', as: 'value' }, description: 'A list of --exclude patterns.' },
  {
    name: 'exclude-from',
    kind: 'one-or-list',
    option: { name: 'exclude-from', as: 'value' },
    description: 'A file (or a list of files) of exclude patterns, as --exclude-from=FILE.',
  },
  { name: 'force', kind: 'boolean', option: { name: 'force', as: 'flag' }, description: 'As --force.' },
  {
    name: 'notifications',
    kind: 'boolean',
    option: { name: 'disable-notifications', as: 'negated' },
    description: 'false: as --disable-notifications (default true: desktop notifications through notify-send).',
  },
  { name: 'rotation', kind: 'string', option: { name: 'rotation', as: 'value' }, description: 'As --rotation=SPEC.' },
  { name: 'keep-latest', kind: 'count', option: { name: 'keep-latest', as: 'value' }, description: 'As --keep-latest=N.' },
  { name: 'timeout', kind: 'time', option: { name: 'timeout', as: 'value' }, description: 'As --timeout=TIME.' },
  { name: 'connect-timeout', kind: 'time', option: { name: 'connect-timeout', as: 'value' }, description: 'As --connect-timeout=TIME.' },
  { name: 'rsync-option', kind: 'list', option: { name: 'rsync-option', as: 'value' }, description: 'A list of --rsync-option values.' },
  {
    name: 'allow-empty-source',
    kind: 'boolean',
    option: { name: 'allow-empty-source', as: 'flag' },
    description: 'As --allow-empty-source.',
  },
  {
    name: 'accept-destination',
    kind: 'boolean',
    option: { name: 'accept-destination', as: 'flag' },
    description: 'As --accept-destination.',
  },
  {
    name: 'schedule',
    kind: 'string',
    description: `When the job's systemd timer runs it: a systemd OnCalendar= expression (default ${DEFAULT_SCHEDULE}).`,
  },
  {
    name: 'randomized-delay',
    kind: 'time',
    description: `Up to this much random delay before a scheduled run (systemd RandomizedDelaySec=; default ${DEFAULT_RANDOMIZED_DELAY / 60}m).`,
  },
  {
    name: 'webhook',
    kind: 'string',
    description: 'A healthchecks.io-style URL: pinged at URL/start, URL (success) and URL/fail, with the run record as JSON.',
  },
  { name: 'mail-to', kind: 'one-or-list', description: "E-mail address(es) told of a failure, through the system's sendmail." },
  { name: 'mail-on-success', kind: 'boolean', description: 'Also mail when the job succeeds (default false).' },
  { name: 'mail-from', kind: 'string', description: 'The From address of the mails (default rsb@HOSTNAME).' },
  {
    name: 'sendmail',
    kind: 'string',
    description:
      'The sendmail program (default /usr/sbin/sendmail, which every Debian mail transfer agent provides, else sendmail on PATH).',
  },
  { name: 'syslog', kind: 'boolean', description: 'Log the start, end and failure of the job to syslog (the journal) (default false).' },
  {
    name: 'before',
    kind: 'string',
    description: 'A shell command run before the job; if it fails the job is skipped (and reported as failed).',
  },
  { name: 'after', kind: 'string', description: 'A shell command run after the job, whatever its outcome.' },
  { name: 'on-failure', kind: 'string', description: 'A shell command run after a job that failed.' },
  {
    name: 'hook-timeout',
    kind: 'time',
    description: `How long a hook may run before it is stopped (and counts as failed); default ${DEFAULT_HOOK_TIMEOUT / 60}m.`,
  },
])

/** The key of this name. */
export function findKey(name: string): ConfigKey | undefined {
  return CONFIG_KEYS.find((key) => key.name === name)
}

function valueSchema(key: ConfigKey): Record<string, unknown> {
  const text = { type: 'string', minLength: 1 }
  const list = { type: 'array', items: text }
  const schema: Record<string, unknown> = (() => {
    switch (key.kind) {
      case 'string':
        return text
      case 'boolean':
        return { type: 'boolean' }
      case 'count':
        return { type: 'integer', minimum: 0 }
      case 'time':
        return { anyOf: [{ type: 'integer', minimum: 0 }, text] }
      case 'list':
        return list
      case 'one-or-list':
        return { anyOf: [text, { ...list, minItems: 1 }] }
    }
  })()
  return { description: key.description, ...schema }
}

function tableSchema(keys: readonly ConfigKey[], description: string): Record<string, unknown> {
  return {
    type: 'object',
    description,
    additionalProperties: false,
    properties: Object.fromEntries(keys.map((key) => [key.name, valueSchema(key)])),
  }
}

/**
 * The JSON Schema (draft-07) of the configuration file, made from {@link CONFIG_KEYS}: what `rsb config check` validates
 * with, and what editors read (taplo: a `#:schema` comment on the file's first line).
 */
export function configSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'rsb configuration (/etc/rsb/rsb.toml)',
    description: 'Jobs of rsb: [defaults] applies to every job, [jobs.NAME] is one job. Keys are the long options of rsb backup.',
    type: 'object',
    additionalProperties: false,
    properties: {
      defaults: tableSchema(
        CONFIG_KEYS.filter((key) => key.jobOnly !== true),
        'Values every job gets unless it sets them itself.',
      ),
      jobs: {
        type: 'object',
        description: 'One table per job; NAME is letters, digits, - and _.',
        propertyNames: { pattern: JOB_NAME.source },
        additionalProperties: tableSchema(CONFIG_KEYS, 'One job.'),
      },
    },
  }
}

import path from 'node:path'
import { checkRsyncOptions } from '@rsb/rsync/options'
import { UsageError } from './errors.js'
import { asksFor, getopt, type OptionDefinition } from './kit/getopt.js'

import {
  formatRotationSpec,
  parseCount as parseCountValue,
  parseDuration,
  parseIonice,
  parseRotationSpec as parseRotationSpecValue,
  type IoniceClass,
  type RotationScheme,
} from './kit/values.js'

export type { Frequency, IoniceClass, RotationScheme } from './kit/values.js'
export { formatRotationSpec }

/** The default scheme of the original: 24 hourly, 7 daily, 4 weekly, monthly always. */
export const DEFAULT_ROTATION_SCHEME: Readonly<RotationScheme> = Object.freeze({ hourly: 24, daily: 7, weekly: 4, monthly: 'always' })

/** rsync's I/O timeout (`--timeout`) when none is given, in seconds. */
export const DEFAULT_TIMEOUT = 600
/** How long to wait for a daemon's connection (`--connect-timeout`) when none is given, in seconds. */
export const DEFAULT_CONNECT_TIMEOUT = 60

/** The largest count `--keep-latest` and the timeouts (in seconds) accept. */
export const MAX_COUNT = 1_000_000

/**
 * Which rsync daemon hook a run is (`--daemon-hook=WHEN`): `pre` in a module's `pre-xfer exec` (records what the
 * connection is), `post` in its `post-xfer exec` (snapshots and rotates after a push that succeeded).
 */
export type DaemonHook = 'pre' | 'post'

/** An SSH tunnel to an rsync daemon: `[user@]host[:port]`. */
export interface TunnelSpec {
  readonly user: string | undefined
  readonly host: string
  readonly port: number | undefined
}

/** Everything a run needs to know from the command line. */
export interface RunOptions {
  /**
   * What to back up, as given (default `/`). With several SOURCEs: `/`, the root the mirror keeps their whole paths
   * from (what the records name as SOURCE, and what `rsb restore --in-place` restores below); `sources` lists them.
   */
  readonly source: string
  /**
   * Every SOURCE as given, in order: one (`[source]`, default `['/']`), or several, each an absolute path, none
   * inside another. Several are backed up into the one mirror under their whole paths (rsync `--relative`).
   */
  readonly sources: readonly string[]
  /** The destination expression, as given (or `$RSYNC_MODULE_PATH`). */
  readonly destination: string
  /** True when the destination came from `$RSYNC_MODULE_PATH`. */
  readonly destinationFromEnv: boolean
  readonly backup: boolean
  readonly snapshot: boolean
  readonly rotate: boolean
  /** Which of `-b`, `-s`, `-r` were given. */
  readonly explicitActions: readonly ('backup' | 'snapshot' | 'rotate')[]
  readonly mount: string | undefined
  readonly crypto: string | undefined
  readonly tunnel: TunnelSpec | undefined
  readonly ionice: IoniceClass | undefined
  /** Use sudo for privileged commands when not root (`--no-sudo` turns it off). */
  readonly sudo: boolean
  readonly dryRun: boolean
  /** The dry-run option as typed (`-n`, `--dry-run`, `--dry`), for the log line. */
  readonly dryRunOption: string | undefined
  readonly multiFs: boolean
  readonly exclude: readonly string[]
  /**
   * `--exclude-from=FILE`, as given, in order: files of exclude patterns (one per line, as `--exclude`), read when the
   * backup starts (backup/excludes.ts), not here.
   */
  readonly excludeFrom: readonly string[]
  readonly force: boolean
  readonly notifications: boolean
  /** `-v` count minus `-q` count. */
  readonly verbosity: number
  readonly json: boolean
  /** False with `--no-progress`; otherwise the progress bar shows when stderr is a terminal. */
  readonly progress: boolean
  readonly rotation: Readonly<RotationScheme>
  readonly keepLatest: number
  /** `--timeout`: rsync's I/O timeout in seconds (0: none). */
  readonly timeout: number
  /** `--connect-timeout`: how long to wait for a daemon's connection, in seconds (0: none). */
  readonly connectTimeout: number
  /** Pass-through rsync options (`--rsync-option`), checked by `@rsb/rsync`'s `checkRsyncOptions`. */
  readonly rsyncOptions: readonly string[]
  /** `--allow-empty-source`: an empty SOURCE is meant (not an unmounted filesystem). */
  readonly allowEmptySource: boolean
  /** `--accept-destination`: a non-empty DESTINATION that is not a known rsb mirror is meant. */
  readonly acceptDestination: boolean
  /** `--daemon-hook=WHEN`: run as an rsync daemon module's pre-xfer or post-xfer exec (DESTINATION from `$RSYNC_MODULE_PATH`). */
  readonly daemonHook: DaemonHook | undefined
  /** The arguments as given (after the program's name and the command word): the run record keeps them. */
  readonly argv: readonly string[]
}

/** What the command line asks for. */
export type ParsedArgs =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  /** No arguments at all and no `$RSYNC_MODULE_PATH`: print the usage, exit 0 (as the original). */
  | { readonly kind: 'usage' }
  | { readonly kind: 'run'; readonly options: RunOptions }

/** The options of `rsb`, in help order. */
export const OPTIONS: readonly OptionDefinition[] = [
  {
    name: 'backup',
    original: true,
    short: 'b',
    description: 'Run the backup action (rsync into DESTINATION). Giving -b, -s or -r runs only the actions given.',
  },
  {
    name: 'snapshot',
    original: true,
    short: 's',
    description: 'Run the snapshot action (a timestamped hard-link copy of DESTINATION beside it).',
  },
  {
    name: 'rotate',
    original: true,
    short: 'r',
    description: 'Run the rotate action (delete old snapshots beside DESTINATION, see --rotation).',
  },
  {
    name: 'mount',
    original: true,
    short: 'm',
    value: 'DIR',
    description:
      'Mount DIR (an /etc/fstab entry) before the backup if it is not mounted, and unmount it afterwards if this run ' +
      'mounted it. DESTINATION must be inside DIR.',
  },
  {
    name: 'crypto',
    original: true,
    short: 'c',
    value: 'NAME',
    description:
      'Unlock the /etc/crypttab entry NAME before the backup if it is locked, and lock it afterwards if this run ' +
      'unlocked it. With a key file in crypttab this runs unattended, otherwise it asks for the passphrase. If the ' +
      'disk is not connected and standard output is not a terminal (cron), rsb logs one line and exits 0.',
  },
  {
    name: 'tunnel',
    original: true,
    short: 't',
    value: '[USER@]HOST[:PORT]',
    description:
      'Reach an rsync daemon through an SSH tunnel to HOST, forwarding a local port to port 873 on HOST. ' +
      'DESTINATION names the local end, for example localhost::module.',
  },
  {
    name: 'ionice',
    original: true,
    short: 'i',
    value: 'CLASS',
    description:
      'Run rsync, the snapshot copy and the removal of old snapshots with this I/O scheduling class: idle, best-effort, realtime, 1, 2 or 3.',
  },
  {
    name: 'no-sudo',
    original: true,
    short: 'u',
    description:
      'Do not use sudo for rsync and the commands on the destination (test, mkdir, cp, find, rm…). mount, umount and ' +
      'unlocking/locking the disk still ask for sudo when not root.',
  },
  {
    name: 'dry-run',
    original: true,
    short: 'n',
    description: 'Show what would happen without changing anything (rsync --dry-run, no snapshot, nothing deleted).',
  },
  { name: 'multi-fs', original: true, description: 'Let rsync cross filesystem boundaries (rsync is not given --one-file-system).' },
  {
    name: 'exclude',
    original: true,
    short: 'x',
    value: 'PATTERN',
    repeatable: true,
    description:
      'Do not copy files matching PATTERN (an rsync --exclude pattern). Repeatable. PATTERN is always an exclude: ' +
      'the forms rsync would read as rules (!, or a "- " or "+ " prefix) exclude the name literally.',
  },
  {
    name: 'exclude-from',
    value: 'FILE',
    repeatable: true,
    description:
      'Read exclude patterns from FILE, one per line, each used as with --exclude (so a line "- NAME" excludes the ' +
      'name "- NAME"); empty lines and lines starting with # or ; are skipped, as rsync does. Repeatable. FILE is read ' +
      'when the backup starts: one that is missing, unreadable, not UTF-8 or holds a NUL byte stops the run before ' +
      'anything is written (exit 1, ERR_RSB_CLI_EXCLUDE_FROM).',
  },
  { name: 'force', original: true, short: 'f', description: 'Run even when uname does not say Linux (you are on your own).' },
  {
    name: 'disable-notifications',
    original: true,
    description: 'Send no desktop notifications (they are sent by default, except in dry runs).',
  },
  {
    name: 'rotation',
    value: 'SPEC',
    description:
      'The rotation scheme: comma-separated FREQUENCY=COUNT with FREQUENCY one of minutely, hourly, daily, weekly, ' +
      'monthly, yearly and COUNT a number from 0 to 1000000 or "always". A frequency left out keeps nothing; a ' +
      'scheme whose counts are all 0 (no "always") is refused. Default: hourly=24,daily=7,weekly=4,monthly=always.',
  },
  {
    name: 'keep-latest',
    value: 'N',
    description: 'Never delete the N newest snapshots, whatever the scheme says (default 0, at most 1000000).',
  },
  {
    name: 'timeout',
    value: 'TIME',
    description:
      'End the transfer when the server sends no data for TIME, in seconds or with a unit (90s, 10m, 1h; rsync --timeout): a server that stops answering ' +
      'fails the run with a clear error instead of hanging with the run lock held. Default 600 (10m); 0 turns it off.',
  },
  {
    name: 'connect-timeout',
    value: 'TIME',
    description:
      'How long to wait for an rsync daemon to accept the connection, in seconds or with a unit (rsync --contimeout). Default 60 (1m); 0 turns it off.',
  },
  {
    name: 'rsync-option',
    value: 'OPT',
    repeatable: true,
    description:
      'Pass OPT to rsync (one argument, for example --rsync-option=--no-acls). Repeatable. Options that would change ' +
      'older snapshots or SOURCE (--inplace, --append, --backup, --link-dest, --remove-source-files, …) are refused.',
  },
  {
    name: 'allow-empty-source',
    description: 'Back up an empty SOURCE on purpose (refused otherwise: an empty SOURCE is usually an unmounted filesystem).',
  },
  {
    name: 'accept-destination',
    description:
      'Use a non-empty DESTINATION that is not a known rsb mirror on purpose (refused otherwise: rsync --delete ' +
      'would replace what it holds with a copy of SOURCE).',
  },
  {
    name: 'daemon-hook',
    value: 'WHEN',
    description:
      "Run as an rsync daemon module's hook, on the module at $RSYNC_MODULE_PATH. WHEN is pre, in pre-xfer exec: " +
      'it records whether the connection is a push that writes or a listing, a pull or a dry run, and refuses the ' +
      'transfer only when the module path is / or directly under /. Or post, in post-xfer exec with -s and/or -r: ' +
      'it snapshots and rotates only after a push that succeeded. Without the pre hook every transfer that ' +
      'succeeded is snapshotted.',
  },
  { name: 'json', description: 'Print a summary of the run as one JSON document on standard output (log lines stay on standard error).' },
  { name: 'no-progress', description: 'Do not show a progress bar (it is only shown when standard error is a terminal).' },
  { name: 'verbose', original: true, short: 'v', repeatable: true, description: 'More log output. Repeatable.' },
  { name: 'quiet', original: true, short: 'q', repeatable: true, description: 'Less log output. Repeatable.' },
  { name: 'version', description: 'Print the version and exit.' },
  { name: 'help', original: true, short: 'h', description: 'Print this help and exit.' },
]

/**
 * Whose grammar a command line follows: `rsb` (and `rsb backup`) take several SOURCEs; `rsync-system-backup` keeps
 * the original's one SOURCE at most.
 */
export type BackupGrammar = 'rsb' | 'rsync-system-backup'

/**
 * Parses rsb's command line. Pure: reads only `argv` and the given environment.
 *
 * `rsb [OPTIONS] [SOURCE…] DESTINATION`: the last positional argument is DESTINATION, the ones before it are the
 * SOURCEs (none: `/`). Several SOURCEs must be absolute paths, none the same as or inside another (after `.`, `..`
 * and `//` are normalised; what symbolic links make of them is checked on disk, backup/preflight.ts).
 *
 * @param argv - the arguments after the program name
 * @param env - the environment (`RSYNC_MODULE_PATH`)
 * @param grammar - `rsync-system-backup`: more than two positional arguments are the original's usage error
 * @returns what to do: help, version, print the usage, or a run with its options
 * @throws {UsageError} ERR_RSB_CLI_USAGE for anything wrong with the command line (also an argument that is
 *   not valid UTF-8, a count above {@link MAX_COUNT}, options without DESTINATION or `$RSYNC_MODULE_PATH`)
 * @throws {RsyncError} ERR_RSB_RSYNC_UNSAFE_OPTION for an `--rsync-option` that would break hard-link snapshots,
 *   ERR_RSB_RSYNC_INVALID_OPTION for one that is not an option (both usage errors: exit 2)
 * @example
 * ```ts
 * parseArgs(['-nu', '/srv', '/mnt/backups/latest'], {})
 * // { kind: 'run', options: { source: '/srv', destination: '/mnt/backups/latest', dryRun: true, sudo: false, … } }
 * ```
 */
export function parseArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
  grammar: BackupGrammar = 'rsb',
): ParsedArgs {
  const { options: given, positionals } = getopt(argv, OPTIONS)
  if (given.some((o) => o.name === 'help')) return { kind: 'help' }
  if (given.some((o) => o.name === 'version')) return { kind: 'version' }
  argv.forEach((arg, index) => checkUtf8(arg, `Argument ${index + 1}`))

  let backup: boolean | undefined
  let snapshot: boolean | undefined
  let rotate: boolean | undefined
  const explicitActions: ('backup' | 'snapshot' | 'rotate')[] = []
  let mount: string | undefined
  let crypto: string | undefined
  let tunnel: TunnelSpec | undefined
  let ionice: IoniceClass | undefined
  let sudo = true
  let dryRunOption: string | undefined
  let multiFs = false
  const exclude: string[] = []
  const excludeFrom: string[] = []
  let force = false
  let notifications: boolean | undefined
  let verbosity = 0
  let json = false
  let progress = true
  let rotation: RotationScheme | undefined
  let keepLatest = 0
  let timeout = DEFAULT_TIMEOUT
  let connectTimeout = DEFAULT_CONNECT_TIMEOUT
  const rsyncOptions: string[] = []
  let allowEmptySource = false
  let acceptDestination = false
  let daemonHook: DaemonHook | undefined

  for (const { name, value = '', as } of given) {
    switch (name) {
      case 'backup':
        backup = true
        snapshot ??= false
        rotate ??= false
        explicitActions.push('backup')
        break
      case 'snapshot':
        snapshot = true
        backup ??= false
        rotate ??= false
        explicitActions.push('snapshot')
        break
      case 'rotate':
        rotate = true
        backup ??= false
        snapshot ??= false
        explicitActions.push('rotate')
        break
      case 'mount':
        mount = nonEmpty(value, as)
        break
      case 'crypto':
        crypto = nonEmpty(value, as)
        break
      case 'tunnel':
        tunnel = parseTunnelSpec(value)
        break
      case 'ionice':
        ionice = parseIoniceOption(value)
        break
      case 'no-sudo':
        sudo = false
        break
      case 'dry-run':
        dryRunOption = as
        break
      case 'multi-fs':
        multiFs = true
        break
      case 'exclude':
        exclude.push(nonEmpty(value, as))
        break
      case 'exclude-from':
        excludeFrom.push(excludeFile(value, as))
        break
      case 'force':
        force = true
        break
      case 'disable-notifications':
        notifications = false
        break
      case 'rotation':
        rotation = parseRotationSpec(value)
        break
      case 'keep-latest':
        keepLatest = parseCount(value, as)
        break
      case 'timeout':
        timeout = parseDuration(value, as, MAX_COUNT)
        break
      case 'connect-timeout':
        connectTimeout = parseDuration(value, as, MAX_COUNT)
        break
      case 'rsync-option':
        rsyncOptions.push(nonEmpty(value, as))
        break
      case 'allow-empty-source':
        allowEmptySource = true
        break
      case 'accept-destination':
        acceptDestination = true
        break
      case 'daemon-hook':
        daemonHook = parseDaemonHook(value)
        break
      case 'json':
        json = true
        break
      case 'no-progress':
        progress = false
        break
      case 'verbose':
        verbosity++
        break
      case 'quiet':
        verbosity--
        break
    }
  }

  checkRsyncOptions(rsyncOptions)

  if (positionals.length > 2 && grammar === 'rsync-system-backup')
    throw new UsageError(`Expected one or two positional arguments! (got ${positionals.length})`)
  if (daemonHook !== undefined && positionals.length > 0) {
    throw new UsageError(
      `--daemon-hook=${daemonHook} works on $RSYNC_MODULE_PATH, not on a SOURCE or DESTINATION given on the command line.`,
      {
        hint: `Leave out ${positionals.map((p) => `'${p}'`).join(' and ')}: the rsync daemon sets $RSYNC_MODULE_PATH for its hooks.`,
      },
    )
  }
  let sources = ['/']
  let destination: string
  let destinationFromEnv = false
  if (positionals.length >= 2) {
    sources = positionals.slice(0, -1)
    destination = positionals.at(-1) as string
  } else if (positionals.length === 1) {
    destination = positionals[0] as string
  } else if (env.RSYNC_MODULE_PATH) {
    destination = env.RSYNC_MODULE_PATH
    destinationFromEnv = true
    checkUtf8(destination, '$RSYNC_MODULE_PATH')
  } else if (argv.length === 0) {
    return { kind: 'usage' }
  } else {
    // Options but nowhere to write: a daemon's post-xfer exec without its variable must not "succeed".
    throw new UsageError(`No DESTINATION given and $RSYNC_MODULE_PATH is ${env.RSYNC_MODULE_PATH === undefined ? 'unset' : 'empty'}.`, {
      hint: 'Give DESTINATION, for example /mnt/backups/latest (an rsync daemon sets $RSYNC_MODULE_PATH for its post-xfer exec).',
    })
  }

  if (destination === '') throw new UsageError('Failed to parse expression! ()')
  if (sources.includes('')) throw new UsageError('SOURCE is empty.', { hint: 'Leave SOURCE out to back up /.' })
  for (const [what, text] of [...sources.map((source) => ['SOURCE', source] as const), ['DESTINATION', destination] as const]) {
    if (text.startsWith('-')) {
      throw new UsageError(`${what} '${text}' starts with '-', so rsync would read it as an option.`, {
        hint: `Write it as ./${text} if it really is a path.`,
      })
    }
  }
  if (daemonHook === 'pre' && explicitActions.length > 0) {
    throw new UsageError(
      `--daemon-hook=pre only records the connection; -${[...new Set(explicitActions)].map((a) => a[0]).join(', -')} cannot run in a pre-xfer exec.`,
      {
        hint: "Give the actions to the post-xfer exec: 'rsb --daemon-hook=post --snapshot --rotate'.",
      },
    )
  }
  if (daemonHook === 'post' && explicitActions.includes('backup')) {
    throw new UsageError('--daemon-hook=post cannot run the backup action (-b): it would copy / into the module.', {
      hint: "Run 'rsb --daemon-hook=post --snapshot --rotate'.",
    })
  }
  if (destinationFromEnv && explicitActions.length === 0 && daemonHook !== 'pre') {
    throw new UsageError('No DESTINATION given and no action chosen: refusing to back up into $RSYNC_MODULE_PATH.', {
      hint: "In a daemon's post-xfer exec, run 'rsb --daemon-hook=post --snapshot --rotate' (or 'rsb --snapshot --rotate').",
    })
  }
  if (destinationFromEnv && tunnel) {
    throw new UsageError('--tunnel only applies to a DESTINATION given on the command line, not to $RSYNC_MODULE_PATH.')
  }

  if (sources.length > 1) checkSeveralSources(sources)

  const dryRun = dryRunOption !== undefined
  // the pre hook runs no action: it only records the connection
  if (daemonHook === 'pre') backup = snapshot = rotate = false
  return {
    kind: 'run',
    options: {
      source: sources.length === 1 ? (sources[0] as string) : '/',
      sources,
      destination,
      destinationFromEnv,
      backup: backup ?? true,
      snapshot: snapshot ?? true,
      rotate: rotate ?? true,
      explicitActions,
      mount,
      crypto,
      tunnel,
      ionice,
      sudo,
      dryRun,
      dryRunOption,
      multiFs,
      exclude,
      excludeFrom,
      force,
      notifications: notifications ?? !dryRun,
      verbosity,
      json,
      progress,
      rotation: rotation ?? DEFAULT_ROTATION_SCHEME,
      keepLatest,
      timeout,
      connectTimeout,
      rsyncOptions,
      allowEmptySource,
      acceptDestination,
      daemonHook,
      argv: [...argv],
    },
  }
}

/**
 * Checks a `--daemon-hook` value: `pre` or `post`.
 *
 * @throws {UsageError} ERR_RSB_CLI_USAGE for anything else
 * @example
 * ```ts
 * parseDaemonHook('post') // 'post'
 * ```
 */
export function parseDaemonHook(value: string): DaemonHook {
  if (value === 'pre' || value === 'post') return value
  throw new UsageError(`Invalid --daemon-hook '${value}': expected pre or post.`, {
    hint: "Use 'rsb --daemon-hook=pre' in a module's pre-xfer exec and 'rsb --daemon-hook=post --snapshot --rotate' in its post-xfer exec.",
  })
}

/**
 * Several SOURCEs: each absolute (it lands in the mirror under its whole path; a relative one would land under
 * whatever the working directory makes of it), none given twice, none inside another (rsync would copy the inner
 * one twice, and `--delete` of the outer one would fight over it). Compared after `.`, `..`, `//` and trailing
 * slashes are normalised.
 *
 * @throws {UsageError} ERR_RSB_CLI_USAGE
 */
function checkSeveralSources(sources: readonly string[]): void {
  const relative = sources.find((source) => !source.startsWith('/'))
  if (relative !== undefined) {
    // no hint of its own: the message says what to type (the usage line's pointer to --help follows)
    throw new UsageError(
      `SOURCE '${relative}' is a relative path: with several SOURCEs each is backed up under its absolute path, so each must be given as one ("$PWD/${relative}" in a shell).`,
    )
  }
  const normal = sources.map((source) => path.posix.normalize(source).replace(/(.)\/+$/, '$1'))
  for (let i = 0; i < normal.length; i++) {
    for (let j = 0; j < normal.length; j++) {
      if (i === j) continue
      const [a, b] = [normal[i] as string, normal[j] as string]
      if (a === b && i < j) {
        throw new UsageError(`SOURCE '${sources[j]}' is given twice (as '${sources[i]}').`, { hint: 'Give each SOURCE once.' })
      }
      if (a !== b && (b === '/' || a.startsWith(`${b}/`))) {
        throw new UsageError(`SOURCE '${sources[i]}' is inside SOURCE '${sources[j]}': its files would be backed up twice.`, {
          hint: `Leave out '${sources[i]}' (the backup of '${sources[j]}' holds it), or exclude it there with --exclude.`,
        })
      }
    }
  }
}

/** An `--exclude-from` FILE: a name (read later, when the backup starts); `-` (rsync's standard input) is refused. */
function excludeFile(value: string, as: string): string {
  if (value === '-') {
    throw new UsageError(`${as}=- would read standard input in rsync; rsb reads exclude patterns from files only.`, {
      hint: `Give the file's name (./- for a file named -).`,
    })
  }
  return nonEmpty(value, as)
}

function nonEmpty(value: string, as: string): string {
  if (value === '') throw new UsageError(`option ${as} requires a non-empty argument`)
  return value
}

function parseCount(value: string, as: string): number {
  return parseCountValue(value, `value for ${as}`, MAX_COUNT)
}

/**
 * Node decodes the command line and the environment as UTF-8 and puts U+FFFD where bytes are not: the name
 * rsb would work on is then another one than the one given. Refused (a real U+FFFD in a name is refused too).
 */
function checkUtf8(text: string, what: string): void {
  if (!text.includes('\uFFFD')) return
  throw new UsageError(`${what} ('${text}') is not valid UTF-8, so rsb would work on another name than the one given.`, {
    hint: 'Rename the file or directory to valid UTF-8; in an exclude pattern, match those bytes with ? or *.',
  })
}

/**
 * Checks an `--ionice` value: lower-cased and stripped, it must be one of the six classes (the kit's
 * {@link parseIonice}, which asks `@rsb/exec`).
 *
 * @throws {UsageError} ERR_RSB_CLI_USAGE with the original's message
 * @example
 * ```ts
 * parseIoniceOption(' Idle ') // 'idle'
 * ```
 */
export function parseIoniceOption(value: string): IoniceClass {
  return parseIonice(value)
}

/**
 * Parses a tunnel spec `[user@]host[:port]`: the user is everything before the last `@`, the rest is split
 * at the first `:` into host and port.
 *
 * @throws {UsageError} ERR_RSB_CLI_USAGE for an empty host or a port that is not a number from 1 to 65535
 * @example
 * ```ts
 * parseTunnelSpec('backup@gateway:2222') // { user: 'backup', host: 'gateway', port: 2222 }
 * ```
 */
export function parseTunnelSpec(spec: string): TunnelSpec {
  const at = spec.lastIndexOf('@')
  const user = at === -1 ? undefined : spec.slice(0, at)
  const rest = at === -1 ? spec : spec.slice(at + 1)
  const colon = rest.indexOf(':')
  const host = colon === -1 ? rest : rest.slice(0, colon)
  const portText = colon === -1 ? undefined : rest.slice(colon + 1)
  if (host === '') throw new UsageError(`Invalid tunnel '${spec}': no host.`, { hint: 'Use --tunnel=[USER@]HOST[:PORT].' })
  if (user === '') throw new UsageError(`Invalid tunnel '${spec}': empty user name.`, { hint: 'Use --tunnel=[USER@]HOST[:PORT].' })
  let port: number | undefined
  if (portText !== undefined) {
    port = /^\d+$/.test(portText) ? Number.parseInt(portText, 10) : Number.NaN
    if (!(port >= 1 && port <= 65535)) {
      throw new UsageError(`Invalid tunnel port '${portText}' in '${spec}'.`, { hint: 'The SSH port must be a number from 1 to 65535.' })
    }
  }
  return { user, host, port }
}

/**
 * Parses `--rotation=SPEC`: comma-separated `FREQUENCY=COUNT` pairs, COUNT a retention value as everywhere (a whole
 * number, arithmetic such as `7*2`, or `always`). A frequency given twice takes the last value.
 *
 * @throws {UsageError} ERR_RSB_CLI_USAGE for an unknown frequency, an empty scheme, or a scheme that keeps nothing
 *   but the newest snapshot (every count 0, no `always`)
 * @throws {RotationError} ERR_RSB_ROTATION_BAD_RETENTION for a bad count
 * @example
 * ```ts
 * parseRotationSpec('hourly=24,daily=7,weekly=4,monthly=always')
 * // { hourly: 24, daily: 7, weekly: 4, monthly: 'always' }
 * ```
 */
export function parseRotationSpec(spec: string): RotationScheme {
  return parseRotationSpecValue(spec, '--rotation', DEFAULT_ROTATION_SCHEME)
}

/**
 * Whether a command line of `rsb backup` asks for `--json` (see the kit's {@link asksFor}): then even a command line
 * that cannot be parsed gets its JSON document.
 *
 * @example
 * ```ts
 * wantsJson(['--js', '--bogus']) // true
 * wantsJson(['--', '--json'])    // false
 * ```
 */
export function wantsJson(argv: readonly string[]): boolean {
  return asksFor(argv, OPTIONS, 'json')
}

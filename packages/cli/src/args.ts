import { UsageError } from './errors.js'
import { getopt, type OptionDefinition } from './getopt.js'

/** I/O scheduling classes accepted by `--ionice` (after lower-casing and stripping). */
export type IoniceClass = 'idle' | 'best-effort' | 'realtime' | '1' | '2' | '3'

/** Rotation frequencies, in the order rotate-backups lists them. */
export type Frequency = 'minutely' | 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly'

/** How many snapshots to keep per frequency (`always`: every one). A frequency left out keeps none. */
export type RotationScheme = Partial<Record<Frequency, number | 'always'>>

/** The default scheme of the original: 24 hourly, 7 daily, 4 weekly, monthly always. */
export const DEFAULT_ROTATION_SCHEME: Readonly<RotationScheme> = Object.freeze({ hourly: 24, daily: 7, weekly: 4, monthly: 'always' })

const FREQUENCIES: readonly Frequency[] = ['minutely', 'hourly', 'daily', 'weekly', 'monthly', 'yearly']
const IONICE_CLASSES: readonly IoniceClass[] = ['idle', 'best-effort', 'realtime', '1', '2', '3']

/** An SSH tunnel to an rsync daemon: `[user@]host[:port]`. */
export interface TunnelSpec {
  readonly user: string | undefined
  readonly host: string
  readonly port: number | undefined
}

/** Everything a run needs to know from the command line. */
export interface RunOptions {
  /** What to back up, as given (default `/`). */
  readonly source: string
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
  readonly force: boolean
  readonly notifications: boolean
  /** `-v` count minus `-q` count. */
  readonly verbosity: number
  readonly json: boolean
  /** False with `--no-progress`; otherwise the progress bar shows when stderr is a terminal. */
  readonly progress: boolean
  readonly rotation: Readonly<RotationScheme>
  readonly keepLatest: number
  readonly rsyncOptions: readonly string[]
}

/** What the command line asks for. */
export type ParsedArgs =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  /** No arguments and no `$RSYNC_MODULE_PATH`: print the usage, exit 0 (as the original). */
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
    description: 'Do not copy files matching PATTERN (an rsync --exclude pattern). Repeatable.',
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
      'monthly, yearly and COUNT a number or "always". A frequency left out keeps nothing. Default: ' +
      'hourly=24,daily=7,weekly=4,monthly=always.',
  },
  { name: 'keep-latest', value: 'N', description: 'Never delete the N newest snapshots, whatever the scheme says (default 0).' },
  {
    name: 'rsync-option',
    value: 'OPT',
    repeatable: true,
    description: 'Pass OPT to rsync (one argument, for example --rsync-option=--no-acls). Repeatable.',
  },
  { name: 'json', description: 'Print a summary of the run as one JSON document on standard output (log lines stay on standard error).' },
  { name: 'no-progress', description: 'Do not show a progress bar (it is only shown when standard error is a terminal).' },
  { name: 'verbose', original: true, short: 'v', repeatable: true, description: 'More log output. Repeatable.' },
  { name: 'quiet', original: true, short: 'q', repeatable: true, description: 'Less log output. Repeatable.' },
  { name: 'version', description: 'Print the version and exit.' },
  { name: 'help', original: true, short: 'h', description: 'Print this help and exit.' },
]

/**
 * Parses rsb's command line. Pure: reads only `argv` and the given environment.
 *
 * @param argv - the arguments after the program name
 * @param env - the environment (`RSYNC_MODULE_PATH`)
 * @returns what to do: help, version, print the usage, or a run with its options
 * @throws {UsageError} ERR_RSB_CLI_USAGE for anything wrong with the command line
 * @example
 * ```ts
 * parseArgs(['-nu', '/srv', '/mnt/backups/latest'], {})
 * // { kind: 'run', options: { source: '/srv', destination: '/mnt/backups/latest', dryRun: true, sudo: false, … } }
 * ```
 */
export function parseArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): ParsedArgs {
  const { options: given, positionals } = getopt(argv, OPTIONS)
  if (given.some((o) => o.name === 'help')) return { kind: 'help' }
  if (given.some((o) => o.name === 'version')) return { kind: 'version' }

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
  let force = false
  let notifications: boolean | undefined
  let verbosity = 0
  let json = false
  let progress = true
  let rotation: RotationScheme | undefined
  let keepLatest = 0
  const rsyncOptions: string[] = []

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
        exclude.push(value)
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
      case 'rsync-option':
        rsyncOptions.push(nonEmpty(value, as))
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

  if (positionals.length > 2) throw new UsageError(`Expected one or two positional arguments! (got ${positionals.length})`)
  let source = '/'
  let destination: string
  let destinationFromEnv = false
  if (positionals.length === 2) {
    source = positionals[0] as string
    destination = positionals[1] as string
  } else if (positionals.length === 1) {
    destination = positionals[0] as string
  } else if (env.RSYNC_MODULE_PATH) {
    destination = env.RSYNC_MODULE_PATH
    destinationFromEnv = true
  } else {
    return { kind: 'usage' }
  }

  if (destination === '') throw new UsageError('Failed to parse expression! ()')
  if (source === '') throw new UsageError('SOURCE is empty.', { hint: 'Leave SOURCE out to back up /.' })
  for (const [what, text] of [
    ['SOURCE', source],
    ['DESTINATION', destination],
  ] as const) {
    if (text.startsWith('-')) {
      throw new UsageError(`${what} '${text}' starts with '-', so rsync would read it as an option.`, {
        hint: `Write it as ./${text} if it really is a path.`,
      })
    }
  }
  if (destinationFromEnv && explicitActions.length === 0) {
    throw new UsageError('No DESTINATION given and no action chosen: refusing to back up into $RSYNC_MODULE_PATH.', {
      hint: "In a daemon's post-xfer exec, run 'rsb --snapshot --rotate'.",
    })
  }
  if (destinationFromEnv && tunnel) {
    throw new UsageError('--tunnel only applies to a DESTINATION given on the command line, not to $RSYNC_MODULE_PATH.')
  }

  const dryRun = dryRunOption !== undefined
  return {
    kind: 'run',
    options: {
      source,
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
      force,
      notifications: notifications ?? !dryRun,
      verbosity,
      json,
      progress,
      rotation: rotation ?? DEFAULT_ROTATION_SCHEME,
      keepLatest,
      rsyncOptions,
    },
  }
}

function nonEmpty(value: string, as: string): string {
  if (value === '') throw new UsageError(`option ${as} requires a non-empty argument`)
  return value
}

function parseCount(value: string, as: string): number {
  const text = value.trim()
  if (!/^\d+$/.test(text)) throw new UsageError(`option ${as} expects a whole number, got '${value}'`)
  return Number.parseInt(text, 10)
}

/**
 * Checks an `--ionice` value: lower-cased and stripped, it must be one of the six classes.
 *
 * @throws {UsageError} ERR_RSB_CLI_USAGE with the original's message
 * @example
 * ```ts
 * parseIoniceOption(' Idle ') // 'idle'
 * ```
 */
export function parseIoniceOption(value: string): IoniceClass {
  const normalized = value.toLowerCase().trim()
  if ((IONICE_CLASSES as readonly string[]).includes(normalized)) return normalized as IoniceClass
  throw new UsageError(`Invalid I/O scheduling class! (got '${value}' while valid options are idle, best-effort, realtime, 1, 2 and 3)`)
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
 * Parses `--rotation=SPEC`: comma-separated `FREQUENCY=COUNT` pairs, COUNT a whole number or `always`
 * (any case). A frequency given twice takes the last value.
 *
 * @throws {UsageError} ERR_RSB_CLI_USAGE for an unknown frequency, a bad count or an empty scheme
 * @example
 * ```ts
 * parseRotationSpec('hourly=24,daily=7,weekly=4,monthly=always')
 * // { hourly: 24, daily: 7, weekly: 4, monthly: 'always' }
 * ```
 */
export function parseRotationSpec(spec: string): RotationScheme {
  const scheme: RotationScheme = {}
  for (const part of spec.split(',')) {
    if (part.trim() === '') continue
    const eq = part.indexOf('=')
    const frequency = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase()
    if (!(FREQUENCIES as readonly string[]).includes(frequency)) {
      throw new UsageError(`Unknown rotation frequency '${frequency}' in --rotation=${spec}.`, {
        hint: `Use ${FREQUENCIES.join(', ')}, each as FREQUENCY=COUNT or FREQUENCY=always.`,
      })
    }
    const value = eq === -1 ? '' : part.slice(eq + 1).trim()
    if (value.toLowerCase() === 'always') {
      scheme[frequency as Frequency] = 'always'
    } else if (/^\d+$/.test(value)) {
      scheme[frequency as Frequency] = Number.parseInt(value, 10)
    } else {
      throw new UsageError(`Invalid retention '${value}' for ${frequency} in --rotation=${spec}.`, {
        hint: 'A retention is a whole number or "always".',
      })
    }
  }
  if (Object.keys(scheme).length === 0) {
    throw new UsageError('Refusing to use empty rotation scheme! (all backups would be deleted)', {
      hint: 'Give at least one FREQUENCY=COUNT, for example --rotation=daily=7.',
    })
  }
  return scheme
}

/**
 * Formats a scheme as a `--rotation` spec (frequencies in their fixed order).
 *
 * @example
 * ```ts
 * formatRotationSpec({ monthly: 'always', hourly: 24 }) // 'hourly=24,monthly=always'
 * ```
 */
export function formatRotationSpec(scheme: Readonly<RotationScheme>): string {
  return FREQUENCIES.filter((f) => scheme[f] !== undefined)
    .map((f) => `${f}=${scheme[f]}`)
    .join(',')
}

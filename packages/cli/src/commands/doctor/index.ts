// `rsb doctor [OPTIONS] [SOURCE] DESTINATION`: checks of this machine, the destination's and its filesystem before
// the first backup and on demand, each ok, warn or fail with a hint. Reads the store only (no lock, no records
// written); the write tests happen in a private scratch directory the probe makes and removes (see probes.ts).
import path from 'node:path'
import { CleanupScope, LocalContext, SshContext, type Context } from '@rsb/exec'
import { parseDestination } from '@rsb/destination'
import { OPTIONS as BACKUP_OPTIONS } from '../../args.js'
import { rsyncVersion } from '../../backup/manifest.js'
import { probePath } from '../../backup/probe.js'
import { CliError, isRsbError, UsageError } from '../../errors.js'
import { getopt, type OptionDefinition } from '../../kit/getopt.js'
import { formatOptions, paragraphs } from '../../kit/help.js'
import { createLogger, type Logger } from '../../kit/log.js'
import { json, oneLine } from '../../kit/render.js'
import { describeHolder, isAlive, parseHolder } from '../../session/lock.js'
import { openDestination, type ContextOverrides } from '../../session/open.js'
import { readStore, type StoreState } from '../../session/store.js'
import { resolveTarget } from '../../session/target.js'
import type { MainIo } from '../../main.js'
import type { Parsed } from '../index.js'
import { fail } from '../list/index.js'
import { exitStatusOf, filesystemChecks, rsyncCheck, worstStatus, type Check, type SourceFacts } from './checks.js'
import { probeFilesystem, scanSource } from './probes.js'

function backupOption(name: string): OptionDefinition {
  const option = BACKUP_OPTIONS.find((o) => o.name === name)
  if (option === undefined) throw new Error(`rsb backup has no option --${name}`)
  return option
}

export const options: readonly OptionDefinition[] = [
  {
    ...backupOption('multi-fs'),
    description: "Count all of SOURCE, also what lies on other filesystems (as 'rsb backup --multi-fs' copies it).",
  },
  { name: 'json', description: 'Print the checks as one JSON document on standard output (see the README for its fields).' },
  {
    ...backupOption('no-sudo'),
    description: 'Do not use sudo for the probes and the scan of SOURCE (sudo is used when not root, as rsb backup uses it).',
  },
  backupOption('verbose'),
  { ...backupOption('quiet'), description: 'Show only the checks that warn or fail (and the summary).' },
  backupOption('version'),
  backupOption('help'),
]

export function help(): string {
  return [
    'Usage: rsb doctor [OPTIONS] [SOURCE] DESTINATION',
    '',
    ...paragraphs(
      "Check, before the first backup and whenever in doubt, what 'rsb backup SOURCE DESTINATION' relies on. Each " +
        'check says ok, warn or fail, with a hint: rsync here (and on the server, over SSH), flagging releases with ' +
        "reported --link-dest problems; the server's SSH host key; that sudo works without a password; DESTINATION and " +
        "its store's metadata; whether a backup holds its lock; the destination's filesystem: its type, hard links, " +
        'the links a file may have (against the most-linked file of SOURCE), ACLs, extended attributes, owners, ' +
        "case sensitivity, timestamp granularity, and free space and inodes against SOURCE's size and entries.",
      'Without SOURCE the checks that compare with it only show what the destination has.',
      'It writes nothing in the store: the tests that must write (a hard link, an ACL, …) do so in a private directory ' +
        '(.rsb-doctor.XXXXXXXXXX, made with mktemp -d) in the store, or in the nearest existing parent when there is no ' +
        'store yet, and remove it when they end. It takes no lock: it never waits for nor blocks a backup. Over SSH ' +
        'the checks of the destination run on the server over one connection.',
    ),
    '',
    'Options:',
    ...formatOptions(options),
    '',
    'Exit status:',
    '  0         every check is ok or warns',
    '  1         a check failed (or the checks could not run: the error says why)',
    '  2         usage error',
    '  130, 143  interrupted by SIGINT, SIGTERM',
    '',
  ].join('\n')
}

/** What `rsb doctor` is given. */
export interface DoctorArgs {
  readonly source: string | undefined
  readonly destination: string
  readonly multiFs: boolean
  readonly sudo: boolean
  readonly json: boolean
  readonly verbosity: number
}

/**
 * Parses `rsb doctor`'s line: `[SOURCE] DESTINATION` and its options.
 *
 * @throws {UsageError} ERR_RSB_CLI_USAGE (and the destination's parse errors); {@link CliError}
 *   ERR_RSB_CLI_DESTINATION_DAEMON for an rsync daemon destination (exit 2 all)
 */
export function parse(argv: readonly string[]): Parsed<DoctorArgs> {
  const { options: given, positionals } = getopt(argv, options)
  if (given.some((o) => o.name === 'help')) return { kind: 'help' }
  if (given.some((o) => o.name === 'version')) return { kind: 'version' }
  let multiFs = false
  let sudo = true
  let asJson = false
  let verbosity = 0
  for (const option of given) {
    if (option.name === 'multi-fs') multiFs = true
    else if (option.name === 'no-sudo') sudo = false
    else if (option.name === 'json') asJson = true
    else if (option.name === 'verbose') verbosity++
    else if (option.name === 'quiet') verbosity--
  }
  if (positionals.length === 0 || positionals.length > 2) {
    throw new UsageError(
      positionals.length === 0
        ? 'rsb doctor needs a DESTINATION.'
        : `rsb doctor takes a SOURCE and a DESTINATION (got ${positionals.length} arguments).`,
      { hint: "Usage: rsb doctor [OPTIONS] [SOURCE] DESTINATION; see 'rsb doctor --help'." },
    )
  }
  const source = positionals.length === 2 ? positionals[0]! : undefined
  const destination = positionals.at(-1)!
  if (source === '') throw new UsageError('SOURCE is empty.', { hint: 'Give the directory that rsb backup copies, or leave SOURCE out.' })
  if (destination === '') throw new UsageError('DESTINATION is empty.')
  if (source !== undefined && parseDestination(source).kind !== 'local') {
    throw new UsageError(`SOURCE must be a directory of this machine (got ${source}).`, {
      hint: 'rsb backs up a directory of the machine it runs on: run rsb doctor there (write ./NAME for a local name with a colon).',
    })
  }
  if (parseDestination(destination).kind === 'daemon') {
    throw new CliError(
      'ERR_RSB_CLI_DESTINATION_DAEMON',
      `rsb doctor cannot check the filesystem of an rsync daemon destination (${destination}).`,
      {
        destination,
        hint: "The daemon does not show its module's filesystem: run rsb doctor on the server with the module's directory (…/latest) as DESTINATION, or reach the server over SSH (HOST:/PATH).",
      },
    )
  }
  return { kind: 'run', args: { source, destination, multiFs, sudo, json: asJson, verbosity } }
}

/** What a doctor run found. */
export interface DoctorReport {
  readonly checks: readonly Check[]
  /** The store's directory as resolved (where it is or would be). */
  readonly store: string | undefined
  /** Where the destination's checks ran (`localhost`, `[user@]host`). */
  readonly host: string
}

/** Tier-2 seams: where commands run (recording contexts in tests). */
export interface DoctorOptions {
  readonly contexts?: ContextOverrides | undefined
}

/** Turns an error of one step into its check line (never thrown on). */
function errorCheck(id: string, title: string, error: unknown): Check {
  const message = error instanceof Error ? error.message : String(error)
  return {
    id,
    title,
    status: 'fail',
    detail: oneLine(isRsbError(error) ? `${message} (${error.code})` : message),
    hint: isRsbError(error) ? error.hint : undefined,
  }
}

/** The check of `sudo -n true` in a context (not root and sudo wanted), or what stands for it. */
async function sudoCheck(context: Context, id: string, where: string, sudo: boolean, signal: AbortSignal | undefined): Promise<Check> {
  const title = `sudo ${where}`
  if (!sudo) return { id, title, status: 'skip', detail: 'not used (--no-sudo)' }
  if (await context.isPrivileged()) return { id, title, status: 'ok', detail: 'not needed (root)' }
  const result = await context.run(['sudo', '-n', 'true'], { sudo: false, ionice: undefined, check: false, signal })
  if (result.exitCode === 0) return { id, title, status: 'ok', detail: 'works without a password (sudo -n true)' }
  return {
    id,
    title,
    status: 'fail',
    detail:
      result.exitCode === 127
        ? `no sudo program ${where}`
        : `sudo -n true failed: ${oneLine(result.stderr.trim()) || `exit status ${result.exitCode}`}`,
    hint: 'rsb runs rsync and the store commands with sudo -n when not root: allow them without a password in sudoers (see the README), run as root, or give --no-sudo.',
  }
}

/** Every check of a doctor run; each step's failure is its own fail line (the run goes on where it can). */
export async function diagnose(args: DoctorArgs, io: MainIo, logger: Logger, seams: DoctorOptions = {}): Promise<DoctorReport> {
  const { signal } = io
  const checks: Check[] = []
  const here = seams.contexts?.plain ?? seams.contexts?.local ?? new LocalContext({ sudo: args.sudo })
  checks.push(rsyncCheck('rsync-local', 'here', await rsyncVersion(here, signal)))
  checks.push(
    await sudoCheck(here, 'sudo-local', 'here', args.sudo, signal).catch((e: unknown) => errorCheck('sudo-local', 'sudo here', e)),
  )

  let source: SourceFacts | undefined
  if (args.source === undefined) {
    checks.push({ id: 'source', title: 'SOURCE', status: 'skip', detail: 'not given' })
  } else {
    try {
      const facts = await probePath(here, args.source, { source: true, what: 'SOURCE', signal })
      if (facts.type !== 'directory') {
        checks.push({
          id: 'source',
          title: 'SOURCE',
          status: 'fail',
          detail: facts.type === 'missing' ? `${facts.resolved} does not exist` : `${facts.resolved} is not a directory`,
          hint: 'Give the directory that rsb backup copies (is its disk mounted?).',
        })
      } else {
        source = await scanSource(here, facts.resolved, { multiFs: args.multiFs, signal })
        checks.push({
          id: 'source',
          title: 'SOURCE',
          status: source.unreadable === undefined ? 'ok' : 'warn',
          detail: `${facts.resolved}: ${source.entries} entries, ${source.bytes} bytes, most-linked file ${source.maxLinks} link(s)${source.unreadable === undefined ? '' : `; not all of it could be read: ${oneLine(source.unreadable)}`}`,
          hint: source.unreadable === undefined ? undefined : 'Run as root (or with sudo) to read all of SOURCE, as rsb backup does.',
          value: source.bytes,
        })
      }
    } catch (error) {
      checks.push(errorCheck('source', 'SOURCE', error))
    }
  }

  const target = resolveTarget(args.destination)
  const scope = new CleanupScope()
  let store: string | undefined
  let host = 'localhost'
  try {
    const opened = await openDestination(
      { target, sudo: args.sudo, ionice: undefined, env: io.env, logger, signal, contexts: seams.contexts, writes: false },
      scope,
    )
    const context = opened.destination!
    host = context.host
    if (context instanceof SshContext) {
      try {
        await context.connect()
        checks.push({ id: 'ssh-host-key', title: 'SSH host key', status: 'ok', detail: `${context.host}'s key is in known_hosts` })
        checks.push({ id: 'ssh-connection', title: 'SSH connection', status: 'ok', detail: `logged in to ${context.host}` })
      } catch (error) {
        const code = isRsbError(error) ? error.code : ''
        const keyRefused = code === 'ERR_RSB_EXEC_HOST_KEY_UNKNOWN' || code === 'ERR_RSB_EXEC_HOST_KEY_MISMATCH'
        checks.push(
          keyRefused
            ? errorCheck('ssh-host-key', 'SSH host key', error)
            : code === 'ERR_RSB_EXEC_SSH_AUTH'
              ? { id: 'ssh-host-key', title: 'SSH host key', status: 'ok', detail: `${context.host}'s key is in known_hosts` }
              : { id: 'ssh-host-key', title: 'SSH host key', status: 'skip', detail: 'not checked: no connection' },
        )
        checks.push(
          keyRefused
            ? { id: 'ssh-connection', title: 'SSH connection', status: 'skip', detail: 'not made: the host key is refused' }
            : errorCheck('ssh-connection', 'SSH connection', error),
        )
        checks.push({ id: 'destination', title: 'DESTINATION', status: 'skip', detail: `not checked: no connection to ${context.host}` })
        return { checks, store, host }
      }
      checks.push(rsyncCheck('rsync-remote', `on ${context.host}`, await rsyncVersion(context, signal)))
      checks.push(
        await sudoCheck(context, 'sudo-remote', `on ${context.host}`, args.sudo, signal).catch((e: unknown) =>
          errorCheck('sudo-remote', `sudo on ${context.host}`, e),
        ),
      )
    }
    checks.push(await hashingCheck(context, signal))
    const ssh = target.destination.kind === 'ssh'
    const facts = await probePath(context, target.destination.directory, { tilde: ssh, what: 'DESTINATION', signal })
    if (facts.type === 'symlink' || facts.type === 'other') {
      checks.push({
        id: 'destination',
        title: 'DESTINATION',
        status: 'fail',
        detail: `${facts.resolved} is ${facts.type === 'symlink' ? 'a symbolic link' : 'not a directory'}`,
        hint: 'Give the directory itself (a mirror such as /mnt/backups/latest), not a link or a file.',
      })
    } else if (facts.insideBackup !== undefined) {
      checks.push({
        id: 'destination',
        title: 'DESTINATION',
        status: 'fail',
        detail: `${facts.resolved} lies inside ${facts.insideBackup}, a mirror or snapshot of a store`,
        hint: "Give a mirror next to the store's snapshots (STORE/latest), not a directory inside one.",
      })
    } else {
      checks.push({
        id: 'destination',
        title: 'DESTINATION',
        status: 'ok',
        detail:
          facts.type === 'missing'
            ? `${facts.resolved} (not there yet: the first backup makes it)`
            : facts.isStore || facts.holdsSnapshots
              ? `${facts.resolved} (a store: its mirrors are checked)`
              : `${facts.resolved} (a directory)`,
      })
    }
    store = facts.type === 'directory' && (facts.isStore || facts.holdsSnapshots) ? facts.resolved : path.posix.dirname(facts.resolved)

    // the store's metadata and its locks' holders, read without taking a lock
    let state: StoreState | undefined
    let safe = true
    try {
      state = await readStore(context, store, signal, { catalog: true })
      const mirrors = state.mirrors.map((m) => m.name)
      checks.push({
        id: 'store',
        title: 'store metadata',
        status: 'ok',
        detail:
          state.store !== undefined
            ? `${store}: rsb store, ${mirrors.length} mirror(s)${mirrors.length > 0 ? ` (${mirrors.join(', ')})` : ''}`
            : state.entries.size === 0
              ? `${store}: no store yet (the first backup makes it)`
              : `${store}: no rsb records yet (the first backup adds them)`,
      })
    } catch (error) {
      safe = !(isRsbError(error) && error.code === 'ERR_RSB_CLI_STORE_UNSAFE')
      checks.push(errorCheck('store', 'store metadata', error))
    }
    if (state === undefined) {
      checks.push({ id: 'lock', title: 'backup lock', status: 'skip', detail: 'not checked: the store could not be read' })
    } else {
      const running = [...(state.catalog?.holders ?? new Map<string, string>())]
        .map(([name, text]) => ({ name, holder: parseHolder(text) }))
        .filter((h) => h.holder !== undefined && isAlive(h.holder))
      checks.push(
        running.length === 0
          ? { id: 'lock', title: 'backup lock', status: 'ok', detail: 'free (no backup at work)' }
          : {
              id: 'lock',
              title: 'backup lock',
              status: 'warn',
              detail: `a backup is running: ${running.map((r) => `${r.name} (${describeHolder(r.holder!)})`).join('; ')}`,
              hint: "Another backup now waits or is refused until it ends; 'rsb list' shows it.",
            },
      )
    }

    // the next backup needs only what changed when a mirror is there already
    const hasMirror = (state?.mirrors.length ?? 0) > 0 || state?.entries.get(path.posix.basename(facts.resolved)) === 'd'
    try {
      const fsFacts = await probeFilesystem(context, store, { write: safe, signal })
      checks.push(...filesystemChecks(safe ? fsFacts : { ...fsFacts, notWritten: 'the store is not safe to write in' }, source, hasMirror))
    } catch (error) {
      checks.push(errorCheck('filesystem', 'filesystem', error))
    }
  } catch (error) {
    checks.push(errorCheck('destination', 'DESTINATION', error))
  } finally {
    await scope.close((description, error) =>
      logger.log('warning', `Could not ${description}: ${error instanceof Error ? error.message : String(error)}`),
    )
  }
  return { checks, store, host }
}

const MARK: Readonly<Record<Check['status'], string>> = { ok: 'ok', warn: 'warn', fail: 'fail', skip: '-' }

/** The table of `rsb doctor`: one line per check (status, what, what was found), a hint line under a warning or failure. */
export function doctorText(report: DoctorReport, quiet: boolean): string {
  const shown = report.checks.filter((c) => !quiet || c.status === 'warn' || c.status === 'fail')
  const width = Math.max(0, ...shown.map((c) => c.title.length))
  const lines: string[] = []
  for (const check of shown) {
    lines.push(`${MARK[check.status].padEnd(4)}  ${check.title.padEnd(width)}  ${oneLine(check.detail)}`)
    if (check.hint !== undefined && (check.status === 'warn' || check.status === 'fail'))
      lines.push(`${' '.repeat(width + 8)}hint: ${oneLine(check.hint)}`)
  }
  const count = (status: Check['status']) => report.checks.filter((c) => c.status === status).length
  lines.push(`${count('ok')} ok, ${count('warn')} warning(s), ${count('fail')} failure(s), ${count('skip')} not checked`)
  return `${lines.join('\n')}\n`
}

/** The `--json` document of `rsb doctor` (schema version 1: fields are only ever added). */
export function doctorDocument(report: DoctorReport, args: DoctorArgs) {
  const count = (status: Check['status']) => report.checks.filter((c) => c.status === status).length
  return {
    schemaVersion: 1,
    source: args.source,
    destination: args.destination,
    host: report.host,
    store: report.store,
    checks: report.checks.map((c) => ({ id: c.id, title: c.title, status: c.status, detail: c.detail, hint: c.hint, value: c.value })),
    summary: { ok: count('ok'), warn: count('warn'), fail: count('fail'), skip: count('skip') },
    worst: worstStatus(report.checks),
    exitCode: exitStatusOf(report.checks),
    error: undefined,
  }
}

/** Whether the destination can hash content as the backups do for rsb verify (`b2sum -l 256 -z`, coreutils 8.30). */
async function hashingCheck(context: Context, signal: AbortSignal | undefined): Promise<Check> {
  const where = context.kind === 'ssh' ? ` on ${context.host}` : ''
  const result = await context.run(['sh', '-c', 'b2sum -l 256 -z < /dev/null'], { check: false, signal, ionice: undefined })
  if (result.exitCode === 0) return { id: 'hashing', title: 'content hashes', status: 'ok', detail: `b2sum -l 256 -z works${where}` }
  return {
    id: 'hashing',
    title: 'content hashes',
    status: 'warn',
    detail: `b2sum -l 256 -z does not work${where} (${result.stderr.trim() || `exit status ${result.exitCode}`}): backups record no content hashes, and rsb verify reports their snapshots as unverifiable`,
    hint: 'Install coreutils 8.30 or later there.',
  }
}

export async function run(args: DoctorArgs, io: MainIo, seams: DoctorOptions = {}): Promise<number> {
  const logger = createLogger(io.stderr, args.verbosity)
  let report: DoctorReport
  try {
    report = await diagnose(args, io, logger, seams)
  } catch (error) {
    const failed = isRsbError(error)
      ? error
      : new CliError(
          'ERR_RSB_CLI_DOCTOR_FAILED',
          `rsb doctor could not run its checks: ${error instanceof Error ? error.message : String(error)}`,
          {
            cause: error,
            hint: 'Run it again with -v to see the commands; report the message if it persists.',
          },
        )
    return fail(failed, args, io)
  }
  if (io.signal?.aborted) return fail(new CliError('ERR_RSB_CLI_INTERRUPTED', 'rsb doctor was interrupted.'), args, io)
  if (args.json) io.stdout.write(json(doctorDocument(report, args)))
  else io.stdout.write(doctorText(report, args.verbosity < 0))
  return exitStatusOf(report.checks)
}

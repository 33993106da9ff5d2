// What `rsb restore` decides without touching anything: which snapshot, where each PATH goes, rsync's argv. Pure.
import path from 'node:path'
import { parseSnapshotName, isSnapshotName } from '@rsb/rotation'
import { CliError } from '../../errors.js'
import type { SnapshotRecord, StoreState } from '../../session/store.js'
import { entryName, type RestorePath, type SnapshotChoice } from './args.js'

/** One snapshot a mirror may be restored from. */
export interface SnapshotCandidate {
  readonly name: string
  /** Its moment: the record's `created`, else the name read in local time. */
  readonly moment: Date
  readonly record: SnapshotRecord | undefined
}

/**
 * The complete snapshots of the mirror `mirrorName` in a store, oldest first: directories with a snapshot name
 * whose record names the mirror, and unrecorded ones where they can only be the mirror's (a store with this one
 * mirror, or an original store without `.rsb/`). Hidden names (temporary copies, deletions) never count.
 *
 * @throws {CliError} ERR_RSB_CLI_SNAPSHOT_NOT_FOUND when the store records mirrors, and this is none of them
 */
export function snapshotsOfMirror(state: StoreState, mirrorName: string, destination: string): SnapshotCandidate[] {
  let mirrorId: string | undefined
  let unrecordedAreOurs = true
  if (state.store !== undefined && state.mirrors.length > 0) {
    const mirror = state.mirrors.find((m) => m.name === mirrorName)
    if (mirror === undefined) {
      throw new CliError('ERR_RSB_CLI_SNAPSHOT_NOT_FOUND', `${destination} is not a mirror of the store ${state.directory}.`, {
        destination,
        hint: `Give one of its mirrors as DESTINATION: ${state.mirrors.map((m) => path.posix.join(state.directory, m.name)).join(', ')}.`,
      })
    }
    mirrorId = mirror.id
    unrecordedAreOurs = state.mirrors.length === 1
  }
  const found: SnapshotCandidate[] = []
  for (const [name, type] of state.entries) {
    if (type !== 'd' || !isSnapshotName(name)) continue
    const record = state.snapshots.get(name)
    if (record !== undefined ? mirrorId !== undefined && record.mirror !== mirrorId : !unrecordedAreOurs) continue
    const moment = record !== undefined ? new Date(record.created) : (parseSnapshotName(name) as Date)
    found.push({ name, moment, record })
  }
  return found.sort((a, b) => a.moment.getTime() - b.moment.getTime() || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/**
 * The snapshot a choice picks among a mirror's (oldest first, see {@link snapshotsOfMirror}).
 *
 * @throws {CliError} ERR_RSB_CLI_SNAPSHOT_NOT_FOUND when none fits, naming what there is
 */
export function chooseSnapshot(candidates: readonly SnapshotCandidate[], choice: SnapshotChoice, destination: string): SnapshotCandidate {
  const newest = candidates.at(-1)
  const list = `rsb list ${destination} shows them`
  if (newest === undefined) {
    throw new CliError('ERR_RSB_CLI_SNAPSHOT_NOT_FOUND', `${destination} has no snapshots to restore from.`, {
      destination,
      hint: 'Check DESTINATION: it is what rsb backup was given (the mirror, for example /mnt/backups/latest), whose snapshots lie beside it.',
    })
  }
  if (choice.kind === 'latest') return newest
  if (choice.kind === 'name') {
    const found = candidates.find((c) => c.name === choice.name)
    if (found) return found
    throw new CliError('ERR_RSB_CLI_SNAPSHOT_NOT_FOUND', `${destination} has no snapshot named '${choice.name}'.`, {
      destination,
      hint: `Its snapshots go from '${candidates[0]?.name}' to '${newest.name}' (${list}); --at=TIME picks the newest at or before TIME.`,
    })
  }
  // to the second, as names are: --at='2026-11-30 12:00:00' is the snapshot of that name, whatever its milliseconds
  const found = candidates.findLast((c) => Math.floor(c.moment.getTime() / 1000) * 1000 <= choice.moment.getTime())
  if (found) return found
  throw new CliError(
    'ERR_RSB_CLI_SNAPSHOT_NOT_FOUND',
    `${destination} has no snapshot taken at or before ${choice.text} (${choice.moment.toISOString()}).`,
    { destination, hint: `Its oldest snapshot is '${candidates[0]?.name}' (${list}).` },
  )
}

/** The SOURCE a snapshot's manifest names (the record field the backup writes), read defensively. */
export function manifestSource(record: SnapshotRecord | undefined): string | undefined {
  const source = (record as { manifest?: { source?: unknown } } | undefined)?.manifest?.source
  return typeof source === 'string' && source.startsWith('/') ? source : undefined
}

/** Directories a whole-directory restore onto which is announced first (`/lib*` is matched by pattern). */
export const SYSTEM_DIRECTORIES: readonly string[] = [
  '/',
  '/etc',
  '/usr',
  '/bin',
  '/sbin',
  '/boot',
  '/var',
  '/root',
  '/home',
  '/opt',
  '/srv',
]

/** Whether a target is `/` or a system directory itself (`/etc`, `/lib64`, not `/etc/ssh`). */
export function isSystemDirectory(target: string): boolean {
  const normal = path.posix.normalize(target).replace(/(.)\/+$/, '$1')
  return SYSTEM_DIRECTORIES.includes(normal) || /^\/lib[^/]*$/.test(normal)
}

/**
 * Where a PATH ends up: `DIR/NAME` (or DIR for the root) with `--to`, `SOURCE/PATH` in place.
 *
 * @example
 * ```ts
 * restoredPath({ given: 'etc/ssh', relative: 'etc/ssh' }, { to: '/tmp/r' }) // '/tmp/r/ssh'
 * ```
 */
export function restoredPath(p: RestorePath, where: { readonly to: string } | { readonly source: string }): string {
  if ('to' in where) return p.relative === '' ? where.to : path.posix.join(where.to, entryName(p.relative))
  return p.relative === '' ? where.source : path.posix.join(where.source, p.relative)
}

/** What {@link buildRestoreArgs} needs. */
export interface RestoreArgvOptions {
  /** The snapshot's directory (absolute, where it lives). */
  readonly snapshot: string
  readonly paths: readonly RestorePath[]
  /** `[user@]host` for a snapshot on an SSH server (rsync pulls from there); undefined for a local one. */
  readonly remote?: string | undefined
  /** Where to: `--to` DIR (each PATH's last component goes into it) or, in place, SOURCE (each PATH below it). */
  readonly target: { readonly kind: 'to' | 'in-place'; readonly directory: string }
  readonly delete: boolean
  readonly dryRun: boolean
  /** Seconds; 0 for none. */
  readonly timeout: number
  /** rsync's remote shell (`--rsh`), for an SSH snapshot. */
  readonly rsh?: string | undefined
}

/**
 * rsync's argv for a restore: `rsync -aHAX --numeric-ids` (everything the backup keeps), `--delete` only when asked,
 * `--dry-run --itemize-changes` for a dry run, `--timeout`; for an SSH snapshot `--secluded-args` (`-s`: the remote
 * paths reach the server's rsync as data, never through its shell, in rsync 3.0 to 3.4 and later alike) and
 * `--rsh`. With `--to` the sources carry no trailing slash, so each lands in DIR under its last component (the root
 * `SNAPSHOT/` fills DIR); in place they are given as `SNAPSHOT/./PATH` with `--relative --no-implied-dirs`, so each
 * lands at `SOURCE/PATH` and the directories above it keep their own attributes. Pure.
 *
 * @example
 * ```ts
 * buildRestoreArgs({ snapshot: '/b/2024-01-01 00:00:00', paths: [{ given: 'etc/ssh', relative: 'etc/ssh' }],
 *   target: { kind: 'to', directory: '/tmp/r' }, delete: false, dryRun: false, timeout: 0 })
 * // ['rsync', '-aHAX', '--numeric-ids', '/b/2024-01-01 00:00:00/etc/ssh', '/tmp/r/']
 * ```
 */
export function buildRestoreArgs(options: RestoreArgvOptions): string[] {
  const argv = ['rsync', '-aHAX', '--numeric-ids']
  if (options.delete) argv.push('--delete')
  if (options.dryRun) argv.push('--dry-run', '--itemize-changes')
  if (options.timeout > 0) argv.push(`--timeout=${options.timeout}`)
  const inPlace = options.target.kind === 'in-place'
  if (inPlace) argv.push('--relative', '--no-implied-dirs')
  if (options.remote !== undefined) {
    argv.push('-s')
    if (options.rsh !== undefined) argv.push(`--rsh=${options.rsh}`)
  }
  const prefix = options.remote === undefined ? '' : `${options.remote}:`
  const root = options.snapshot.replace(/\/+$/, '')
  for (const p of options.paths) {
    const source = inPlace ? `${root}/./${p.relative}` : p.relative === '' ? `${root}/` : `${root}/${p.relative}`
    argv.push(`${prefix}${source}`)
  }
  argv.push(`${options.target.directory.replace(/\/+$/, '')}/`)
  return argv
}

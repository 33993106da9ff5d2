// The catalogue of a store, for the commands that only read it (`rsb list`, `rsb status`): its mirrors, each
// snapshot with its status, its manifest and what the rotation would do with it, and the runs. Read in one command
// (the store reader with `catalog`), without any lock: a backup at work is shown, never waited for.
import path from 'node:path'
import { CleanupScope, type Context } from '@rsb/exec'
import { formatSnapshotName, isSnapshotName, parseSnapshotName, type RotationScheme } from '@rsb/rotation'
import { adoption, storeShape } from '../backup/preflight.js'
import { probePath } from '../backup/probe.js'
import { planMirrorRotation } from '../backup/rotate.js'
import { adoptedRecord } from '../backup/snapshot.js'
import { CliError } from '../errors.js'
import type { Logger } from '../kit/log.js'
import { isAlive, parseHolder, type LockHolder } from './lock.js'
import { openDestination, type ContextOverrides } from './open.js'
import { readStore, type MirrorRecord, type RunRecord, type SnapshotManifest, type StoreState } from './store.js'
import { resolveTarget } from './target.js'

/** What a snapshot of the catalogue is. */
export type SnapshotStatus = 'complete' | 'no-manifest' | 'incomplete' | 'deleting'

/** What the next backup's rotation does with a snapshot (`none`: not a snapshot it counts, being made or deleted). */
export type RotationAction = 'keep' | 'expire' | 'future' | 'unowned' | 'none'

/** One snapshot of the catalogue. */
export interface CatalogSnapshot {
  readonly name: string
  /** The name of the mirror it belongs to (undefined: no mirror's). */
  readonly mirror: string | undefined
  /** Its moment: the record's, else its name read in the local time zone. */
  readonly created: Date
  /**
   * `complete`: made by an rsb run that wrote its manifest; `no-manifest`: complete, made before manifests existed
   * (the original's, earlier rsb's, adopted); `incomplete`: claimed by a run that is making it or was stopped;
   * `deleting`: a rotation began deleting it.
   */
  readonly status: SnapshotStatus
  readonly adopted: boolean
  readonly manifest: SnapshotManifest | undefined
  readonly rotation: { readonly action: RotationAction; readonly reasons: readonly string[] }
}

/** A mirror of the catalogue. */
export interface CatalogMirror {
  readonly name: string
  /** Undefined for the mirror of an original store (not registered yet: its first rsb backup registers it). */
  readonly id: string | undefined
  /** The run at work on it, from its lock's holder record (undefined: none). */
  readonly running: LockHolder | undefined
}

/** A store's catalogue, for the chosen mirrors. */
export interface Catalog {
  readonly store: string
  /** An original (or earlier rsb) store: snapshots, no records yet. */
  readonly legacy: boolean
  readonly mirrors: readonly CatalogMirror[]
  /** Newest first. */
  readonly snapshots: readonly CatalogSnapshot[]
  /** The chosen mirrors' runs, oldest first. */
  readonly runs: readonly RunRecord[]
}

/** How the rotation column is planned: as `rsb backup` would, with the same options. */
export interface CatalogOptions {
  readonly scheme: Readonly<RotationScheme>
  readonly keepLatest: number
  readonly now: Date
  /**
   * Whether a lock's holder may still be at work (default: `isAlive`: another machine's always, one of this machine
   * by its PID and start time): a run killed with SIGKILL leaves its holder record, and is not shown as running.
   */
  readonly alive?: ((holder: LockHolder) => boolean) | undefined
}

/** How far ahead of now a run record may end and still count (clocks of two machines differ a little). */
const RUN_SKEW_MS = 5 * 60_000

/** The stand-in id of a mirror an original store does not record yet. */
const UNREGISTERED = '00000000'

/**
 * The catalogue of `mirrors` (names) of a store as read with `catalog: true`. The rotation column is the plan of the
 * next `rsb backup` run (which makes a snapshot now, then rotates): the same planner, the same adoption. Pure.
 */
export function buildCatalog(state: StoreState, mirrorNames: readonly string[], options: CatalogOptions): Catalog {
  const { now } = options
  const catalog = state.catalog
  const legacy = state.store === undefined
  const mirrors: CatalogMirror[] = []
  const snapshots: CatalogSnapshot[] = []
  const runs: RunRecord[] = []
  const byId = new Map(state.mirrors.map((m) => [m.id, m]))
  for (const name of mirrorNames) {
    const registered = state.mirrors.find((m) => m.name === name)
    const holderText = catalog?.holders.get(name)
    const holder = holderText === undefined ? undefined : parseHolder(holderText)
    const alive = options.alive ?? isAlive
    mirrors.push({ name, id: registered?.id, running: holder !== undefined && alive(holder) ? holder : undefined })
    const mirror: MirrorRecord = registered ?? { version: 1, name, id: UNREGISTERED, created: now.toISOString() }
    const { adopt } = adoption(state, name, false)
    const planned = formatSnapshotName(now)
    const { plan, future } = planMirrorRotation(state, mirror, {
      adopt,
      scheme: options.scheme,
      keepLatest: options.keepLatest,
      snapshot: planned,
      planned: true,
      now,
    })
    const decisions = new Map(plan.decisions.map((d) => [d.name, d]))
    const adopted = new Set(adopt)
    for (const [entry, type] of state.entries) {
      if (type !== 'd' || entry === name || !isSnapshotName(entry)) continue
      const record = state.snapshots.get(entry) ?? (adopted.has(entry) ? adoptedRecord(entry, mirror) : undefined)
      if (record === undefined || record.mirror !== mirror.id) continue
      const decision = decisions.get(entry)
      const rotation =
        decision === undefined
          ? { action: future.includes(entry) ? ('future' as const) : ('none' as const), reasons: [] }
          : { action: decision.action === 'keep' ? ('keep' as const) : ('expire' as const), reasons: decision.reasons }
      snapshots.push({
        name: entry,
        mirror: name,
        created: new Date(record.created),
        status: record.manifest === undefined ? 'no-manifest' : 'complete',
        adopted: record.adopted,
        manifest: record.manifest,
        rotation,
      })
    }
    // claims whose copy has no name yet: being made, or left by a stopped run (its next backup removes them)
    for (const record of state.snapshots.values()) {
      if (record.mirror !== mirror.id || state.entries.get(record.snapshot) === 'd') continue
      snapshots.push({
        name: record.snapshot,
        mirror: name,
        created: new Date(record.created),
        status: 'incomplete',
        adopted: record.adopted,
        manifest: record.manifest,
        rotation: { action: 'none', reasons: [] },
      })
    }
    for (const line of catalog?.deleting ?? []) {
      const [id, hidden = ''] = line.split('/')
      const entry = hidden.replace(/\.\d+$/, '')
      if (id !== mirror.id || !isSnapshotName(entry)) continue
      snapshots.push({
        name: entry,
        mirror: name,
        created: parseSnapshotName(entry) ?? new Date(Number.NaN),
        status: 'deleting',
        adopted: false,
        manifest: undefined,
        rotation: { action: 'none', reasons: [] },
      })
    }
    // a record that ends in the future (a clock that was ahead) would stay the last run for good: left out
    if (registered)
      runs.push(...(catalog?.runs ?? []).filter((r) => r.mirror === registered.id && Date.parse(r.ended) <= now.getTime() + RUN_SKEW_MS))
  }
  // snapshots of no mirror (unrecorded, in a store that has several mirrors, or a store that cannot be adopted)
  const chosen = new Set(mirrorNames)
  const listed = new Set(snapshots.map((s) => s.name))
  for (const [entry, type] of state.entries) {
    if (type !== 'd' || chosen.has(entry) || !isSnapshotName(entry) || listed.has(entry)) continue
    const record = state.snapshots.get(entry)
    if (record !== undefined && byId.has(record.mirror)) continue
    snapshots.push({
      name: entry,
      mirror: undefined,
      created: record ? new Date(record.created) : (parseSnapshotName(entry) ?? new Date(Number.NaN)),
      status: record?.manifest ? 'complete' : 'no-manifest',
      adopted: false,
      manifest: record?.manifest,
      rotation: { action: 'unowned', reasons: [] },
    })
  }
  snapshots.sort((a, b) => b.name.localeCompare(a.name) || a.status.localeCompare(b.status))
  // by when they ended: a run refused while a long one worked ends first, and the long one's outcome is the last word
  runs.sort((a, b) => Date.parse(a.ended) - Date.parse(b.ended) || Date.parse(a.started) - Date.parse(b.started))
  return { store: state.directory, legacy, mirrors, snapshots, runs }
}

/** What {@link readCatalog} needs. */
export interface CatalogRequest {
  /** DESTINATION as given: a mirror (`/mnt/backups/latest`) or its store (`/mnt/backups`). */
  readonly destination: string
  readonly sudo: boolean
  readonly env: Readonly<Record<string, string | undefined>>
  readonly logger: Logger
  readonly signal: AbortSignal | undefined
  readonly contexts?: ContextOverrides | undefined
}

/** A catalogue as read, and where: the destination's context stays open until `close()`. */
export interface OpenedCatalog {
  readonly state: StoreState
  /** The mirrors chosen by DESTINATION: the one given, or every mirror of the store given. */
  readonly mirrorNames: readonly string[]
  readonly context: Context
  close(): Promise<void>
}

/**
 * Opens DESTINATION for reading (no lock, see `openDestination`'s `writes: false`) and reads its store's catalogue.
 * DESTINATION may be a mirror or the store itself (a directory with `.rsb/store.json` or snapshots): then every mirror
 * of the store is chosen (the original's `latest` for a store without records).
 *
 * @throws {CliError} ERR_RSB_CLI_NOT_A_BACKUP when DESTINATION is neither; ERR_RSB_CLI_DESTINATION_DAEMON for an
 *   rsync daemon (the commands refuse it with their command line); the store reader's refusals (ERR_RSB_CLI_STORE_UNSAFE, ERR_RSB_CLI_STORE_UNREADABLE); the SSH errors
 */
export async function readCatalog(request: CatalogRequest): Promise<OpenedCatalog> {
  const target = resolveTarget(request.destination)
  if (target.destination.kind === 'daemon') {
    throw new CliError(
      'ERR_RSB_CLI_DESTINATION_DAEMON',
      `${request.destination} is an rsync daemon module: rsb cannot read its store from here.`,
      {
        hint: "Run the command on the server, with the module's path as DESTINATION (or reach the server over SSH: HOST:/PATH).",
      },
    )
  }
  const scope = new CleanupScope()
  const close = () => scope.close(() => undefined)
  try {
    const opened = await openDestination(
      {
        target,
        sudo: request.sudo,
        ionice: undefined,
        env: request.env,
        logger: request.logger,
        signal: request.signal,
        contexts: request.contexts,
        writes: false,
      },
      scope,
    )
    const context = opened.destination!
    const { signal } = request
    const facts = await probePath(context, target.destination.directory, {
      tilde: target.destination.kind === 'ssh',
      what: 'DESTINATION',
      signal,
    })
    let state: StoreState | undefined
    let mirrorNames: string[] = []
    if (facts.type === 'directory' && (facts.isStore || facts.holdsSnapshots)) {
      state = await readStore(context, facts.resolved, signal, { catalog: true })
      mirrorNames = state.mirrors.map((m) => m.name)
      if (mirrorNames.length === 0 && state.entries.get('latest') === 'd') mirrorNames = ['latest']
    } else if (facts.type === 'directory' || facts.type === 'missing') {
      state = await readStore(context, path.posix.dirname(facts.resolved), signal, { catalog: true })
      const name = path.posix.basename(facts.resolved)
      const known = state.mirrors.some((m) => m.name === name)
      const shape = storeShape(state, name)
      if (known || (facts.type === 'directory' && shape.legacy)) mirrorNames = [name]
      else state = undefined
    }
    if (state === undefined) {
      throw new CliError('ERR_RSB_CLI_NOT_A_BACKUP', `${request.destination} is not a backup: no rsb store or snapshots are there.`, {
        path: facts.resolved,
        hint: "Give the DESTINATION of 'rsb backup' (the mirror, such as /mnt/backups/latest) or the store that holds the snapshots (is the disk mounted?).",
      })
    }
    return { state, mirrorNames, context, close }
  } catch (error) {
    await close()
    throw error
  }
}

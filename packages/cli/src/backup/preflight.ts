import path from 'node:path'
import { quoteArgument, type Context } from '@rsb/exec'
import { isSnapshotName } from '@rsb/rotation'
import { joinPath } from '@rsb/rotation/io'
import { CliError } from '../errors.js'
import { probePath, type PathFacts } from './probe.js'
import { readStore, type MirrorRecord, type StoreState } from '../session/store.js'

/** Whether `child` is strictly below `parent` (both absolute and normalised). */
export function isInside(child: string, parent: string): boolean {
  if (parent === '/') return child !== '/' && child.startsWith('/')
  return child.startsWith(`${parent}/`)
}

/**
 * An absolute path as an rsync filter pattern matching exactly that path: rsync reads `*`, `?` and `[` as
 * wildcards, and a backslash escapes them only in a pattern that has a wildcard.
 */
export function literalFilterPath(path: string): string {
  return /[*?[]/.test(path) ? path.replace(/[*?[\\]/g, '\\$&') : path
}

/** What the checks are given: the facts found on disk and what the command line asks for. */
export interface PathCheckInput {
  /** The DESTINATION as typed (for messages). */
  readonly destinationText: string
  readonly destination: PathFacts
  /** The store (the destination's parent) as read. */
  readonly store: StoreState
  /** SOURCE, when the backup action runs (with several: the first; see `sources`). */
  readonly source: PathFacts | undefined
  readonly sourceText: string
  /**
   * Every SOURCE with its text, when the backup action runs and more than one is given (then `source` and
   * `sourceText` are ignored): each gets every check of SOURCE.
   */
  readonly sources?: readonly SourceFacts[] | undefined
  /** Whether SOURCE and DESTINATION are on the same machine (a local destination). */
  readonly sameMachine: boolean
  /** The resolved `--mount` point, when given. */
  readonly mountPoint: string | undefined
  readonly backup: boolean
  readonly acceptDestination: boolean
  readonly allowEmptySource: boolean
}

/** One SOURCE: what the probe found, and the text given. */
export interface SourceFacts {
  readonly facts: PathFacts
  readonly text: string
}

/** The outcome of the checks: what the run works on. */
export interface PathPlan {
  /** The resolved destination directory (what rsync, the snapshot and the lock use). */
  readonly destination: string
  /** The resolved store directory (the destination's parent). */
  readonly store: string
  /** The destination's name in the store. */
  readonly mirrorName: string
  /** The mirror's record, when the store knows it already. */
  readonly mirror: MirrorRecord | undefined
  /**
   * The resolved SOURCE (when the backup runs). With several SOURCEs `/`: the root the mirror keeps their whole paths
   * from (what the records name, and what an in-place restore restores below).
   */
  readonly source: string | undefined
  /** Every resolved SOURCE, in order (one: `[source]`), when the backup runs. */
  readonly sources: readonly string[] | undefined
  /** The store lies inside (one) SOURCE: it is excluded from the backup (an rsync filter on its absolute path). */
  readonly excludeStore: boolean
  /** Snapshot-named directories with no record that this mirror takes as its own (an adopted store). */
  readonly adopt: readonly string[]
  /** Snapshot-named directories with no record that belong to no mirror: kept, never rotated. */
  readonly unowned: readonly string[]
  /** A non-empty destination accepted with --accept-destination. */
  readonly accepted: boolean
}

function refuse(code: ConstructorParameters<typeof CliError>[0], message: string, hint: string, path: string): CliError {
  return new CliError(code, message, { hint, path })
}

/**
 * Checks SOURCE, DESTINATION and the store before anything runs, and says what the run works on. Pure.
 *
 * @throws {CliError} one of the refusals of `errors.ts` (ERR_RSB_CLI_DESTINATION_*, ERR_RSB_CLI_SOURCE_*,
 *   ERR_RSB_CLI_OVERLAP), each with a hint that says what to type instead
 */
export function checkPaths(input: PathCheckInput): PathPlan {
  const { destination: d, store } = input
  const R = d.resolved
  const S = path.posix.dirname(R)
  const name = path.posix.basename(R)
  const shown = input.destinationText
  const mirror = store.mirrors.find((m) => m.name === name)

  if (d.type === 'other') {
    throw refuse('ERR_RSB_CLI_DESTINATION_NOT_DIRECTORY', `DESTINATION ${shown} is not a directory.`, 'Give a directory as DESTINATION.', R)
  }
  if (d.type === 'symlink') {
    throw refuse(
      'ERR_RSB_CLI_DESTINATION_SYMLINK',
      `DESTINATION ${shown} is a symbolic link: snapshots would copy the link, not the backup.`,
      `Give the directory it points to (readlink -f ${quoteArgument(R)}) as DESTINATION.`,
      R,
    )
  }
  if (d.insideBackup !== undefined) {
    throw refuse(
      'ERR_RSB_CLI_DESTINATION_IN_BACKUP',
      `DESTINATION ${shown} is inside ${d.insideBackup}, a mirror or snapshot of a backup store: later backups would overwrite it, or it would change a snapshot.`,
      `Put the destination beside the store's mirror instead, for example ${quoteArgument(joinPath(path.posix.dirname(d.insideBackup), 'other-latest'))}.`,
      R,
    )
  }
  if (input.mountPoint !== undefined && input.mountPoint === R) {
    throw refuse(
      'ERR_RSB_CLI_DESTINATION_IS_MOUNT_POINT',
      `DESTINATION ${shown} is the --mount point itself: rsync --delete would empty the whole disk.`,
      `Back up into a directory on the disk, for example ${quoteArgument(joinPath(R, 'latest'))}.`,
      R,
    )
  }
  if (!mirror && (d.isStore || d.holdsSnapshots)) {
    throw refuse(
      'ERR_RSB_CLI_DESTINATION_IS_STORE',
      `DESTINATION ${shown} holds snapshots: rsync --delete would delete them.`,
      `Did you mean ${quoteArgument(joinPath(R, 'latest'))}? DESTINATION is the directory beside the snapshots.`,
      R,
    )
  }
  if (R === '/') {
    throw refuse(
      'ERR_RSB_CLI_DESTINATION_IS_STORE',
      `DESTINATION ${shown} is the root directory.`,
      'Give a directory such as /mnt/backups/latest.',
      R,
    )
  }

  const { legacy, cleanAdoption } = storeShape(store, name)

  const given: readonly SourceFacts[] = input.sources ?? (input.source ? [{ facts: input.source, text: input.sourceText }] : [])
  let excludeStore = false
  for (const { facts: s, text: shownSource } of given) {
    const src = s.resolved
    checkSource(s, shownSource, input.allowEmptySource)
    if (input.sameMachine) {
      if (src === R || isInside(src, R)) {
        throw refuse(
          'ERR_RSB_CLI_OVERLAP',
          `SOURCE ${shownSource} is ${src === R ? 'DESTINATION itself' : 'inside DESTINATION'}: rsync --delete would delete it.`,
          'Give a SOURCE outside DESTINATION (and a DESTINATION outside SOURCE).',
          src,
        )
      }
      if (isInside(R, src)) {
        if (src === S || isInside(src, S)) {
          throw refuse(
            'ERR_RSB_CLI_OVERLAP',
            `DESTINATION ${shown} is inside SOURCE ${shownSource}, and so is the store that keeps its snapshots: the backup would copy itself.`,
            `Keep the backups in a directory of their own outside SOURCE, for example ${quoteArgument(joinPath(S, 'backups/latest'))}.`,
            R,
          )
        }
        excludeStore = true
      }
    }
  }
  checkSourcesApart(given)
  const sources = given.length > 0 ? given.map(({ facts }) => facts.resolved) : undefined
  const source = sources === undefined ? undefined : sources.length === 1 ? sources[0] : '/'
  if (!input.backup && d.type === 'missing') {
    throw refuse(
      'ERR_RSB_CLI_DESTINATION_MISSING',
      `DESTINATION ${shown} does not exist: there is nothing to snapshot or rotate.`,
      'Check the path (a typo, or the disk is not mounted); a backup run (without -s/-r alone) creates it.',
      R,
    )
  }
  let accepted = false
  if (input.backup && d.nonEmpty && !mirror && !cleanAdoption) {
    if (!input.acceptDestination) {
      throw refuse(
        'ERR_RSB_CLI_DESTINATION_NOT_EMPTY',
        `DESTINATION ${shown} is not empty and is not a backup rsb knows: rsync --delete would make it a copy of SOURCE, deleting everything else in it.`,
        legacy
          ? `It sits beside snapshots, but so do other directories (or it is named like a snapshot), so rsb cannot tell which is the mirror; check the path, and add --accept-destination if it is the mirror.`
          : `Check the path (were SOURCE and DESTINATION swapped?); to overwrite it on purpose, add --accept-destination.`,
        R,
      )
    }
    accepted = true
  }
  const { adopt, unowned } = adoption(store, name, accepted)

  return { destination: R, store: S, mirrorName: name, mirror, source, sources, excludeStore, adopt, unowned, accepted }
}

/**
 * Several SOURCEs, once resolved (symbolic links followed): none the same directory as another or inside another. The
 * command line's text was checked already (args.ts); this catches `/srv/data` and a `/data` that is its target.
 *
 * @throws {CliError} ERR_RSB_CLI_SOURCE_OVERLAP
 */
export function checkSourcesApart(sources: readonly SourceFacts[]): void {
  for (const a of sources) {
    for (const b of sources) {
      if (a === b) continue
      const same = a.facts.resolved === b.facts.resolved
      if (!same && !isInside(a.facts.resolved, b.facts.resolved)) continue
      throw refuse(
        'ERR_RSB_CLI_SOURCE_OVERLAP',
        same
          ? `SOURCEs ${b.text} and ${a.text} are the same directory (${a.facts.resolved}).`
          : `SOURCE ${a.text} (${a.facts.resolved}) is inside SOURCE ${b.text} (${b.facts.resolved}): its files would be backed up twice.`,
        same ? 'Give each SOURCE once.' : `Leave out ${a.text}: the backup of ${b.text} holds it.`,
        a.facts.resolved,
      )
    }
  }
}

/**
 * What a store holds besides its mirror `name`: its snapshot-named directories without a record, whether it is an
 * original (or earlier rsb) store (no records yet, snapshots beside the mirror), and whether that store is adopted
 * without a flag: only when nothing else could be the mirror (DESTINATION is not named like a snapshot, and no other
 * directory beside it, but lost+found, could be a mirror or someone's data). Pure.
 */
export function storeShape(store: StoreState, name: string): { legacy: boolean; cleanAdoption: boolean; unrecorded: string[] } {
  // The mirror itself is never a snapshot, even when it is named like one.
  const snapshotDirectories = [...store.entries].filter(([n, type]) => type === 'd' && n !== name && isSnapshotName(n)).map(([n]) => n)
  const unrecorded = snapshotDirectories.filter((n) => !store.snapshots.has(n))
  const legacy = store.store === undefined && snapshotDirectories.length > 0
  const others = [...store.entries].filter(
    ([n, type]) => type === 'd' && n !== name && n !== 'lost+found' && !n.startsWith('.') && !isSnapshotName(n),
  )
  return { legacy, cleanAdoption: legacy && !isSnapshotName(name) && others.length === 0, unrecorded }
}

/**
 * Which unrecorded snapshots the mirror `name` takes as its own when a backup runs (`accepted`: with
 * --accept-destination): those of an adopted store, and all of them when it is the store's only mirror; the others
 * belong to no mirror (kept, never rotated). Pure.
 */
export function adoption(store: StoreState, name: string, accepted: boolean): { adopt: string[]; unowned: string[] } {
  const { legacy, cleanAdoption, unrecorded } = storeShape(store, name)
  const mirror = store.mirrors.find((m) => m.name === name)
  const onlyMirror = mirror !== undefined && store.mirrors.length === 1
  const adopt = (legacy && (cleanAdoption || accepted)) || onlyMirror ? unrecorded : []
  return { adopt, unowned: adopt.length > 0 ? [] : unrecorded }
}

/**
 * The checks of SOURCE alone (also for rsync daemon destinations, whose side rsb cannot look at). Pure.
 *
 * @throws {CliError} ERR_RSB_CLI_SOURCE_MISSING, _NOT_DIRECTORY, _UNREADABLE, _IS_BACKUP, _EMPTY
 */
export function checkSource(s: PathFacts, shownSource: string, allowEmptySource: boolean): void {
  const src = s.resolved
  if (s.type === 'missing') {
    throw refuse('ERR_RSB_CLI_SOURCE_MISSING', `SOURCE ${shownSource} does not exist.`, 'Check the path (is its filesystem mounted?).', src)
  }
  if (s.type !== 'directory') {
    throw refuse(
      'ERR_RSB_CLI_SOURCE_NOT_DIRECTORY',
      `SOURCE ${shownSource} is not a directory.`,
      'rsb backs up directories; give the directory that holds it.',
      src,
    )
  }
  if (!s.readable) {
    throw refuse(
      'ERR_RSB_CLI_SOURCE_UNREADABLE',
      `SOURCE ${shownSource} cannot be read.`,
      'Run rsb as root (or with sudo rules), or check the permissions of SOURCE.',
      src,
    )
  }
  if (s.isStore || s.holdsSnapshots || s.isRegisteredMirror || s.besideSnapshots) {
    throw refuse(
      'ERR_RSB_CLI_SOURCE_IS_BACKUP',
      `SOURCE ${shownSource} is a backup (${s.isStore || s.holdsSnapshots ? 'a store of snapshots' : 'a mirror beside snapshots'}).`,
      `Were SOURCE and DESTINATION swapped? The order is: rsb SOURCE DESTINATION.`,
      src,
    )
  }
  if (!s.nonEmpty && !allowEmptySource) {
    throw refuse(
      'ERR_RSB_CLI_SOURCE_EMPTY',
      `SOURCE ${shownSource} is empty: is its filesystem mounted? A backup of it would empty DESTINATION.`,
      'Mount it first; to back up an empty directory on purpose, add --allow-empty-source.',
      src,
    )
  }
}

/** Looks at the store and the paths of a run, then checks them ({@link checkPaths}). Read-only. */
export interface InspectOptions {
  readonly destinationContext: Context
  readonly sourceContext: Context
  readonly destinationText: string
  /** The destination directory as parsed. */
  readonly directory: string
  readonly sshDestination: boolean
  readonly sourceText: string
  /** Every SOURCE as given, when several are (`sourceText` is then ignored). */
  readonly sourceTexts?: readonly string[] | undefined
  readonly mount: string | undefined
  readonly backup: boolean
  readonly acceptDestination: boolean
  readonly allowEmptySource: boolean
  readonly signal: AbortSignal | undefined
  /**
   * Called once DESTINATION is resolved, before the store is read: where the run takes the store's lock, so that
   * what it reads is not changed by another run under it.
   */
  readonly beforeStore?: ((destination: PathFacts) => Promise<void>) | undefined
}

/** What {@link inspectPaths} found: the plan, and the store as read (for the snapshot and rotation steps). */
export interface Inspection {
  readonly plan: PathPlan
  readonly state: StoreState
}

/**
 * Resolves and looks at DESTINATION (in its context), its store, the `--mount` point and SOURCE (in the
 * source context), then runs {@link checkPaths}. Changes nothing.
 *
 * @throws {CliError} the refusals of {@link checkPaths}; ERR_RSB_CLI_PATH_UNRESOLVED; ERR_RSB_CLI_STORE_UNREADABLE
 */
export async function inspectPaths(options: InspectOptions): Promise<Inspection> {
  const { destinationContext: dc, signal } = options
  const destination = await probePath(dc, options.directory, { tilde: options.sshDestination, what: 'DESTINATION', signal })
  const mount =
    options.mount === undefined
      ? undefined
      : (await probePath(dc, options.mount, { what: 'the --mount point', signal, source: true })).resolved
  const texts = options.sourceTexts ?? [options.sourceText]
  const probed: SourceFacts[] = []
  if (options.backup)
    for (const text of texts)
      probed.push({ facts: await probePath(options.sourceContext, text, { what: 'SOURCE', source: true, signal }), text })
  await options.beforeStore?.(destination)
  const state = await readStore(dc, path.posix.dirname(destination.resolved), signal)
  const plan = checkPaths({
    destinationText: options.destinationText,
    destination,
    store: state,
    source: probed[0]?.facts,
    sourceText: probed[0]?.text ?? options.sourceText,
    sources: probed.length > 1 ? probed : undefined,
    sameMachine: !options.sshDestination,
    mountPoint: mount,
    backup: options.backup,
    acceptDestination: options.acceptDestination,
    allowEmptySource: options.allowEmptySource,
  })
  return { plan, state }
}

// Opening a destination, for every command that works on one (`rsb backup`, and the commands to come: list,
// restore, …): where its commands run (this machine, or one SSH connection), the run locks, the LUKS disk and the
// mount, each with its undo registered in the caller's CleanupScope, so that they are undone in reverse order on
// success, on failure and when the run is stopped. Every step takes the run's AbortSignal.
import path from 'node:path'
import { LocalContext, SshContext, type CleanupScope, type Context, type IoniceClass } from '@rsb/exec'
import { UsageError } from '../errors.js'
import type { Logger } from '../kit/log.js'
import { checkCryptoDisk, mountDisk, unlockDisk } from './disk.js'
import { acquireRunLock, describeHolder, lockDirectory, type RunLock } from './lock.js'
import { acquireServerLock, type ServerLock } from './server-lock.js'
import { sshSettings } from './ssh.js'
import { STORE_DIRECTORY } from './store.js'
import type { Target } from './target.js'

/** Where commands run, for tests that record command lines (tier 2). */
export interface ContextOverrides {
  /** This machine without the run locks, when the caller made it already (for its own checks). */
  readonly plain?: Context | undefined
  readonly local?: Context | undefined
  readonly ssh?: ((host: string, user: string | undefined) => Context) | undefined
}

/** What {@link openDestination} needs. */
export interface OpenRequest {
  /** The destination (see `resolveTarget`). */
  readonly target: Target
  readonly sudo: boolean
  readonly ionice: IoniceClass | undefined
  /** `--crypto`: the crypttab name of the LUKS disk to unlock. */
  readonly crypto?: string | undefined
  /** `--mount`: the mount point to mount. */
  readonly mount?: string | undefined
  /** Pass-through rsync options of the command (a remote shell among them is refused, see `sshSettings`). */
  readonly rsyncOptions?: readonly string[] | undefined
  readonly env: Readonly<Record<string, string | undefined>>
  readonly logger: Logger
  readonly signal: AbortSignal | undefined
  readonly contexts?: ContextOverrides | undefined
  /**
   * Whether the command writes (default true): it then takes the run lock. A command that only reads (list, status,
   * …) opens with `false`: it takes no lock, so it never waits for nor blocks a backup; it may not lock mirrors, and
   * it refuses `mount` and `crypto` (ERR_RSB_CLI_USAGE), whose undo could pull the disk from under a backup.
   */
  readonly writes?: boolean | undefined
}

/** The lock of a mirror where it lives, and the key its holder record names. */
export interface MirrorLock {
  readonly lock: ServerLock
  readonly key: string
}

/** What a mirror's directory resolved to (`inspectPaths`' facts). */
export interface MirrorFacts {
  /** Its real path. */
  readonly resolved: string
  /** `DEVICE:INODE` of the store, when the store exists. */
  readonly storeId: string
}

/** An opened destination: its contexts, and the steps that follow opening it. */
export interface OpenedDestination {
  readonly target: Target
  /** This machine, without the run locks (mount helpers, unlocking, notifications must not hold them). */
  readonly plain: Context
  /** This machine, for rsync and the store's commands: they inherit the run locks. */
  readonly local: Context
  /** Where the destination's commands run (`local`, or the SSH connection); undefined for a daemon. */
  readonly destination: Context | undefined
  /** Where the disk is unlocked and mounted: the destination's machine, without the locks. */
  readonly disks: Context | undefined
  /**
   * Checks the `--crypto` disk: its crypttab entry, and whether it is connected (a missing disk is reported before
   * anything else happens). Undefined without `--crypto`.
   */
  checkDisk(): Promise<CryptoDisk | undefined>
  /** Unlocks the `--crypto` disk (checked first if need be); its undo (locking it again) is registered. */
  unlock(): Promise<void>
  /** Mounts `--mount` unless it is mounted; its undo (unmounting what this run mounted) is registered. */
  mount(): Promise<void>
  /** Takes one more run lock on this machine (released with the others, last). */
  takeLock(key: string, display: string): void
  /**
   * Locks a mirror by what it resolved to: here by its real path and by the store's device and inode, and where it
   * lives (on the server, or here) for runs from other machines, users and lock directories. Undefined when that
   * machine has no `flock` (warned about).
   */
  lockMirror(facts: MirrorFacts): Promise<MirrorLock | undefined>
}

/** The `--crypto` disk as checked. */
export type CryptoDisk = Awaited<ReturnType<typeof checkCryptoDisk>>

/**
 * Opens a destination: the run lock, the contexts and the SSH connection. The disk check, the unlock and the mount
 * are the caller's next steps (`checkDisk()`, `unlock()`, `mount()`), so that it can check and say what it starts in
 * between. Undo steps go into `scope` in the order they must be undone (locks last).
 *
 * @throws {CliError} ERR_RSB_CLI_LOCKED when another run holds the destination; the errors of `sshSettings`
 */
export async function openDestination(request: OpenRequest, scope: CleanupScope): Promise<OpenedDestination> {
  const { target, logger, signal } = request
  const locks: RunLock[] = []
  const plain = request.contexts?.plain ?? request.contexts?.local ?? new LocalContext({ sudo: request.sudo, ionice: request.ionice })
  // rsync and the store's commands inherit the run locks, so a lock lasts while any of them runs (also when rsb
  // alone is killed); mount helpers, unlocking and notifications do not (a FUSE daemon would hold it for good)
  const local =
    request.contexts?.local ?? new LocalContext({ sudo: request.sudo, ionice: request.ionice, inherit: () => locks.map((lock) => lock.fd) })

  // One run per destination (and, once it is resolved, per mirror: lockMirror); every lock goes last, after
  // unmounting and locking the disk.
  const writes = request.writes ?? true
  // a reader never touches the lock directory (it is made when missing): chosen only by a command that writes
  const lockDir = writes ? lockDirectory(request.env) : undefined
  for (const skipped of lockDir?.skipped ?? []) {
    if (skipped.kind === 'unsafe') logger.log('warning', `Not keeping run locks in ${skipped.directory}: it ${skipped.reason}.`)
  }
  scope.add('release the run lock', () => {
    for (const lock of locks.toReversed()) lock.release()
  })
  const takeLock = (key: string, display: string) => {
    if (lockDir === undefined) throw new Error('a destination opened for reading takes no locks')
    const lock = acquireRunLock(key, display, lockDir.directory)
    locks.push(lock)
    if (lock.previous)
      logger.log(
        'warning',
        `Took over the run lock of ${display} from a run that ended without releasing it (${describeHolder(lock.previous)}).`,
      )
  }
  // A reader takes no lock, so it must not change what a backup relies on: undoing a mount or an unlock of its own
  // could pull the disk from under a backup that started meanwhile.
  if (!writes && (request.mount !== undefined || request.crypto !== undefined)) {
    throw new UsageError(`A command that only reads does not ${request.mount !== undefined ? 'mount' : 'unlock'} the disk.`, {
      hint: `Mount (or unlock) it first, for example by running the backup, or with mount ${request.mount ?? 'MOUNTPOINT'}; then run the command again.`,
    })
  }
  if (writes) takeLock(target.lockKey, target.expression)

  // Where destination commands run: closed after every other cleanup but the lock.
  let destination: Context | undefined
  if (target.destination.kind === 'local') {
    destination = local
  } else if (target.destination.kind === 'ssh') {
    const { hostname, username } = target.destination
    const ssh =
      request.contexts?.ssh?.(hostname, username) ??
      new SshContext({
        // user@host, not `user`: a -l of $RSYNC_RSH beats it, as it does for rsync's ssh (`ssh -l bob alice@host` is bob)
        host: username === undefined ? hostname : `${username}@${hostname}`,
        ...sshSettings(request.env, request.rsyncOptions ?? []),
        sudo: request.sudo,
        ionice: request.ionice,
      })
    scope.add(`close the SSH connection to ${ssh.host}`, () => ssh.close())
    destination = ssh
  }
  const disks = target.destination.kind === 'local' ? plain : destination
  let crypto: Promise<CryptoDisk | undefined> | undefined
  const checkDisk = () =>
    (crypto ??= request.crypto !== undefined && disks ? checkCryptoDisk(disks, request.crypto, signal) : Promise.resolve(undefined))

  return {
    target,
    plain,
    local,
    destination,
    disks,
    checkDisk,
    takeLock(key, display) {
      if (!writes) throw new Error('a destination opened for reading takes no locks')
      takeLock(key, display)
    },
    async unlock() {
      const disk = await checkDisk()
      if (disk && disks) scope.add(`lock ${disk.target}`, await unlockDisk(disks, disk.target, logger, signal))
    },
    async mount() {
      if (request.mount !== undefined && disks) scope.add(`unmount ${request.mount}`, await mountDisk(disks, request.mount, logger, signal))
    },
    async lockMirror(facts) {
      if (!writes) throw new Error('a destination opened for reading takes no locks')
      const store = path.posix.dirname(facts.resolved)
      const name = path.posix.basename(facts.resolved)
      const ssh = target.destination.kind === 'ssh' ? target.destination : undefined
      const where = ssh ? `${ssh.username ? `${ssh.username}@` : ''}${ssh.hostname}:` : ''
      const display = facts.resolved === target.destination.directory ? target.expression : `${target.expression} (${facts.resolved})`
      // by its real path, and when the store exists by the store's device and inode and the mirror's name
      takeLock(`mirror ${where}${facts.resolved}`, display)
      if (/^\d+:\d+$/.test(facts.storeId)) takeLock(`mirror ${where}${facts.storeId}/${name}`, display)
      const holderContext = ssh ? destination : disks
      if (!holderContext) return undefined
      const server = await acquireServerLock({
        context: holderContext,
        directory: facts.resolved,
        holderFile: `${store}/${STORE_DIRECTORY}/mirrors/${name}.lock`,
        display,
        logger,
        signal,
      })
      if (!server) {
        logger.log(
          'warning',
          `${holderContext.host} has no flock program: runs from other machines to ${facts.resolved} are not kept apart.`,
        )
        return undefined
      }
      scope.add(`release the lock of ${facts.resolved} on ${holderContext.host}`, () => server.release())
      if (server.previous)
        logger.log(
          'warning',
          `Took over the lock of ${facts.resolved} on ${holderContext.host} from a run that ended without releasing it (${describeHolder(server.previous)}).`,
        )
      return { lock: server, key: `${where}${facts.resolved}` }
    },
  }
}

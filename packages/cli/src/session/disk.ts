import type { Context } from '@rsb/exec'
import {
  CrypttabError,
  findCrypttabEntry,
  isAvailable,
  lock,
  resolveSourceDevice,
  unlock,
  type CrypttabEntry,
  type CrypttabEvent,
} from '@rsb/crypttab'
import { ensureMounted, isMountPoint, unmount, type MountEvent } from '@rsb/mount'
import type { Logger } from '../kit/log.js'

/**
 * Looks up the `--crypto` entry and checks that its disk is connected (before any notification, as the
 * original).
 *
 * @throws {CrypttabError} ERR_RSB_CRYPTTAB_NO_ENTRY; ERR_RSB_CRYPTTAB_MISSING_DISK (the missing-disk case: exit 0
 *   with one log line when standard output is not a terminal)
 */
export async function checkCryptoDisk(context: Context, name: string, signal: AbortSignal | undefined): Promise<CrypttabEntry> {
  const entry = await findCrypttabEntry(name, { context, signal })
  if (!(await isAvailable(entry, { context, signal }))) {
    const device = resolveSourceDevice(entry.source)
    throw new CrypttabError(
      'ERR_RSB_CRYPTTAB_MISSING_DISK',
      name,
      `Encrypted filesystem ${name} isn't available! (the device file ${device} doesn't exist)`,
      {
        device,
        hint: `Connect the disk of ${name}, or check the second column of /etc/crypttab.`,
      },
    )
  }
  return entry
}

function logCrypttab(logger: Logger, event: CrypttabEvent): void {
  if (event.type === 'already-unlocked') logger.log('info', `Encrypted filesystem is already unlocked (${event.target}) ..`)
  else if (event.type === 'unlocking') logger.log('info', `Unlocking encrypted filesystem (${event.target}) ..`)
  else if (event.type === 'locking') logger.log('info', `Locking encrypted filesystem (${event.target}) ..`)
  else if (event.type === 'warning') logger.log('warning', `${event.file}:${event.line}: ${event.message}`)
}

function logMount(logger: Logger, event: MountEvent): void {
  if (event.type === 'already-mounted') logger.log('info', `Filesystem is already mounted (${event.mountPoint}) ..`)
  else if (event.type === 'mounting') logger.log('info', `Mounting filesystem (${event.mountPoint}) ..`)
  else if (event.type === 'unmounting') logger.log('info', `Unmounting filesystem (${event.mountPoint}) ..`)
}

/**
 * Unlocks the `--crypto` device with `@rsb/crypttab` unless it is unlocked already.
 *
 * @returns the cleanup that locks it again (does nothing when this run did not unlock it)
 * @throws {CrypttabError} ERR_RSB_CRYPTTAB_UNLOCK_FAILED and the other errors of `unlock`
 */
export async function unlockDisk(
  context: Context,
  name: string,
  logger: Logger,
  signal: AbortSignal | undefined,
): Promise<() => Promise<void>> {
  // the signal stops a hanging unlock (Ctrl-C); the undo gets none, so that it still runs after an abort
  let unlocking = false
  try {
    const handle = await unlock(name, {
      context,
      signal,
      onEvent: (event) => {
        if (event.type === 'unlocking') unlocking = true
        logCrypttab(logger, event)
      },
    })
    return () => handle.undo()
  } catch (error) {
    // stopped while unlocking, it may have unlocked all the same: lock it again if it is unlocked (it was not before)
    if (unlocking && signal?.aborted) await lock(name, { context, onEvent: (event) => logCrypttab(logger, event) })
    throw error
  }
}

/**
 * Mounts the `--mount` directory with `@rsb/mount` unless it is mounted already.
 *
 * @returns the cleanup that unmounts it again (does nothing when this run did not mount it)
 * @throws {MountError} ERR_RSB_MOUNT_FAILED, naming the mount point
 */
export async function mountDisk(
  context: Context,
  mountPoint: string,
  logger: Logger,
  signal: AbortSignal | undefined,
): Promise<() => Promise<void>> {
  // as unlockDisk: the signal stops a hanging mount, the undo runs without it
  let mounting = false
  const onEvent = (event: MountEvent) => {
    if (event.type === 'mounting') mounting = true
    logMount(logger, event)
  }
  try {
    const handle = await ensureMounted(mountPoint, { context, signal, onEvent })
    return () => handle.undo()
  } catch (error) {
    // stopped while mounting, it may have mounted all the same: unmount it if it is mounted (it was not before)
    if (mounting && signal?.aborted && (await isMountPoint(mountPoint, { context }))) await unmount(mountPoint, { context, onEvent })
    throw error
  }
}

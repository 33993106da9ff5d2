import path from 'node:path'
import type { Context } from '@rsb/exec'
import { CliError } from '../errors.js'
import type { Logger } from '../log.js'

/** One /etc/crypttab entry. */
export interface CrypttabEntry {
  readonly target: string
  readonly source: string
  readonly keyFile: string | undefined
  readonly options: readonly string[]
}

function resolveSource(source: string): string {
  const m = /^(UUID|LABEL|PARTUUID|PARTLABEL)=(.*)$/.exec(source)
  if (!m) return source
  return `/dev/disk/by-${(m[1] as string).toLowerCase()}/${m[2]}`
}

/** Looks up a crypttab entry in the destination's context. */
export async function findCrypttabEntry(context: Context, name: string): Promise<CrypttabEntry> {
  let text = ''
  if (await context.isFile('/etc/crypttab')) text = await context.readFile('/etc/crypttab')
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/)
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) continue
    if (fields[0] === name) {
      const key = fields[2]
      return {
        target: name,
        source: resolveSource(fields[1] ?? ''),
        keyFile: key === undefined || key === 'none' || key === '-' ? undefined : key,
        options: (fields[3] ?? '').split(',').filter(Boolean),
      }
    }
  }
  throw new CliError('ERR_RSB_CRYPTTAB_NO_ENTRY' as never, `No entry named '${name}' in /etc/crypttab.`, {
    hint: 'Check the first column of /etc/crypttab or the --crypto value.',
  })
}

/** Whether the entry's source device exists. */
export function isDeviceAvailable(context: Context, entry: CrypttabEntry): Promise<boolean> {
  return context.exists(entry.source)
}

/** Whether /dev/mapper/NAME exists. */
export function isUnlocked(context: Context, name: string): Promise<boolean> {
  return context.exists(`/dev/mapper/${name}`)
}

/** Unlocks an entry; returns the lock function for the cleanup. */
export async function unlockDevice(context: Context, entry: CrypttabEntry, logger: Logger): Promise<(() => Promise<void>) | undefined> {
  const name = entry.target
  if (await isUnlocked(context, name)) {
    logger.log('info', `Encrypted filesystem is already unlocked (${name}) ..`)
    return undefined
  }
  logger.log('info', `Unlocking encrypted filesystem (${name}) ..`)
  const useCryptdisks = (await context.which('cryptdisks_start')) !== undefined
  if (useCryptdisks) {
    await context.run(['cryptdisks_start', name], { sudo: true, ionice: undefined })
  } else {
    const argv = ['cryptsetup']
    if (entry.options.includes('discard')) argv.push('--allow-discards')
    if (entry.keyFile) argv.push(`--key-file=${entry.keyFile}`)
    if (entry.options.includes('readonly') || entry.options.includes('read-only')) argv.push('--readonly')
    argv.push('luksOpen', entry.source, name)
    await context.run(argv, { sudo: true, ionice: undefined })
  }
  if (!(await isUnlocked(context, name))) {
    throw new CliError('ERR_RSB_CRYPTTAB_UNLOCK_FAILED' as never, `Failed to unlock encrypted filesystem! (${name})`)
  }
  return async () => {
    if ((await context.which('cryptdisks_stop')) !== undefined) {
      await context.run(['cryptdisks_stop', name], { sudo: true, ionice: undefined })
    } else if (await isUnlocked(context, name)) {
      await context.run(['cryptsetup', 'luksClose', name], { sudo: true, ionice: undefined })
    }
  }
}

/** Whether DIR is a mount point (`mountpoint DIR`). */
export function isMountPoint(context: Context, directory: string): Promise<boolean> {
  return context.test(['mountpoint', directory], { ionice: undefined })
}

/** Mounts DIR unless mounted; returns the unmount function for the cleanup. */
export async function mountFilesystem(context: Context, directory: string, logger: Logger): Promise<(() => Promise<void>) | undefined> {
  if (await isMountPoint(context, directory)) {
    logger.log('info', `Filesystem is already mounted (${directory}) ..`)
    return undefined
  }
  logger.log('info', `Mounting filesystem (${directory}) ..`)
  const failed = (cause?: unknown) => {
    const detail = (cause as { stderrTail?: string } | undefined)?.stderrTail?.split('\n').at(-1)
    return new CliError('ERR_RSB_MOUNT_FAILED' as never, `Failed to mount filesystem! (${directory})${detail ? `: ${detail}` : ''}`, {
      cause,
      hint: `Check the /etc/fstab entry of ${directory} and that its device is present.`,
    })
  }
  try {
    await context.run(['mount', directory], { sudo: true, ionice: undefined })
  } catch (error) {
    throw failed(error)
  }
  if (!(await isMountPoint(context, directory))) throw failed()
  return async () => {
    logger.log('info', `Unmounting filesystem (${directory}) ..`)
    await context.run(['umount', directory], { sudo: true, ionice: undefined })
  }
}

/** The containment check: the destination is the mount point or below it (whole path segments). */
export function checkContainment(directory: string, mountPoint: string, cwd = process.cwd()): void {
  const destination = path.resolve(cwd, directory)
  const mount = path.resolve(cwd, mountPoint)
  if (destination === mount || destination.startsWith(mount === '/' ? '/' : `${mount}/`)) return
  throw new CliError(
    'ERR_RSB_MOUNT_NOT_CONTAINED' as never,
    `Destination directory (${destination}) not located under mount point (${mount})!`,
    {
      hint: 'Give a DESTINATION inside the --mount directory.',
    },
  )
}

// Real ext4 filesystems on loop devices with a private fstab, for the mount tests. Needs root.
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { runChecked } from '@rsb/testkit'

/** Every temporary directory made here starts with this. */
export const MOUNT_TEST_PREFIX = 'rsb-mount-'

/** Writes a value for an fstab field (space, tab, newline, backslash as octal escapes). */
export function encodeFstabField(value: string): string {
  return value.replace(/[ \t\n\\]/g, (char) => `\\${(char.codePointAt(0) as number).toString(8).padStart(3, '0')}`)
}

/** A loop device (with or without ext4), a mount point and an fstab file naming it. */
export interface LoopDisk {
  readonly dir: string
  readonly image: string
  readonly device: string
  readonly mountPoint: string
  /** An fstab with the line `DEVICE MOUNTPOINT ext4 noauto 0 0` (mount point encoded). */
  readonly fstab: string
  readonly fstabLine: string
  cleanup(): Promise<void>
}

const loops = new Map<string, string>()
const mountPoints = new Set<string>()

async function attachedTo(device: string): Promise<string> {
  const back = await runChecked('losetup', ['--noheadings', '--output', 'BACK-FILE', '--list', device]).catch(() => '')
  return back.trim().replace(/ \(deleted\)$/, '')
}

async function mounted(directory: string): Promise<boolean> {
  return runChecked('mountpoint', ['-q', directory]).then(
    () => true,
    () => false,
  )
}

/** What this process's tests left behind: attached loop devices and mounted mount points. */
export async function leftovers(): Promise<string[]> {
  const found: string[] = []
  for (const [device, file] of loops) if ((await attachedTo(device)) === file) found.push(`loop device ${device}`)
  for (const directory of mountPoints) if (await mounted(directory)) found.push(`mount ${directory}`)
  return found
}

/** Prepares a 16 MiB image on a loop device, with ext4 unless `filesystem: false`, and an fstab for it. */
export async function prepareLoopDisk(options: { filesystem?: boolean; mountPointName?: string } = {}): Promise<LoopDisk> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), MOUNT_TEST_PREFIX))
  const image = path.join(dir, 'disk.img')
  const mountPoint = path.join(dir, options.mountPointName ?? 'mnt')
  mountPoints.add(mountPoint)
  let device: string | undefined
  const cleanup = async () => {
    for (let i = 0; i < 3 && (await mounted(mountPoint)); i++) await runChecked('umount', [mountPoint])
    if (device && (await attachedTo(device)) === image) await runChecked('losetup', ['-d', device])
    await fs.rm(dir, { recursive: true, force: true })
  }
  try {
    await runChecked('truncate', ['-s', '16M', image])
    if (options.filesystem !== false) await runChecked('mkfs.ext4', ['-q', '-F', image])
    device = (await runChecked('losetup', ['--find', '--show', image])).trim()
    loops.set(device, image)
    await fs.mkdir(mountPoint)
    const fstabLine = `${device} ${encodeFstabField(mountPoint)} ext4 noauto 0 0`
    const fstab = path.join(dir, 'fstab')
    await fs.writeFile(fstab, `# test fstab\n${fstabLine}\n`)
    return { dir, image, device, mountPoint, fstab, fstabLine, cleanup }
  } catch (error) {
    await cleanup().catch(() => undefined)
    throw error
  }
}

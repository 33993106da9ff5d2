// Real ext4 filesystems on loop devices, mounted through a private fstab (`mount --fstab FILE DIR`), so the
// machine's /etc/fstab is never touched. Needs root (CI runs as root).
import { open } from 'node:fs/promises'
import fs from 'node:fs/promises'
import path from 'node:path'
import { LocalContext } from '@rsb/exec'
import { isRoot, runChecked } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { ensureMounted, isMountPoint, MountError, readFstab, readMounts, unmount } from '../src/index.ts'
import { leftovers, prepareLoopDisk, type LoopDisk } from './helpers/loop-disk.ts'

const context = new LocalContext()

async function disk(options: Parameters<typeof prepareLoopDisk>[0] = {}): Promise<LoopDisk> {
  const prepared = await prepareLoopDisk(options)
  onTestFinished(() => prepared.cleanup())
  return prepared
}

async function rejection(promise: Promise<unknown>): Promise<MountError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(MountError)
  return error as MountError
}

describe.skipIf(!isRoot)('mounting real loop devices through a test fstab (needs root)', () => {
  let etcFstab: string | undefined

  beforeAll(async () => {
    etcFstab = await fs.readFile('/etc/fstab', 'utf8').catch(() => undefined)
  })

  afterAll(async () => {
    expect(await leftovers()).toEqual([])
    expect(await fs.readFile('/etc/fstab', 'utf8').catch(() => undefined)).toBe(etcFstab)
  })

  it('mounts when needed, checks, and unmounts on undo', async () => {
    const d = await disk()
    expect(await isMountPoint(d.mountPoint, { context })).toBe(false)
    const handle = await ensureMounted(d.mountPoint, { context, fstab: d.fstab })
    expect(handle.mountedByUs).toBe(true)
    expect(await isMountPoint(d.mountPoint, { context })).toBe(true)
    const mounts = await readMounts({ context })
    expect(mounts.entries.find((e) => e.mountPoint === d.mountPoint)).toMatchObject({ spec: d.device, type: 'ext4' })
    await fs.writeFile(path.join(d.mountPoint, 'file.txt'), 'data')
    await handle.undo()
    expect(await isMountPoint(d.mountPoint, { context })).toBe(false)
    await expect(fs.readFile(path.join(d.mountPoint, 'file.txt'))).rejects.toThrow()
    await handle.undo()
    // the data is on the filesystem
    await runChecked('mount', [d.device, d.mountPoint])
    expect(await fs.readFile(path.join(d.mountPoint, 'file.txt'), 'utf8')).toBe('data')
    await unmount(d.mountPoint, { context })
  })

  it('leaves an already mounted filesystem alone', async () => {
    const d = await disk()
    await runChecked('mount', ['--fstab', d.fstab, d.mountPoint])
    const handle = await ensureMounted(d.mountPoint, { context, fstab: d.fstab })
    expect(handle.mountedByUs).toBe(false)
    await handle.undo()
    expect(await isMountPoint(d.mountPoint, { context })).toBe(true)
    await unmount(d.mountPoint, { context })
  })

  it('a device without a filesystem: ERR_RSB_MOUNT_FAILED naming the mount point', async () => {
    const d = await disk({ filesystem: false })
    const error = await rejection(ensureMounted(d.mountPoint, { context, fstab: d.fstab }))
    expect(error).toMatchObject({ code: 'ERR_RSB_MOUNT_FAILED', mountPoint: d.mountPoint, exitCode: 32 })
    expect(error.message).toMatch(new RegExp(`^Failed to mount filesystem! \\(${d.mountPoint}\\): .*wrong fs type`))
    expect(await isMountPoint(d.mountPoint, { context })).toBe(false)
  })

  it('no fstab entry for the directory: ERR_RSB_MOUNT_FAILED', async () => {
    const d = await disk()
    const elsewhere = path.join(d.dir, 'not in fstab')
    await fs.mkdir(elsewhere)
    const error = await rejection(ensureMounted(elsewhere, { context, fstab: d.fstab }))
    expect(error.code).toBe('ERR_RSB_MOUNT_FAILED')
    expect(error.message).toContain(`Failed to mount filesystem! (${elsewhere})`)
    expect(error.message).toContain("can't find in")
  })

  it('mount points with spaces, quotes and $() (octal escapes in fstab)', async () => {
    const d = await disk({ mountPointName: `it's a "$(echo x)"` })
    expect(d.fstabLine).toContain('\\040')
    expect((await readFstab({ context, path: d.fstab })).entries.map((e) => e.mountPoint)).toEqual([d.mountPoint])
    const handle = await ensureMounted(d.mountPoint, { context, fstab: d.fstab })
    expect(handle.mountedByUs).toBe(true)
    expect((await readMounts({ context })).entries.some((e) => e.mountPoint === d.mountPoint)).toBe(true)
    await handle.undo()
    expect(await isMountPoint(d.mountPoint, { context })).toBe(false)
  })

  it('garbage lines in the fstab: warnings with line numbers, the good entry still mounts', async () => {
    const d = await disk()
    await fs.writeFile(d.fstab, `\x00\x01 junk\noops!\n${d.fstabLine}\n/dev/x /y ext4 defaults zz 0\n`)
    const file = await readFstab({ context, path: d.fstab })
    expect(file.entries.map((e) => e.line)).toEqual([3])
    expect(file.warnings.map((w) => w.line)).toEqual([1, 2, 4])
    const handle = await ensureMounted(d.mountPoint, { context, fstab: d.fstab })
    await handle.undo()
  })

  it('a busy filesystem: ERR_RSB_MOUNT_UNMOUNT_FAILED, and undo works once it is free', async () => {
    const d = await disk()
    const handle = await ensureMounted(d.mountPoint, { context, fstab: d.fstab })
    const file = await open(path.join(d.mountPoint, 'open.txt'), 'w')
    try {
      const error = await rejection(handle.undo())
      expect(error).toMatchObject({ code: 'ERR_RSB_MOUNT_UNMOUNT_FAILED', mountPoint: d.mountPoint })
      expect(error.message).toContain('busy')
    } finally {
      await file.close()
    }
    await handle.undo()
    expect(await isMountPoint(d.mountPoint, { context })).toBe(false)
  })

  it('isMountPoint answers for real: /, a plain directory, a missing path', async () => {
    const d = await disk()
    expect(await isMountPoint('/', { context })).toBe(true)
    expect(await isMountPoint(d.dir, { context })).toBe(false)
    expect(await isMountPoint(path.join(d.dir, 'missing'), { context })).toBe(false)
    expect((await readMounts({ context })).entries.some((e) => e.mountPoint === '/')).toBe(true)
  })
})

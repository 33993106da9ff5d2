// Mounting through an SshContext to a real sshd on 127.0.0.1 (the remote host is this machine). Needs root.
import fs from 'node:fs/promises'
import path from 'node:path'
import { SshContext } from '@rsb/exec'
import { isRoot, startSshd, type SshServer } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { ensureMounted, isMountPoint, MountError, readFstab, readMounts } from '../src/index.ts'
import { leftovers, prepareLoopDisk, type LoopDisk } from './helpers/loop-disk.ts'

async function disk(options: Parameters<typeof prepareLoopDisk>[0] = {}): Promise<LoopDisk> {
  const prepared = await prepareLoopDisk(options)
  onTestFinished(() => prepared.cleanup())
  return prepared
}

describe.skipIf(!isRoot)('mount over SSH (loopback sshd, needs root)', () => {
  let server: SshServer
  let context: SshContext

  beforeAll(async () => {
    server = await startSshd()
    context = new SshContext({ host: server.alias, sshConfigFile: server.sshConfigFile })
  })

  afterAll(async () => {
    await context?.close()
    await server?.stop()
    expect(await leftovers()).toEqual([])
  })

  it('mounts and unmounts on the remote host (mount point with spaces, quotes and $())', async () => {
    const d = await disk({ mountPointName: `remote it's "$(echo x)"` })
    expect(await isMountPoint(d.mountPoint, { context })).toBe(false)
    const handle = await ensureMounted(d.mountPoint, { context, fstab: d.fstab })
    expect(handle.mountedByUs).toBe(true)
    expect(await isMountPoint(d.mountPoint, { context })).toBe(true)
    expect((await readMounts({ context })).entries.find((e) => e.mountPoint === d.mountPoint)?.spec).toBe(d.device)
    expect((await ensureMounted(d.mountPoint, { context, fstab: d.fstab })).mountedByUs).toBe(false)
    await handle.undo()
    expect(await isMountPoint(d.mountPoint, { context })).toBe(false)
  })

  it('a failing remote mount: ERR_RSB_MOUNT_FAILED naming the mount point', async () => {
    const d = await disk({ filesystem: false })
    const error = await ensureMounted(d.mountPoint, { context, fstab: d.fstab }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MountError)
    expect(error).toMatchObject({ code: 'ERR_RSB_MOUNT_FAILED', mountPoint: d.mountPoint })
    expect((error as Error).message).toContain(`(${d.mountPoint})`)
  })

  it('reads a remote fstab, and a missing path is not a mount point', async () => {
    const d = await disk()
    expect((await readFstab({ context, path: d.fstab })).entries.map((e) => e.mountPoint)).toEqual([d.mountPoint])
    expect(await isMountPoint(path.join(d.dir, 'missing'), { context })).toBe(false)
    await expect(readFstab({ context, path: path.join(d.dir, 'missing') })).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_COMMAND_FAILED' })
    expect(await fs.readFile(d.fstab, 'utf8')).toContain(d.fstabLine)
  })
})

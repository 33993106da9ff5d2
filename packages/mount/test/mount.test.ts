// Command shapes of the mount functions against a recording context (no processes).
import { describe, expect, it } from 'vitest'
import { ensureMounted, isMountPoint, MountError, unmount, type MountEvent } from '../src/index.ts'
import { FakeContext, mountMachine } from './helpers/fake-context.ts'

async function rejection(promise: Promise<unknown>): Promise<MountError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(MountError)
  return error as MountError
}

describe('isMountPoint', () => {
  it.each([
    [0, true],
    [32, false],
    [1, false],
  ])('mountpoint status %i → %s', async (status, expected) => {
    const context = new FakeContext(() => ({ exitCode: status }))
    expect(await isMountPoint('/mnt/x', { context })).toBe(expected)
    expect(context.commands).toEqual(['mountpoint /mnt/x'])
  })

  it('uses the context sudo setting', async () => {
    const context = new FakeContext(() => ({}), { privileged: false, sudo: true })
    await isMountPoint('/mnt/x', { context })
    expect(context.commands).toEqual(['sudo -n mountpoint /mnt/x'])
  })

  it('reports a missing mountpoint program and a sudo password prompt instead of answering false', async () => {
    await expect(isMountPoint('/x', { context: new FakeContext(() => ({ exitCode: 127 })) })).rejects.toMatchObject({
      code: 'ERR_RSB_EXEC_NOT_FOUND',
    })
    const sudo = new FakeContext(() => ({ exitCode: 1, stderr: 'sudo: a password is required\n' }), { privileged: false, sudo: true })
    await expect(isMountPoint('/x', { context: sudo })).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_SUDO_PASSWORD' })
  })
})

describe('ensureMounted', () => {
  it('mounts with sudo (always requested), checks again, and unmounts once on undo', async () => {
    const mounted = new Set<string>()
    const context = new FakeContext(mountMachine(mounted), { privileged: false })
    const events: MountEvent[] = []
    const handle = await ensureMounted('/mnt/backups', { context, onEvent: (e) => events.push(e) })
    expect(handle).toMatchObject({ mountPoint: '/mnt/backups', mountedByUs: true })
    expect(context.commands).toEqual(['mountpoint /mnt/backups', 'sudo -n mount /mnt/backups', 'mountpoint /mnt/backups'])
    context.calls.length = 0
    await handle.undo()
    await handle.undo()
    expect(context.commands).toEqual(['sudo -n umount /mnt/backups', 'mountpoint /mnt/backups'])
    expect(events.map((e) => e.type)).toEqual(['mounting', 'mounted', 'unmounting', 'unmounted'])
  })

  it('drops sudo as root and passes a private fstab with --fstab', async () => {
    const context = new FakeContext(mountMachine(new Set()), { privileged: true })
    await ensureMounted('/mnt/my disk', { context, fstab: '/tmp/test fstab' })
    expect(context.commands).toEqual(['mountpoint /mnt/my disk', 'mount --fstab /tmp/test fstab /mnt/my disk', 'mountpoint /mnt/my disk'])
  })

  it('undo still unmounts after the signal given to ensureMounted was aborted (cleanups after SIGINT)', async () => {
    const context = new FakeContext(mountMachine(new Set()))
    const controller = new AbortController()
    const handle = await ensureMounted('/mnt/backups', { context, signal: controller.signal })
    controller.abort()
    await handle.undo()
    expect(await isMountPoint('/mnt/backups', { context })).toBe(false)
  })

  it('does nothing and undoes nothing when already mounted', async () => {
    const context = new FakeContext(mountMachine(new Set(['/mnt/backups'])))
    const events: MountEvent[] = []
    const handle = await ensureMounted('/mnt/backups', { context, onEvent: (e) => events.push(e) })
    expect(handle.mountedByUs).toBe(false)
    await handle.undo()
    expect(context.commands).toEqual(['mountpoint /mnt/backups'])
    expect(events).toEqual([{ type: 'already-mounted', mountPoint: '/mnt/backups' }])
  })

  it('ERR_RSB_MOUNT_FAILED naming the mount point when mount fails', async () => {
    const context = new FakeContext(
      mountMachine(new Set(), { mount: () => ({ exitCode: 1, stderr: "mount: /mnt/backups: can't find in /etc/fstab.\n" }) }),
    )
    const error = await rejection(ensureMounted('/mnt/backups', { context }))
    expect(error).toMatchObject({ code: 'ERR_RSB_MOUNT_FAILED', mountPoint: '/mnt/backups', exitCode: 1 })
    expect(error.message).toBe("Failed to mount filesystem! (/mnt/backups): mount: /mnt/backups: can't find in /etc/fstab.")
    expect((error.cause as { code?: string }).code).toBe('ERR_RSB_EXEC_COMMAND_FAILED')
  })

  it('ERR_RSB_MOUNT_FAILED when mount succeeds but the directory is still not a mount point', async () => {
    const context = new FakeContext(mountMachine(new Set(), { mount: () => ({ exitCode: 0 }) }))
    const error = await rejection(ensureMounted('/mnt/backups', { context }))
    expect(error.message).toBe('Failed to mount filesystem! (/mnt/backups)')
    expect(context.commands).toEqual(['mountpoint /mnt/backups', 'mount /mnt/backups', 'mountpoint /mnt/backups'])
  })

  it('ERR_RSB_MOUNT_UNMOUNT_FAILED when umount fails; undo can be retried', async () => {
    let busy = true
    const context = new FakeContext(
      mountMachine(new Set(), { umount: () => (busy ? { exitCode: 32, stderr: 'umount: /mnt/backups: target is busy.\n' } : {}) }),
    )
    const handle = await ensureMounted('/mnt/backups', { context })
    const error = await rejection(handle.undo())
    expect(error).toMatchObject({ code: 'ERR_RSB_MOUNT_UNMOUNT_FAILED', exitCode: 32 })
    expect(error.message).toBe('Failed to unmount filesystem! (/mnt/backups): umount: /mnt/backups: target is busy.')
    busy = false
    await handle.undo()
    expect(await isMountPoint('/mnt/backups', { context })).toBe(false)
    await expect(unmount('/mnt/backups', { context })).rejects.toMatchObject({ code: 'ERR_RSB_MOUNT_UNMOUNT_FAILED' })
  })
})

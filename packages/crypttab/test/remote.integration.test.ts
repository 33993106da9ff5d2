// Unlocking and locking through an SshContext to a real sshd on 127.0.0.1 (the "remote" host is this machine, so
// the LUKS images, loop devices and stand-ins prepared locally are the remote host's). Needs root.
import fs from 'node:fs/promises'
import { SshContext } from '@rsb/exec'
import { isRoot, startSshd, type SshServer } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findCrypttabEntry, isAvailable, isUnlocked, readCrypttab, unlock } from '../src/index.ts'
import { disk, leftovers, rejection, withStandIns } from './helpers/luks-disk.ts'

describe.skipIf(!isRoot)('unlock and lock over SSH (loopback sshd, needs root)', () => {
  let server: SshServer
  let context: SshContext

  beforeAll(async () => {
    server = await startSshd()
    // sshd gives sessions its own PATH: put the stand-ins first on every remote command's PATH
    context = withStandIns(new SshContext({ host: server.alias, sshConfigFile: server.sshConfigFile }))
  })

  afterAll(async () => {
    await context?.close()
    await server?.stop()
    expect(await leftovers()).toEqual([])
  })

  it('unlocks with cryptdisks_start and locks with cryptdisks_stop on the remote host, over one connection', async () => {
    const d = await disk({ name: `rsb-luks-remote it's "$(x)"` })
    const before = await server.connectionCount()
    const handle = await unlock(d.name, { context, path: d.crypttab })
    expect(handle).toMatchObject({ unlockedByUs: true, method: 'cryptdisks' })
    expect(await fs.readlink(d.mapper)).toBe(d.plainDevice)
    expect(await isUnlocked(d.name, { context })).toBe(true)
    expect((await unlock(d.name, { context, path: d.crypttab })).unlockedByUs).toBe(false)
    await handle.undo()
    expect(await isUnlocked(d.name, { context })).toBe(false)
    expect(await server.connectionCount()).toBeLessThanOrEqual(before + 1)
  })

  it('the cryptsetup fallback works remotely too', async () => {
    const d = await disk({ options: 'luks,discard' })
    const handle = await unlock(d.name, { context, path: d.crypttab, method: 'cryptsetup' })
    expect(handle.method).toBe('cryptsetup')
    expect(await isUnlocked(d.name, { context })).toBe(true)
    await handle.undo()
    expect(await isUnlocked(d.name, { context })).toBe(false)
  })

  it('reads the remote crypttab (path with spaces) and answers the state questions remotely', async () => {
    const d = await disk()
    const spaced = `${d.dir}/my crypttab 'quoted'`
    await fs.writeFile(spaced, `${d.crypttabLine}\nbroken\n`)
    const file = await readCrypttab({ context, path: spaced })
    expect(file.entries.map((e) => e.target)).toEqual([d.name])
    expect(file.warnings).toEqual([{ line: 2, message: expect.stringContaining('broken') as string }])
    const entry = await findCrypttabEntry(d.name, { context, path: spaced })
    expect(await isAvailable(entry, { context })).toBe(true)
    const handle = await unlock(d.name, { context, path: spaced })
    await handle.undo()
  })

  it('errors: unknown name, missing disk, missing key file, no key file without a terminal', async () => {
    const d = await disk({ source: 'file' })
    expect((await rejection(unlock('rsb-luks-unknown', { context, path: d.crypttab }))).code).toBe('ERR_RSB_CRYPTTAB_NO_ENTRY')
    await fs.appendFile(d.crypttab, `rsb-luks-gone ${d.dir}/gone.img ${d.keyFile} luks\nrsb-luks-nokey ${d.image} none luks\n`)
    expect((await rejection(unlock('rsb-luks-gone', { context, path: d.crypttab }))).code).toBe('ERR_RSB_CRYPTTAB_MISSING_DISK')
    // SSH contexts are not interactive: a passphrase could never be typed
    expect((await rejection(unlock('rsb-luks-nokey', { context, path: d.crypttab }))).code).toBe('ERR_RSB_CRYPTTAB_PASSPHRASE_REQUIRED')
    await fs.rm(d.keyFile)
    expect((await rejection(unlock(d.name, { context, path: d.crypttab }))).code).toBe('ERR_RSB_CRYPTTAB_KEY_MISSING')
    expect(await isUnlocked(d.name, { context })).toBe(false)
  })

  it('a wrong key fails remotely with the real key check message', async () => {
    const d = await disk()
    await fs.writeFile(d.keyFile, 'wrong key')
    const error = await rejection(unlock(d.name, { context, path: d.crypttab }))
    expect(error.code).toBe('ERR_RSB_CRYPTTAB_UNLOCK_FAILED')
    expect(error.message).toContain('No key available with this passphrase.')
  })
})

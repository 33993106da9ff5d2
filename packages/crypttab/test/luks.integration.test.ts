// Real LUKS images, real loop devices, real key checks, real mounts; the device-mapper step is done by the
// stand-ins in fixtures/bin (this kernel has no device-mapper). Needs root (CI runs as root).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { LocalContext } from '@rsb/exec'
import { isRoot, runChecked } from '@rsb/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { findCrypttabEntry, isAvailable, isUnlocked, lock, readCrypttab, unlock, type UnlockMethod } from '../src/index.ts'
import { disk, leftovers, REAL_CRYPTSETUP, rejection, STAND_IN_PATH, withStandIns } from './helpers/luks-disk.ts'

const context = withStandIns(new LocalContext({ interactive: false }))

async function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    () => false,
  )
}

describe.skipIf(!isRoot)('unlocking real LUKS images with the stand-ins (needs root)', () => {
  afterAll(async () => {
    expect(await leftovers()).toEqual([])
  })

  it('prepares a genuine LUKS image that the real cryptsetup recognises, opening with the key file only', async () => {
    const d = await disk()
    expect(spawnSync(REAL_CRYPTSETUP as string, ['isLuks', d.image]).status).toBe(0)
    expect(spawnSync('file', [d.image], { encoding: 'utf8' }).stdout).toContain('LUKS')
    const good = spawnSync(REAL_CRYPTSETUP as string, ['open', '--test-passphrase', `--key-file=${d.keyFile}`, d.image])
    expect(good.status).toBe(0)
    expect((await fs.stat(d.keyFile)).mode & 0o777).toBe(0o400)
  })

  describe.each<UnlockMethod>(['cryptdisks', 'cryptsetup'])('unlocking and locking with method %s', (method) => {
    it('start → present; start again → no-op; stop → absent; stop again → no-op', async () => {
      const d = await disk({ options: 'discard,luks,noauto,readonly,tries=1' })
      const options = { context, path: d.crypttab, method }
      expect(await exists(d.mapper)).toBe(false)

      const first = await unlock(d.name, options)
      expect(first).toMatchObject({ unlockedByUs: true, method, device: d.mapper })
      expect(await fs.readlink(d.mapper)).toBe(d.plainDevice)
      expect(await isUnlocked(d.name, { context })).toBe(true)

      const second = await unlock(d.name, options)
      expect(second.unlockedByUs).toBe(false)
      await second.undo()
      expect(await isUnlocked(d.name, { context })).toBe(true)

      // the unlocked device holds a filesystem that mounts for real
      await runChecked('mount', [d.mapper, d.mountPoint])
      await fs.writeFile(path.join(d.mountPoint, 'data.txt'), 'on the disk')
      await runChecked('umount', [d.mountPoint])

      await first.undo()
      expect(await exists(d.mapper)).toBe(false)
      await first.undo()
      expect(await lock(d.name, { context, method })).toBe(false)
      expect(await exists(d.mapper)).toBe(false)
    })

    it('unknown target: ERR_RSB_CRYPTTAB_NO_ENTRY, nothing unlocked', async () => {
      const d = await disk()
      const error = await rejection(unlock(`${d.name}-invalid`, { context, path: d.crypttab, method }))
      expect(error.code).toBe('ERR_RSB_CRYPTTAB_NO_ENTRY')
      expect(error.message).toBe(`No entry named '${d.name}-invalid' in ${d.crypttab}.`)
      expect(await exists(`${d.mapper}-invalid`)).toBe(false)
    })

    it('a wrong key: ERR_RSB_CRYPTTAB_UNLOCK_FAILED from the real key check', async () => {
      const d = await disk()
      const wrongKey = path.join(d.dir, 'wrong key')
      await fs.writeFile(wrongKey, 'not the key', { mode: 0o400 })
      await fs.writeFile(d.crypttab, `${d.name} ${d.source} ${wrongKey.replace(' ', '\\040')} luks\n`)
      const error = await rejection(unlock(d.name, { context, path: d.crypttab, method }))
      expect(error.code).toBe('ERR_RSB_CRYPTTAB_UNLOCK_FAILED')
      expect(error.message).toBe(`Failed to unlock encrypted filesystem! (${d.name}): No key available with this passphrase.`)
      expect(error.exitCode).toBe(method === 'cryptsetup' ? 2 : 1)
      expect(await exists(d.mapper)).toBe(false)
    })
  })

  it('stops a native unknown name without error (Debian 12 exits 0), and the fallback does nothing', async () => {
    expect(await lock('rsb-luks-never-unlocked', { context, method: 'cryptdisks' })).toBe(false)
    expect(await lock('rsb-luks-never-unlocked', { context, method: 'cryptsetup' })).toBe(false)
  })

  it('a missing key file: ERR_RSB_CRYPTTAB_KEY_MISSING before anything runs', async () => {
    const d = await disk()
    await fs.rm(d.keyFile)
    const error = await rejection(unlock(d.name, { context, path: d.crypttab }))
    expect(error).toMatchObject({ code: 'ERR_RSB_CRYPTTAB_KEY_MISSING', device: d.keyFile })
    expect(await exists(d.mapper)).toBe(false)
  })

  it('a disk that is not plugged in: ERR_RSB_CRYPTTAB_MISSING_DISK', async () => {
    const d = await disk({ source: 'file' })
    const gone = path.join(d.dir, 'unplugged.img')
    await fs.appendFile(d.crypttab, `${d.name}-gone ${gone} ${d.keyFile} luks\n`)
    const entry = await findCrypttabEntry(`${d.name}-gone`, { context, path: d.crypttab })
    expect(await isAvailable(entry, { context })).toBe(false)
    const error = await rejection(unlock(`${d.name}-gone`, { context, path: d.crypttab }))
    expect(error).toMatchObject({ code: 'ERR_RSB_CRYPTTAB_MISSING_DISK', device: gone })
    // an image file works as a source (Debian uses a regular file as is)
    expect((await unlock(d.name, { context, path: d.crypttab })).unlockedByUs).toBe(true)
    await lock(d.name, { context })
  })

  it('UUID= sources: available through the /dev/disk/by-uuid link, missing without it', async () => {
    const d = await disk({ source: 'uuid' })
    const entry = await findCrypttabEntry(d.name, { context, path: d.crypttab })
    expect(entry.source).toBe(`UUID=${d.uuid}`)
    expect(await isAvailable(entry, { context })).toBe(true)
    const handle = await unlock(d.name, { context, path: d.crypttab })
    expect(handle.unlockedByUs).toBe(true)
    await handle.undo()
    await fs.rm(`/dev/disk/by-uuid/${d.uuid}`)
    expect(await isAvailable(entry, { context })).toBe(false)
    expect((await rejection(unlock(d.name, { context, path: d.crypttab }))).code).toBe('ERR_RSB_CRYPTTAB_MISSING_DISK')
  })

  it('a mounted device cannot be locked (ERR_RSB_CRYPTTAB_LOCK_FAILED); undo works after unmounting', async () => {
    const d = await disk()
    const handle = await unlock(d.name, { context, path: d.crypttab })
    await runChecked('mount', ['--fstab', d.fstab, d.mountPoint])
    const error = await rejection(handle.undo())
    expect(error.code).toBe('ERR_RSB_CRYPTTAB_LOCK_FAILED')
    expect(error.message).toBe(`Failed to lock encrypted filesystem! (${d.name}): Stopping crypto disk...${d.name} (busy)...failed.`)
    expect(await isUnlocked(d.name, { context })).toBe(true)
    await runChecked('umount', [d.mountPoint])
    await handle.undo()
    expect(await isUnlocked(d.name, { context })).toBe(false)
  })

  it('no key file: refused when not interactive; interactive, the passphrase typed at the terminal unlocks', async () => {
    const d = await disk({ key: 'none' })
    const error = await rejection(unlock(d.name, { context, path: d.crypttab }))
    expect(error.code).toBe('ERR_RSB_CRYPTTAB_PASSPHRASE_REQUIRED')
    // A child process stands for an interactive rsb: its standard input is what the person types.
    const dist = (pkg: string) => JSON.stringify(path.resolve(import.meta.dirname, `../../${pkg}/dist/index.js`))
    const typed = (passphrase: string) =>
      spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { LocalContext } from ${dist('exec')}
           import { unlock } from ${dist('crypttab')}
           try {
             const handle = await unlock(${JSON.stringify(d.name)}, { context: new LocalContext({ interactive: true }), path: ${JSON.stringify(d.crypttab)}, method: 'cryptsetup' })
             console.log('unlocked', handle.unlockedByUs)
           } catch (e) { console.log(e.code) }`,
        ],
        { input: `${passphrase}\n`, encoding: 'utf8', env: { ...process.env, PATH: STAND_IN_PATH } },
      )
    expect(typed('not the passphrase').stdout.trim().split('\n').at(-1)).toBe('ERR_RSB_CRYPTTAB_UNLOCK_FAILED')
    expect(await isUnlocked(d.name, { context })).toBe(false)
    expect(typed(d.passphrase).stdout.trim().split('\n').at(-1)).toBe('unlocked true')
    expect(await isUnlocked(d.name, { context })).toBe(true)
    await lock(d.name, { context })
    expect(await isUnlocked(d.name, { context })).toBe(false)
  })

  it('names and paths with spaces, quotes and $() pass through untouched', async () => {
    const d = await disk({ name: `rsb-luks-it's a "$(echo x)"`, source: 'file' })
    expect(d.crypttabLine.startsWith(`rsb-luks-it's\\0040a\\0040"$(echo\\0040x)"`)).toBe(true)
    for (const method of ['cryptdisks', 'cryptsetup'] as const) {
      const handle = await unlock(d.name, { context, path: d.crypttab, method })
      expect(await fs.readlink(`/dev/mapper/${d.name}`)).toBe(d.plainDevice)
      await handle.undo()
      expect(await exists(`/dev/mapper/${d.name}`)).toBe(false)
    }
  })

  it('garbage around a good line: warnings with line numbers, the good entry still unlocks', async () => {
    const d = await disk()
    const garbage = Buffer.concat([
      Buffer.from('\x00\x01\x02 binary\n'),
      Buffer.from(`oops!\n${d.crypttabLine}\n\xff\xfe\n  lonely\n`, 'latin1'),
    ])
    await fs.writeFile(d.crypttab, garbage)
    const file = await readCrypttab({ context, path: d.crypttab })
    expect(file.entries.map((e) => [e.line, e.target])).toEqual([[3, d.name]])
    expect(file.warnings.map((w) => w.line)).toEqual([1, 2, 4, 5])
    const handle = await unlock(d.name, { context, path: d.crypttab })
    await handle.undo()
  })

  it('reads /etc/crypttab by default and never touches it', async () => {
    const before = await fs.readFile('/etc/crypttab', 'utf8').catch(() => undefined)
    const file = await readCrypttab({ context })
    expect(file.path).toBe('/etc/crypttab')
    expect(file.exists).toBe(before !== undefined)
    expect((await rejection(unlock('rsb-luks-not-in-etc-crypttab', { context }))).code).toBe('ERR_RSB_CRYPTTAB_NO_ENTRY')
    expect(await fs.readFile('/etc/crypttab', 'utf8').catch(() => undefined)).toBe(before)
  })
})

// Command shapes of unlock/lock against a recording context (no processes): what runs, in which order, with
// which sudo prefix, and which error comes out. The real thing is in luks.integration.test.ts.
import { describe, expect, it } from 'vitest'
import { CrypttabError, findCrypttabEntry, isAvailable, isUnlocked, lock, readCrypttab, unlock, type CrypttabEvent } from '../src/index.ts'
import { FakeContext, machineHandler, type FakeMachine } from './helpers/fake-context.ts'

const LINE = 'backups /dev/sdb1 /root/keys/backups.key luks,discard,noauto,readonly\n'

function machine(crypttab: string | null = LINE, files: string[] = ['/dev/sdb1', '/root/keys/backups.key']): FakeMachine {
  const map = new Map<string, string>(files.map((f) => [f, '']))
  if (crypttab !== null) map.set('/etc/crypttab', crypttab)
  return { files: map, programs: new Set(['cryptdisks_start', 'cryptdisks_stop']) }
}

async function failure(promise: Promise<unknown>): Promise<CrypttabError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(CrypttabError)
  return error as CrypttabError
}

describe('unlock (recorded commands)', () => {
  it('runs cryptdisks_start with sudo for a non-root user, and cryptdisks_stop on undo', async () => {
    const m = machine()
    const context = new FakeContext(machineHandler(m), { privileged: false })
    const events: CrypttabEvent[] = []
    const handle = await unlock('backups', { context, onEvent: (e) => events.push(e) })
    expect(handle).toMatchObject({ target: 'backups', device: '/dev/mapper/backups', unlockedByUs: true, method: 'cryptdisks' })
    expect(context.commands).toEqual([
      'test -f /etc/crypttab',
      'cat /etc/crypttab',
      'test -e /dev/sdb1',
      'test -e /dev/mapper/backups',
      'sudo -n test -e /root/keys/backups.key',
      'sudo -n which cryptdisks_start',
      'sudo -n cryptdisks_start backups',
      'test -e /dev/mapper/backups',
    ])
    context.calls.length = 0
    await handle.undo()
    await handle.undo()
    // undo locks the way the device was unlocked (no new lookup)
    expect(context.commands).toEqual(['test -e /dev/mapper/backups', 'sudo -n cryptdisks_stop backups', 'test -e /dev/mapper/backups'])
    expect(events).toEqual([
      { type: 'unlocking', target: 'backups', method: 'cryptdisks' },
      { type: 'unlocked', target: 'backups' },
      { type: 'locking', target: 'backups', method: 'cryptdisks' },
      { type: 'locked', target: 'backups' },
    ])
  })

  it('uses the context sudo setting for reading and checks, and drops sudo when root', async () => {
    const m = machine()
    const context = new FakeContext(machineHandler(m), { privileged: false, sudo: true })
    await unlock('backups', { context })
    expect(context.commands.slice(0, 4)).toEqual([
      'sudo -n test -f /etc/crypttab',
      'sudo -n cat /etc/crypttab',
      'sudo -n test -e /dev/sdb1',
      'sudo -n test -e /dev/mapper/backups',
    ])
    const root = new FakeContext(machineHandler(machine()), { privileged: true, sudo: true })
    await unlock('backups', { context: root })
    expect(root.commands.filter((c) => c.includes('sudo'))).toEqual([])
    expect(root.commands).toContain('cryptdisks_start backups')
  })

  it('passes a crypttab other than /etc/crypttab to cryptdisks_start as TABFILE', async () => {
    const m = machine(null)
    m.files.set('/srv/test crypttab', LINE)
    const context = new FakeContext(machineHandler(m), { privileged: false })
    await unlock('backups', { context, path: '/srv/test crypttab' })
    // no NAME=value for sudo (a rule without SETENV refuses it): named in --preserve-env, the value in the environment
    expect(context.calls.find((c) => c.argv.at(-2) === 'cryptdisks_start')).toMatchObject({
      argv: ['sudo', '-n', '--preserve-env=TABFILE', 'cryptdisks_start', 'backups'],
      env: { TABFILE: '/srv/test crypttab' },
    })
    const root = new FakeContext(machineHandler(m), { privileged: true })
    m.files.delete('/dev/mapper/backups')
    await unlock('backups', { context: root, path: '/srv/test crypttab' })
    expect(root.calls.find((c) => c.argv[0] === 'cryptdisks_start')).toMatchObject({
      argv: ['cryptdisks_start', 'backups'],
      env: { TABFILE: '/srv/test crypttab' },
      terminal: false,
    })
  })

  it('falls back to cryptsetup luksOpen with sorted flags, and luksClose on undo', async () => {
    const m = machine()
    m.programs.clear()
    const context = new FakeContext(machineHandler(m), { privileged: false })
    const handle = await unlock('backups', { context })
    expect(handle.method).toBe('cryptsetup')
    expect(context.commands.slice(-3)).toEqual([
      'sudo -n which cryptdisks_start',
      'sudo -n cryptsetup --allow-discards --key-file=/root/keys/backups.key --readonly luksOpen /dev/sdb1 backups',
      'test -e /dev/mapper/backups',
    ])
    context.calls.length = 0
    await handle.undo()
    expect(context.commands).toEqual(['test -e /dev/mapper/backups', 'sudo -n cryptsetup luksClose backups', 'test -e /dev/mapper/backups'])
  })

  it('asks cryptsetup isLuks in the fallback when the entry lacks the luks option', async () => {
    const m = machine('plain /dev/sdb1 /root/keys/backups.key\n')
    m.programs.clear()
    const context = new FakeContext(machineHandler(m))
    const error = await failure(unlock('plain', { context }))
    expect(error.code).toBe('ERR_RSB_CRYPTTAB_UNLOCK_FAILED')
    expect(error.message).toBe(
      'Failed to unlock encrypted filesystem! (plain): /dev/sdb1 is not a LUKS device (the cryptsetup fallback opens LUKS devices only)',
    )
    expect(context.commands).toContain('cryptsetup isLuks /dev/sdb1')
    expect(context.commands.some((c) => c.includes('luksOpen'))).toBe(false)
    m.override = (argv) => (argv[1] === 'isLuks' ? { exitCode: 0 } : undefined)
    expect((await unlock('plain', { context })).unlockedByUs).toBe(true)
  })

  it('can be told which method to use', async () => {
    const m = machine()
    const context = new FakeContext(machineHandler(m))
    await unlock('backups', { context, method: 'cryptsetup' })
    expect(context.commands.some((c) => c.startsWith('which'))).toBe(false)
    expect(context.commands).toContain(
      'cryptsetup --allow-discards --key-file=/root/keys/backups.key --readonly luksOpen /dev/sdb1 backups',
    )
    expect(await lock('backups', { context, method: 'cryptsetup' })).toBe(true)
    expect(await lock('backups', { context, method: 'cryptsetup' })).toBe(false)
    expect(context.commands.filter((c) => c.includes('luksClose'))).toHaveLength(1)
  })

  it('does nothing and undoes nothing when the device is unlocked already', async () => {
    const m = machine()
    m.files.set('/dev/mapper/backups', '')
    const context = new FakeContext(machineHandler(m))
    const events: CrypttabEvent[] = []
    const handle = await unlock('backups', { context, onEvent: (e) => events.push(e) })
    expect(handle).toMatchObject({ unlockedByUs: false, method: undefined })
    await handle.undo()
    expect(context.commands).toEqual(['test -f /etc/crypttab', 'cat /etc/crypttab', 'test -e /dev/sdb1', 'test -e /dev/mapper/backups'])
    expect(events).toEqual([{ type: 'already-unlocked', target: 'backups' }])
  })

  it('ERR_RSB_CRYPTTAB_NO_ENTRY: only crypttab is read', async () => {
    const context = new FakeContext(machineHandler(machine()))
    const error = await failure(unlock('unknown', { context }))
    expect(error).toMatchObject({ code: 'ERR_RSB_CRYPTTAB_NO_ENTRY', target: 'unknown', file: '/etc/crypttab' })
    expect(error.message).toBe("No entry named 'unknown' in /etc/crypttab.")
    expect(error.hint).toBe('Check the first column of /etc/crypttab or the --crypto value.')
    expect(context.commands).toEqual(['test -f /etc/crypttab', 'cat /etc/crypttab'])

    const none = new FakeContext(machineHandler(machine(null)))
    const missing = await failure(unlock('backups', { context: none }))
    expect(missing.message).toBe("No entry named 'backups' in /etc/crypttab (the file does not exist).")
    expect(none.commands).toEqual(['test -f /etc/crypttab'])
  })

  it('ERR_RSB_CRYPTTAB_MISSING_DISK: nothing is unlocked when the source device is absent', async () => {
    const m = machine('backups UUID=1012DD1A-A455 /k luks\n', ['/k'])
    const context = new FakeContext(machineHandler(m))
    const error = await failure(unlock('backups', { context }))
    expect(error).toMatchObject({ code: 'ERR_RSB_CRYPTTAB_MISSING_DISK', device: '/dev/disk/by-uuid/1012DD1A-A455' })
    expect(error.message).toBe(
      "Encrypted filesystem backups isn't available! (the device file /dev/disk/by-uuid/1012DD1A-A455 doesn't exist)",
    )
    expect(context.commands).toEqual([
      'test -f /etc/crypttab',
      'cat /etc/crypttab',
      'test -e /dev/disk/by-uuid/1012DD1A-A455',
      'test -e /dev/disk/by-uuid/1012dd1a-a455',
    ])
    m.files.set('/dev/disk/by-uuid/1012dd1a-a455', '')
    expect((await unlock('backups', { context })).unlockedByUs).toBe(true)
    expect(context.commands).toContain('cryptdisks_start backups')
  })

  it('ERR_RSB_CRYPTTAB_KEY_MISSING before anything runs', async () => {
    const context = new FakeContext(machineHandler(machine(LINE, ['/dev/sdb1'])))
    const error = await failure(unlock('backups', { context }))
    expect(error).toMatchObject({ code: 'ERR_RSB_CRYPTTAB_KEY_MISSING', device: '/root/keys/backups.key' })
    expect(context.commands.some((c) => c.includes('cryptdisks') || c.includes('cryptsetup'))).toBe(false)
  })

  it('ERR_RSB_CRYPTTAB_PASSPHRASE_REQUIRED without a key file in a non-interactive context; runs when interactive', async () => {
    const m = machine('usb /dev/sdb1 none luks\n')
    const error = await failure(unlock('usb', { context: new FakeContext(machineHandler(m)) }))
    expect(error.code).toBe('ERR_RSB_CRYPTTAB_PASSPHRASE_REQUIRED')
    const interactive = new FakeContext(machineHandler(m), { interactive: true })
    expect((await unlock('usb', { context: interactive })).unlockedByUs).toBe(true)
    // the passphrase prompt gets the user's terminal; nothing else does
    expect(interactive.calls.filter((c) => c.terminal).map((c) => c.argv.join(' '))).toEqual(['cryptdisks_start usb'])
    // a keyscript provides the key itself
    const scripted = machine('usb /dev/sdb1 /dev/sdc1 luks,keyscript=decrypt_keyctl\n')
    expect((await unlock('usb', { context: new FakeContext(machineHandler(scripted)) })).unlockedByUs).toBe(true)
  })

  it('ERR_RSB_CRYPTTAB_INVALID_ENTRY for malformed option values', async () => {
    const context = new FakeContext(machineHandler(machine('backups /dev/sdb1 /root/keys/backups.key luks,tries=x\n')))
    const error = await failure(unlock('backups', { context }))
    expect(error.code).toBe('ERR_RSB_CRYPTTAB_INVALID_ENTRY')
    expect(error.message).toBe("The entry of backups (line 1 of /etc/crypttab) cannot be used: invalid value for option 'tries': 'x'.")
  })

  it('ERR_RSB_CRYPTTAB_UNLOCK_FAILED with the command output when cryptdisks_start fails', async () => {
    const m = machine()
    m.override = (argv) =>
      argv[0] === 'cryptdisks_start'
        ? {
            exitCode: 1,
            stdout: 'Starting crypto disk...backups (starting)...backups (failed)...failed.\n',
            stderr: 'No key available with this passphrase.\n',
          }
        : undefined
    const context = new FakeContext(machineHandler(m))
    const error = await failure(unlock('backups', { context }))
    expect(error).toMatchObject({ code: 'ERR_RSB_CRYPTTAB_UNLOCK_FAILED', exitCode: 1, device: '/dev/sdb1' })
    expect(error.message).toBe('Failed to unlock encrypted filesystem! (backups): No key available with this passphrase.')
    expect(error.stderrTail).toBe(
      'Starting crypto disk...backups (starting)...backups (failed)...failed.\nNo key available with this passphrase.',
    )
    expect((error.cause as { code?: string }).code).toBe('ERR_RSB_EXEC_COMMAND_FAILED')
  })

  it('ERR_RSB_CRYPTTAB_UNLOCK_FAILED when /dev/mapper/NAME does not appear after a successful command', async () => {
    const m = machine()
    m.override = (argv) => (argv[0] === 'cryptdisks_start' ? { exitCode: 0 } : undefined)
    const error = await failure(unlock('backups', { context: new FakeContext(machineHandler(m)) }))
    expect(error.message).toBe('Failed to unlock encrypted filesystem! (backups): /dev/mapper/backups did not appear')
  })

  it('lets a sudo password failure through as the exec error', async () => {
    const m = machine()
    m.override = (argv) => (argv[0] === 'cryptdisks_start' ? { exitCode: 1, stderr: 'sudo: a password is required\n' } : undefined)
    const error = await unlock('backups', { context: new FakeContext(machineHandler(m), { privileged: false }) }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_RSB_EXEC_SUDO_PASSWORD' })
  })

  it('ERR_RSB_CRYPTTAB_LOCK_FAILED when cryptdisks_stop reports busy; undo can be retried', async () => {
    const m = machine()
    const context = new FakeContext(machineHandler(m))
    const handle = await unlock('backups', { context })
    m.override = (argv) =>
      argv[0] === 'cryptdisks_stop' ? { exitCode: 1, stdout: 'Stopping crypto disk...backups (busy)...failed.\n' } : undefined
    const error = await failure(handle.undo())
    expect(error).toMatchObject({ code: 'ERR_RSB_CRYPTTAB_LOCK_FAILED', exitCode: 1 })
    expect(error.message).toBe('Failed to lock encrypted filesystem! (backups): Stopping crypto disk...backups (busy)...failed.')
    m.override = undefined
    await handle.undo()
    expect(await isUnlocked('backups', { context })).toBe(false)
  })

  it('undo still locks after the signal given to unlock was aborted (cleanups after SIGINT)', async () => {
    const context = new FakeContext(machineHandler(machine()))
    const controller = new AbortController()
    const handle = await unlock('backups', { context, signal: controller.signal })
    controller.abort()
    await expect(unlock('backups', { context, signal: controller.signal })).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_ABORTED' })
    await handle.undo()
    expect(await isUnlocked('backups', { context })).toBe(false)
    const cancelled = new AbortController()
    cancelled.abort()
    const again = await unlock('backups', { context })
    await expect(again.undo({ signal: cancelled.signal })).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_ABORTED' })
    await again.undo()
  })

  it('passes names with spaces, quotes and $() as single arguments', async () => {
    const name = `it's a "$(disk)"`
    const m = machine(`it's\\040a\\040"$(disk)" /dev/sdb\\040one /root/keys/backups.key luks\n`, ['/dev/sdb one', '/root/keys/backups.key'])
    m.programs.clear()
    const context = new FakeContext(machineHandler(m))
    await unlock(name, { context })
    expect(context.calls.find((c) => c.argv.includes('luksOpen'))?.argv).toEqual([
      'cryptsetup',
      '--key-file=/root/keys/backups.key',
      'luksOpen',
      '/dev/sdb one',
      name,
    ])
    expect(await isUnlocked(name, { context })).toBe(true)
  })

  it('reads crypttab, reports warnings as events, and answers the state questions each time', async () => {
    const m = machine(`${LINE}oops!\n`)
    const context = new FakeContext(machineHandler(m))
    const events: CrypttabEvent[] = []
    const file = await readCrypttab({ context, onEvent: (e) => events.push(e) })
    expect(file).toMatchObject({ path: '/etc/crypttab', exists: true })
    expect(events).toEqual([{ type: 'warning', file: '/etc/crypttab', line: 2, message: expect.stringContaining('oops!') as string }])
    const entry = await findCrypttabEntry('backups', { context })
    expect(await isAvailable(entry, { context })).toBe(true)
    m.files.delete('/dev/sdb1')
    expect(await isAvailable(entry, { context })).toBe(false)
    expect(await isUnlocked(entry, { context })).toBe(false)
  })
})

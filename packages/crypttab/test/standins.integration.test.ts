// The stand-ins must behave like the real programs. Wherever the real ones can run here (argument handling,
// crypttab lookup, missing devices, key checks, non-root refusal) both are run and compared. Needs root.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process'
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { copyForUsers, isRoot, testdir } from '@rsb/testkit'
import { afterAll, describe, expect, it, onTestFinished } from 'vitest'
import { leftovers, prepareLuksDisk, REAL_CRYPTSETUP, STAND_IN_BIN } from './helpers/luks-disk.ts'

const REAL_START = '/usr/sbin/cryptdisks_start'
const REAL_STOP = '/usr/sbin/cryptdisks_stop'
const hasReal = existsSync(REAL_START) && existsSync(REAL_STOP) && REAL_CRYPTSETUP !== undefined

interface Outcome {
  status: number | null
  stdout: string
  stderr: string
}

function run(file: string, args: readonly string[], options: SpawnSyncOptions = {}): Outcome {
  const result = spawnSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000, ...options })
  // The programs print their own path ($0) in some messages.
  const normalise = (text: unknown) => String(text).replaceAll(file, '$0')
  return { status: result.status, stdout: normalise(result.stdout), stderr: normalise(result.stderr) }
}

const standIn = (name: string) => path.join(STAND_IN_BIN, name)

/**
 * The stand-in NAME as another user can run it: from a copy of the stand-ins outside the checkout (which may lie
 * where only root gets in), removed when the current test finishes.
 */
async function standInForUsers(name: string): Promise<string> {
  const copy = await copyForUsers(STAND_IN_BIN)
  onTestFinished(() => copy.remove())
  return path.join(copy.path, name)
}

describe.skipIf(!isRoot || !hasReal)('the stand-ins against the real Debian programs (needs root)', () => {
  afterAll(async () => {
    expect(await leftovers()).toEqual([])
  })

  it.each([
    ['no arguments', []],
    ['--help', ['--help']],
    ['-?', ['-?']],
    ['an unknown option', ['--bogus', 'x']],
    ['a name not in crypttab', ['rsb-luks-unknown']],
    ['several names', ['rsb-luks-unknown', 'rsb-luks-missing-device']],
    ['a missing source device', ['rsb-luks-missing-device']],
    ['a quiet entry with a missing device', ['rsb-luks-quiet']],
    ['an entry with two fields', ['rsb-luks-two']],
    ['an invalid option value', ['rsb-luks-bad-tries']],
    ['an unknown option in crypttab', ['rsb-luks-unknown-option']],
    ['an encoded name', ['rsb-luks-with space']],
    ['-r with a missing device', ['-r', 'rsb-luks-missing-device']],
    ['-- then a name', ['--', 'rsb-luks-unknown']],
  ])('cryptdisks_start, %s: same output and status', async (_, args) => {
    const dir = await testdir({}, 'rsb-luks-')
    const tab = path.join(dir, 'crypttab')
    await fs.writeFile(
      tab,
      [
        '# comment',
        'rsb-luks-one',
        'rsb-luks-two /dev/null',
        `rsb-luks-missing-device ${dir}/absent.img none luks`,
        `rsb-luks-quiet ${dir}/absent.img none luks,quiet`,
        'rsb-luks-bad-tries /dev/null none luks,tries=x',
        `rsb-luks-unknown-option ${dir}/absent.img none luks,bogus`,
        `rsb-luks-with\\040space ${dir}/absent\\040image.img none luks`,
        '',
      ].join('\n'),
    )
    const env = { ...process.env, TABFILE: tab }
    const real = run(REAL_START, args, { env })
    const fake = run(standIn('cryptdisks_start'), args, { env })
    expect(fake).toEqual(real)
  })

  it.each([
    ['no arguments', []],
    ['a name that is not unlocked', ['rsb-luks-not-unlocked']],
    ['several names', ['rsb-luks-a', 'rsb-luks-b']],
  ])('cryptdisks_stop, %s: same output and status', (_, args) => {
    expect(run(standIn('cryptdisks_stop'), args)).toEqual(run(REAL_STOP, args))
  })

  it.each([
    ['cryptdisks_start', REAL_START],
    ['cryptdisks_stop', REAL_STOP],
  ])('%s refuses non-root users like the real one', async (name, real) => {
    const asNobody = { uid: 65534, gid: 65534, cwd: '/' }
    expect(run(await standInForUsers(name), ['rsb-luks-x'], asNobody)).toEqual(run(real, ['rsb-luks-x'], asNobody))
  })

  it('cryptsetup: the real key check, the same statuses as the real binary', async () => {
    const disk = await prepareLuksDisk({ source: 'file' })
    onTestFinished(() => disk.cleanup())
    const fake = standIn('cryptsetup')
    const real = REAL_CRYPTSETUP as string
    const wrong = path.join(disk.dir, 'wrong')
    await fs.writeFile(wrong, 'wrong')
    const same = (args: string[], input?: string) => {
      const options: SpawnSyncOptions = input === undefined ? {} : { input, stdio: ['pipe', 'pipe', 'pipe'] }
      expect(run(fake, args, options)).toEqual(run(real, args, options))
    }
    same(['isLuks', disk.image])
    same(['isLuks', disk.keyFile])
    same(['open', '--test-passphrase', `--key-file=${disk.keyFile}`, disk.image])
    same(['open', '--test-passphrase', `--key-file=${wrong}`, disk.image])
    same(['open', '--test-passphrase', disk.image], disk.passphrase)
    same(['open', '--test-passphrase', disk.image], 'not the passphrase')
    same(['luksOpen', `--key-file=${wrong}`, path.join(disk.dir, 'absent.img'), 'rsb-luks-x'])
    same(['--bogus-option', 'luksOpen', disk.image, 'rsb-luks-x'])
    same(['luksUUID', disk.image])

    // Opening: wrong key → 2 and nothing appears; right key or passphrase → the mapping; twice → 5; close → gone; again → 4
    const name = `${disk.name}-open`
    const mapper = `/dev/mapper/${name}`
    onTestFinished(() => fs.rm(mapper, { force: true }))
    expect(run(fake, ['luksOpen', `--key-file=${wrong}`, disk.image, name]).status).toBe(2)
    expect(existsSync(mapper)).toBe(false)
    expect(run(fake, ['--allow-discards', `--key-file=${disk.keyFile}`, '--readonly', 'luksOpen', disk.image, name])).toMatchObject({
      status: 0,
    })
    expect(await fs.readlink(mapper)).toBe(disk.plainDevice)
    expect(run(fake, ['status', name])).toMatchObject({ status: 0, stdout: expect.stringContaining(`${mapper} is active.`) as string })
    expect(run(fake, ['open', '--type', 'luks', `--key-file=${disk.keyFile}`, disk.image, name])).toEqual({
      status: 5,
      stdout: '',
      stderr: `Device ${name} already exists.\n`,
    })
    expect(run(fake, ['luksClose', name]).status).toBe(0)
    expect(existsSync(mapper)).toBe(false)
    expect(run(fake, ['close', '--', name])).toEqual({ status: 4, stdout: '', stderr: `Device ${name} is not active.\n` })
    expect(run(real, ['close', name]).status).toBe(4)
    expect(run(fake, ['status', name]).status).toBe(4)
    expect(
      run(fake, ['open', '--test-passphrase', '--type=luks', disk.image], { input: disk.passphrase, stdio: ['pipe', 'pipe', 'pipe'] })
        .status,
    ).toBe(0)
    const piped = run(fake, ['luksOpen', disk.image, name], { input: disk.passphrase, stdio: ['pipe', 'pipe', 'pipe'] })
    expect(piped.status).toBe(0)
    expect(run(fake, ['remove', name]).status).toBe(0)
  })

  it('cryptsetup: refuses a non-root user, and an image without a recorded plain device', async () => {
    const disk = await prepareLuksDisk({ source: 'file' })
    onTestFinished(() => disk.cleanup())
    const fake = standIn('cryptsetup')
    const asNobody = { uid: 65534, gid: 65534, cwd: '/' }
    const fakeForNobody = await standInForUsers('cryptsetup')
    expect(run(fakeForNobody, ['luksOpen', `--key-file=${disk.keyFile}`, disk.image, 'rsb-luks-x'], asNobody)).toEqual({
      status: 1,
      stdout: '',
      stderr: 'Cannot initialize device-mapper, running as non-root user.\n',
    })
    await fs.rm(`${disk.image}.plain-device`)
    const result = run(fake, ['luksOpen', `--key-file=${disk.keyFile}`, disk.image, `${disk.name}-x`])
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('no plain device recorded')
    expect(existsSync(`/dev/mapper/${disk.name}-x`)).toBe(false)
  })

  it('cryptdisks_start: --readonly, tries and the log of stand-in calls', async () => {
    const disk = await prepareLuksDisk({ options: 'luks,discard,keyslot=0' })
    onTestFinished(() => disk.cleanup())
    const log = path.join(disk.dir, 'calls.log')
    const env = { ...process.env, TABFILE: disk.crypttab, RSB_STANDIN_LOG: log }
    expect(run(standIn('cryptdisks_start'), ['-r', disk.name], { env })).toEqual({
      status: 0,
      stdout: `Starting crypto disk...${disk.name} (starting)...${disk.name} (started)...done.\n`,
      stderr: '',
    })
    expect(run(standIn('cryptdisks_start'), [disk.name], { env }).stdout).toBe(`Starting crypto disk...${disk.name} (running)...done.\n`)
    expect(run(standIn('cryptdisks_stop'), [disk.name], { env }).stdout).toBe(`Stopping crypto disk...${disk.name} (stopping)...done.\n`)
    expect((await fs.readFile(log, 'utf8')).split('\n')).toEqual([
      `cryptdisks_start -r ${disk.name}`,
      `cryptsetup -T1 --readonly --allow-discards --key-slot=0 --type=luks --key-file=${disk.keyFile} open -- ${disk.source} ${disk.name}_unformatted`,
      `cryptdisks_start ${disk.name}`,
      `cryptdisks_stop ${disk.name}`,
      `cryptsetup remove -- ${disk.name}`,
      '',
    ])
  })
})

// End-to-end tests of `--mount` and `--crypto` with real loop-mounted ext4 images, and of a full destination.
// rsb runs in a private mount namespace (`unshare -m`) where the test's fstab and crypttab are bind-mounted
// over /etc/fstab and /etc/crypttab, so the host's files and mounts are never touched. Needs root.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { isRoot, runChecked, testdir as makeTestdir } from '@rsb/testkit'
import { afterAll, describe, expect, it, onTestFinished } from 'vitest'
import { BIN, createSource, runRsb, shellQuote, snapshotsIn, verifyDestination, writeProgram } from './helpers.ts'

const QUIET = ['--no-sudo', '--disable-notifications']

/**
 * What this file creates carries this tag: its temporary directories (so the images and mount points below them)
 * and its /dev/mapper names. The leftovers check after all tests looks for exactly these.
 */
const TAG = `rsb-cli-disk-${process.pid}-${Math.floor(Math.random() * 1e6)}`
const TEMP_PREFIX = path.join(os.tmpdir(), `${TAG}-`)
let mappings = 0

/** A temporary directory of this file (removed when the test finishes). */
const testdir = (tree?: Parameters<typeof makeTestdir>[0]) => makeTestdir(tree, `${TAG}-`)

/** The octal escapes of /proc/self/mountinfo (`\040` for a space) decoded. */
const unescapeMountinfo = (field: string) =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)))

/** Loop devices backed by this file's images, mounts below its directories, /dev/mapper entries with its tag. */
async function leftovers(): Promise<{ loops: string[]; mounts: string[]; mappers: string[] }> {
  const loops = (await runChecked('losetup', ['-a']))
    .split('\n')
    .filter((line) => line.includes(`(${TEMP_PREFIX}`))
    .map((line) => line.slice(0, line.indexOf(':')))
  const mounts = (await fs.readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((line) => unescapeMountinfo(line.split(' ')[4] ?? ''))
    .filter((mountPoint) => mountPoint.startsWith(TEMP_PREFIX))
  const mappers = (await fs.readdir('/dev/mapper').catch(() => [])).filter((name) => name.startsWith(TAG)).map((n) => `/dev/mapper/${n}`)
  return { loops, mounts, mappers }
}

afterAll(async () => {
  if (!isRoot) return
  // A loop device of a `mount -o loop` in a finished namespace is released by the kernel: allow it a moment.
  let found = await leftovers()
  for (let i = 0; i < 30 && found.loops.length + found.mounts.length + found.mappers.length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    found = await leftovers()
  }
  if (found.loops.length + found.mounts.length + found.mappers.length === 0) return
  // Report the leak, then clean up what can be cleaned so the machine is usable again.
  const problems: string[] = []
  for (const mountPoint of found.mounts.reverse())
    await runChecked('umount', [mountPoint]).catch((error: unknown) => problems.push(`umount ${mountPoint}: ${String(error)}`))
  for (const mapper of found.mappers) await fs.rm(mapper, { force: true })
  // unmounting releases a `mount -o loop` device by itself: detach only what is still there
  for (const loop of (await leftovers()).loops)
    await runChecked('losetup', ['-d', loop]).catch((error: unknown) => problems.push(`losetup -d ${loop}: ${String(error)}`))
  throw new Error(
    `The disk tests left behind ${JSON.stringify(found)}${problems.length > 0 ? `; cleaning them up failed too: ${problems.join('; ')}` : ''}`,
  )
})

interface NamespaceRun {
  code: number | null
  stdout: string
  stderr: string
  /** Whether MP was mounted when rsb had finished. */
  mounted: boolean
}

const SCRIPT = `
set -e
if [ -n "$T_FSTAB" ]; then mount --bind "$T_FSTAB" /etc/fstab; fi
if [ -n "$T_CRYPTTAB" ]; then mount --bind "$T_CRYPTTAB" /etc/crypttab; fi
if [ -n "$T_PREMOUNT" ]; then mount "$T_PREMOUNT"; fi
set +e
if [ -n "$T_TERMINAL" ]; then script -qfec "$T_TERMINAL" /dev/null; else "$T_NODE" "$T_BIN" "$@"; fi
code=$?
if mountpoint -q "$T_MP"; then echo T_STATE=mounted; else echo T_STATE=unmounted; fi
if [ -n "$T_VERIFY" ]; then mountpoint -q "$T_MP" || mount "$T_MP"; cp -a "$T_MP/." "$T_VERIFY/"; umount "$T_MP"; fi
exit $code
`

/** Runs rsb inside a private mount namespace with the test's fstab/crypttab. */
function runInNamespace(
  args: readonly string[],
  options: {
    fstab?: string
    crypttab?: string
    mountPoint: string
    premount?: boolean
    verifyInto?: string
    terminal?: boolean
    /** Directories put first on PATH (the LUKS stand-ins). */
    path?: string[]
    /** More environment variables for rsb. */
    env?: Record<string, string>
  },
): Promise<NamespaceRun> {
  const env = {
    ...process.env,
    ...options.env,
    PATH: [...(options.path ?? []), process.env.PATH].join(':'),
    TZ: 'UTC',
    T_NODE: process.execPath,
    T_BIN: BIN,
    T_FSTAB: options.fstab ?? '',
    T_CRYPTTAB: options.crypttab ?? '',
    T_PREMOUNT: options.premount ? options.mountPoint : '',
    T_MP: options.mountPoint,
    T_VERIFY: options.verifyInto ?? '',
    T_TERMINAL: options.terminal ? [process.execPath, BIN, ...args].map(shellQuote).join(' ') : '',
  }
  delete (env as Record<string, string | undefined>).RSYNC_MODULE_PATH
  // its own process group: a test that ends before rsb does kills the shell, rsb and rsync by the group's id
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', SCRIPT, 'sh', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve))
  onTestFinished(async () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
    process.kill(-child.pid, 'SIGKILL')
    await closed
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    void closed.then((code) => resolve({ code, stdout, stderr, mounted: stdout.includes('T_STATE=mounted') }))
  })
}

/** A 16 MiB ext4 image and an fstab line mounting it (through a loop device) on MP. */
async function ext4Image(t: string, sizeMiB = 16, filesystem = true): Promise<{ image: string; mountPoint: string; fstab: string }> {
  const image = path.join(t, 'disk.img')
  const mountPoint = path.join(t, 'mnt')
  await fs.mkdir(mountPoint)
  await runChecked('truncate', ['-s', `${sizeMiB}M`, image])
  if (filesystem) await runChecked('mkfs.ext4', ['-q', '-F', image])
  const fstab = path.join(t, 'fstab')
  await fs.writeFile(fstab, `${image} ${mountPoint} ext4 loop,noauto 0 0\n`)
  return { image, mountPoint, fstab }
}

describe.skipIf(!isRoot)('--mount with a real loop-mounted ext4 (needs root)', () => {
  it('mounts, backs up, snapshots and unmounts when the filesystem was not mounted', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const { mountPoint, fstab } = await ext4Image(t)
    const verify = path.join(t, 'verify')
    await fs.mkdir(verify)
    const run = await runInNamespace(['--mount', mountPoint, ...QUIET, path.join(t, 'source'), `${mountPoint}/latest`], {
      fstab,
      mountPoint,
      verifyInto: verify,
    })
    expect(run.stderr).toContain(`Mounting filesystem (${mountPoint}) ..`)
    expect(run.code).toBe(0)
    expect(run.mounted).toBe(false)
    await verifyDestination(path.join(verify, 'latest'))
    expect(await snapshotsIn(verify)).toHaveLength(1)
    // nothing was written into the mount point directory itself (the filesystem held it all)
    expect(await fs.readdir(mountPoint)).toEqual([])
  })

  it('the cron recipe with the mount point as DESTINATION: mounted, refused before rsync, unmounted; the disk is untouched', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const { mountPoint, fstab } = await ext4Image(t)
    const verify = path.join(t, 'verify')
    await fs.mkdir(verify)
    const run = await runInNamespace(['--mount', mountPoint, ...QUIET, path.join(t, 'source'), mountPoint], {
      fstab,
      mountPoint,
      verifyInto: verify,
    })
    expect(run.stderr).toContain(`Mounting filesystem (${mountPoint}) ..`)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('(ERR_RSB_CLI_DESTINATION_IS_MOUNT_POINT)')
    expect(run.stderr).toContain(`${mountPoint}/latest`)
    expect(run.stderr).not.toContain('Creating system backup')
    expect(run.mounted).toBe(false)
    // the fresh filesystem still holds exactly what mkfs put there
    expect(await fs.readdir(verify)).toEqual(['lost+found'])
  })

  it('leaves an already mounted filesystem mounted', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const { mountPoint, fstab } = await ext4Image(t)
    const run = await runInNamespace(['-m', mountPoint, '--backup', ...QUIET, path.join(t, 'source'), `${mountPoint}/latest`], {
      fstab,
      mountPoint,
      premount: true,
    })
    expect(run.code).toBe(0)
    expect(run.stderr).toContain(`Filesystem is already mounted (${mountPoint}) ..`)
    expect(run.mounted).toBe(true)
  })

  it('a dry run leaves the mount state as it was and writes nothing', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const { mountPoint, fstab, image } = await ext4Image(t)
    const before = await fs.readFile(image)
    const run = await runInNamespace(['-n', '-m', mountPoint, ...QUIET, path.join(t, 'source'), `${mountPoint}/latest`], {
      fstab,
      mountPoint,
    })
    expect(run.code).toBe(0)
    expect(run.mounted).toBe(false)
    // mounting ext4 read-write may update its superblock; the tree must be unchanged
    const verify = path.join(t, 'verify')
    await fs.mkdir(verify)
    await runChecked('mount', ['-o', 'loop,ro', image, verify])
    onTestFinished(() => runChecked('umount', [verify]).then(() => undefined))
    expect((await fs.readdir(verify)).sort()).toEqual(['lost+found'])
    expect(before.length).toBe((await fs.readFile(image)).length)
  })

  it('a failing mount is an error that names the mount point', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const { mountPoint, fstab } = await ext4Image(t, 4, false)
    const run = await runInNamespace(['-m', mountPoint, ...QUIET, path.join(t, 'source'), `${mountPoint}/latest`], { fstab, mountPoint })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`Failed to mount filesystem! (${mountPoint})`)
    expect(run.stderr).toContain('(ERR_RSB_MOUNT_FAILED)')
    expect(run.stderr).not.toContain('Creating system backup')
  })
})

describe.skipIf(!isRoot)('--crypto without unlocking (needs root)', () => {
  it('an entry whose disk is not connected: exit 0 with one Skipping line, no notification', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const crypttab = path.join(t, 'crypttab')
    await fs.writeFile(crypttab, `rsb-backup-disk ${t}/missing.img none luks,noauto\n`)
    const events = path.join(t, 'events.log')
    const run = await runInNamespace(['--crypto=rsb-backup-disk', '--no-sudo', path.join(t, 'source'), `${t}/mnt/latest`], {
      crypttab,
      mountPoint: `${t}/mnt`,
      path: [await recordingNotifySend(path.join(t, 'bin'))],
      env: { RSB_STANDIN_LOG: events, DISPLAY: ':0' },
    })
    expect(run.code).toBe(0)
    await expect(fs.readFile(events, 'utf8')).rejects.toThrow() // nothing was run: no notify-send
    expect(run.stderr).toMatch(
      new RegExp(
        `INFO Skipping backup: Encrypted filesystem rsb-backup-disk isn't available! \\(the device file ${t}/missing.img doesn't exist\\)`,
      ),
    )
    expect(run.stderr).not.toContain('Creating system backup')
    await expect(fs.stat(path.join(t, 'mnt'))).rejects.toThrow()
  })

  it('the same on a terminal is an error: exit 1', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const crypttab = path.join(t, 'crypttab')
    await fs.writeFile(crypttab, `rsb-backup-disk ${t}/missing.img none luks,noauto\n`)
    const run = await runInNamespace(['--crypto=rsb-backup-disk', '--no-sudo', path.join(t, 'source'), `${t}/mnt/latest`], {
      crypttab,
      mountPoint: `${t}/mnt`,
      terminal: true,
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain("Aborting due to error: Encrypted filesystem rsb-backup-disk isn't available!")
    expect(run.stdout).toContain('(ERR_RSB_CRYPTTAB_MISSING_DISK)')
  })

  it('--crypto NAME without a crypttab entry: ERR_RSB_CRYPTTAB_NO_ENTRY, exit 1, nothing changed', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const crypttab = path.join(t, 'crypttab')
    await fs.writeFile(crypttab, '# nothing here\n')
    const run = await runInNamespace(['-c', 'no-such-disk', '--no-sudo', path.join(t, 'source'), `${t}/d/latest`], {
      crypttab,
      mountPoint: `${t}/d`,
    })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain("No entry named 'no-such-disk' in /etc/crypttab.")
    expect(run.stderr).toContain('(ERR_RSB_CRYPTTAB_NO_ENTRY)')
    expect((await fs.readdir(t)).sort()).toEqual(['crypttab', 'source'])
  })
})

describe.skipIf(!isRoot)('a full destination (needs root: a small loop-mounted filesystem)', () => {
  it('fails with a clear error and leaves the older snapshots intact', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const { image, mountPoint } = await ext4Image(t, 8)
    await runChecked('mount', ['-o', 'loop', image, mountPoint])
    onTestFinished(() => runChecked('umount', [mountPoint]).then(() => undefined))
    const args = [...QUIET, path.join(t, 'source'), `${mountPoint}/latest`]
    expect((await runRsb(args)).code).toBe(0)
    const [first] = await snapshotsIn(mountPoint)

    await fs.writeFile(path.join(t, 'source/notes.txt'), 'changed\n')
    await fs.writeFile(path.join(t, 'source/big.bin'), Buffer.alloc(12 * 1024 * 1024, 7))
    const full = await runRsb(args)
    expect(full.code).toBe(1)
    expect(full.stderr).toContain('No space left on device')
    expect(full.stderr).toMatch(/Aborting due to error: rsync failed with exit status 11 \(error in file I\/O\).*\(ERR_RSB_RSYNC_FILE_IO\)/)
    expect(full.stderr).toMatch(/Hint: .*free space/)
    expect(full.stderr).not.toMatch(/\n\s+at /)
    expect(await snapshotsIn(mountPoint)).toEqual([first])
    await verifyDestination(path.join(mountPoint, first as string))
  })
})

/**
 * A notify-send stand-in in `dir` that appends `notify-send ARGS…` to $RSB_STANDIN_LOG, the file the LUKS
 * stand-ins log their calls to, so one file shows the order of notifications and unlocking.
 */
async function recordingNotifySend(dir: string): Promise<string> {
  await writeProgram(dir, 'notify-send', `printf '%s\\n' "notify-send $*" >> "$RSB_STANDIN_LOG"`)
  return dir
}

/** The LUKS stand-ins of @rsb/crypttab's tests (cryptsetup, cryptdisks_start, cryptdisks_stop). */
const STAND_INS = path.resolve(import.meta.dirname, '../../crypttab/test/fixtures/bin')

/**
 * A LUKS image (formatted for real; the stand-in checks the key for real) whose "opened" device is a loop
 * device holding a plain ext4 (recorded in IMAGE.plain-device for the stand-in), with crypttab and fstab lines.
 */
async function luksDisk(t: string, options: { filesystem?: boolean } = {}) {
  const name = `${TAG}-${++mappings}`
  const key = path.join(t, 'disk.key')
  const luks = path.join(t, 'luks.img')
  const plain = path.join(t, 'plain.img')
  const mountPoint = path.join(t, 'mnt')
  await fs.mkdir(mountPoint)
  await fs.writeFile(key, 'correct horse battery staple', { mode: 0o600 })
  await runChecked('truncate', ['-s', '32M', luks])
  await runChecked('cryptsetup', [
    'luksFormat',
    '--batch-mode',
    '--type',
    'luks2',
    '--pbkdf',
    'pbkdf2',
    '--pbkdf-force-iterations',
    '1000',
    '--key-file',
    key,
    luks,
  ])
  await runChecked('truncate', ['-s', '16M', plain])
  if (options.filesystem !== false) await runChecked('mkfs.ext4', ['-q', '-F', plain])
  const loop = (await runChecked('losetup', ['--find', '--show', plain])).trim()
  onTestFinished(async () => {
    // a failure here is a leak (a loop device or mapping left behind): it fails the test
    await fs.rm(`/dev/mapper/${name}`, { force: true })
    await runChecked('losetup', ['-d', loop])
  })
  await fs.writeFile(`${luks}.plain-device`, `${loop}\n`)
  const crypttab = path.join(t, 'crypttab')
  await fs.writeFile(crypttab, `${name} ${luks} ${key} luks,noauto\n`)
  const fstab = path.join(t, 'fstab')
  await fs.writeFile(fstab, `/dev/mapper/${name} ${mountPoint} ext4 noauto 0 0\n`)
  const unlocked = () =>
    fs.lstat(`/dev/mapper/${name}`).then(
      () => true,
      () => false,
    )
  return { name, key, luks, loop, crypttab, fstab, mountPoint, unlocked }
}

/** Mounts the plain device read-only outside the namespace and returns the snapshot names and latest's files. */
async function readDisk(t: string, loop: string): Promise<{ snapshots: string[]; latest: string }> {
  const dir = path.join(t, 'check')
  await fs.mkdir(dir, { recursive: true })
  await runChecked('mount', ['-o', 'ro', loop, dir])
  try {
    await verifyDestination(path.join(dir, 'latest'))
    return { snapshots: await snapshotsIn(dir), latest: path.join(dir, 'latest') }
  } finally {
    await runChecked('umount', [dir])
  }
}

/** Runs rsb with `--crypto` and `--mount` for `disk`, backing up `t/source` into the disk's `latest`. */
function backUpToDisk(t: string, disk: Awaited<ReturnType<typeof luksDisk>>, extra: string[] = [], options: { premount?: boolean } = {}) {
  return runInNamespace(
    [
      `--crypto=${disk.name}`,
      `--mount=${disk.mountPoint}`,
      '--disable-notifications',
      ...extra,
      path.join(t, 'source'),
      `${disk.mountPoint}/latest`,
    ],
    { fstab: disk.fstab, crypttab: disk.crypttab, mountPoint: disk.mountPoint, path: [STAND_INS], ...options },
  )
}

describe.skipIf(!isRoot || !existsSync(path.join(STAND_INS, 'cryptdisks_start')))(
  '--crypto with the LUKS stand-ins of @rsb/crypttab (needs root and the stand-ins)',
  () => {
    it('locked and not mounted: rsb unlocks, mounts, backs up, unmounts and locks', async () => {
      const t = await testdir()
      await createSource(path.join(t, 'source'))
      const disk = await luksDisk(t)
      const run = await backUpToDisk(t, disk)
      expect(run.stderr).toContain(`Mounting filesystem (${disk.mountPoint}) ..`)
      expect(run.code).toBe(0)
      expect(run.mounted).toBe(false)
      expect(await disk.unlocked()).toBe(false)
      expect((await readDisk(t, disk.loop)).snapshots).toHaveLength(1)
    })

    it('"Starting backup" is sent before the unlock, "Finished backup" before the lock (as the original does)', async () => {
      const t = await testdir()
      await createSource(path.join(t, 'source'))
      const disk = await luksDisk(t)
      const events = path.join(t, 'events.log')
      const run = await runInNamespace(
        [`--crypto=${disk.name}`, `--mount=${disk.mountPoint}`, '--no-sudo', path.join(t, 'source'), `${disk.mountPoint}/latest`],
        {
          fstab: disk.fstab,
          crypttab: disk.crypttab,
          mountPoint: disk.mountPoint,
          path: [await recordingNotifySend(path.join(t, 'bin')), STAND_INS],
          // a desktop of its own: notify-send runs directly (no look-up of other users' sessions)
          env: { RSB_STANDIN_LOG: events, DISPLAY: ':0' },
        },
      )
      expect(run.code).toBe(0)
      const lines = (await fs.readFile(events, 'utf8')).split('\n').filter(Boolean)
      // the stand-ins log their own inner cryptsetup calls too: only the steps rsb itself takes count here
      const steps = lines.filter((line) => /^(notify-send|cryptdisks_(start|stop)) /.test(line))
      expect(steps).toHaveLength(4)
      expect(steps[0]).toBe('notify-send System backups Starting backup')
      expect(steps[1]).toBe(`cryptdisks_start ${disk.name}`)
      expect(steps[2]).toMatch(/^notify-send System backups Finished backup in [\d.]+ seconds?\.$/)
      expect(steps[3]).toBe(`cryptdisks_stop ${disk.name}`)
      expect(await disk.unlocked()).toBe(false)
      expect(run.mounted).toBe(false)
    })

    it('unlocked and mounted: nothing is undone', async () => {
      const t = await testdir()
      await createSource(path.join(t, 'source'))
      const disk = await luksDisk(t)
      await runChecked(path.join(STAND_INS, 'cryptsetup'), [`--key-file=${disk.key}`, 'luksOpen', disk.luks, disk.name])
      const run = await backUpToDisk(t, disk, ['--backup'], { premount: true })
      expect(run.code).toBe(0)
      expect(run.stderr).toContain(`Encrypted filesystem is already unlocked (${disk.name}) ..`)
      expect(run.stderr).toContain(`Filesystem is already mounted (${disk.mountPoint}) ..`)
      expect(run.mounted).toBe(true)
      expect(await disk.unlocked()).toBe(true)
    })

    it('unlocked, not mounted: rsb mounts and unmounts; the device stays unlocked', async () => {
      const t = await testdir()
      await createSource(path.join(t, 'source'))
      const disk = await luksDisk(t)
      await runChecked(path.join(STAND_INS, 'cryptsetup'), [`--key-file=${disk.key}`, 'luksOpen', disk.luks, disk.name])
      const run = await backUpToDisk(t, disk)
      expect(run.code).toBe(0)
      expect(run.mounted).toBe(false)
      expect(await disk.unlocked()).toBe(true)
      expect((await readDisk(t, disk.loop)).snapshots).toHaveLength(1)
    })

    it('a LUKS disk without a filesystem: the mount fails, naming the mount point, and the disk is locked again', async () => {
      const t = await testdir()
      await createSource(path.join(t, 'source'))
      const disk = await luksDisk(t, { filesystem: false })
      const run = await backUpToDisk(t, disk)
      expect(run.code).toBe(1)
      expect(run.stderr).toContain(`Failed to mount filesystem! (${disk.mountPoint})`)
      expect(run.stderr).toContain('(ERR_RSB_MOUNT_FAILED)')
      expect(await disk.unlocked()).toBe(false)
    })

    it('SIGTERM during the transfer: exit 143, unmounted and locked', async () => {
      const t = await testdir()
      await fs.mkdir(path.join(t, 'source'))
      await fs.writeFile(path.join(t, 'source/big.bin'), Buffer.alloc(6 * 1024 * 1024, 5))
      const disk = await luksDisk(t)
      const running = backUpToDisk(t, disk, ['--rsync-option=--bwlimit=256'])
      // the namespace's shell runs rsb as a child: signal rsb itself once rsync is running
      const pgrep = (pattern: string) =>
        runChecked('pgrep', ['-f', '--', pattern]).then(
          (out) => out.trim().split('\n').filter(Boolean),
          () => [],
        )
      let rsb: string[] = []
      for (let i = 0; i < 200; i++) {
        await new Promise((r) => setTimeout(r, 50))
        rsb = await pgrep(`${BIN} --crypto=${disk.name}`)
        if (rsb.length > 0 && (await pgrep(`rsync .*${disk.mountPoint}/latest/`)).length > 0) break
      }
      expect(rsb).toHaveLength(1)
      process.kill(Number(rsb[0]), 'SIGTERM')
      const run = await running
      expect(run.code).toBe(143)
      expect(run.mounted).toBe(false)
      expect(await disk.unlocked()).toBe(false)
    })
  },
)

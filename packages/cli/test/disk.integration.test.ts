// End-to-end tests of `--mount` and `--crypto` with real loop-mounted ext4 images, and of a full destination.
// rsb runs in a private mount namespace (`unshare -m`) where the test's fstab and crypttab are bind-mounted
// over /etc/fstab and /etc/crypttab, so the host's files and mounts are never touched. Needs root.
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { isRoot, runChecked, testdir } from '@rsb/testkit'
import { describe, expect, it, onTestFinished } from 'vitest'
import { BIN, createSource, runRsb, shellQuote, snapshotsIn, verifyDestination } from './helpers.ts'

const QUIET = ['--no-sudo', '--disable-notifications']

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
  options: { fstab?: string; crypttab?: string; mountPoint: string; premount?: boolean; verifyInto?: string; terminal?: boolean },
): Promise<NamespaceRun> {
  const env = {
    ...process.env,
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
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', SCRIPT, 'sh', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr, mounted: stdout.includes('T_STATE=mounted') }))
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

  it('a dry run leaves the mount state as it was and writes nothing (15.2 #3)', async () => {
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

  it('a failing mount is an error that names the mount point (15.1 #12, 15.2 #8)', async () => {
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
  it('an entry whose disk is not connected: exit 0 with one Skipping line, no notification (15.1 #11)', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const crypttab = path.join(t, 'crypttab')
    await fs.writeFile(crypttab, `rsb-backup-disk ${t}/missing.img none luks,noauto\n`)
    const run = await runInNamespace(['--crypto=rsb-backup-disk', '--no-sudo', path.join(t, 'source'), `${t}/mnt/latest`], {
      crypttab,
      mountPoint: `${t}/mnt`,
    })
    expect(run.code).toBe(0)
    expect(run.stderr).toMatch(
      new RegExp(
        `INFO Skipping backup: Encrypted filesystem rsb-backup-disk isn't available! \\(the device file ${t}/missing.img doesn't exist\\)`,
      ),
    )
    expect(run.stderr).not.toContain('Creating system backup')
    await expect(fs.stat(path.join(t, 'mnt'))).rejects.toThrow()
  })

  it('the same on a terminal is an error: exit 1 (15.1 #11)', async () => {
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
    expect(run.stdout).toContain('(ERR_RSB_CRYPTTAB_DEVICE_MISSING)')
  })

  it('--crypto NAME without a crypttab entry: ERR_RSB_CRYPTTAB_NO_ENTRY, exit 1, nothing changed (15.2 #2)', async () => {
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

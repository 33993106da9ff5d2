// End-to-end: `rsb doctor` on real filesystems (a loop-mounted ext4, a FAT image through FUSE, a nearly full ext4)
// and over a real sshd on 127.0.0.1 (its host key known, and not). Each filesystem is made and taken down by the
// test that uses it, by what it made (the mount, then the loop device). Needs root.
import fs from 'node:fs/promises'
import path from 'node:path'
import { isRoot, runChecked, startSshd, testdir, type SshServer } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { runRsb, startRsb, writeProgram } from './helpers.ts'

interface DoctorCheck {
  id: string
  title: string
  status: 'ok' | 'warn' | 'fail' | 'skip'
  detail: string
  hint: string | null
  value: string | number | boolean | null
}
interface DoctorDocument {
  schemaVersion: number
  host: string
  store: string
  checks: DoctorCheck[]
  summary: Record<string, number>
  worst: string
  exitCode: number
}

/** The filesystem checks, each ok on a Linux filesystem. */
const FILESYSTEM_CHECKS = ['filesystem', 'hard-links', 'link-limit', 'acls', 'xattrs', 'owners', 'case', 'timestamps', 'space', 'inodes']

async function doctor(args: readonly string[], env: Record<string, string> = {}) {
  const result = await runRsb(['doctor', '--json', ...args], { env })
  expect(result.stderr).not.toContain('internal error')
  const document = JSON.parse(result.stdout) as DoctorDocument
  const byId = new Map(document.checks.map((c) => [c.id, c]))
  const check = (id: string) => {
    const found = byId.get(id)
    expect(found, `check ${id}`).toBeDefined()
    return found!
  }
  return { code: result.code, document, check }
}

/** Every entry below `root`, with its type and inode (what doctor must leave as it was). */
async function listing(root: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of (await fs.readdir(root, { recursive: true })).sort()) {
    const s = await fs.lstat(path.join(root, entry))
    out.push(`${entry} ${s.mode.toString(8)} ${s.ino} ${s.size} ${s.mtimeMs}`)
  }
  return out
}

/** A fresh ext4 of `size` on a loop device of its own, mounted on T/NAME; taken down when the test finishes. */
async function ext4(t: string, name: string, size: string, mkfs: readonly string[] = []): Promise<string> {
  const image = path.join(t, `${name}.img`)
  const mountPoint = path.join(t, name)
  await fs.mkdir(mountPoint)
  await runChecked('truncate', ['-s', size, image])
  await runChecked('mkfs.ext4', ['-q', '-F', ...mkfs, image])
  const loop = (await runChecked('losetup', ['--find', '--show', image])).trim()
  let mounted = false
  // registered after testdir's removal of T, so it runs before it (last first)
  onTestFinished(async () => {
    if (mounted) await runChecked('umount', [mountPoint])
    await runChecked('losetup', ['-d', loop])
  })
  await runChecked('mount', [loop, mountPoint])
  mounted = true
  return mountPoint
}

/** A FAT filesystem in an image, mounted on T/NAME through FUSE (fusefat: this kernel has no vfat module). */
async function fat(t: string, name: string): Promise<string> {
  const image = path.join(t, `${name}.img`)
  const mountPoint = path.join(t, name)
  await fs.mkdir(mountPoint)
  await runChecked('truncate', ['-s', '32M', image])
  await runChecked('mkfs.vfat', [image])
  let mounted = false
  onTestFinished(async () => {
    if (mounted) await runChecked('fusermount', ['-u', mountPoint])
  })
  await runChecked('fusefat', ['-o', 'rw+', image, mountPoint])
  mounted = true
  return mountPoint
}

/** A SOURCE with a few files, one of them with `links` names. */
async function source(t: string, links = 2): Promise<string> {
  const dir = path.join(t, 'source')
  await fs.mkdir(path.join(dir, 'sub'), { recursive: true })
  await fs.writeFile(path.join(dir, 'notes.txt'), 'notes\n')
  await fs.writeFile(path.join(dir, 'sub', 'linked'), 'one inode\n')
  for (let i = 2; i <= links; i++) await fs.link(path.join(dir, 'sub', 'linked'), path.join(dir, `linked-${i}`))
  return dir
}

describe.skipIf(!isRoot)('rsb doctor on real filesystems (needs root: loop devices, FUSE)', () => {
  it('a fresh ext4: every filesystem check is ok, the link limit is 65000, and nothing is left behind', async () => {
    const t = await testdir({}, 'rsb-doctor-ext4-')
    const store = await ext4(t, 'store', '64M')
    const src = await source(t, 3)
    const before = await listing(store)
    const { code, document, check } = await doctor([src, path.join(store, 'latest')])
    for (const id of FILESYSTEM_CHECKS) expect(check(id).status, `${id}: ${check(id).detail}`).toBe('ok')
    expect(check('filesystem').value).toBe('ext4')
    expect(check('link-limit').value).toBe(65000)
    expect(check('link-limit').detail).toContain("SOURCE's most-linked file has 3")
    expect(check('timestamps').value).toBe('ns')
    expect(check('store').status).toBe('ok')
    expect(check('lock').status).toBe('ok')
    expect(check('source').value).toBeGreaterThan(0)
    expect(document.store).toBe(store)
    expect(code).toBe(0)
    expect(document.exitCode).toBe(0)
    expect(await listing(store)).toEqual(before)

    // after a first backup: the store's records read, the lock free, and still nothing changed by doctor
    const backup = await runRsb(['--no-sudo', '--disable-notifications', src, path.join(store, 'latest')])
    expect(backup.code, backup.stderr).toBe(0)
    const after = await listing(store)
    const again = await doctor([src, path.join(store, 'latest')])
    expect(again.check('store').detail).toContain('rsb store, 1 mirror(s) (latest)')
    expect(again.check('lock').status).toBe('ok')
    expect(again.code).toBe(0)
    expect(await listing(store)).toEqual(after)

    // the table for people
    const text = await runRsb(['doctor', src, path.join(store, 'latest')])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/^ok {4}hard links +supported \(made one\)$/m)
    expect(text.stdout).toMatch(/^ok {4}filesystem +ext4 at /m)
    expect(text.stdout).toMatch(/^\d+ ok, \d+ warning\(s\), 0 failure\(s\), \d+ not checked$/m)
  }, 120_000)

  it('FAT (fuse.fusefat): no hard links, ACLs, xattrs or owners, 2-second mtimes, one name for two cases; the link limit below a SOURCE file with 3 links; exit 1', async () => {
    const t = await testdir({}, 'rsb-doctor-fat-')
    const store = await fat(t, 'fat')
    const src = await source(t, 3)
    const before = await listing(store)
    const { code, document, check } = await doctor([src, path.join(store, 'latest')])
    expect(check('filesystem')).toMatchObject({ status: 'ok', value: 'fuse.fusefat' })
    expect(check('hard-links')).toMatchObject({ status: 'fail', value: false })
    expect(check('hard-links').hint).toContain('ext4')
    expect(check('link-limit')).toMatchObject({ status: 'fail', value: 1 })
    expect(check('link-limit').detail).toContain('a file of SOURCE has 3 links')
    expect(check('acls')).toMatchObject({ status: 'fail', value: false })
    expect(check('acls').hint).toContain('--no-acls')
    expect(check('xattrs')).toMatchObject({ status: 'fail', value: false })
    expect(check('owners')).toMatchObject({ status: 'fail', value: false })
    expect(check('timestamps')).toMatchObject({ status: 'warn', value: '2s' })
    expect(check('timestamps').hint).toContain('--modify-window=1')
    expect(check('case')).toMatchObject({ status: 'fail', value: false })
    expect(check('space').status).toBe('ok')
    expect(document.worst).toBe('fail')
    expect(code).toBe(1)
    expect(document.exitCode).toBe(1)
    expect(await listing(store)).toEqual(before)

    const text = await runRsb(['doctor', src, path.join(store, 'latest')])
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/^fail {2}hard links +not supported: /m)
    expect(text.stdout).toMatch(/^ +hint: Snapshots are hard links of the mirror/m)
    expect(text.stdout).toMatch(/^warn {2}timestamps +mtimes kept to 2 seconds only/m)
    expect(text.stderr).not.toContain('ERR_RSB')
  }, 120_000)

  it('a nearly full ext4 against a bigger SOURCE with more entries than free inodes: space and inodes fail, exit 1', async () => {
    const t = await testdir({}, 'rsb-doctor-full-')
    const store = await ext4(t, 'small', '16M', ['-N', '64'])
    const free = Number((await runChecked('df', ['-B1', '--output=avail', store])).trim().split('\n').at(-1))
    // fill all but 1 MiB: the probes still have room for their few small files
    await runChecked('fallocate', ['-l', String(free - 1024 * 1024), path.join(store, 'filler')])
    const freeInodes = Number((await runChecked('df', ['--output=iavail', store])).trim().split('\n').at(-1))
    const src = await source(t)
    // a sparse 64 MiB file: SOURCE holds more than the disk could take
    await runChecked('truncate', ['-s', '64M', path.join(src, 'big')])
    await fs.mkdir(path.join(src, 'many'))
    for (let i = 0; i < freeInodes + 10; i++) await fs.writeFile(path.join(src, 'many', String(i)), '')
    const before = await listing(store)
    const { code, check } = await doctor([src, path.join(store, 'latest')])
    expect(check('space').status, check('space').detail).toBe('fail')
    expect(check('space').detail).toContain('the first backup does not fit')
    expect(check('space').hint).toBeTruthy()
    expect(check('inodes').status, check('inodes').detail).toBe('fail')
    expect(check('hard-links').status).toBe('ok')
    expect(code).toBe(1)
    expect(await listing(store)).toEqual(before)

    // without SOURCE there is nothing to compare with: the free room is only shown
    const alone = await doctor([path.join(store, 'latest')])
    expect(alone.check('space').status).toBe('ok')
    expect(alone.check('source').status).toBe('skip')
  }, 120_000)
})

describe.skipIf(!isRoot)('rsb doctor stopped while it tests (needs root: as rsb runs its probes)', () => {
  it('SIGTERM while a write test hangs: exit 143, the scratch directory is removed at once', async () => {
    const t = await testdir({}, 'rsb-doctor-stopped-')
    const store = path.join(t, 'store')
    await fs.mkdir(store)
    const bin = path.join(t, 'bin')
    // a setfacl that hangs (recording its PID, so that the test stops it)
    await writeProgram(bin, 'setfacl', `echo $$ > '${t}/setfacl.pid'\nexec sleep 60`)
    onTestFinished(async () => {
      const pid = Number(await fs.readFile(path.join(t, 'setfacl.pid'), 'utf8').catch(() => ''))
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // gone already
        }
      }
    })
    const doctorRun = startRsb(['doctor', path.join(store, 'latest')], { path: [bin] })
    for (let i = 0; i < 200 && !(await fs.readFile(path.join(t, 'setfacl.pid'), 'utf8').catch(() => '')); i++) {
      await new Promise((r) => setTimeout(r, 50))
    }
    const scratch = (await fs.readdir(store)).filter((name) => name.startsWith('.rsb-doctor.'))
    expect(scratch).toHaveLength(1)
    expect(scratch[0]).toMatch(/^\.rsb-doctor\.[A-Za-z0-9]{10}$/)
    expect((await fs.stat(path.join(store, scratch[0]!))).mode & 0o777).toBe(0o700)
    doctorRun.child.kill('SIGTERM')
    const result = await doctorRun.done
    expect(result.code).toBe(143)
    expect(result.stderr).toContain('ERR_RSB_CLI_INTERRUPTED')
    expect(await fs.readdir(store)).toEqual([])
  }, 60_000)
})

describe.skipIf(!isRoot)('rsb doctor over SSH (needs root: sshd on 127.0.0.1)', () => {
  let server: SshServer
  beforeAll(async () => {
    server = await startSshd()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('an unknown host key: fail with a hint, nothing else checked on the server; exit 1', async () => {
    const t = await testdir({ known_hosts: '' }, 'rsb-doctor-ssh-unknown-')
    const config = await server.writeSshConfig({ alias: 'rsb-doctor-unknown', knownHostsFile: path.join(t, 'known_hosts') })
    const env = { RSYNC_RSH: `ssh -F ${config}` }
    const { code, document, check } = await doctor([`rsb-doctor-unknown:${t}/store/latest`], env)
    expect(check('ssh-host-key').status).toBe('fail')
    expect(check('ssh-host-key').detail).toContain('ERR_RSB_EXEC_HOST_KEY_UNKNOWN')
    expect(check('ssh-host-key').hint).toContain('ssh-keyscan')
    expect(check('ssh-connection').status).toBe('skip')
    expect(check('destination').status).toBe('skip')
    expect(document.checks.some((c) => c.id === 'hard-links')).toBe(false)
    expect(code).toBe(1)
    expect(await server.connectionCount()).toBe(0)
    const text = await runRsb(['doctor', `rsb-doctor-unknown:${t}/store/latest`], { env })
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/^fail {2}SSH host key +The host key of .* is not known/m)
    expect(text.stderr).not.toMatch(/\n\s+at /)
  }, 60_000)

  it('a known host key: ok, and the destination checks run on the server (rsync there, the filesystem tests); nothing left behind', async () => {
    const t = await testdir({}, 'rsb-doctor-ssh-known-')
    const src = await source(t)
    const store = path.join(t, `it's a "store" $(x)`)
    await fs.mkdir(store)
    const before = await listing(store)
    const { code, document, check } = await doctor([src, `${server.alias}:${store}/latest`], { RSYNC_RSH: server.rsyncRsh })
    expect(check('ssh-host-key').status).toBe('ok')
    expect(check('ssh-connection').status).toBe('ok')
    expect(check('rsync-remote').value).toMatch(/^\d+\.\d+/)
    expect(check('sudo-remote').status).toBe('ok')
    for (const id of FILESYSTEM_CHECKS) expect(check(id).status, `${id}: ${check(id).detail}`).not.toBe('fail')
    expect(check('hard-links').status).toBe('ok')
    expect(document.host).toBe(server.alias)
    expect(document.store).toBe(store)
    expect(code).toBe(0)
    expect(await listing(store)).toEqual(before)
    expect(await fs.readdir(t)).not.toContain('pwned')
  }, 60_000)
})

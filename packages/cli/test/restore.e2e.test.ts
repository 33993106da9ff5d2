// `rsb restore` end to end with the built rsb: stores made by real `rsb SOURCE STORE/latest` runs, real rsync, the
// testkit's sshd on 127.0.0.1. Needs root (owners other than root, ACLs, the sshd); CI runs as root.
import { createHash } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { isRoot, makeTempDir, runChecked, startSshd, testdir, type SshServer } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HOSTILE_NAME, runRsb, snapshotsIn } from './helpers.ts'

const QUIET = ['--no-sudo', '--disable-notifications']
/** A directory name that crosses every shell: spaces, quotes, $(), backticks and a newline. */
const HOSTILE_DIR = `${HOSTILE_NAME}\nsecond line`
const HOSTILE_FILE = `x y 'z' "$(touch pwned3)"`

/** Sets a file's (or link's) times to a fixed moment (seconds since the epoch, with a fraction). */
async function setTime(file: string, seconds: number): Promise<void> {
  await fs.lutimes(file, seconds, seconds)
}

/**
 * The source tree: a regular file, a directory with hard links among its files, a file with a POSIX ACL, one with a
 * user xattr, owners other than root, fixed mtimes, a symbolic link to /etc, and hostile names.
 */
async function createTree(root: string, version: 1 | 2): Promise<void> {
  await fs.mkdir(path.join(root, 'links'), { recursive: true })
  await fs.mkdir(path.join(root, 'etc/ssh'), { recursive: true })
  await fs.mkdir(path.join(root, HOSTILE_DIR), { recursive: true })
  await fs.writeFile(path.join(root, 'plain.txt'), version === 1 ? 'version one\n' : 'version two, which is longer\n', { mode: 0o640 })
  await fs.chmod(path.join(root, 'plain.txt'), 0o640)
  await fs.writeFile(path.join(root, 'links/a'), `linked ${version}\n`)
  await fs.rm(path.join(root, 'links/b'), { force: true })
  await fs.link(path.join(root, 'links/a'), path.join(root, 'links/b'))
  await fs.writeFile(path.join(root, 'links/c'), 'alone\n')
  await fs.writeFile(path.join(root, 'links/acl.txt'), 'with an ACL\n')
  await runChecked('setfacl', ['-m', 'u:nobody:r', path.join(root, 'links/acl.txt')])
  await fs.writeFile(path.join(root, 'links/xattr.txt'), 'with an xattr\n')
  await runChecked('setfattr', ['-n', 'user.note', '-v', `note ${version}`, path.join(root, 'links/xattr.txt')])
  await fs.writeFile(path.join(root, 'etc/hosts'), `127.0.0.1 localhost ${version}\n`)
  await fs.writeFile(path.join(root, 'etc/ssh/sshd_config'), 'Port 22\n')
  await fs.writeFile(path.join(root, HOSTILE_DIR, HOSTILE_FILE), `hostile ${version}\n`)
  await fs.rm(path.join(root, 'escape'), { force: true })
  await fs.symlink('/etc', path.join(root, 'escape'))
  for (const owned of ['plain.txt', 'links/a', 'links/xattr.txt', HOSTILE_DIR, path.join(HOSTILE_DIR, HOSTILE_FILE)])
    await fs.chown(path.join(root, owned), 65534, 65534)
  const when = version === 1 ? 1_700_000_000.25 : 1_700_086_400.5
  for (const entry of [
    'plain.txt',
    'links/a',
    'links/c',
    'links/acl.txt',
    'links/xattr.txt',
    'etc/hosts',
    'etc/ssh/sshd_config',
    path.join(HOSTILE_DIR, HOSTILE_FILE),
    HOSTILE_DIR,
    'escape',
    'etc/ssh',
    'etc',
    'links',
  ])
    await setTime(path.join(root, entry), when)
}

/** A store with two snapshots (version 1, then version 2 of the tree) made by real rsb runs; the second is also latest. */
async function createStore(t: string, destination = path.join(t, 'store/latest'), env: Record<string, string> = {}) {
  const source = path.join(t, 'source')
  await createTree(source, 1)
  const first = await runRsb([...QUIET, source, destination], { env })
  expect(first.code, first.stderr).toBe(0)
  await createTree(source, 2)
  const second = await runRsb([...QUIET, source, destination], { env })
  expect(second.code, second.stderr).toBe(0)
  const store = path.join(t, 'store')
  const snapshots = await snapshotsIn(store)
  expect(snapshots).toHaveLength(2)
  return { source, store, older: snapshots[0] as string, newer: snapshots[1] as string }
}

/**
 * Everything about a tree that a restore must reproduce, per entry (relative path, the root as ''): type, mode,
 * owner, group, mtime (ns), size, content hash, link target, ACL, xattrs; and the hard-link groups (names sharing an
 * inode, as sets of relative paths). Names are kept exactly (NUL-separated: they may hold newlines).
 */
async function fullListing(root: string): Promise<{ entries: string[]; linkGroups: string[][] }> {
  const found = spawnSync('find', [root, '-printf', '%P\\0%y %m %U %G %T@ %s %n %i\\0'], { encoding: 'utf8' })
  expect(found.status, found.stderr).toBe(0)
  const fields = found.stdout.split('\0')
  const entries: string[] = []
  const inodes = new Map<string, string[]>()
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const relative = fields[i] as string
    const [type, mode, uid, gid, mtime, size, , inode] = (fields[i + 1] as string).split(' ')
    const full = relative === '' ? root : path.join(root, relative)
    let extra = ''
    if (type === 'f')
      extra = createHash('sha256')
        .update(await fs.readFile(full))
        .digest('hex')
    if (type === 'l') extra = `-> ${await fs.readlink(full)}`
    let acl = ''
    let xattrs = ''
    if (type !== 'l') {
      acl = spawnSync('getfacl', ['--omit-header', '--absolute-names', '--', full], { encoding: 'utf8' }).stdout.trim()
      const dump = spawnSync('getfattr', ['-h', '-d', '-m', '-', '--absolute-names', '--', full], { encoding: 'utf8' }).stdout
      xattrs = dump
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('# file:'))
        .join(';')
    }
    // (no link counts: a snapshot's files are shared with the mirror and the other snapshots; the groups say it)
    entries.push(JSON.stringify([relative, type, mode, uid, gid, mtime, size, extra, acl, xattrs]))
    if (type === 'f') inodes.set(inode as string, [...(inodes.get(inode as string) ?? []), relative])
  }
  const linkGroups = [...inodes.values()]
    .filter((names) => names.length > 1)
    .map((names) => names.sort())
    .sort()
  return { entries: entries.sort(), linkGroups }
}

/** A listing of a whole test directory (for "nothing changed"): every entry's facts, without content hashes of big trees. */
async function treeState(root: string): Promise<string[]> {
  return (await fullListing(root)).entries
}

/** The error code of a one-line error on stderr. */
function errorCode(stderr: string): string | undefined {
  return /^rsb: error: .* \((ERR_RSB_[A-Z_]+)\)( Hint: .*)?$/m.exec(stderr)?.[1]
}

describe.skipIf(!isRoot)('rsb restore (needs root: owners, ACLs, xattrs)', () => {
  let t: string
  let remove: (() => Promise<void>) | undefined
  let store: { source: string; store: string; older: string; newer: string }
  beforeAll(async () => {
    const dir = await makeTempDir('rsb-restore-')
    t = dir.path
    remove = dir.remove
    store = await createStore(t)
  }, 60_000)
  afterAll(async () => {
    await remove?.()
  })

  it('restores a file and a directory from --snapshot=NAME and from --at=TIME: the older content, exactly as in the snapshot', async () => {
    const out = await testdir()
    const latest = path.join(store.store, 'latest')
    const byName = await runRsb(['restore', `--snapshot=${store.older}`, latest, '/plain.txt', 'links', `--to=${out}/by-name`, '--json'])
    expect(byName.code, byName.stderr).toBe(0)
    expect(byName.stderr).toContain(`Restoring from snapshot ${store.older} (given by --snapshot)`)
    const report = JSON.parse(byName.stdout)
    expect(report).toMatchObject({
      schemaVersion: 1,
      snapshot: store.older,
      paths: ['plain.txt', 'links'],
      to: `${out}/by-name`,
      exitCode: 0,
      error: null,
    })
    expect(await fs.readFile(path.join(out, 'by-name/plain.txt'), 'utf8')).toBe('version one\n')
    expect(await fs.readFile(path.join(out, 'by-name/links/a'), 'utf8')).toBe('linked 1\n')

    // --at: the snapshot-name form and ISO 8601 (with a zone) pick the newest at or before TIME
    for (const at of [store.older, `${store.older.replace(' ', 'T')}.999Z`]) {
      const byTime = await runRsb(['restore', `--at=${at}`, latest, 'links', 'plain.txt', `--to=${out}/at`], { env: { TZ: 'UTC' } })
      expect(byTime.code, byTime.stderr).toBe(0)
      expect(byTime.stderr).toContain(`Restoring from snapshot ${store.older} (the newest at or before ${at})`)
      expect(await fs.readFile(path.join(out, 'at/plain.txt'), 'utf8')).toBe('version one\n')
    }
    // the default: the newest snapshot
    const newest = await runRsb(['restore', latest, 'plain.txt', `--to=${out}/newest`])
    expect(newest.code, newest.stderr).toBe(0)
    expect(await fs.readFile(path.join(out, 'newest/plain.txt'), 'utf8')).toBe('version two, which is longer\n')

    // content, mode, owner, mtime, ACLs, xattrs and hard-link groups equal the snapshot's subtree
    const snapshot = path.join(store.store, store.older)
    const expected = await fullListing(path.join(snapshot, 'links'))
    expect(expected.linkGroups).toEqual([['a', 'b']])
    expect(expected.entries.join('\n')).toContain('user.note')
    expect(expected.entries.join('\n')).toContain('user:nobody:r--')
    for (const dir of ['by-name', 'at']) {
      expect(await fullListing(path.join(out, dir, 'links'))).toEqual(expected)
      const file = await fullListing(path.join(out, dir, 'plain.txt'))
      expect(file).toEqual(await fullListing(path.join(snapshot, 'plain.txt')))
      expect(file.entries[0]).toContain('"65534","65534"')
    }
  })

  it('--dry-run writes nothing (the target listed before and after is identical) and prints itemized lines', async () => {
    const out = await testdir()
    await fs.mkdir(path.join(out, 'links'))
    await fs.writeFile(path.join(out, 'links/a'), 'something else\n')
    const before = await treeState(out)
    const result = await runRsb(['restore', '--dry-run', '--delete', path.join(store.store, 'latest'), 'links', 'etc', `--to=${out}`])
    expect(result.code, result.stderr).toBe(0)
    expect(await treeState(out)).toEqual(before)
    const lines = result.stdout.split('\n').filter((line) => line !== '')
    expect(lines).toContain('>f+++++++++ links/c')
    expect(lines).toContain('cd+++++++++ etc/')
    expect(lines.some((line) => /^>f[.sc]\S* links\/a$/.test(line))).toBe(true)

    // with --json the lines are the document's changes; a --to DIR that is missing is not made
    const json = await runRsb(['restore', '-n', '--json', path.join(store.store, 'latest'), 'links', `--to=${out}/new`])
    expect(json.code, json.stderr).toBe(0)
    expect(JSON.parse(json.stdout).changes).toContain('>f+++++++++ links/c')
    expect(JSON.parse(json.stdout).dryRun).toBe(true)
    await expect(fs.lstat(path.join(out, 'new'))).rejects.toThrow()
  })

  it('without --delete an extra file at the target survives; with --delete it goes (and nothing outside the restored directory)', async () => {
    const out = await testdir()
    const latest = path.join(store.store, 'latest')
    expect((await runRsb(['restore', latest, 'links', `--to=${out}`])).code).toBe(0)
    await fs.writeFile(path.join(out, 'links/extra'), 'mine\n')
    await fs.writeFile(path.join(out, 'beside'), 'mine too\n')
    const kept = await runRsb(['restore', latest, 'links', `--to=${out}`])
    expect(kept.code, kept.stderr).toBe(0)
    expect(await fs.readFile(path.join(out, 'links/extra'), 'utf8')).toBe('mine\n')
    const deleted = await runRsb(['restore', '--delete', latest, 'links', `--to=${out}`])
    expect(deleted.code, deleted.stderr).toBe(0)
    await expect(fs.lstat(path.join(out, 'links/extra'))).rejects.toThrow()
    expect(await fs.readFile(path.join(out, 'beside'), 'utf8')).toBe('mine too\n')
    expect(await fullListing(path.join(out, 'links'))).toEqual(await fullListing(path.join(store.store, store.newer, 'links')))
  })

  it('refusals exit 1 or 2 with their code and write nothing (no --to DIR made)', { timeout: 120_000 }, async () => {
    const latest = path.join(store.store, 'latest')
    const cases: [string[], number, string][] = [
      [[latest, '../etc/passwd'], 2, 'ERR_RSB_CLI_RESTORE_UNSAFE_PATH'],
      [[latest, 'links/../../x'], 2, 'ERR_RSB_CLI_RESTORE_UNSAFE_PATH'],
      [[latest, 'escape/passwd'], 1, 'ERR_RSB_CLI_RESTORE_PATH_SYMLINK'],
      [[latest, 'plain.txt', 'no such file'], 1, 'ERR_RSB_CLI_RESTORE_PATH_MISSING'],
      [['--snapshot=2001-02-03 04:05:06', latest, 'plain.txt'], 1, 'ERR_RSB_CLI_SNAPSHOT_NOT_FOUND'],
      [['--snapshot=latest', latest, 'plain.txt'], 2, 'ERR_RSB_CLI_USAGE'],
      [['--at=2001-02-03T04:05', latest, 'plain.txt'], 1, 'ERR_RSB_CLI_SNAPSHOT_NOT_FOUND'],
      [['--at=yesterday', latest, 'plain.txt'], 2, 'ERR_RSB_CLI_USAGE'],
      [[`--snapshot=${store.older}`, '--latest', latest, 'plain.txt'], 2, 'ERR_RSB_CLI_USAGE'],
      [[`--snapshot=${store.older}`, `--at=${store.newer}`, latest, 'plain.txt'], 2, 'ERR_RSB_CLI_USAGE'],
      [['127.0.0.1::module/latest', 'plain.txt'], 2, 'ERR_RSB_CLI_DESTINATION_DAEMON'],
      [['rsync://127.0.0.1/module/latest', 'plain.txt'], 2, 'ERR_RSB_CLI_DESTINATION_DAEMON'],
      [[store.store, 'plain.txt'], 1, 'ERR_RSB_CLI_DESTINATION_IS_STORE'],
      [[latest], 2, 'ERR_RSB_CLI_USAGE'],
    ]
    const out = await testdir()
    const before = await treeState(t)
    for (const [args, code, errorCodeExpected] of cases) {
      const result = await runRsb(['restore', ...args, `--to=${out}/restored`], { cwd: out })
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(code)
      expect(errorCode(result.stderr), result.stderr).toBe(errorCodeExpected)
      expect(result.stderr).not.toMatch(/\n\s+at /)
      const json = await runRsb(['restore', '--json', ...args, `--to=${out}/restored`], { cwd: out })
      expect(json.code).toBe(code)
      expect(JSON.parse(json.stdout)).toMatchObject({ exitCode: code, error: { code: errorCodeExpected } })
    }
    expect(await fs.readdir(out)).toEqual([])
    expect(await treeState(t)).toEqual(before)
  })

  it('in place: refused without --in-place (exit 2, nothing changed); with it, SOURCE/PATH (the manifest’s SOURCE) is the snapshot’s again', async () => {
    const own = await testdir({}, 'rsb-restore-in-place-')
    const { source, store: storeDir, older } = await createStore(own)
    const record = JSON.parse(await fs.readFile(path.join(storeDir, '.rsb/snapshots', `${older}.json`), 'utf8')) as {
      manifest?: { source?: string }
    }
    expect(
      record.manifest?.source,
      'the snapshot record has no manifest.source: restoring in place waits for rsb backup to write the manifest',
    ).toBe(await fs.realpath(source))
    // the source changes after the backups
    await fs.writeFile(path.join(source, 'plain.txt'), 'edited later\n')
    await fs.rm(path.join(source, 'links/b'))
    await fs.writeFile(path.join(source, 'links/extra'), 'made later\n')
    const latest = path.join(storeDir, 'latest')
    const before = await treeState(own)

    const refused = await runRsb(['restore', `--snapshot=${older}`, latest, 'plain.txt', 'links'])
    expect(refused.code, refused.stderr).toBe(2)
    expect(errorCode(refused.stderr)).toBe('ERR_RSB_CLI_RESTORE_IN_PLACE')
    expect(refused.stderr).toContain(`overwrites ${path.join(source, 'plain.txt')}, ${path.join(source, 'links')}`)
    expect(await treeState(own)).toEqual(before)

    const dry = await runRsb(['restore', '--in-place', '--dry-run', `--snapshot=${older}`, latest, 'plain.txt', 'links'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toContain('links/b')
    expect(await treeState(own)).toEqual(before)

    const restored = await runRsb(['restore', '--in-place', `--snapshot=${older}`, latest, 'plain.txt', 'links', '--json'])
    expect(restored.code, restored.stderr).toBe(0)
    expect(JSON.parse(restored.stdout)).toMatchObject({ to: await fs.realpath(source), inPlace: true, exitCode: 0 })
    expect(await fs.readFile(path.join(source, 'plain.txt'), 'utf8')).toBe('version one\n')
    // no --delete: what was made later stays; everything else is the snapshot's, hard links included
    expect(await fs.readFile(path.join(source, 'links/extra'), 'utf8')).toBe('made later\n')
    const inPlace = await fullListing(path.join(source, 'links'))
    const withoutExtra = inPlace.entries.filter((entry) => !entry.startsWith('["extra",'))
    expect(withoutExtra).toHaveLength(inPlace.entries.length - 1)
    expect({ ...inPlace, entries: withoutExtra }).toEqual(await fullListing(path.join(storeDir, older, 'links')))
    expect(await fullListing(path.join(source, 'plain.txt'))).toEqual(await fullListing(path.join(storeDir, older, 'plain.txt')))
  }, 60_000)
  it('in place: a symbolic link among the parents on this machine, or a snapshot of another machine, is refused and nothing is written', async () => {
    const own = await testdir({ 'elsewhere/keep': 'x' }, 'rsb-restore-in-place-refused-')
    const { source, store: storeDir, older } = await createStore(own)
    const latest = path.join(storeDir, 'latest')
    // a user's link where a directory of the snapshot was: rsync --relative would write through it into elsewhere/
    await fs.rm(path.join(source, 'etc'), { recursive: true })
    await fs.symlink(path.join(own, 'elsewhere'), path.join(source, 'etc'))
    const before = await treeState(own)
    const linked = await runRsb(['restore', '--in-place', '--delete', `--snapshot=${older}`, latest, 'etc/ssh/sshd_config', 'plain.txt'])
    expect(linked.code, linked.stderr).toBe(1)
    expect(errorCode(linked.stderr)).toBe('ERR_RSB_CLI_RESTORE_PATH_SYMLINK')
    expect(linked.stderr).toContain(`${path.join(source, 'etc')} on this machine is a symbolic link`)
    expect(await treeState(own)).toEqual(before)
    // the same store read from another machine: its manifest names this one's host; another's is refused in place
    const file = path.join(storeDir, '.rsb/snapshots', `${older}.json`)
    const record = JSON.parse(await fs.readFile(file, 'utf8')) as { manifest: { host: string } }
    record.manifest.host = 'another-laptop'
    await fs.writeFile(file, `${JSON.stringify(record)}\n`)
    const state = await treeState(own)
    const other = await runRsb(['restore', '--in-place', `--snapshot=${older}`, latest, 'plain.txt'])
    expect(other.code, other.stderr).toBe(1)
    expect(errorCode(other.stderr)).toBe('ERR_RSB_CLI_RESTORE_OTHER_HOST')
    expect(other.stderr).toContain('was made on another-laptop')
    expect(await treeState(own)).toEqual(state)
    // into a directory it is fine
    const out = path.join(own, 'out')
    expect((await runRsb(['restore', `--snapshot=${older}`, latest, 'plain.txt', `--to=${out}`])).code).toBe(0)
    expect(await fs.readFile(path.join(out, 'plain.txt'), 'utf8')).toBe('version one\n')
  }, 60_000)
})

describe.skipIf(!isRoot)('rsb restore from an SSH store (needs root: sshd on 127.0.0.1)', () => {
  let server: SshServer
  beforeAll(async () => {
    server = await startSshd()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('pulls a path with spaces, quotes, $() and a newline over the backup’s SSH settings into a local --to DIR, identical to the snapshot', async () => {
    const t = await testdir({}, 'rsb-restore-ssh-')
    const env = { RSYNC_RSH: server.rsyncRsh }
    const { store, older, newer } = await createStore(t, `${server.alias}:${t}/store/latest`, env)
    const out = path.join(t, 'out')
    await fs.mkdir(out)
    const result = await runRsb(
      ['restore', '-v', `--snapshot=${older}`, `${server.alias}:${t}/store/latest`, HOSTILE_DIR, 'links', `--to=${out}`],
      {
        env,
        cwd: out,
      },
    )
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain(`Restoring from snapshot ${older}`)
    // the backup's remote shell ($RSYNC_RSH with rsb's keepalive), the remote paths protected from the server's shell
    const command = result.stderr.split('\n').find((line) => line.includes(' VERBOSE Running ')) ?? ''
    expect(command).toContain(` -s '--rsh=${server.rsyncRsh} -o ServerAliveInterval=15 -o ServerAliveCountMax=4' `)
    expect(await fs.readFile(path.join(out, HOSTILE_DIR, HOSTILE_FILE), 'utf8')).toBe('hostile 1\n')
    expect(await fullListing(path.join(out, HOSTILE_DIR))).toEqual(await fullListing(path.join(store, older, HOSTILE_DIR)))
    expect(await fullListing(path.join(out, 'links'))).toEqual(await fullListing(path.join(store, older, 'links')))
    // nothing ran the names as commands, here or on the server
    for (const dir of [out, t, path.join(store, newer)]) {
      for (const name of ['pwned', 'pwned2', 'pwned3']) await expect(fs.lstat(path.join(dir, name))).rejects.toThrow()
    }
  }, 60_000)
})

// End-to-end tests of the store check: a store that another local (or, over SSH, remote) user could steer —
// its `.rsb/` or a directory in it owned by that user, a symlink to their directory, writable by others, or a store
// directory open to others without the sticky bit — is refused by the built `rsb` before anything is written (the
// full listing of the test's tree, inodes and mtimes included, is unchanged, and rsync never ran). The users rsb
// may trust (root, the user it runs as, the user who ran sudo) keep working. Needs root: a throwaway user owns the
// attacker's directories.
import fs from 'node:fs/promises'
import path from 'node:path'
import { LocalContext } from '@rsb/exec'
import { createSudoUser, isRoot, runChecked, startSshd, testdir, type SshServer, type TestUser } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { READ_SCRIPT, readStore } from '../src/session/store.ts'
import { createSource, listing, runRsb, runRsbAs, snapshotsIn, verifyDestination, type RsbResult } from './helpers.ts'

const QUIET = ['--no-sudo', '--disable-notifications']

/** A refusal: exit 1, one error line with the code, the path and a hint, and no transfer. */
function expectUnsafe(result: RsbResult | { code: number | null; stderr: string }, named: string): void {
  expect(result.code, result.stderr).toBe(1)
  const errors = result.stderr.split('\n').filter((line) => / ERROR |^rsb: error: |Hint/.test(line))
  expect(errors, result.stderr).toHaveLength(1)
  expect(errors[0]).toContain('(ERR_RSB_CLI_STORE_UNSAFE)')
  expect(errors[0]).toContain(`${named} `)
  expect(errors[0]).toMatch(/ Hint: \S/)
  expect(result.stderr).not.toContain('Creating system backup')
  expect(result.stderr).not.toContain('Creating snapshot')
}

/** A store made by one real run of rsb as root: t/source → t/b/latest, one snapshot, `.rsb/` with its records. */
async function storeWithOneRun(): Promise<{ t: string; source: string; store: string; latest: string }> {
  const t = await testdir()
  const source = path.join(t, 'source')
  await createSource(source)
  const latest = path.join(t, 'b/latest')
  const first = await runRsb([...QUIET, source, latest])
  expect(first.code, first.stderr).toBe(0)
  expect((await fs.readdir(path.join(t, 'b/.rsb'))).sort()).toEqual(['hashes', 'mirrors', 'runs', 'snapshots', 'store.json', 'synced'])
  return { t, source, store: path.join(t, 'b'), latest }
}

describe.skipIf(!isRoot)('a store another user could steer is refused before anything is written (needs root: a throwaway user)', () => {
  let other: TestUser
  beforeAll(async () => {
    other = await createSudoUser({ sudo: false, prefix: 'rsbo' })
  })
  afterAll(async () => {
    await other?.remove()
  })

  // Nothing may be written before the refusal, the lock's holder record (.rsb/mirrors/NAME.lock, written by the
  // lock taken before the store is read) included: the listing compares the mtimes of .rsb/'s directories too.
  const cases: [string, (s: { t: string; store: string }) => Promise<string>][] = [
    [
      '.rsb/ owned by the other user',
      async ({ store }) => {
        await fs.chown(path.join(store, '.rsb'), other.uid, other.gid)
        return path.join(store, '.rsb')
      },
    ],
    [
      '.rsb/mirrors a symbolic link to a directory of the other user',
      async ({ t, store }) => {
        const theirs = path.join(t, 'theirs')
        await fs.cp(path.join(store, '.rsb/mirrors'), theirs, { recursive: true })
        await runChecked('chown', ['-R', `${other.uid}:${other.gid}`, theirs])
        await fs.rm(path.join(store, '.rsb/mirrors'), { recursive: true })
        await fs.symlink(theirs, path.join(store, '.rsb/mirrors'))
        return path.join(store, '.rsb/mirrors')
      },
    ],
    [
      '.rsb/ mode 0777',
      async ({ store }) => {
        await fs.chmod(path.join(store, '.rsb'), 0o777)
        return path.join(store, '.rsb')
      },
    ],
    [
      '.rsb/snapshots owned by the other user',
      async ({ store }) => {
        await fs.chown(path.join(store, '.rsb/snapshots'), other.uid, other.gid)
        return path.join(store, '.rsb/snapshots')
      },
    ],
    [
      // the moment of the last finished rsync decides which files get new inodes (exact snapshots): another
      // user who could write it could make a later run leave a changed file shared with a snapshot
      '.rsb/synced owned by the other user',
      async ({ store }) => {
        await fs.chown(path.join(store, '.rsb/synced'), other.uid, other.gid)
        return path.join(store, '.rsb/synced')
      },
    ],
    [
      // the run records decide what rsb status says, and a run prunes the oldest: another user who could write there
      // could fake a fresh backup or make rsb remove their files
      '.rsb/runs owned by the other user',
      async ({ store }) => {
        await fs.chown(path.join(store, '.rsb/runs'), other.uid, other.gid)
        return path.join(store, '.rsb/runs')
      },
    ],
    [
      // the hash records decide what rsb verify says and are carried into the next snapshot's record: another user who
      // could write them could hide a change made to a snapshot
      '.rsb/hashes owned by the other user',
      async ({ store }) => {
        await fs.chown(path.join(store, '.rsb/hashes'), other.uid, other.gid)
        return path.join(store, '.rsb/hashes')
      },
    ],
    [
      // the files an exact run moves aside are given to rsync as --link-dest: a planted one could put the other user's
      // content into the mirror
      '.rsb/staged made by the other user',
      async ({ store }) => {
        await fs.mkdir(path.join(store, '.rsb/staged/ffffffff-1-1'), { recursive: true })
        await runChecked('chown', ['-R', `${other.uid}:${other.gid}`, path.join(store, '.rsb/staged')])
        return path.join(store, '.rsb/staged')
      },
    ],
    [
      'the store owned by the other user',
      async ({ store }) => {
        await fs.chown(store, other.uid, other.gid)
        return store
      },
    ],
    [
      'the store mode 0777 without the sticky bit',
      async ({ store }) => {
        await fs.chmod(store, 0o777)
        return store
      },
    ],
  ]

  it.each(cases)('%s: exit 1, ERR_RSB_CLI_STORE_UNSAFE naming it, no rsync, nothing changed', { timeout: 60_000 }, async (_what, plant) => {
    const s = await storeWithOneRun()
    const named = await plant(s)
    // the reader's own check (store_unsafe) agrees with readStore's: it stops before reading a record
    const raw = await new LocalContext().run(['sh', '-c', READ_SCRIPT, 'sh', s.store], { check: false, ionice: undefined })
    expect(raw.stdout.split('\0').slice(-2)).toEqual(['unsafe', ''])
    const before = await listing(s.t)
    const result = await runRsb([...QUIET, s.source, s.latest])
    expectUnsafe(result, named)
    expect(await listing(s.t)).toEqual(before)
    // --snapshot and --rotate alone read the same store the same way
    const snapshotOnly = await runRsb([...QUIET, '--snapshot', '--rotate', s.latest])
    expectUnsafe(snapshotOnly, named)
    expect(await listing(s.t)).toEqual(before)
  })

  it('a store with the sticky bit (mode 1777, as /tmp) owned by root runs and snapshots', { timeout: 60_000 }, async () => {
    const s = await storeWithOneRun()
    await fs.chmod(s.store, 0o1777)
    await new Promise((r) => setTimeout(r, 1000)) // the next snapshot's name is a second later
    const result = await runRsb([...QUIET, s.source, s.latest])
    expect(result.code, result.stderr).toBe(0)
    expect(await snapshotsIn(s.store)).toHaveLength(2)
  })

  it('a new store (no .rsb/ yet) is made as before', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const result = await runRsb([...QUIET, path.join(t, 'source'), path.join(t, 'new/latest')])
    expect(result.code, result.stderr).toBe(0)
    const metadata = await fs.lstat(path.join(t, 'new/.rsb'))
    expect([metadata.isDirectory(), metadata.uid, metadata.mode & 0o022]).toEqual([true, 0, 0])
  })

  it('a store owned by the user who runs rsb (--no-sudo, their own store) runs and snapshots', { timeout: 60_000 }, async () => {
    const t = await testdir()
    await fs.chmod(t, 0o755)
    const source = path.join(t, 'source')
    await createSource(source)
    await runChecked('chown', ['-R', `${other.uid}:${other.gid}`, source])
    const store = path.join(t, 'mine')
    await fs.mkdir(store, { mode: 0o700 })
    await fs.chown(store, other.uid, other.gid)
    const env = { HOME: other.home }
    const first = await runRsbAs(other.name, [...QUIET, source, path.join(store, 'latest')], { env })
    expect(first.code, first.stderr).toBe(0)
    await new Promise((r) => setTimeout(r, 1000))
    const second = await runRsbAs(other.name, [...QUIET, source, path.join(store, 'latest')], { env })
    expect(second.code, second.stderr).toBe(0)
    await verifyDestination(path.join(store, 'latest'))
    expect(await snapshotsIn(store)).toHaveLength(2)
    const metadata = await fs.lstat(path.join(store, '.rsb/mirrors'))
    expect([metadata.uid, metadata.mode & 0o022]).toEqual([other.uid, 0])
    // root's own run does not trust that user's store
    const before = await listing(t)
    expectUnsafe(await runRsb([...QUIET, source, path.join(store, 'latest')]), store)
    expect(await listing(t)).toEqual(before)
  })

  it('with sudo, a store of the user who ran sudo ($SUDO_UID) is theirs to use', { timeout: 60_000 }, async () => {
    const user = await createSudoUser({ prefix: 'rsbu' })
    try {
      const t = await testdir()
      await fs.chmod(t, 0o755)
      const source = path.join(t, 'source')
      await createSource(source)
      const store = path.join(t, 'theirs')
      await fs.mkdir(store, { mode: 0o755 })
      await fs.chown(store, user.uid, user.gid)
      const result = await runRsbAs(user.name, ['--disable-notifications', source, path.join(store, 'latest')], {
        env: { HOME: user.home, NODE_DEBUG: 'rsb:exec' },
      })
      expect(result.code, result.stderr).toBe(0)
      expect(result.stderr).toMatch(/localhost: sudo -n sh -c/)
      expect(await snapshotsIn(store)).toHaveLength(1)
      // the other user's store is not: their UID is neither root nor the caller's
      await fs.chown(store, other.uid, other.gid)
      const refused = await runRsbAs(user.name, ['--disable-notifications', source, path.join(store, 'latest')], {
        env: { HOME: user.home },
      })
      expectUnsafe(refused, store)
    } finally {
      await user.remove()
    }
  })

  it('the reader reads nothing in an unsafe .rsb/: a FIFO planted as store.json does not hang it', async () => {
    const s = await storeWithOneRun()
    const metadata = path.join(s.store, '.rsb')
    await fs.chown(metadata, other.uid, other.gid)
    await fs.rm(path.join(metadata, 'store.json'))
    await runChecked('mkfifo', [path.join(metadata, 'store.json')])
    const context = new LocalContext()
    const raw = await context.run(['sh', '-c', READ_SCRIPT, 'sh', s.store], { check: false, ionice: undefined })
    expect(raw.exitCode).toBe(0)
    expect(raw.stdout.split('\0')).toContain('unsafe')
    expect(raw.stdout.split('\0')).not.toContain('store')
    await expect(readStore(context, s.store)).rejects.toMatchObject({
      code: 'ERR_RSB_CLI_STORE_UNSAFE',
      path: metadata,
      message: `The backup store ${s.store} could be steered by another user: ${metadata} belongs to UID ${other.uid}, not to root.`,
    })
  })

  it('names with spaces, quotes, $() and newlines: facts and entries read back exactly, the refusal names the path on one line', async () => {
    const t = await testdir()
    const store = path.join(t, `it's "a" $(touch pwned)\nstore`)
    await fs.mkdir(path.join(store, '.rsb/mirrors'), { recursive: true })
    await fs.mkdir(path.join(store, 'new\nline'))
    const context = new LocalContext()
    expect([...(await readStore(context, store)).entries.keys()]).toEqual(['new\nline'])
    await fs.chmod(path.join(store, '.rsb/mirrors'), 0o777)
    const error = await readStore(context, store).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_RSB_CLI_STORE_UNSAFE', path: path.join(store, '.rsb/mirrors') })
    expect((error as Error).message).not.toContain('\n')
    expect(await fs.readdir(t)).not.toContain('pwned')
  })

  describe('over SSH (sshd on 127.0.0.1)', () => {
    let server: SshServer
    beforeAll(async () => {
      server = await startSshd()
    })
    afterAll(async () => {
      await server?.stop()
    })

    it(
      'a remote .rsb/ owned by another user of the server is refused the same way, nothing changed there',
      { timeout: 60_000 },
      async () => {
        const s = await storeWithOneRun()
        await fs.chown(path.join(s.store, '.rsb'), other.uid, other.gid)
        const before = await listing(s.t)
        const result = await runRsb([...QUIET, s.source, `${server.alias}:${s.latest}`], { env: { RSYNC_RSH: server.rsyncRsh } })
        expectUnsafe(result, path.join(s.store, '.rsb'))
        expect(result.stderr).toContain(`on ${server.alias}`)
        expect(await listing(s.t)).toEqual(before)
      },
    )

    it('a remote store of root runs as before', { timeout: 60_000 }, async () => {
      const s = await storeWithOneRun()
      await new Promise((r) => setTimeout(r, 1000))
      const result = await runRsb([...QUIET, s.source, `${server.alias}:${s.latest}`], { env: { RSYNC_RSH: server.rsyncRsh } })
      expect(result.code, result.stderr).toBe(0)
      expect(await snapshotsIn(s.store)).toHaveLength(2)
    })
  })
})

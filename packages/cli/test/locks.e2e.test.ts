// End-to-end tests of the built `rsb`'s run locks: locks that no other user can steer, one
// lock per store however it is reached (a symlinked parent, a bind mount, another machine over SSH), and a lock
// that lasts while any process of a run is alive (kill -9 of rsb alone). Needs root: throwaway users, bind
// mounts, sshd on 127.0.0.1.
import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createSudoUser, isRoot, runChecked, startSshd, testdir, type SshServer, type TestUser } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { createSource, processes, runRsb, runRsbAs, snapshotsIn, startRsb, verifyDestination, writeProgram } from './helpers.ts'

const QUIET = ['--no-sudo', '--disable-notifications']

/** The lock file name rsb uses for KEY (the first lock's key is the destination made absolute). */
function lockName(key: string): string {
  return `${createHash('sha256').update(key).digest('hex').slice(0, 24)}.lock`
}

/** Runs a shell command as USER. */
function shAs(user: string, script: string): Promise<string> {
  return runChecked('runuser', ['-u', user, '--', 'sh', '-c', script])
}

/**
 * A test directory with a SOURCE (`t/source`), optionally an empty store (`t/store`), and a stand-in rsync in `bin`
 * that waits 3 seconds before the real one (so that a run holds its locks while a test looks).
 */
async function slowScene(options: { store?: boolean } = {}): Promise<{ t: string; bin: string }> {
  const t = await testdir()
  await createSource(path.join(t, 'source'))
  if (options.store) await fs.mkdir(path.join(t, 'store'))
  const bin = path.join(t, 'bin')
  await writeProgram(bin, 'rsync', 'sleep 3; exec /usr/bin/rsync "$@"')
  return { t, bin }
}

/** Polls until `check` holds. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Whether a process whose argv mentions TEXT is alive. */
async function running(text: string): Promise<boolean> {
  return (await processes()).some((p) => p.pid !== process.pid && p.argv.some((a) => a.includes(text)))
}

describe.skipIf(!isRoot)('lock directories no other user can steer (needs root: throwaway users)', () => {
  let attacker: TestUser
  beforeAll(async () => {
    attacker = await createSudoUser({ sudo: false, prefix: 'rsba' })
  })
  afterAll(async () => {
    await attacker?.remove()
  })

  it('root’s locks are in /run/rsb: a /run/lock/rsb planted by a user, full of symlinks to a root file and a lock naming PID 1, changes nothing', async () => {
    const t = await testdir()
    await fs.chmod(t, 0o755)
    await createSource(path.join(t, 'source'))
    const victim = path.join(t, 'victim')
    await fs.writeFile(victim, 'precious\n', { mode: 0o600 })
    const destination = path.join(t, 'backups/latest')
    let planted = false
    if (!(await fs.stat('/run/lock/rsb').catch(() => undefined))) {
      planted = true
      onTestFinished(() => fs.rm('/run/lock/rsb', { recursive: true, force: true }))
      await shAs(
        attacker.name,
        `mkdir -m 777 /run/lock/rsb && cd /run/lock/rsb && for n in ${lockName(destination)} ${lockName(destination)}.$$.tmp; do ln -s ${victim} "$n"; done && ` +
          `printf '{"pid":1,"startTime":"1","key":"x","since":"2020-01-01T00:00:00Z"}\\n' > held.lock`,
      )
    }
    const result = await runRsb([...QUIET, path.join(t, 'source'), destination])
    expect(result.stderr).not.toContain('ERR_RSB_CLI_LOCK')
    expect(result.code).toBe(0)
    await verifyDestination(destination)
    expect(await fs.readFile(victim, 'utf8')).toBe('precious\n')
    const lockDir = await fs.lstat('/run/rsb')
    expect(lockDir.isDirectory() && lockDir.uid === 0 && (lockDir.mode & 0o777) === 0o700).toBe(true)
    // and a user cannot make /run/rsb first: /run is root's
    await expect(shAs(attacker.name, 'mkdir /run/rsb-attacker-test')).rejects.toThrow()
    if (planted) expect(await fs.readlink(path.join('/run/lock/rsb', lockName(destination)))).toBe(victim)
  })

  it('a user’s run never uses a lock directory another user made in /tmp: it falls back to its own, or refuses with a clear error when none is left', async () => {
    const runner = await createSudoUser({ sudo: false, prefix: 'rsbr' })
    onTestFinished(() => runner.remove())
    const source = path.join(runner.home, 'source')
    const destination = path.join(runner.home, 'backups/latest')
    await shAs(
      runner.name,
      `mkdir -p ${source} && echo data > ${source}/file && printf 'precious\\n' > ${runner.home}/precious && chmod 600 ${runner.home}/precious`,
    )
    const planted = `/tmp/rsb-${runner.uid}`
    await fs.rm(planted, { recursive: true, force: true })
    onTestFinished(() => fs.rm(planted, { recursive: true, force: true }))
    await shAs(
      attacker.name,
      `mkdir -m 777 ${planted} && cd ${planted} && ln -s ${runner.home}/precious ${lockName(destination)} && ln -s ${runner.home}/precious ${lockName(destination)}.1.tmp`,
    )
    // the runner's home is usable: its locks live in ~/.local/state/rsb/locks, /tmp is not looked at
    const first = await runRsbAs(runner.name, [...QUIET, source, destination], { env: { TMPDIR: '/tmp' } })
    expect(first.stderr).not.toContain('ERR_RSB_CLI_LOCK')
    expect(first.code).toBe(0)
    const own = await fs.lstat(path.join(runner.home, '.local/state/rsb/locks'))
    expect(own.uid === runner.uid && (own.mode & 0o777) === 0o700).toBe(true)
    // without a usable home and without $XDG_RUNTIME_DIR only /tmp/rsb-UID is left, and it is someone else's: refused
    await fs.chown(runner.home, 0, 0)
    await fs.rm(path.join(runner.home, '.local'), { recursive: true, force: true })
    const before = await fs.readdir(path.join(runner.home, 'backups'))
    const second = await runRsbAs(runner.name, [...QUIET, source, destination], { env: { TMPDIR: '/tmp' } })
    expect(second.code).toBe(1)
    expect(second.stderr).toContain(`${planted} is owned by UID ${attacker.uid}, not by this user (UID ${runner.uid})`)
    expect(second.stderr).toMatch(/No safe directory for the run lock: .* \(ERR_RSB_CLI_LOCK_UNSAFE\) Hint: /)
    expect(second.stderr).not.toContain('Creating system backup')
    expect(await fs.readdir(path.join(runner.home, 'backups'))).toEqual(before)
    expect(await fs.readFile(path.join(runner.home, 'precious'), 'utf8')).toBe('precious\n')
    expect(await fs.readlink(path.join(planted, lockName(destination)))).toBe(`${runner.home}/precious`)
    // with $XDG_RUNTIME_DIR (the user's own 0700 directory) it runs again
    const runtime = path.join('/tmp', `xdg-${runner.name}`)
    await fs.mkdir(runtime, { mode: 0o700 })
    await fs.chown(runtime, runner.uid, runner.gid)
    onTestFinished(() => fs.rm(runtime, { recursive: true, force: true }))
    const third = await runRsbAs(runner.name, [...QUIET, source, destination], { env: { TMPDIR: '/tmp', XDG_RUNTIME_DIR: runtime } })
    expect(third.code).toBe(0)
    expect((await fs.readdir(path.join(runtime, 'rsb'))).length).toBeGreaterThan(0)
  })

  const unsafe: Array<[string, (t: string, dir: string, victim: string, destination: string) => Promise<void>, RegExp]> = [
    [
      'a symbolic link',
      async (t, dir) => {
        await fs.mkdir(path.join(t, 'real'), { mode: 0o700 })
        await fs.symlink(path.join(t, 'real'), dir)
      },
      /is a symbolic link/,
    ],
    [
      'owned by another user',
      async (_t, dir) => {
        await fs.mkdir(dir, { mode: 0o700 })
        await fs.chown(dir, attacker.uid, attacker.gid)
      },
      /is owned by UID \d+, not by this user/,
    ],
    [
      'writable by others',
      async (_t, dir) => {
        await fs.mkdir(dir)
        await fs.chmod(dir, 0o777)
      },
      /may be written by other users \(mode 0777\)/,
    ],
    [
      'inside a directory others may write to (no sticky bit)',
      async (t, dir) => {
        await fs.mkdir(path.join(t, 'open'))
        await fs.chmod(path.join(t, 'open'), 0o777)
        await fs.mkdir(dir, { mode: 0o700 })
      },
      /lies in .*\/open, which other users may write to \(mode 0777\)/,
    ],
    [
      'holding a symlink where the lock file goes',
      async (_t, dir, victim, destination) => {
        await fs.mkdir(dir, { mode: 0o700 })
        await fs.symlink(victim, path.join(dir, lockName(destination)))
      },
      /The lock file .* is a symbolic link; rsb does not follow it/,
    ],
    [
      'holding a hard link to another file where the lock file goes',
      async (_t, dir, victim, destination) => {
        await fs.mkdir(dir, { mode: 0o700 })
        await fs.link(victim, path.join(dir, lockName(destination)))
      },
      /The lock file .* is not a private file of this user \(UID 0, 2 links\)/,
    ],
  ]
  it.each(unsafe)(
    '$RSB_LOCK_DIR %s: refused with ERR_RSB_CLI_LOCK_UNSAFE, the other file untouched, nothing written',
    async (name, plant, message) => {
      const t = await testdir()
      await fs.chmod(t, 0o755)
      await createSource(path.join(t, 'source'))
      const victim = path.join(t, 'victim')
      await fs.writeFile(victim, 'precious\n', { mode: 0o600 })
      const destination = path.join(t, 'backups/latest')
      const dir = path.join(t, name.includes('no sticky') ? 'open/locks' : 'locks')
      await plant(t, dir, victim, destination)
      const result = await runRsb([...QUIET, path.join(t, 'source'), destination], { env: { RSB_LOCK_DIR: dir } })
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(message)
      expect(result.stderr).toContain('(ERR_RSB_CLI_LOCK_UNSAFE) Hint: ')
      expect(result.stderr).not.toContain('Creating system backup')
      expect(await fs.readFile(victim, 'utf8')).toBe('precious\n')
      expect((await fs.stat(victim)).mode & 0o777).toBe(0o600)
      await expect(fs.stat(path.join(t, 'backups'))).rejects.toThrow()
    },
  )
})

describe.skipIf(!isRoot)('one lock per mirror, however it is reached (needs root: bind mounts)', () => {
  it('a run through a bind mount of a store that another run is writing is refused with ERR_RSB_CLI_LOCKED; the first is unaffected', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    await fs.mkdir(path.join(t, 'store'))
    await fs.mkdir(path.join(t, 'bind'))
    await runChecked('mount', ['--bind', path.join(t, 'store'), path.join(t, 'bind')])
    onTestFinished(() => runChecked('umount', [path.join(t, 'bind')]).then(() => undefined))
    const bin = path.join(t, 'bin')
    await writeProgram(bin, 'rsync', 'sleep 3; exec /usr/bin/rsync "$@"')
    const first = startRsb([...QUIET, path.join(t, 'source'), path.join(t, 'store/latest')], { path: [bin] })
    await first.waitForStderr('Creating system backup using rsync')
    const second = await runRsb([...QUIET, path.join(t, 'source'), path.join(t, 'bind/latest')])
    expect(second.code).toBe(1)
    expect(second.stderr).toMatch(/Another rsb run \(PID \d+ on \S+, since .+\) is working on .*\/bind\/latest\. \(ERR_RSB_CLI_LOCKED\)/)
    expect(second.stderr).not.toContain('Creating system backup')
    const result = await first.done
    expect(result.code).toBe(0)
    expect(await snapshotsIn(path.join(t, 'store'))).toHaveLength(1)
    // released afterwards: the bind mount's spelling works now
    expect((await runRsb([...QUIET, '--backup', path.join(t, 'source'), path.join(t, 'bind/latest')])).code).toBe(0)
  })

  /** A lock directory of its own: another user's, or another $RSB_LOCK_DIR (only the lock at the mirror can tell). */
  async function lockDir(t: string, name: string): Promise<Record<string, string>> {
    const dir = path.join(t, `locks-${name}`)
    await fs.mkdir(dir, { mode: 0o700 })
    return { RSB_LOCK_DIR: dir }
  }

  it('two runs with different lock directories (as root’s and a sudo user’s are) on one local mirror: the second is refused by the lock at the mirror', async () => {
    const { t, bin } = await slowScene({ store: true })
    const destination = path.join(t, 'store/latest')
    expect((await runRsb([...QUIET, '--backup', path.join(t, 'source'), destination], { env: await lockDir(t, 'a') })).code).toBe(0)
    const first = startRsb([...QUIET, path.join(t, 'source'), destination], { path: [bin], env: { RSB_LOCK_DIR: path.join(t, 'locks-a') } })
    await first.waitForStderr('Creating system backup using rsync')
    const second = await runRsb([...QUIET, path.join(t, 'source'), destination], { env: await lockDir(t, 'b') })
    expect(second.code).toBe(1)
    expect(second.stderr).toMatch(
      new RegExp(
        `Another rsb run \\(PID ${first.child.pid} on \\S+, since .+\\) is working on .*latest on localhost\\. \\(ERR_RSB_CLI_LOCKED\\)`,
      ),
    )
    expect(second.stderr).not.toContain('Creating system backup')
    expect((await first.done).code).toBe(0)
    expect(await snapshotsIn(path.join(t, 'store'))).toHaveLength(1)
    // released on the way out, its record too
    await expect(fs.stat(path.join(t, 'store/.rsb/mirrors/latest.lock'))).rejects.toThrow()
    const later = await runRsb([...QUIET, path.join(t, 'source'), destination], { env: { RSB_LOCK_DIR: path.join(t, 'locks-b') } })
    expect(later.stderr).not.toMatch(/Took over|did not stop/)
    expect(later.code).toBe(0)
  })

  it('a first run that makes the mirror and a later run that finds it made are one lock too (the first locks the store, the later shares it)', async () => {
    const { t, bin } = await slowScene({ store: true })
    const destination = path.join(t, 'store/latest')
    const first = startRsb([...QUIET, path.join(t, 'source'), destination], { path: [bin], env: await lockDir(t, 'a') })
    await first.waitForStderr('Creating system backup using rsync')
    expect((await fs.stat(destination)).isDirectory()).toBe(true) // made by the first run by now
    const second = await runRsb([...QUIET, path.join(t, 'source'), destination], { env: await lockDir(t, 'b') })
    expect(second.code).toBe(1)
    expect(second.stderr).toContain('(ERR_RSB_CLI_LOCKED)')
    expect(second.stderr).not.toContain('Creating system backup')
    expect((await first.done).code).toBe(0)
    expect(await snapshotsIn(path.join(t, 'store'))).toHaveLength(1)
  })

  it('a lock lost during the run (its holder ended) stops the run before the snapshot: exit 1, ERR_RSB_CLI_LOCK_FAILED, no snapshot', async () => {
    const { t, bin } = await slowScene({ store: true })
    const destination = path.join(t, 'store/latest')
    const run = startRsb([...QUIET, path.join(t, 'source'), destination], { path: [bin], env: await lockDir(t, 'a') })
    await run.waitForStderr('Creating system backup using rsync')
    const holders = (await processes()).filter((p) => p.argv.some((a) => a.includes('echo locked')) && p.argv.includes(destination))
    expect(holders).toHaveLength(1)
    process.kill(holders[0]!.pid, 'SIGKILL')
    const result = await run.done
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/The lock of .*latest on localhost was lost .* \(ERR_RSB_CLI_LOCK_FAILED\)/)
    expect(result.stderr).not.toContain('Creating snapshot')
    expect(await snapshotsIn(path.join(t, 'store'))).toEqual([])
  })

  it('a destination more than 5 missing directories below an existing one is refused (its lock could not meet a later run’s), nothing made', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const result = await runRsb([...QUIET, path.join(t, 'source'), path.join(t, 'a/b/c/d/e/f/latest')])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/more than 5 directories above it are missing \(create its parent first\)\. \(ERR_RSB_CLI_LOCK_FAILED\)/)
    await expect(fs.stat(path.join(t, 'a'))).rejects.toThrow()
    // five are fine
    expect((await runRsb([...QUIET, path.join(t, 'source'), path.join(t, 'a/b/c/d/latest')])).code).toBe(0)
  })

  it('the holder record cannot fake a lock: a record holding a line "locked" written while a run holds the lock does not let a second run in', async () => {
    const { t, bin } = await slowScene({ store: true })
    const destination = path.join(t, 'store/latest')
    expect((await runRsb([...QUIET, '--backup', path.join(t, 'source'), destination], { env: await lockDir(t, 'a') })).code).toBe(0)
    const first = startRsb([...QUIET, path.join(t, 'source'), destination], { path: [bin], env: { RSB_LOCK_DIR: path.join(t, 'locks-a') } })
    await first.waitForStderr('Creating system backup using rsync')
    await fs.writeFile(path.join(t, 'store/.rsb/mirrors/latest.lock'), 'x\nlocked\nreleased\n')
    const second = await runRsb([...QUIET, path.join(t, 'source'), destination], { env: await lockDir(t, 'b') })
    expect(second.code).toBe(1)
    expect(second.stderr).toMatch(/Another rsb run is working on .*latest on localhost\. \(ERR_RSB_CLI_LOCKED\)/)
    expect((await first.done).code).toBe(0)
  })
})

describe.skipIf(!isRoot)('a lock lasts while any process of the run lives (needs root for the /run/rsb default)', () => {
  it('kill -9 of rsb alone mid-transfer: the next run refuses while the orphaned rsync runs, then takes the lock over with a log line', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const bin = path.join(t, 'bin')
    // the stand-in and then rsync have the test's directory in their argv
    const marker = t
    await writeProgram(bin, 'rsync', 'sleep 4; exec /usr/bin/rsync "$@"')
    const destination = path.join(t, 'backups/latest')
    const first = startRsb([...QUIET, path.join(t, 'source'), destination], { path: [bin] })
    await first.waitForStderr('Creating system backup using rsync')
    await eventually(() => running(marker))
    first.child.kill('SIGKILL') // rsb alone, not its process group
    expect((await first.done).signal).toBe('SIGKILL')
    expect(await running(marker)).toBe(true) // the stand-in rsync lives on
    const during = await runRsb([...QUIET, path.join(t, 'source'), destination])
    expect(during.code).toBe(1)
    expect(during.stderr).toMatch(
      new RegExp(
        `An rsb run \\(PID ${first.child.pid} on \\S+, since .+\\) ended, but processes it started \\(such as its rsync\\) still work on .*latest\\. \\(ERR_RSB_CLI_LOCKED\\)`,
      ),
    )
    expect(during.stderr).toContain('fuser -v /run/rsb/')
    expect(during.stderr).not.toContain('Creating system backup')
    await eventually(async () => !(await running(marker)))
    const after = await runRsb([...QUIET, path.join(t, 'source'), destination])
    expect(after.code).toBe(0)
    expect(after.stderr).toMatch(
      new RegExp(`WARNING Took over the run lock of .*latest from a run that ended without releasing it \\(PID ${first.child.pid} on `),
    )
    await verifyDestination(destination)
    expect(await snapshotsIn(path.join(t, 'backups'))).toHaveLength(1)
    // a run that ends normally leaves no holder behind: the next one takes over nothing
    const again = await runRsb([...QUIET, '--backup', path.join(t, 'source'), destination])
    expect(again.code).toBe(0)
    expect(again.stderr).not.toContain('Took over')
  })
})

describe.skipIf(!isRoot)('a lock on the server for SSH stores (needs root: sshd on 127.0.0.1)', () => {
  let server: SshServer
  beforeAll(async () => {
    server = await startSshd()
  })
  afterAll(async () => {
    await server?.stop()
  })

  /** A second machine: its own lock directory, so only the server's lock can keep the two apart. */
  async function machine(t: string, name: string): Promise<Record<string, string>> {
    const dir = path.join(t, `machine-${name}`)
    await fs.mkdir(dir, { mode: 0o700 })
    return { RSYNC_RSH: server.rsyncRsh, RSB_LOCK_DIR: dir }
  }

  it('two machines backing up into one SSH store: the second is refused with who holds the lock, and runs once the first is done', async () => {
    const { t, bin } = await slowScene()
    const destination = `${server.alias}:${t}/backups/latest`
    const env = await machine(t, 'a')
    // a first run registers the store (an unregistered one records no holder, so the message could not name it)
    expect((await runRsb([...QUIET, '--backup', path.join(t, 'source'), destination], { env })).code).toBe(0)
    const first = startRsb([...QUIET, path.join(t, 'source'), destination], { path: [bin], env })
    await first.waitForStderr('Creating system backup using rsync')
    const other = await machine(t, 'b')
    const second = await runRsb([...QUIET, path.join(t, 'source'), destination], { env: other })
    expect(second.code).toBe(1)
    expect(second.stderr).toMatch(
      new RegExp(`Another rsb run \\(PID ${first.child.pid} on \\S+, since .+\\) is working on .*latest on .*\\. \\(ERR_RSB_CLI_LOCKED\\)`),
    )
    expect(second.stderr).not.toContain('Creating system backup')
    expect((await first.done).code).toBe(0)
    // released on the way out: no holder left in the store, and the other machine runs now
    await expect(fs.stat(path.join(t, 'backups/.rsb/mirrors/latest.lock'))).rejects.toThrow()
    const later = await runRsb([...QUIET, path.join(t, 'source'), destination], { env: other })
    expect(later.stderr).not.toContain('Took over')
    expect(later.code).toBe(0)
    expect(await snapshotsIn(path.join(t, 'backups'))).toHaveLength(2)
  })

  it('a run killed with everything it started (a crashed machine) frees the server’s lock; the next run takes it over with a log line', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const destination = `${server.alias}:${t}/backups/latest`
    const env = await machine(t, 'a')
    // a first run registers the store, so that the holder is recorded in it
    expect((await runRsb([...QUIET, '--backup', path.join(t, 'source'), destination], { env })).code).toBe(0)
    const bin = path.join(t, 'bin')
    await writeProgram(bin, 'rsync', 'sleep 30; exec /usr/bin/rsync "$@"')
    const first = startRsb([...QUIET, path.join(t, 'source'), destination], { path: [bin], env, detached: true })
    await first.waitForStderr('Creating system backup using rsync')
    expect(JSON.parse(await fs.readFile(path.join(t, 'backups/.rsb/mirrors/latest.lock'), 'utf8'))).toMatchObject({ pid: first.child.pid })
    // the server's holder of the lock (sh -c HOLD_SCRIPT … DESTINATION …) runs while the transfer does
    const holder = async () =>
      (await processes()).some((p) => p.argv.some((a) => a.includes('echo locked')) && p.argv.includes(`${t}/backups/latest`))
    expect(await holder()).toBe(true)
    process.kill(-first.child.pid!, 'SIGKILL')
    await first.done
    // and notices the lost connection within a second or two
    await eventually(async () => !(await holder()))
    const next = await runRsb([...QUIET, path.join(t, 'source'), destination], { env: await machine(t, 'b') })
    expect(next.code).toBe(0)
    expect(next.stderr).toMatch(
      new RegExp(
        `WARNING Took over the lock of ${t}/backups/latest on .* from a run that ended without releasing it \\(PID ${first.child.pid} on `,
      ),
    )
    await expect(fs.stat(path.join(t, 'backups/.rsb/mirrors/latest.lock'))).rejects.toThrow()
  })

  it('a dry run takes the server’s lock but writes no holder into the store', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const destination = `${server.alias}:${t}/backups/latest`
    const env = await machine(t, 'a')
    expect((await runRsb([...QUIET, '--backup', path.join(t, 'source'), destination], { env })).code).toBe(0)
    const bin = path.join(t, 'bin')
    await writeProgram(bin, 'rsync', 'sleep 3; exec /usr/bin/rsync "$@"')
    const dry = startRsb([...QUIET, '--dry-run', path.join(t, 'source'), destination], { path: [bin], env })
    await dry.waitForStderr('Creating system backup using rsync')
    await expect(fs.stat(path.join(t, 'backups/.rsb/mirrors/latest.lock'))).rejects.toThrow()
    const second = await runRsb([...QUIET, path.join(t, 'source'), destination], { env: await machine(t, 'b') })
    expect(second.code).toBe(1)
    expect(second.stderr).toMatch(/Another rsb run is working on .* on .*\. \(ERR_RSB_CLI_LOCKED\)/)
    expect((await dry.done).code).toBe(0)
  })
})

import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { LocalContext } from '@rsb/exec'
import { isRoot, runChecked, testdir } from '@rsb/testkit'
import { describe, expect, it } from 'vitest'
import { runRsync, RsyncError, type RsyncEvent } from '../src/index.ts'
import { createSource, listTree, verifyDestination } from './tree.ts'

// Real rsync between temporary directories (tier 3). The temporary directories live below /tmp, which is one of
// the default excluded roots (`--filter=-/ /tmp/`): the rule matches absolute paths of the transfer, so a source
// below /tmp is still copied — every test here depends on that.

const needsRoot = isRoot ? it : it.skip
const context = new LocalContext({ sudo: true, interactive: false })

async function pair(): Promise<{ source: string; destination: string; root: string }> {
  const root = await testdir({}, 'rsb-rsync-')
  const source = path.join(root, 'source')
  await fs.mkdir(source)
  return { source, destination: path.join(root, 'destination'), root }
}

describe('runRsync local → local (real rsync)', () => {
  it('copies the original test tree: file with known content, directory, dangling symlink kept as a link', async () => {
    const { source, destination } = await pair()
    await createSource(source)
    const result = await runRsync({ source, destination, context })
    expect(result).toMatchObject({ exitCode: 0, warning: undefined })
    await verifyDestination(destination)
  })

  it('copies from below /tmp although /tmp/ is an excluded root, and leaves out excluded roots below the source', async () => {
    const { source, destination } = await pair()
    await createSource(source)
    // an excluded root that lies inside the source: left out (absolute-path match)
    await fs.mkdir(path.join(source, 'cache'), { recursive: true })
    await fs.writeFile(path.join(source, 'cache', 'x'), 'x')
    await runRsync({ source, destination, context, excludedRoots: [`${path.join(source, 'cache')}/`] })
    await verifyDestination(destination)
    await expect(fs.access(path.join(destination, 'cache'))).rejects.toThrow()
  })

  it('excludes patterns (--exclude=PATTERN) and propagates deletions, also of newly excluded files', async () => {
    const { source, destination } = await pair()
    await fs.writeFile(path.join(source, 'included.txt'), 'in')
    await fs.writeFile(path.join(source, 'excluded.txt'), 'out')
    await fs.writeFile(path.join(source, 'later-excluded.log'), 'log')
    await fs.writeFile(path.join(source, 'removed.txt'), 'gone soon')
    await runRsync({ source, destination, context, excludes: ['excluded.txt'] })
    expect((await fs.readdir(destination)).sort()).toEqual(['included.txt', 'later-excluded.log', 'removed.txt'])

    await fs.rm(path.join(source, 'removed.txt'))
    await runRsync({ source, destination, context, excludes: ['excluded.txt', '*.log'] })
    expect((await fs.readdir(destination)).sort()).toEqual(['included.txt'])
  })

  it('a dry run changes nothing and reports what it would do', async () => {
    const { source, destination } = await pair()
    await createSource(source)
    await fs.mkdir(destination)
    await fs.writeFile(path.join(destination, 'stale.txt'), 'stale')
    await fs.writeFile(path.join(destination, 'notes.txt'), 'old content')
    const before = await listTree(destination)
    const events: RsyncEvent[] = []
    const result = await runRsync({ source, destination, context, dryRun: true, onEvent: (e) => events.push(e) })
    expect(result.exitCode).toBe(0)
    expect(await listTree(destination)).toEqual(before)
    const lines = events.flatMap((e) => (e.type === 'output' && e.stream === 'stdout' ? [e.line] : []))
    expect(lines).toContain('deleting stale.txt')
    expect(lines).toContain('notes.txt')
    expect(result.stats).toMatchObject({ dryRun: true })
  })

  it('a dry run into a missing destination creates nothing', async () => {
    const { source, destination } = await pair()
    await createSource(source)
    const missing = path.join(destination, 'deeper', 'latest')
    expect((await runRsync({ source, destination: missing, context, dryRun: true })).exitCode).toBe(0)
    await expect(fs.access(destination)).rejects.toThrow()
  })

  it('preserves hard links', async () => {
    const { source, destination } = await pair()
    await fs.writeFile(path.join(source, 'a'), 'shared')
    await fs.link(path.join(source, 'a'), path.join(source, 'b'))
    await runRsync({ source, destination, context })
    const [a, b] = await Promise.all([fs.stat(path.join(destination, 'a')), fs.stat(path.join(destination, 'b'))])
    expect(a.ino).toBe(b.ino)
    expect(a.nlink).toBe(2)
  })

  needsRoot('preserves ACLs, xattrs and numeric owners (root: setfacl, setfattr, chown)', async () => {
    const { source, destination } = await pair()
    const file = path.join(source, 'file')
    const dir = path.join(source, 'dir')
    await fs.writeFile(file, 'acl')
    await fs.mkdir(dir)
    await runChecked('setfacl', ['-m', 'u:12345:rw-,g:23456:r--', file])
    await runChecked('setfacl', ['-d', '-m', 'u:12345:rwx', dir])
    await runChecked('setfattr', ['-n', 'user.rsb.test', '-v', 'hello world', file])
    await runChecked('setfattr', ['-n', 'trusted.rsb.test', '-v', 'root only', file])
    await fs.chown(file, 12345, 23456) // ids with no name on this machine: kept as numbers
    await runRsync({ source, destination, context })

    const acl = async (target: string, ...flags: string[]) => runChecked('getfacl', ['--omit-header', '--numeric', ...flags, target])
    expect(await acl(path.join(destination, 'file'))).toBe(await acl(file))
    expect(await acl(path.join(destination, 'file'))).toContain('user:12345:rw-')
    expect(await acl(path.join(destination, 'dir'), '--default')).toBe(await acl(dir, '--default'))
    const xattr = async (target: string, name: string) => runChecked('getfattr', ['--only-values', '-n', name, target])
    expect(await xattr(path.join(destination, 'file'), 'user.rsb.test')).toBe('hello world')
    expect(await xattr(path.join(destination, 'file'), 'trusted.rsb.test')).toBe('root only')
    const stat = await fs.stat(path.join(destination, 'file'))
    expect([stat.uid, stat.gid]).toEqual([12345, 23456])
  })

  it('copies quote-hostile names intact', async () => {
    const { source, destination } = await pair()
    const names = ['a b', "it's", '"quoted"', '$(reboot)', 'line\nbreak', 'ünï código', '-dash']
    for (const name of names) await fs.writeFile(path.join(source, name), name)
    const odd = path.join(path.dirname(destination), "dest $(x) 'q'")
    await runRsync({ source, destination: odd, context })
    expect((await fs.readdir(odd)).sort()).toEqual([...names].sort())
    for (const name of names) expect(await fs.readFile(path.join(odd, name), 'utf8')).toBe(name)
  })

  it('reports progress and statistics of a live run', async () => {
    const { source, destination } = await pair()
    await createSource(source)
    for (let i = 0; i < 50; i++) await fs.writeFile(path.join(source, `f${i}`), 'x'.repeat(i * 100))
    const events: RsyncEvent[] = []
    const result = await runRsync({ source, destination, context, progress: true, stats: true, onEvent: (e) => events.push(e) })
    const progress = events.filter((e) => e.type === 'progress')
    expect(progress.length).toBeGreaterThan(0)
    expect(progress.at(-1)).toMatchObject({ filesToCheck: 0, filesTotal: 54, fileListComplete: true })
    expect(result.stats).toMatchObject({
      files: { total: 54, regular: 51, directories: 2, symlinks: 1 },
      created: { total: 54 },
      regularFilesTransferred: 51,
      dryRun: false,
    })
    expect(events[0]).toEqual({ type: 'command', argv: result.argv })
    expect(events.at(-1)?.type).toBe('stats')
    expect(events.filter((e) => e.type === 'output')).toEqual([])
  })

  it('empties HOME: rsync does not read ~/.cvsignore (checked with --cvs-exclude)', async () => {
    const { source, destination, root } = await pair()
    await createSource(source)
    const home = path.join(root, 'home')
    await fs.mkdir(home)
    await fs.writeFile(path.join(home, '.cvsignore'), 'notes.txt\n')
    // control: with that HOME, plain rsync leaves notes.txt out
    const control = spawnSync('rsync', ['-a', '--cvs-exclude', `${source}/`, `${root}/control/`], { env: { ...process.env, HOME: home } })
    expect(control.status).toBe(0)
    await expect(fs.access(path.join(root, 'control', 'notes.txt'))).rejects.toThrow()
    const saved = process.env.HOME
    process.env.HOME = home
    try {
      await runRsync({ source, destination, context, rsyncOptions: ['--cvs-exclude'] })
    } finally {
      process.env.HOME = saved
    }
    await verifyDestination(destination)
  })

  it('runs under ionice when asked', async () => {
    const { source, destination } = await pair()
    await createSource(source)
    const result = await runRsync({ source, destination, context, ionice: 'idle' })
    expect(result.argv.slice(0, 4)).toEqual(['ionice', '-c', 'idle', 'rsync'])
    await verifyDestination(destination)
  })

  it('passes --rsync-option values to rsync', async () => {
    const { source, destination } = await pair()
    await createSource(source)
    await fs.writeFile(path.join(source, 'private.bin'), 'x'.repeat(5000), { mode: 0o644 })
    await runRsync({ source, destination, context, rsyncOptions: ['--chmod=F600'] })
    expect((await fs.stat(path.join(source, 'private.bin'))).mode & 0o777).toBe(0o644)
    expect((await fs.stat(path.join(destination, 'private.bin'))).mode & 0o777).toBe(0o600)
  })

  it('a missing source is exit 23: a success with a warning', async () => {
    const { source, destination } = await pair()
    const events: RsyncEvent[] = []
    const result = await runRsync({ source: path.join(source, 'missing'), destination, context, onEvent: (e) => events.push(e) })
    expect(result).toMatchObject({ exitCode: 23, warning: 'partial transfer due to error' })
    expect(result.stderrTail).toContain('change_dir')
    expect(events.some((e) => e.type === 'warning' && e.exitCode === 23)).toBe(true)
  })

  it('a bad rsync option is ERR_RSB_RSYNC_SYNTAX with rsync’s message', async () => {
    const { source, destination } = await pair()
    const error = await runRsync({ source, destination, context, rsyncOptions: ['--no-such-option'] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RsyncError)
    expect(error).toMatchObject({ code: 'ERR_RSB_RSYNC_SYNTAX', exitCode: 1, meaning: 'syntax or usage error' })
    expect((error as RsyncError).stderrTail).toContain('--no-such-option')
  })

  it('a destination whose parents are missing is ERR_RSB_RSYNC_FILE_IO', async () => {
    const { source, destination } = await pair()
    await createSource(source)
    await expect(runRsync({ source, destination: path.join(destination, 'a', 'b'), context })).rejects.toMatchObject({
      code: 'ERR_RSB_RSYNC_FILE_IO',
      exitCode: 11,
    })
  })

  it('cancelling mid-transfer stops rsync; the next run completes and the destination matches the source', async () => {
    const { source, destination } = await pair()
    await createSource(source)
    const big = path.join(source, 'big.bin')
    await fs.writeFile(big, Buffer.alloc(48 * 1024 * 1024, 7))
    for (let i = 0; i < 20; i++) await fs.writeFile(path.join(source, `small-${i}`), String(i))
    const controller = new AbortController()
    const fallback = setTimeout(() => controller.abort(), 3000)
    const events: RsyncEvent[] = []
    const running = runRsync({
      source,
      destination,
      context,
      progress: true,
      rsyncOptions: ['--bwlimit=4M'], // about 12 s for the big file: it is cancelled long before
      signal: controller.signal,
      killAfterMs: 2000,
      onEvent: (event) => {
        events.push(event)
        if (event.type === 'progress' && event.bytes > 1024 * 1024) controller.abort()
      },
    })
    const error = await running.catch((e: unknown) => e)
    clearTimeout(fallback)
    expect(error).toBeInstanceOf(RsyncError)
    expect(error).toMatchObject({ code: 'ERR_RSB_RSYNC_CANCELLED' })
    // rsync and its children are gone (no process mentions our temporary directory); the forked receiver may
    // take a moment after the main process has exited
    const leftovers = () =>
      spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter((line) => line.includes(destination))
    for (let i = 0; i < 200 && leftovers().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(leftovers()).toEqual([])
    // it was stopped before the end
    expect(
      await fs
        .stat(path.join(destination, 'big.bin'))
        .then((s) => s.size)
        .catch(() => 0),
    ).toBeLessThan(48 * 1024 * 1024)

    const result = await runRsync({ source, destination, context })
    expect(result.exitCode).toBe(0)
    await verifyDestination(destination)
    expect(await listTree(destination)).toEqual(await listTree(source))
    expect((await fs.readFile(path.join(destination, 'big.bin'))).equals(await fs.readFile(big))).toBe(true)
  })
})

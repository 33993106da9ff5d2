// End-to-end tests of the built `rsb` against local destinations: the original's test suite and rsb's own
// decisions. Each test spawns `node packages/cli/dist/bin/rsb.js`.
import fs from 'node:fs/promises'
import path from 'node:path'
import { freePort, testdir } from '@rsb/testkit'
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import {
  HOSTILE_NAME,
  createSource,
  listing,
  runRsb,
  runRsbOnTerminal,
  snapshotsIn,
  startRsb,
  verifyDestination,
  writeProgram,
} from './helpers.ts'

const QUIET = ['--no-sudo', '--disable-notifications']

const which = async (name: string) => execFileSync('which', [name], { encoding: 'utf8' }).trim()

/** A hidden entry of a run's unfinished work (temporary snapshots); `.rsb`, the store's metadata, is not one. */
const isLeftover = (name: string) => name.startsWith('.') && name !== '.rsb'

describe('usage', () => {
  it.each([[[]], [['-h']], [['--help']]])('rsb %j prints the usage and exits 0', async (args) => {
    const result = await runRsb(args)
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Usage:')
  })

  it.each([[['a', 'b', 'c']], [['--ionice=foo']]])('rsb %j is a usage error: exit 2 with a message', async (args) => {
    const result = await runRsb(args)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/rsb: error: .+ \(ERR_RSB_CLI_USAGE\)/)
    expect(result.stdout).toBe('')
  })

  it('--version prints the version fast and exits 0', async () => {
    const result = await runRsb(['--version'])
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(result.stdout).toMatch(/^rsb \d+\.\d+\.\d+\n$/)
  })
})

describe('local backups', () => {
  it('simple backup: missing parents created, the destination verifies, exactly one snapshot', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const result = await runRsb([
      '--no-sudo',
      '--ionice=idle',
      '--disable-notifications',
      path.join(t, 'source'),
      path.join(t, 'destination/latest'),
    ])
    expect(result.stderr).toContain('Creating system backup using rsync ..')
    expect(result.code).toBe(0)
    await verifyDestination(path.join(t, 'destination/latest'))
    const snapshots = await snapshotsIn(path.join(t, 'destination'))
    expect(snapshots).toHaveLength(1)
    await verifyDestination(path.join(t, 'destination', snapshots[0] as string))
    // hard links, not copies
    const a = await fs.stat(path.join(t, 'destination/latest/notes.txt'))
    expect(a.nlink).toBe(2)
    expect((await fs.readdir(path.join(t, 'destination'))).sort()).toEqual(['.rsb', snapshots[0], 'latest'].sort())
    expect(result.stderr).toMatch(/Took .+ to create backup, create snapshot and rotate old snapshots\./)
  })

  it('dry run writes nothing: full listings of source, destination and its parent are unchanged', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    await fs.mkdir(path.join(t, 'destination/latest'), { recursive: true })
    await fs.mkdir(path.join(t, 'destination/2020-01-01 00:00:00'))
    await fs.mkdir(path.join(t, 'destination/2020-01-01 00:30:00'))
    const before = await listing(t)
    const result = await runRsb(['--dry-run', '--no-sudo', path.join(t, 'source'), path.join(t, 'destination/latest')])
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('Performing a dry run (because of --dry-run option) ..')
    expect(result.stderr).toMatch(/Snapshot command: cp --archive --link .*latest '.*\/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d'/)
    expect(result.stderr).toContain('Deleting ')
    expect(await listing(t)).toEqual(before)
    expect(await fs.readdir(path.join(t, 'destination/latest'))).toEqual([])
  })

  it('dry run against a destination that does not exist leaves it missing', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const before = await listing(t)
    const result = await runRsb(['-n', '-u', path.join(t, 'source'), path.join(t, 'nothing/here/latest')])
    expect(result.code).toBe(0)
    expect(await listing(t)).toEqual(before)
    await expect(fs.stat(path.join(t, 'nothing'))).rejects.toThrow()
  })

  it('backup only: no snapshot', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const result = await runRsb(['--backup', ...QUIET, path.join(t, 'source'), path.join(t, 'destination/latest')])
    expect(result.code).toBe(0)
    await verifyDestination(path.join(t, 'destination/latest'))
    expect(await snapshotsIn(path.join(t, 'destination'))).toEqual([])
  })

  it('exclude list', async () => {
    const t = await testdir({ 'source/included.txt': 'in\n', 'source/excluded.txt': 'out\n' })
    const result = await runRsb([
      '--backup',
      '--exclude=excluded.txt',
      ...QUIET,
      path.join(t, 'source'),
      path.join(t, 'destination/latest'),
    ])
    expect(result.code).toBe(0)
    expect(await fs.readdir(path.join(t, 'destination/latest'))).toEqual(['included.txt'])
  })

  it('snapshot and rotate only, from $RSYNC_MODULE_PATH (the post-xfer exec case)', async () => {
    const t = await testdir({ 'module/latest/file.txt': 'data\n' })
    const result = await runRsb(['--snapshot', '--rotate', ...QUIET], { env: { RSYNC_MODULE_PATH: path.join(t, 'module/latest') } })
    expect(result.code).toBe(0)
    const snapshots = await snapshotsIn(path.join(t, 'module'))
    expect(snapshots).toHaveLength(1)
    expect(await fs.readFile(path.join(t, 'module', snapshots[0] as string, 'file.txt'), 'utf8')).toBe('data\n')
  })

  it('$RSYNC_MODULE_PATH without explicit actions is refused (no backup of / into the module)', async () => {
    const t = await testdir()
    const result = await runRsb(QUIET, { env: { RSYNC_MODULE_PATH: path.join(t, 'module') } })
    expect(result.code).toBe(2)
    expect(await fs.readdir(t)).toEqual([])
  })

  it('rsync exit 23 (partial transfer) is a success with a warning', async () => {
    // real rsync copies, then the stand-in reports a partial transfer (a missing SOURCE is refused before rsync runs)
    const t = await testdir({ 'source/a': 'a' })
    const bin = path.join(t, 'bin')
    await writeProgram(bin, 'rsync', `${await which('rsync')} "$@"; exit 23`)
    const result = await runRsb(['--backup', ...QUIET, path.join(t, 'source'), path.join(t, 'destination/latest')], { path: [bin] })
    expect(result.code).toBe(0)
    expect(result.stderr).toContain("Ignoring `partial transfer' warnings (rsync exited with 23).")
  })

  it('a destination without a parent directory fails before anything runs when snapshots are asked for', async () => {
    const t = await testdir({ 'source/a': 'a' })
    const result = await runRsb([...QUIET, path.join(t, 'source'), 'latest'], { cwd: t })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('(ERR_RSB_DESTINATION_NO_PARENT)')
    expect(await fs.readdir(t)).toEqual(['source'])
  })
})

describe('platform check', () => {
  it('a uname that prints nothing fails with ERR_RSB_CLI_UNSUPPORTED_PLATFORM; --force goes on with a warning', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const bin = path.join(t, 'bin')
    await writeProgram(bin, 'uname', 'echo "$@" >> "$(dirname "$0")/uname.log"; exit 0')
    const args = [...QUIET, path.join(t, 'source'), path.join(t, 'destination/latest')]
    const refused = await runRsb(args, { path: [bin] })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('(ERR_RSB_CLI_UNSUPPORTED_PLATFORM)')
    expect(refused.stderr).toContain('-f/--force')
    await expect(fs.stat(path.join(t, 'destination'))).rejects.toThrow()
    expect(await fs.readFile(path.join(bin, 'uname.log'), 'utf8')).toBe('\n') // run without arguments

    const forced = await runRsb(['--force', ...args], { path: [bin] })
    expect(forced.code).toBe(0)
    expect(forced.stderr).toMatch(/WARNING .*not running Linux.*-f\/--force/)
    await verifyDestination(path.join(t, 'destination/latest'))
  })
})

describe('notifications', () => {
  async function standIn(t: string, status: number): Promise<{ bin: string; calls: () => Promise<string[]> }> {
    const bin = path.join(t, 'bin')
    const log = path.join(t, 'notify.log')
    await writeProgram(bin, 'notify-send', `for a in "$@"; do printf '[%s] ' "$a"; done >> '${log}'; echo >> '${log}'; exit ${status}`)
    return { bin, calls: async () => (await fs.readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean) }
  }

  it('sends starting and finished notifications through notify-send', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const { bin, calls } = await standIn(t, 0)
    const result = await runRsb(['--no-sudo', path.join(t, 'source'), path.join(t, 'destination/latest')], { path: [bin] })
    expect(result.code).toBe(0)
    const sent = await calls()
    expect(sent).toHaveLength(2)
    expect(sent[0]).toBe('[System backups] [Starting backup] ')
    expect(sent[1]).toMatch(/^\[System backups\] \[Finished backup in [\d.]+ seconds?\.\] $/)
  })

  it('a failing notify-send never fails the backup', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const { bin, calls } = await standIn(t, 1)
    const result = await runRsb(['--no-sudo', path.join(t, 'source'), path.join(t, 'destination/latest')], { path: [bin] })
    expect(result.code).toBe(0)
    expect(await calls()).toHaveLength(2)
  })

  it('a failed backup sends a critical notification; --disable-notifications and dry runs send none', async () => {
    const t = await testdir()
    const { bin, calls } = await standIn(t, 0)
    const port = await freePort()
    const failed = await runRsb(['--no-sudo', '--backup', path.join(t, 'source'), `rsync://127.0.0.1:${port}/module/directory`], {
      path: [bin],
    })
    expect(failed.code).toBe(1)
    const sent = await calls()
    expect(sent[0]).toBe('[System backups] [Starting backup] ')
    expect(sent[1]).toMatch(
      /^\[--urgency=critical\] \[System backups\] \[Backup failed after [\d.]+ seconds?! Review the system logs for details\.\] $/,
    )

    await fs.rm(path.join(t, 'notify.log'))
    await createSource(path.join(t, 'source'))
    expect((await runRsb(['--disable-notifications', '-u', path.join(t, 'source'), path.join(t, 'd/latest')], { path: [bin] })).code).toBe(
      0,
    )
    expect((await runRsb(['-n', '-u', path.join(t, 'source'), path.join(t, 'd/latest')], { path: [bin] })).code).toBe(0)
    expect(await calls()).toEqual([])
  })
})

describe('rsync daemon destinations', () => {
  it('a daemon that refuses connections: rsync error, exit 1, no stack trace', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const port = await freePort()
    const result = await runRsb([...QUIET, path.join(t, 'source'), `rsync://127.0.0.1:${port}/module/directory`])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/Backup failed after .+! \(rsync exited with 10\)/)
    expect(result.stderr).toMatch(/Aborting due to error: rsync failed with exit status 10 .*\(ERR_RSB_RSYNC_[A-Z_]+\)/)
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })

  it('default actions are backup only, with the server-side message; -s/-r are usage errors', async () => {
    const t = await testdir()
    const port = await freePort()
    const base = [...QUIET, path.join(t, 'source'), `rsync://127.0.0.1:${port}/module/dir`]
    const plain = await runRsb(base)
    expect(plain.stderr).toContain("post-xfer exec ('rsb --snapshot --rotate'")
    for (const flag of ['-s', '-r', '-bs', '--rotate']) {
      const result = await runRsb([flag, ...base])
      expect(result.code).toBe(2)
      expect(result.stderr).toContain('cannot run against an rsync daemon destination')
      expect(result.stderr).not.toContain('Creating system backup')
    }
    expect((await runRsb(['--mount=/mnt', ...base])).code).toBe(2)
    expect((await runRsb(['--tunnel=gw', ...QUIET, path.join(t, 'source'), path.join(t, 'd/latest')])).code).toBe(2)
  })
})

describe('snapshots and rotation', () => {
  it('two runs within one hour keep both snapshots; two within one second never nest latest', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const args = [...QUIET, path.join(t, 'source'), path.join(t, 'destination/latest')]
    expect((await runRsb(args)).code).toBe(0)
    expect((await runRsb(args)).code).toBe(0)
    const snapshots = await snapshotsIn(path.join(t, 'destination'))
    expect(snapshots).toHaveLength(2)
    for (const name of snapshots) {
      expect((await fs.readdir(path.join(t, 'destination', name))).sort()).toEqual(['notes.txt', 'subdirectory'])
    }
  })

  it('rotation: a worked example with the default scheme; dated siblings and a snapshot-named destination survive', async () => {
    const t = await testdir({
      'backups/2024-01-01 00:00:00/a': 'a',
      'backups/2024-01-01 00:30:00/a': 'a',
      'backups/2024-01-01 01:00:00/a': 'a',
      'backups/photos-2019-01-01/p': 'p',
      'backups/2019-01-01 00:00:00.tar': 't',
      'backups/2018-01-01 00:00:00/x': 'x',
    })
    await createSource(path.join(t, 'source'))
    // a DESTINATION named like a snapshot beside snapshots of a store without records: only on purpose
    const refused = await runRsb([...QUIET, path.join(t, 'source'), path.join(t, 'backups/2018-01-01 00:00:00')])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('(ERR_RSB_CLI_DESTINATION_NOT_EMPTY)')
    const result = await runRsb([...QUIET, '--accept-destination', path.join(t, 'source'), path.join(t, 'backups/2018-01-01 00:00:00')])
    expect(result.code, result.stderr).toBe(0)
    const entries = (await fs.readdir(path.join(t, 'backups'))).sort()
    const created = (await snapshotsIn(path.join(t, 'backups'))).filter((n) => !n.startsWith('2024') && !n.startsWith('2018'))
    expect(created).toHaveLength(1)
    expect(entries).toEqual(
      ['.rsb', '2018-01-01 00:00:00', '2019-01-01 00:00:00.tar', '2024-01-01 00:00:00', created[0], 'photos-2019-01-01'].sort(),
    )
  })

  it('--rotation and --keep-latest set the scheme', async () => {
    const t = await testdir({
      'backups/2024-01-01 00:00:00/a': 'a',
      'backups/2024-01-02 00:00:00/a': 'a',
      'backups/2024-01-03 00:00:00/a': 'a',
    })
    await createSource(path.join(t, 'source'))
    const result = await runRsb([...QUIET, '--rotation=daily=1', '--keep-latest=2', path.join(t, 'source'), path.join(t, 'backups/latest')])
    expect(result.code).toBe(0)
    const snapshots = await snapshotsIn(path.join(t, 'backups'))
    expect(snapshots).toHaveLength(2)
    expect(snapshots[0]).toBe('2024-01-03 00:00:00')
  })

  it('snapshots dated in the future are kept, never counted and reported; they do not push out the snapshot of this run (--rotation=hourly=1)', async () => {
    // measured from the future snapshots, the scheme would delete this run's snapshot and one of them
    const t = await testdir({
      'backups/2099-01-01 00:00:00/a': 'a',
      'backups/2099-01-01 01:00:00/a': 'a',
      'backups/2000-01-01 00:00:00/a': 'a',
    })
    await createSource(path.join(t, 'source'))
    const result = await runRsb([...QUIET, '--json', '--rotation=hourly=1', path.join(t, 'source'), path.join(t, 'backups/latest')])
    expect(result.code).toBe(0)
    const summary = JSON.parse(result.stdout) as { snapshot: string; rotation: { kept: string[]; deleted: string[] }; warnings: string[] }
    const created = path.basename(summary.snapshot)
    expect(path.dirname(summary.snapshot)).toBe(path.join(t, 'backups'))
    expect(created).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    expect(created < '2099').toBe(true)
    expect(await snapshotsIn(path.join(t, 'backups'))).toEqual([created, '2099-01-01 00:00:00', '2099-01-01 01:00:00'].sort())
    await verifyDestination(path.join(t, 'backups', created))
    const future = [path.join(t, 'backups/2099-01-01 00:00:00'), path.join(t, 'backups/2099-01-01 01:00:00')]
    expect(summary.rotation.kept.sort()).toEqual([summary.snapshot, ...future].sort())
    expect(summary.rotation.deleted).toEqual([path.join(t, 'backups/2000-01-01 00:00:00')])
    expect(summary.warnings).toEqual(future.map((p) => expect.stringContaining(`Snapshot ${p} is dated in the future`)))
    expect(result.stderr).toContain(`Preserving ${summary.snapshot} (matches 'hourly' retention period) ..`)
  })

  it('an interrupted snapshot left under its temporary name is removed by the next run and never rotated', async () => {
    const t = await testdir({ 'backups/.rsb-snapshot-123-456/partial': 'x' })
    await createSource(path.join(t, 'source'))
    const result = await runRsb([...QUIET, path.join(t, 'source'), path.join(t, 'backups/latest')])
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('Removing the leftover of an interrupted snapshot')
    expect((await fs.readdir(path.join(t, 'backups'))).filter(isLeftover)).toEqual([])
    expect(await snapshotsIn(path.join(t, 'backups'))).toHaveLength(1)
  })
})

describe('--json and progress', () => {
  it('prints one JSON document on stdout; logs stay on stderr; no progress without a terminal', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const result = await runRsb(['--json', ...QUIET, path.join(t, 'source'), path.join(t, 'destination/latest')])
    expect(result.code).toBe(0)
    const summary = JSON.parse(result.stdout)
    expect(summary).toMatchObject({
      schemaVersion: 1,
      dryRun: false,
      actions: ['backup', 'snapshot', 'rotate'],
      exitCode: 0,
      error: null,
      rsync: { exitCode: 0 },
      warnings: [],
    })
    expect(summary.rsync.statistics.files.regular).toBe(1)
    expect(summary.snapshot).toMatch(/destination\/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    expect(summary.rotation.kept).toEqual([summary.snapshot])
    expect(typeof summary.durationSeconds).toBe('number')
    expect(result.stderr).not.toContain('\r')
    expect(result.stderr).not.toContain('%')
  })

  it('--json reports a failure with its code and exit status', async () => {
    const port = await freePort()
    const t = await testdir({ 'source/a': 'a' })
    const result = await runRsb(['--json', ...QUIET, path.join(t, 'source'), `rsync://127.0.0.1:${port}/m/d`])
    expect(result.code).toBe(1)
    expect(JSON.parse(result.stdout)).toMatchObject({ exitCode: 1, error: { code: expect.stringMatching(/^ERR_RSB_RSYNC_/) }, actions: [] })
  })
})

describe('progress bar', () => {
  it('is drawn on a terminal, and not with --no-progress', async () => {
    const t = await testdir()
    await fs.mkdir(path.join(t, 'source'))
    await fs.writeFile(path.join(t, 'source/data.bin'), Buffer.alloc(2 * 1024 * 1024, 3))
    const shown = await runRsbOnTerminal([...QUIET, '--backup', path.join(t, 'source'), path.join(t, 'a/latest')])
    expect(shown.code).toBe(0)
    // the bar redraws its line with ESC [2K (erase line): the control character is intended
    // oxlint-disable-next-line no-control-regex
    expect(shown.stdout).toMatch(/\r\x1b\[2K\[[#.]{30}\] +\d+%/)
    expect(shown.stdout).toContain('Took ')
    const hidden = await runRsbOnTerminal([...QUIET, '--backup', '--no-progress', path.join(t, 'source'), path.join(t, 'b/latest')])
    expect(hidden.code).toBe(0)
    expect(hidden.stdout).not.toContain('\x1b[2K')
  })
})

describe('one run per destination', () => {
  it('a second concurrent run exits 1 with a clear error and changes nothing; the first is unaffected', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const bin = path.join(t, 'bin')
    // a slow rsync: the first run holds the lock while it sleeps
    await writeProgram(bin, 'rsync', `sleep 3; exec /usr/bin/rsync "$@"`)
    const args = [...QUIET, path.join(t, 'source'), path.join(t, 'destination/latest')]
    const first = startRsb(args, { path: [bin] })
    await first.waitForStderr('Creating system backup using rsync')
    const second = await runRsb(args)
    expect(second.code).toBe(1)
    expect(second.stderr).toMatch(
      /Another rsb run \(PID \d+ on \S+, since .+\) is working on .*destination\/latest\. \(ERR_RSB_CLI_LOCKED\)/,
    )
    expect(second.stderr).not.toContain('Creating system backup')
    const result = await first.done
    expect(result.code).toBe(0)
    expect(await snapshotsIn(path.join(t, 'destination'))).toHaveLength(1)
    // and the lock is released afterwards
    expect((await runRsb(['--backup', ...args])).code).toBe(0)
  })
})

describe('interruption', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)(
    '%s during a large transfer: rsync stopped, no snapshot, lock released, exit %d; the next run completes',
    async (signal, code) => {
      const t = await testdir()
      await fs.mkdir(path.join(t, 'source'))
      await fs.writeFile(path.join(t, 'source/big.bin'), Buffer.alloc(8 * 1024 * 1024, 1))
      const args = [...QUIET, path.join(t, 'source'), path.join(t, 'destination/latest')]
      const run = startRsb(['--rsync-option=--bwlimit=256', ...args])
      await run.waitForStderr('Creating system backup using rsync')
      await new Promise((r) => setTimeout(r, 700))
      run.child.kill(signal)
      const result = await run.done
      expect(result.code).toBe(code)
      expect(result.stderr).toContain(`interrupted by ${signal}`)
      expect(await snapshotsIn(path.join(t, 'destination'))).toEqual([])
      expect((await fs.readdir(path.join(t, 'destination'))).filter(isLeftover)).toEqual([])

      const next = await runRsb(args)
      expect(next.code).toBe(0)
      expect(await snapshotsIn(path.join(t, 'destination'))).toHaveLength(1)
      expect((await fs.stat(path.join(t, 'destination/latest/big.bin'))).size).toBe(8 * 1024 * 1024)
    },
  )

  it('kill -9 during snapshot creation: the next run removes the leftover; count and contents are right', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const bin = path.join(t, 'bin')
    // cp does its work, then hangs: rsb is killed before it could rename the copy
    await writeProgram(bin, 'cp', `/bin/cp "$@"; echo done > '${path.join(t, 'cp-finished')}'; sleep 60`)
    const args = [...QUIET, path.join(t, 'source'), path.join(t, 'destination/latest')]
    const run = startRsb(args, { path: [bin], detached: true })
    await run.waitForStderr('Creating snapshot:')
    for (let i = 0; i < 100; i++) {
      if (await fs.stat(path.join(t, 'cp-finished')).catch(() => undefined)) break
      await new Promise((r) => setTimeout(r, 50))
    }
    process.kill(-(run.child.pid as number), 'SIGKILL')
    const killed = await run.done
    expect(killed.signal).toBe('SIGKILL')
    const leftovers = (await fs.readdir(path.join(t, 'destination'))).filter((n) => n.startsWith('.rsb-snapshot-'))
    expect(leftovers).toHaveLength(1)
    expect(await snapshotsIn(path.join(t, 'destination'))).toEqual([])

    const next = await runRsb(args)
    expect(next.code).toBe(0)
    expect((await fs.readdir(path.join(t, 'destination'))).filter(isLeftover)).toEqual([])
    const snapshots = await snapshotsIn(path.join(t, 'destination'))
    expect(snapshots).toHaveLength(1)
    await verifyDestination(path.join(t, 'destination', snapshots[0] as string))
  })
})

describe('hostile names', () => {
  it('SOURCE and DESTINATION with spaces, quotes and $() work and run nothing', async () => {
    const t = await testdir()
    const source = path.join(t, `src ${HOSTILE_NAME}`)
    await createSource(source)
    const parent = path.join(t, `dest ${HOSTILE_NAME}`)
    const result = await runRsb([...QUIET, source, path.join(parent, 'latest')], { cwd: t })
    expect(result.code).toBe(0)
    await verifyDestination(path.join(parent, 'latest'))
    expect(await snapshotsIn(parent)).toHaveLength(1)
    expect(await fs.readdir(t)).not.toContain('pwned')
    expect(await fs.readdir(t)).not.toContain('pwned2')
  })
})

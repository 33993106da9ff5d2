// Tier 2: createSnapshot's failure paths with a recording context: what the error says, and that a failed or
// stopped copy leaves neither the temporary copy nor the claim of the name behind; files at the filesystem's
// link limit completed by rsync.
import { RecordingContext } from '@rsb/exec'
import { describe, expect, it } from 'vitest'
import { createSnapshot } from '../src/backup/snapshot.ts'
import { createLogger } from '../src/kit/log.ts'

const MIRROR = { version: 1, name: 'latest', id: '0123abcd', created: '2024-01-01T00:00:00.000Z' }
const sink = { write: () => true }

type Reply = { exitCode?: number; stderr?: string; stdout?: string | string[] }

function context(cp: Reply, rsync: Reply = {}) {
  return new RecordingContext(({ command }) => {
    if (command[0] === 'test') return { exitCode: 1 } // the name is free
    if (command[0] === 'cp') return cp
    if (command[0] === 'rsync') return rsync
    return {}
  })
}

function snapshotStep(recording: RecordingContext, signal?: AbortSignal, log?: string[]) {
  return {
    context: recording,
    logger: createLogger(log ? { write: (text: string) => log.push(text) } : sink),
    directory: '/b/latest',
    store: '/b',
    mirror: MIRROR,
    dryRun: false,
    signal,
  }
}

async function failure(recording: RecordingContext, signal?: AbortSignal) {
  return (await createSnapshot(snapshotStep(recording, signal)).catch((error: unknown) => error)) as {
    code?: string
    hint?: string
    message?: string
  }
}

const LINK_LIMIT =
  "cp: cannot create hard link '/b/.rsb-snapshot-0123abcd-1/it'\\''s a \"name\"' to '/b/latest/it'\\''s a \"name\"': Too many links"
const COMPLETION = [
  'rsync',
  '--archive',
  '--hard-links',
  '--acls',
  '--xattrs',
  '--numeric-ids',
  '--ignore-existing',
  '--out-format=%n',
  '--',
]

/** The rsync that completes the copy, if one ran. */
const rsyncCalls = (recording: RecordingContext) => recording.calls.filter((call) => call.command[0] === 'rsync')

/** The cleanups after the copy: the temporary copy and the record of the claimed name removed. */
function cleanedUp(recording: RecordingContext): void {
  const commands = recording.calls.map((call) => call.command)
  const cp = commands.findIndex((c) => c[0] === 'cp')
  const after = commands.slice(cp + 1)
  expect(after).toContainEqual(['rm', '-fR', '--', expect.stringMatching(/^\/b\/\.rsb-snapshot-0123abcd-/)])
  expect(after).toContainEqual(['rm', '-f', '--', expect.stringMatching(/^\/b\/\.rsb\/snapshots\/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.json$/)])
  expect(commands.some((c) => c[0] === 'mv')).toBe(false)
}

describe('createSnapshot failures', () => {
  it.each([
    ["cp: cannot create directory 'x': No space left on device", /filesystem is full \(space or inodes\).*rsb --rotate/],
    [
      `${LINK_LIMIT}\ncp: cannot create hard link 'y' to 'z': No space left on device`,
      /as many hard links as the filesystem allows.*rsb --rotate/,
    ],
    [`${LINK_LIMIT}\ncp: cannot create directory 'x': Too many links`, /as many hard links as the filesystem allows.*rsb --rotate/],
  ])('%s: ERR_RSB_CLI_SNAPSHOT_FAILED with its own hint, no rsync, nothing left behind', async (stderr, hint) => {
    const recording = context({ exitCode: 1, stderr })
    const error = await failure(recording)
    expect(error).toMatchObject({ code: 'ERR_RSB_CLI_SNAPSHOT_FAILED', hint: expect.stringMatching(hint) })
    expect(rsyncCalls(recording)).toEqual([])
    cleanedUp(recording)
  })

  it('cp failing for another reason (no link-limit line): ERR_RSB_CLI_SNAPSHOT_FAILED as before, no rsync', async () => {
    const recording = context({ exitCode: 1, stderr: "cp: cannot open '/b/latest/secret' for reading: Permission denied" })
    const error = await failure(recording)
    expect(error).toMatchObject({ code: 'ERR_RSB_CLI_SNAPSHOT_FAILED', hint: undefined })
    expect(error.message).toMatch(
      /^Failed to create snapshot \/b\/\d{4}-.*: Command on localhost failed with exit status 1: cp .*Permission denied$/,
    )
    expect(rsyncCalls(recording)).toEqual([])
    cleanedUp(recording)
  })

  it('cp killed by a signal, even with only link-limit lines: ERR_RSB_CLI_SNAPSHOT_FAILED, no rsync', async () => {
    const recording = new RecordingContext(({ command }) => {
      if (command[0] === 'test') return { exitCode: 1 }
      return command[0] === 'cp' ? { signal: 'SIGKILL', stderr: LINK_LIMIT } : {}
    })
    expect(await failure(recording)).toMatchObject({ code: 'ERR_RSB_CLI_SNAPSHOT_FAILED' })
    expect(rsyncCalls(recording)).toEqual([])
    cleanedUp(recording)
  })

  it.each([
    ['rsync: [receiver] write failed on "/b/x": No space left on device (28)', /filesystem is full \(space or inodes\)/],
    ['rsync error: some files/attrs were not transferred (code 23)', /as many hard links as the filesystem allows/],
  ])('cp at the link limit, then rsync failing (%s): ERR_RSB_CLI_SNAPSHOT_FAILED, nothing left behind', async (stderr, hint) => {
    const recording = context({ exitCode: 1, stderr: LINK_LIMIT }, { exitCode: 23, stderr })
    const error = await failure(recording)
    expect(error).toMatchObject({ code: 'ERR_RSB_CLI_SNAPSHOT_FAILED', hint: expect.stringMatching(hint) })
    expect(error.message).toMatch(/: Command on localhost failed with exit status 23: rsync /)
    expect(rsyncCalls(recording)).toHaveLength(1)
    cleanedUp(recording)
  })

  it('sudo refusing the completing rsync: its own error, nothing left behind', async () => {
    const recording = new RecordingContext(
      ({ command }) => {
        if (command[0] === 'test') return { exitCode: 1 }
        if (command[0] === 'cp') return { exitCode: 1, stderr: LINK_LIMIT }
        if (command[0] === 'rsync') return { exitCode: 1, stderr: 'sudo: a password is required\n' }
        return {}
      },
      { privileged: false, sudo: true },
    )
    const error = await failure(recording)
    expect(error.code).toBe('ERR_RSB_EXEC_SUDO_PASSWORD')
    cleanedUp(recording)
  })

  it('stopped during the copy (SIGTERM): the half copy and the claim are removed before the error goes up', async () => {
    const controller = new AbortController()
    const recording = new RecordingContext(({ command }) => {
      if (command[0] === 'test') return { exitCode: 1 }
      if (command[0] === 'cp') controller.abort('SIGTERM')
      return command[0] === 'cp' ? { exitCode: 143 } : {}
    })
    const error = await failure(recording, controller.signal)
    expect(error.code).not.toBe('ERR_RSB_CLI_SNAPSHOT_FAILED')
    cleanedUp(recording)
  })
})

describe('createSnapshot at the link limit of the filesystem', () => {
  it('cp fails only on links at the limit: rsync copies the rest into the temporary copy, one warning counts the files', async () => {
    // a chunk boundary in the middle of a line, a directory line and a name with spaces, quotes and $(x)
    const stdout = ['./\nsub/\nit\'s a "name" $(x)\nsub/pa', 'ir 1\nsub/pair 2\n']
    const recording = context({ exitCode: 1, stderr: `${LINK_LIMIT}\n${LINK_LIMIT}\n` }, { stdout })
    const log: string[] = []
    const result = await createSnapshot(snapshotStep(recording, undefined, log))
    const [rsync, ...more] = rsyncCalls(recording)
    expect(more).toEqual([])
    expect(rsync?.command).toEqual([...COMPLETION, '/b/latest/', expect.stringMatching(/^\/b\/\.rsb-snapshot-0123abcd-\d+-\d+\/$/)])
    expect(rsync?.env).toEqual({ HOME: '' })
    const commands = recording.calls.map((call) => call.command)
    const temporary = commands.find((c) => c[0] === 'cp')?.at(-1)
    expect(rsync?.command.at(-1)).toBe(`${temporary}/`)
    // then named as always, and nothing removed
    expect(commands.at(-1)).toEqual(['mv', '--no-target-directory', '--', temporary, result.path])
    expect(commands.some((c) => c[0] === 'rm')).toBe(false)
    const warning = `3 file(s) had as many hard links as the filesystem allows: copied into snapshot ${result.path} instead of linked (they take space of their own).`
    expect(result).toEqual({ path: expect.stringMatching(/^\/b\/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/), warnings: [warning] })
    expect(log.join('')).toContain(`WARNING ${warning}`)
  })

  it("through sudo: the completing rsync runs as `sudo -n -H rsync` (root never reads the user's ~/.popt)", async () => {
    const recording = new RecordingContext(
      ({ command }) => {
        if (command[0] === 'test') return { exitCode: 1 }
        if (command[0] === 'cp') return { exitCode: 1, stderr: LINK_LIMIT }
        return command[0] === 'rsync' ? { stdout: 'f\n' } : {}
      },
      { privileged: false, sudo: true },
    )
    const result = await createSnapshot(snapshotStep(recording))
    expect(result.warnings).toHaveLength(1)
    const rsync = recording.calls.find((call) => call.command[0] === 'rsync')
    expect(rsync?.argv.slice(0, 4)).toEqual(['sudo', '-n', '-H', 'rsync'])
  })

  it('a copy without errors: no rsync, no warnings', async () => {
    const recording = context({})
    expect((await createSnapshot(snapshotStep(recording))).warnings).toEqual([])
    expect(rsyncCalls(recording)).toEqual([])
  })
})

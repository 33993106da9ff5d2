// Tier 2: createSnapshot's failure paths with a recording context: what the error says, and that a failed or
// stopped copy leaves neither the temporary copy nor the claim of the name behind.
import { RecordingContext } from '@rsb/exec'
import { describe, expect, it } from 'vitest'
import { createSnapshot } from '../src/backup/snapshot.ts'
import { createLogger } from '../src/log.ts'

const MIRROR = { version: 1, name: 'latest', id: '0123abcd', created: '2024-01-01T00:00:00.000Z' }
const sink = { write: () => true }

function context(cp: { exitCode?: number; stderr?: string }) {
  return new RecordingContext(({ command }) => {
    if (command[0] === 'test') return { exitCode: 1 } // the name is free
    if (command[0] === 'cp') return cp
    return {}
  })
}

async function failure(recording: RecordingContext, signal?: AbortSignal) {
  const step = {
    context: recording,
    logger: createLogger(sink),
    directory: '/b/latest',
    store: '/b',
    mirror: MIRROR,
    dryRun: false,
    signal,
  }
  return (await createSnapshot(step).catch((error: unknown) => error)) as { code?: string; hint?: string }
}

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
    ["cp: cannot create hard link 'x': Too many links", /as many hard links as the filesystem allows.*rsb --rotate/],
    ["cp: cannot create directory 'x': No space left on device", /filesystem is full \(space or inodes\).*rsb --rotate/],
  ])('%s: ERR_RSB_CLI_SNAPSHOT_FAILED with its own hint, nothing left behind', async (stderr, hint) => {
    const recording = context({ exitCode: 1, stderr })
    const error = await failure(recording)
    expect(error).toMatchObject({ code: 'ERR_RSB_CLI_SNAPSHOT_FAILED', hint: expect.stringMatching(hint) })
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

import { describe, expect, it } from 'vitest'
import { describeRsyncExit, RsyncError } from '../src/index.ts'
import { fixture } from './fixtures.ts'

describe('describeRsyncExit', () => {
  it('treats 0 as success and 23, 24 as success with a warning', () => {
    expect(describeRsyncExit(0)).toMatchObject({ outcome: 'success', code: undefined })
    expect(describeRsyncExit(23)).toMatchObject({ outcome: 'warning', meaning: 'partial transfer due to error', code: undefined })
    expect(describeRsyncExit(24)).toMatchObject({ outcome: 'warning', meaning: 'partial transfer due to vanished source files' })
  })

  it.each([
    [1, 'ERR_RSB_RSYNC_SYNTAX', /syntax/],
    [2, 'ERR_RSB_RSYNC_PROTOCOL', /protocol/],
    [3, 'ERR_RSB_RSYNC_FILE_SELECTION', /selecting/],
    [4, 'ERR_RSB_RSYNC_UNSUPPORTED', /not supported/],
    [5, 'ERR_RSB_RSYNC_START', /client-server/],
    [6, 'ERR_RSB_RSYNC_DAEMON_LOG', /log/],
    [10, 'ERR_RSB_RSYNC_SOCKET_IO', /socket/],
    [11, 'ERR_RSB_RSYNC_FILE_IO', /file I\/O/],
    [12, 'ERR_RSB_RSYNC_DATA_STREAM', /data stream/],
    [13, 'ERR_RSB_RSYNC_DIAGNOSTICS', /diagnostics/],
    [14, 'ERR_RSB_RSYNC_IPC', /IPC/],
    [15, 'ERR_RSB_RSYNC_SIBLING_CRASHED', /crashed/],
    [16, 'ERR_RSB_RSYNC_SIBLING_KILLED', /killed/],
    [19, 'ERR_RSB_RSYNC_SIGNAL', /SIGUSR1/],
    [20, 'ERR_RSB_RSYNC_SIGNAL', /SIGINT/],
    [21, 'ERR_RSB_RSYNC_WAITPID', /waitpid/],
    [22, 'ERR_RSB_RSYNC_MEMORY', /memory/],
    [25, 'ERR_RSB_RSYNC_MAX_DELETE', /max-delete/],
    [30, 'ERR_RSB_RSYNC_TIMEOUT', /timeout in data/],
    [35, 'ERR_RSB_RSYNC_DAEMON_TIMEOUT', /daemon connection/],
    [255, 'ERR_RSB_RSYNC_SSH', /remote shell/],
    [99, 'ERR_RSB_RSYNC_EXIT', /unknown/],
  ] as const)('%i is an error %s', (status, code, meaning) => {
    const described = describeRsyncExit(status)
    expect(described).toMatchObject({ exitCode: status, outcome: 'error', code })
    expect(described.meaning).toMatch(meaning)
  })

  it('agrees with rsync about the recorded statuses', () => {
    // rsync's own message names the same meaning ("error in socket IO (code 10)", "error starting client-server protocol (code 5)")
    expect(fixture('connection-refused.stderr')).toContain(`(code ${fixture('connection-refused.status').trim()})`)
    expect(describeRsyncExit(Number(fixture('connection-refused.status'))).code).toBe('ERR_RSB_RSYNC_SOCKET_IO')
    expect(describeRsyncExit(Number(fixture('unknown-module.status'))).code).toBe('ERR_RSB_RSYNC_START')
    expect(describeRsyncExit(Number(fixture('missing-source.status'))).outcome).toBe('warning')
  })
})

describe('RsyncError', () => {
  it('carries code, hint and context, and is recognisable as an rsb error', () => {
    const cause = new Error('inner')
    const error = new RsyncError('ERR_RSB_RSYNC_SOCKET_IO', 'rsync failed', {
      exitCode: 10,
      meaning: 'error in socket I/O',
      stderrTail: 'x',
      hint: 'h',
      cause,
      argv: ['rsync'],
    })
    expect(error).toBeInstanceOf(Error)
    expect(error).toMatchObject({
      name: 'RsyncError',
      code: 'ERR_RSB_RSYNC_SOCKET_IO',
      exitCode: 10,
      stderrTail: 'x',
      hint: 'h',
      argv: ['rsync'],
    })
    expect(error.cause).toBe(cause)
    expect(error.code.startsWith('ERR_RSB_')).toBe(true)
  })
})

// rsb-rotate --syslog=yes: its log lines (INFO and above) reach a real unix datagram socket through logger, as
// rotate-backups 8.1's reach syslog (`rotate-backups[PID]: LEVEL message`); RSB_SYSLOG_SOCKET points at the socket.
import path from 'node:path'
import { testdir } from '@rsb/testkit'
import { describe, expect, it } from 'vitest'
import { entries, FOUR_DAYS, makeEntries, runCli } from './helpers.ts'
import { startSyslogReceiver } from '../syslog-receiver.ts'

/** The messages without the `<PRI>Mmm dd hh:mm:ss ` head: `PRI rsb-rotate[PID]: LEVEL message`. */
function simplify(messages: readonly string[]): string[] {
  return messages.map((m) => m.replace(/^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d (?:\S+ (?=rsb-rotate\[))?/, '$1 '))
}

describe('rsb-rotate --syslog', () => {
  it('--syslog=yes sends the deletions and the other INFO lines, as on stderr, with priority info', async () => {
    const receiver = await startSyslogReceiver()
    const root = await testdir()
    await makeEntries(root, FOUR_DAYS)
    const run = await runCli(['--syslog=yes', '--daily=1', root], { env: { RSB_SYSLOG_SOCKET: receiver.socket } })
    expect(run.code).toBe(0)
    expect(await entries(root)).toEqual(['2024-01-04'])
    const expected = run.lines
    expect(expected).toContain(`INFO Deleting ${root}/2024-01-01 ..`)
    const messages = simplify(await receiver.waitFor(expected.length))
    expect(messages).toEqual(expected.map((line) => `14 rsb-rotate[${process.pid}]: ${line}`))
  })

  it('errors go with priority err; -v lines below INFO stay on stderr', async () => {
    const receiver = await startSyslogReceiver()
    const missing = path.join(await testdir(), 'missing')
    const run = await runCli(['-S', 'on', '-v', '--daily=1', missing], { env: { RSB_SYSLOG_SOCKET: receiver.socket } })
    expect(run.code).toBe(1)
    expect(run.lines.some((line) => line.startsWith('VERBOSE '))).toBe(true)
    const error = run.lines.find((line) => line.startsWith('ERROR ')) as string
    expect(error).toContain(`It seems ${missing} doesn't exist`)
    const messages = simplify(await receiver.waitFor(run.lines.filter((line) => !/^(VERBOSE|DEBUG|SPAM) /.test(line)).length))
    expect(messages).toContain(`11 rsb-rotate[${process.pid}]: ${error}`)
    expect(messages.filter((m) => / VERBOSE /.test(m))).toEqual([])
  })

  it('--syslog=no (and no option) send nothing', async () => {
    const receiver = await startSyslogReceiver()
    const root = await testdir()
    await makeEntries(root, FOUR_DAYS)
    expect((await runCli(['--syslog=no', '-n', '--daily=1', root], { env: { RSB_SYSLOG_SOCKET: receiver.socket } })).code).toBe(0)
    expect((await runCli(['-n', '--daily=1', root], { env: { RSB_SYSLOG_SOCKET: receiver.socket } })).code).toBe(0)
    // a last run with --syslog=yes marks the end: nothing of the runs before arrived ahead of it
    await runCli(['--syslog=yes', '-q', '-q', '-q', '-q', '--daily=1', path.join(root, 'missing')], {
      env: { RSB_SYSLOG_SOCKET: receiver.socket },
    })
    expect(simplify(await receiver.waitFor(1))).toEqual([expect.stringMatching(/^11 rsb-rotate\[\d+\]: ERROR It seems /)])
  })

  it('a socket that is not there: one warning on stderr, the rotation is done', async () => {
    const root = await testdir()
    await makeEntries(root, FOUR_DAYS)
    const socket = path.join(root, 'no.sock')
    const run = await runCli(['--syslog=yes', '--daily=1', root], { env: { RSB_SYSLOG_SOCKET: socket } })
    expect(run.code).toBe(0)
    expect(await entries(root)).toEqual(['2024-01-04'])
    expect(run.lines.filter((line) => line.startsWith('WARNING Could not log to syslog: '))).toEqual([expect.stringContaining(socket)])
  })
})

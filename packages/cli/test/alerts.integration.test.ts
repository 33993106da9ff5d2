// The alerts and hooks with real programs and servers: a node:http server on 127.0.0.1 for the webhook, a
// sendmail stand-in first on PATH, a real unix datagram socket for logger, and real sh hooks with background
// children.
import fs from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { freePort, testdir } from '@rsb/testkit'
import { describe, expect, it, onTestFinished } from 'vitest'
import { runHook, sendAlert, type AlertMessage, type AlertSettings } from '../src/alerts/index.ts'
import { HOSTILE_NAME, shellQuote, writeProgram } from './helpers.ts'
import { startSyslogReceiver } from './syslog-receiver.ts'

const UUID = '0f4b3c2a-9d8e-4f7a-b6c5-1234567890ab'
const NONE: AlertSettings = { webhook: undefined, mailTo: [], mailOnSuccess: false, syslog: false }
const RECORD = { job: 'home', status: 'failed', exitCode: 23, snapshot: null, destination: '/mnt/backups/home/latest' }
const FAST = { retryDelays: [10, 10, 10], timeout: 2000 }

function message(event: AlertMessage['event'], job = 'home'): AlertMessage {
  const line =
    event === 'start'
      ? `job ${job}: backup started`
      : event === 'success'
        ? `job ${job}: backup done`
        : `job ${job}: backup failed: rsync exited with status 23`
  return { job, event, line, record: { ...RECORD, job }, ...(event === 'failure' ? { error: 'rsync exited with status 23' } : {}) }
}

interface Received {
  method: string
  url: string
  contentType: string | undefined
  body: string
}

/** An HTTP server on 127.0.0.1 that answers each request with `answer(index)` (undefined: never answers). */
async function startServer(answer: (index: number) => number | undefined = () => 200): Promise<{ base: string; requests: Received[] }> {
  const requests: Received[] = []
  const server = http.createServer((request, response) => {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => (body += chunk))
    request.on('end', () => {
      const index = requests.length
      requests.push({ method: request.method ?? '', url: request.url ?? '', contentType: request.headers['content-type'], body })
      const status = answer(index)
      if (status !== undefined) response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'OK' : 'no')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping/${UUID}`, requests }
}

function expectNoSecret(outcomes: readonly { detail: string }[]): void {
  for (const outcome of outcomes) {
    expect(outcome.detail).not.toContain(UUID)
    expect(outcome.detail).not.toContain('/ping')
  }
}

describe('webhook', () => {
  it('pings URL/start, URL and URL/fail with the record as a JSON body', async () => {
    const server = await startServer()
    for (const event of ['start', 'success', 'failure'] as const) {
      const outcomes = await sendAlert(message(event), { ...NONE, webhook: server.base }, { env: process.env, ...FAST })
      expect(outcomes).toEqual([{ channel: 'webhook', ok: true, detail: expect.stringContaining('HTTP 200') }])
      expectNoSecret(outcomes)
    }
    expect(server.requests.map((r) => [r.method, r.url])).toEqual([
      ['POST', `/ping/${UUID}/start`],
      ['POST', `/ping/${UUID}`],
      ['POST', `/ping/${UUID}/fail`],
    ])
    for (const request of server.requests) {
      expect(request.contentType).toBe('application/json')
      expect(JSON.parse(request.body)).toEqual(RECORD)
    }
  })

  it('keeps the query string and joins paths after a trailing slash', async () => {
    const server = await startServer()
    await sendAlert(message('failure'), { ...NONE, webhook: `${server.base}/?create=1` }, { env: process.env, ...FAST })
    await sendAlert(message('success'), { ...NONE, webhook: `${server.base}/?create=1` }, { env: process.env, ...FAST })
    expect(server.requests.map((r) => r.url)).toEqual([`/ping/${UUID}/fail?create=1`, `/ping/${UUID}?create=1`])
  })

  it('retries 500 twice and succeeds on the third request', async () => {
    const server = await startServer((index) => (index < 2 ? 500 : 200))
    const outcomes = await sendAlert(message('failure'), { ...NONE, webhook: server.base }, { env: process.env, ...FAST })
    expect(server.requests).toHaveLength(3)
    expect(outcomes).toEqual([{ channel: 'webhook', ok: true, detail: expect.stringContaining('attempt 3') }])
    expectNoSecret(outcomes)
  })

  it('retries 429, and gives up after the last retry', async () => {
    const server = await startServer(() => 429)
    const outcomes = await sendAlert(message('start'), { ...NONE, webhook: server.base }, { env: process.env, ...FAST })
    expect(server.requests).toHaveLength(4)
    expect(outcomes).toEqual([{ channel: 'webhook', ok: false, detail: expect.stringMatching(/failed after 4 attempts: HTTP 429/) }])
  })

  it('does not retry 404', async () => {
    const server = await startServer(() => 404)
    const outcomes = await sendAlert(message('success'), { ...NONE, webhook: server.base }, { env: process.env, ...FAST })
    expect(server.requests).toHaveLength(1)
    expect(outcomes).toEqual([{ channel: 'webhook', ok: false, detail: expect.stringContaining('HTTP 404') }])
    expect(outcomes[0]?.detail).toContain('http://127.0.0.1:')
    expectNoSecret(outcomes)
  })

  it('a server that never answers: each attempt times out, the outcome is ok:false, nothing throws', async () => {
    const server = await startServer(() => undefined)
    const outcomes = await sendAlert(
      message('failure'),
      { ...NONE, webhook: server.base },
      { env: process.env, retryDelays: [10], timeout: 300 },
    )
    expect(server.requests).toHaveLength(2)
    expect(outcomes).toEqual([{ channel: 'webhook', ok: false, detail: expect.stringContaining('no answer within 300 ms') }])
    expectNoSecret(outcomes)
  })

  it('a refused connection is retried and reported without the path', async () => {
    const port = await freePort()
    const outcomes = await sendAlert(
      message('failure'),
      { ...NONE, webhook: `http://127.0.0.1:${port}/ping/${UUID}` },
      { env: process.env, retryDelays: [10, 10] },
    )
    expect(outcomes).toEqual([{ channel: 'webhook', ok: false, detail: expect.stringMatching(/after 3 attempts: .*ECONNREFUSED/) }])
    expectNoSecret(outcomes)
  })

  it('an aborted signal stops the retries', async () => {
    const server = await startServer(() => 503)
    const controller = new AbortController()
    const sending = sendAlert(
      message('failure'),
      { ...NONE, webhook: server.base },
      { env: process.env, retryDelays: [60_000], signal: controller.signal },
    )
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
    controller.abort()
    const outcomes = await sending
    expect(outcomes).toEqual([{ channel: 'webhook', ok: false, detail: expect.stringContaining('cancelled') }])
    expect(server.requests).toHaveLength(1)
  })
})

/** A sendmail stand-in first on PATH: each run writes its arguments and its standard input into DIR. */
async function fakeSendmail(
  script?: string,
): Promise<{ env: Record<string, string | undefined>; dir: string; messages: () => Promise<{ argv: string[]; text: string }[]> }> {
  const dir = await testdir({}, 'rsb-sendmail-')
  const bin = path.join(dir, 'bin')
  const out = path.join(dir, 'out')
  await fs.mkdir(out)
  await writeProgram(bin, 'sendmail', script ?? `dir=${shellQuote(out)}\nprintf '%s\\n' "$@" > "$dir/argv.$$"\ncat > "$dir/message.$$"`)
  return {
    dir,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
    async messages() {
      const names = (await fs.readdir(out)).filter((name) => name.startsWith('message.'))
      return Promise.all(
        names.map(async (name) => ({
          argv: (await fs.readFile(path.join(out, name.replace('message.', 'argv.')), 'utf8')).split('\n').filter(Boolean),
          text: await fs.readFile(path.join(out, name), 'utf8'),
        })),
      )
    },
  }
}

function headerLines(text: string): string[] {
  return text.slice(0, text.indexOf('\n\n')).split('\n')
}

describe('mail', () => {
  const MAIL: AlertSettings = { ...NONE, mailTo: ['root@localhost', 'ops@example.org'], sendmail: 'sendmail' }

  it('a failure sends exactly one message through sendmail -t -oi with the headers and the error', async () => {
    const sendmail = await fakeSendmail()
    const outcomes = await sendAlert(message('failure'), MAIL, { env: sendmail.env, hostname: 'nas', now: new Date(2025, 0, 2, 3, 4, 5) })
    expect(outcomes).toEqual([{ channel: 'mail', ok: true, detail: expect.stringContaining('sent to root@localhost, ops@example.org') }])
    const messages = await sendmail.messages()
    expect(messages).toHaveLength(1)
    const [{ argv, text }] = messages as [{ argv: string[]; text: string }]
    expect(argv).toEqual(['-t', '-oi'])
    expect(headerLines(text)).toEqual([
      'From: rsb@nas',
      'To: root@localhost, ops@example.org',
      'Subject: [rsb] nas home: backup failed',
      expect.stringMatching(/^Date: Thu, 02 Jan 2025 03:04:05 [+-]\d{4}$/),
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      'Auto-Submitted: auto-generated',
    ])
    const body = text.slice(text.indexOf('\n\n') + 2)
    expect(body).toContain('job home: backup failed: rsync exited with status 23')
    expect(body).toContain('Error: rsync exited with status 23')
    expect(body).toContain(JSON.stringify(RECORD, null, 2))
  })

  it('the default From is rsb@HOSTNAME; start sends no mail; success only with mailOnSuccess', async () => {
    const sendmail = await fakeSendmail()
    expect(await sendAlert(message('start'), { ...MAIL, mailOnSuccess: true }, { env: sendmail.env })).toEqual([])
    expect(await sendAlert(message('success'), MAIL, { env: sendmail.env })).toEqual([])
    expect(await sendmail.messages()).toHaveLength(0)
    const outcomes = await sendAlert(
      message('success'),
      { ...MAIL, mailOnSuccess: true, mailTo: ['root@localhost'] },
      { env: sendmail.env },
    )
    expect(outcomes).toMatchObject([{ channel: 'mail', ok: true }])
    const [mail] = (await sendmail.messages()) as [{ argv: string[]; text: string }]
    expect(headerLines(mail.text)).toContain(`Subject: [rsb] ${(await import('node:os')).hostname()} home: backup succeeded`)
    expect(headerLines(mail.text)[0]).toMatch(/^From: rsb@\S+$/)
  })

  it('a job name with a newline cannot add a header', async () => {
    const sendmail = await fakeSendmail()
    const job = 'home\nBcc: victim@example.org\r\nX-Injected: yes'
    await sendAlert(message('failure', job), MAIL, { env: sendmail.env, hostname: 'nas' })
    const [mail] = (await sendmail.messages()) as [{ argv: string[]; text: string }]
    const headers = headerLines(mail.text)
    expect(headers.filter((line) => /^(bcc|x-injected):/i.test(line))).toEqual([])
    expect(headers).toContain('Subject: [rsb] nas home Bcc: victim@example.org X-Injected: yes: backup failed')
    expect(headers.map((line) => line.slice(0, line.indexOf(':')))).toEqual([
      'From',
      'To',
      'Subject',
      'Date',
      'MIME-Version',
      'Content-Type',
      'Content-Transfer-Encoding',
      'Auto-Submitted',
    ])
  })

  it('refuses an address that could inject a header, without running sendmail', async () => {
    const sendmail = await fakeSendmail()
    const outcomes = await sendAlert(
      message('failure'),
      { ...MAIL, mailTo: ['root@localhost\nBcc: victim@example.org'] },
      { env: sendmail.env },
    )
    expect(outcomes).toEqual([{ channel: 'mail', ok: false, detail: expect.stringContaining('line break') }])
    expect(await sendmail.messages()).toHaveLength(0)
  })

  it('a failing sendmail gives ok:false with its complaint', async () => {
    const sendmail = await fakeSendmail(`cat > /dev/null\necho 'sendmail: cannot connect to the mail server' >&2\nexit 75`)
    const outcomes = await sendAlert(message('failure'), MAIL, { env: sendmail.env })
    expect(outcomes).toEqual([
      { channel: 'mail', ok: false, detail: expect.stringMatching(/exited with status 75: sendmail: cannot connect to the mail server$/) },
    ])
  })

  it('a missing sendmail gives ok:false and names what to install', async () => {
    const dir = await testdir()
    const outcomes = await sendAlert(message('failure'), { ...MAIL, sendmail: path.join(dir, 'sendmail') }, { env: { PATH: dir } })
    expect(outcomes).toEqual([{ channel: 'mail', ok: false, detail: expect.stringContaining('no sendmail program') }])
  })
})

describe('syslog', () => {
  it('start, success and failure reach the socket with tag rsb and priorities info, info, err', async () => {
    const receiver = await startSyslogReceiver()
    const settings: AlertSettings = { ...NONE, syslog: true, syslogSocket: receiver.socket }
    for (const event of ['start', 'success', 'failure'] as const) {
      const outcomes = await sendAlert(message(event), settings, { env: process.env })
      expect(outcomes).toEqual([{ channel: 'syslog', ok: true, detail: `logged to ${receiver.socket}` }])
    }
    const lines = await receiver.waitFor(3)
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^<14>.* rsb\\[${process.pid}\\]: job home: backup started$`)),
      expect.stringMatching(new RegExp(`^<14>.* rsb\\[${process.pid}\\]: job home: backup done$`)),
      expect.stringMatching(new RegExp(`^<11>.* rsb\\[${process.pid}\\]: job home: backup failed: rsync exited with status 23$`)),
    ])
  })

  it('facility daemon, the socket from RSB_SYSLOG_SOCKET', async () => {
    const receiver = await startSyslogReceiver()
    const outcomes = await sendAlert(
      message('failure'),
      { ...NONE, syslog: true, syslogFacility: 'daemon' },
      { env: { ...process.env, RSB_SYSLOG_SOCKET: receiver.socket } },
    )
    expect(outcomes).toMatchObject([{ channel: 'syslog', ok: true }])
    expect(await receiver.waitFor(1)).toEqual([expect.stringMatching(/^<27>.* rsb\[\d+\]: job home: backup failed/)])
  })

  it('a missing socket gives ok:false with logger complaint', async () => {
    const dir = await testdir()
    const socket = path.join(dir, 'no-such.sock')
    const outcomes = await sendAlert(message('failure'), { ...NONE, syslog: true, syslogSocket: socket }, { env: process.env })
    expect(outcomes).toEqual([{ channel: 'syslog', ok: false, detail: expect.stringContaining(socket) }])
  })

  it('every channel at once', async () => {
    const receiver = await startSyslogReceiver()
    const server = await startServer()
    const sendmail = await fakeSendmail()
    const outcomes = await sendAlert(
      message('failure'),
      {
        webhook: server.base,
        mailTo: ['root@localhost'],
        mailOnSuccess: false,
        sendmail: 'sendmail',
        syslog: true,
        syslogSocket: receiver.socket,
      },
      { env: sendmail.env, ...FAST },
    )
    expect(outcomes.map((o) => [o.channel, o.ok])).toEqual([
      ['webhook', true],
      ['mail', true],
      ['syslog', true],
    ])
    expect(server.requests).toHaveLength(1)
    expect(await sendmail.messages()).toHaveLength(1)
    expect(await receiver.waitFor(1)).toHaveLength(1)
  })
})

/** Whether a process is gone (or a zombie nobody reaps, which is gone as well). */
async function isGone(pid: number): Promise<boolean> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch {
    return true
  }
}

async function waitGone(pid: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!(await isGone(pid))) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return true
}

describe('hooks', () => {
  it('the variables reach the hook; its exit status and output are captured', async () => {
    const result = await runHook(
      'printf "job=%s status=%s\\n" "$RSB_JOB" "$RSB_STATUS"; echo "to stderr" >&2; echo "path=$PATH"; exit 3',
      { RSB_JOB: 'home', RSB_STATUS: 'failure' },
      { timeout: 10_000, baseEnv: { PATH: '/usr/bin:/bin', UNSET: undefined } },
    )
    expect(result).toEqual({
      ok: false,
      exitCode: 3,
      signal: undefined,
      timedOut: false,
      aborted: false,
      output: 'job=home status=failure\nto stderr\npath=/usr/bin:/bin\n',
    })
    expect(await runHook('true', {}, { timeout: 10_000, baseEnv: process.env })).toMatchObject({ ok: true, exitCode: 0, output: '' })
  })

  it('values with spaces, quotes, $(), backticks and newlines arrive intact and nothing in them runs', async () => {
    const dir = await testdir()
    const value = `${HOSTILE_NAME}\nsecond line; touch pwned3 'x'`
    const env = { RSB_JOB: value, RSB_ERROR: '$(touch pwned4)\n`touch pwned5`', RSB_SNAPSHOT: '2025-01-02 03:04:05' }
    const result = await runHook(
      'printf "%s" "$RSB_JOB" > job.txt; printf "%s" "$RSB_ERROR" > error.txt; printf "%s" "$RSB_SNAPSHOT" > snapshot.txt',
      env,
      { timeout: 10_000, baseEnv: process.env, cwd: dir },
    )
    expect(result.ok).toBe(true)
    expect(await fs.readFile(path.join(dir, 'job.txt'), 'utf8')).toBe(value)
    expect(await fs.readFile(path.join(dir, 'error.txt'), 'utf8')).toBe(env.RSB_ERROR)
    expect(await fs.readFile(path.join(dir, 'snapshot.txt'), 'utf8')).toBe(env.RSB_SNAPSHOT)
    expect((await fs.readdir(dir)).sort()).toEqual(['error.txt', 'job.txt', 'snapshot.txt'])
  })

  it('a time-out kills the hook and its background child', async () => {
    const dir = await testdir()
    const pidFile = path.join(dir, 'child.pid')
    const result = await runHook(
      `sleep 1000 & echo $! > ${shellQuote(pidFile)}; echo started; sleep 1000`,
      {},
      {
        timeout: 500,
        baseEnv: process.env,
      },
    )
    expect(result).toMatchObject({ ok: false, timedOut: true, aborted: false, exitCode: undefined, signal: 'SIGTERM', output: 'started\n' })
    const pid = Number(await fs.readFile(pidFile, 'utf8'))
    expect(pid).toBeGreaterThan(0)
    expect(await waitGone(pid)).toBe(true)
  })

  it('a hook that ignores SIGTERM is killed after killAfter', async () => {
    const result = await runHook(
      `trap '' TERM; echo waiting; sleep 1000 & wait; sleep 1000`,
      {},
      { timeout: 300, killAfter: 300, baseEnv: process.env },
    )
    expect(result).toMatchObject({ ok: false, timedOut: true, signal: 'SIGKILL' })
  })

  it('an abort stops the hook and its children', async () => {
    const dir = await testdir()
    const pidFile = path.join(dir, 'child.pid')
    const controller = new AbortController()
    const running = runHook(
      `sleep 1000 & echo $! > ${shellQuote(pidFile)}; wait`,
      {},
      { timeout: 60_000, baseEnv: process.env, signal: controller.signal },
    )
    while (!(await fs.readFile(pidFile, 'utf8').catch(() => '')).endsWith('\n')) await new Promise((resolve) => setTimeout(resolve, 10))
    controller.abort()
    expect(await running).toMatchObject({ ok: false, aborted: true, timedOut: false })
    expect(await waitGone(Number(await fs.readFile(pidFile, 'utf8')))).toBe(true)
    expect(await runHook('true', {}, { timeout: 1000, baseEnv: process.env, signal: controller.signal })).toMatchObject({
      ok: false,
      aborted: true,
    })
  })

  it('a hook that exits leaves no background process behind, and its status counts', async () => {
    const dir = await testdir()
    const pidFile = path.join(dir, 'child.pid')
    const result = await runHook(`sleep 1000 & echo $! > ${shellQuote(pidFile)}; echo done`, {}, { timeout: 60_000, baseEnv: process.env })
    expect(result).toMatchObject({ ok: true, exitCode: 0, timedOut: false, output: 'done\n' })
    expect(await waitGone(Number(await fs.readFile(pidFile, 'utf8')))).toBe(true)
  })

  it('a process that left the group and keeps the output pipe open does not keep the hook running', async () => {
    const dir = await testdir()
    const pidFile = path.join(dir, 'daemon.pid')
    // setsid puts the sleep in a session of its own (out of the group rsb signals), with the hook's output as its own;
    // the hook waits until it is there, so that the group's SIGTERM cannot reach it first
    const started = Date.now()
    const result = await runHook(
      `setsid sh -c 'echo $$ > "$1"; exec sleep 31' sh ${shellQuote(pidFile)} & ` +
        `while ! [ -s ${shellQuote(pidFile)} ]; do sleep 0.05; done; echo detached`,
      {},
      { timeout: 60_000, baseEnv: process.env },
    )
    const pid = Number(await fs.readFile(pidFile, 'utf8'))
    onTestFinished(() => {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone already
      }
    })
    expect(Date.now() - started).toBeLessThan(4000)
    expect(result).toMatchObject({ ok: true, exitCode: 0, timedOut: false, aborted: false, output: 'detached\n' })
    expect(await isGone(pid)).toBe(false)
  })

  it('a time-out resolves though a process outside the group holds the pipe', async () => {
    const dir = await testdir()
    const pidFile = path.join(dir, 'daemon.pid')
    const started = Date.now()
    const result = await runHook(
      `setsid sh -c 'echo $$ > "$1"; exec sleep 31' sh ${shellQuote(pidFile)} & sleep 1000`,
      {},
      { timeout: 300, killAfter: 300, pipeGrace: 300, baseEnv: process.env },
    )
    onTestFinished(async () => {
      try {
        process.kill(Number(await fs.readFile(pidFile, 'utf8')), 'SIGKILL')
      } catch {
        // gone already, or never started
      }
    })
    expect(Date.now() - started).toBeLessThan(4000)
    expect(result).toMatchObject({ ok: false, timedOut: true, signal: 'SIGTERM' })
  })

  it('keeps the last 64 KiB of a long output', async () => {
    const result = await runHook(`head -c 200000 /dev/zero | tr '\\0' a; echo; echo END`, {}, { timeout: 10_000, baseEnv: process.env })
    expect(result.ok).toBe(true)
    expect(result.output).toHaveLength(64 * 1024)
    expect(result.output.endsWith('a\nEND\n')).toBe(true)
  })
})

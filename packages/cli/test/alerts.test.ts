// The pure parts of the alerts: webhook URLs and their redaction, mail addresses, messages and headers, syslog
// priorities and logger's input. No program runs here (alerts.integration.test.ts runs them).
import { describe, expect, it } from 'vitest'
import {
  buildMailMessage,
  checkMailAddress,
  checkWebhookUrl,
  mailBody,
  mailSubject,
  redactUrl,
  resolveSendmail,
  syslogPriority,
  webhookUrl,
} from '../src/alerts/index.ts'
import { encodeHeaderValue, formatMailDate } from '../src/alerts/mail.ts'
import { loggerArgv, loggerInput } from '../src/alerts/syslog.ts'
import { isRetryableStatus, scrubUrl } from '../src/alerts/webhook.ts'

const UUID = '5f9c1a2b-0000-4000-8000-123456789abc'

/** The header block of a message, as name → values. */
function headersOf(message: string): Map<string, string[]> {
  const block = message.slice(0, message.indexOf('\n\n'))
  const headers = new Map<string, string[]>()
  let last: string | undefined
  for (const line of block.split('\n')) {
    if (/^[ \t]/.test(line) && last) {
      const values = headers.get(last) as string[]
      values[values.length - 1] += `\n${line}`
      continue
    }
    const colon = line.indexOf(':')
    last = line.slice(0, colon).toLowerCase()
    headers.set(last, [...(headers.get(last) ?? []), line.slice(colon + 1).trim()])
  }
  return headers
}

describe('webhook URLs', () => {
  it.each([
    ['https://hc-ping.com/UUID', 'https://hc-ping.com/UUID/start', 'https://hc-ping.com/UUID', 'https://hc-ping.com/UUID/fail'],
    ['https://hc-ping.com/UUID/', 'https://hc-ping.com/UUID/start', 'https://hc-ping.com/UUID', 'https://hc-ping.com/UUID/fail'],
    [
      'https://hc-ping.com/key/slug?create=1',
      'https://hc-ping.com/key/slug/start?create=1',
      'https://hc-ping.com/key/slug?create=1',
      'https://hc-ping.com/key/slug/fail?create=1',
    ],
    ['http://127.0.0.1:8000', 'http://127.0.0.1:8000/start', 'http://127.0.0.1:8000/', 'http://127.0.0.1:8000/fail'],
    ['http://127.0.0.1:8000/?a=b', 'http://127.0.0.1:8000/start?a=b', 'http://127.0.0.1:8000/?a=b', 'http://127.0.0.1:8000/fail?a=b'],
  ])('%s → start, success and failure URLs', (base, start, success, failure) => {
    expect(webhookUrl(base, 'start')).toBe(start)
    expect(webhookUrl(base, 'success')).toBe(success)
    expect(webhookUrl(base, 'failure')).toBe(failure)
  })

  it('accepts http and https URLs', () => {
    expect(checkWebhookUrl(`https://hc-ping.com/${UUID}`)).toBeUndefined()
    expect(checkWebhookUrl('http://127.0.0.1:8000/ping/x?create=1')).toBeUndefined()
  })

  it.each([
    ['', /empty/],
    ['hc-ping.com/x', /not a valid absolute URL/],
    [`ftp://hc-ping.com/${UUID}`, /http:\/\/ or https:\/\/ \(it uses ftp:\)/],
    [`file:///${UUID}`, /it uses file:/],
    [`https://user:s3cret@hc-ping.com/${UUID}`, /user name or password/],
    [`https://hc-ping.com/${UUID}\nhttps://evil.example/`, /control character/],
    [`https://hc-ping.com/${UUID} `, /space/],
    [`https://hc-ping.com/${UUID}#frag`, /fragment/],
  ])('refuses %j without quoting its path', (text, problem) => {
    const message = checkWebhookUrl(text)
    expect(message).toMatch(problem)
    expect(message).not.toContain(UUID)
    expect(message).not.toContain('s3cret')
  })

  it('redacts a URL to its scheme and host', () => {
    expect(redactUrl(`https://hc-ping.com/${UUID}/fail?x=1`)).toBe('https://hc-ping.com')
    expect(redactUrl(`http://user:secret@127.0.0.1:8080/${UUID}`)).toBe('http://127.0.0.1:8080')
    expect(redactUrl('not a url')).toBe('an invalid URL')
  })

  it('scrubs the path and query out of an error text that quotes the URL', () => {
    const url = `https://hc-ping.com/${UUID}/fail?token=abc`
    const text = scrubUrl(`request to ${url} failed; path ${UUID} /${UUID}/fail?token=abc`, url)
    expect(text).not.toContain(UUID)
    expect(text).not.toContain('token=abc')
  })

  it('retries 5xx and 429, not other 4xx', () => {
    expect([500, 502, 503, 429].map(isRetryableStatus)).toEqual([true, true, true, true])
    expect([400, 401, 404, 410].map(isRetryableStatus)).toEqual([false, false, false, false])
  })
})

describe('mail addresses', () => {
  it.each(['root@localhost', 'ops.team+backups@example.org', "o'brien@mail.example.co.uk", 'a@b'])('accepts %s', (address) => {
    expect(checkMailAddress(address)).toBeUndefined()
  })

  it.each([
    ['', /empty/],
    ['root@localhost\nBcc: victim@example.org', /line break/],
    ['root@localhost\r', /line break/],
    ['Ops <ops@example.org>', /plain local@domain/],
    ['ops@example.org, other@example.org', /plain local@domain/],
    ['no-at-sign', /plain local@domain/],
    ['@example.org', /plain local@domain/],
    ['root@', /plain local@domain/],
    ['a..b@example.org', /plain local@domain/],
    ['"quoted"@example.org', /plain local@domain/],
    ['-oQ/tmp@example.org', /plain local@domain/],
    ['root@-bad-.example', /plain local@domain/],
    ['root@exa mple.org', /plain local@domain/],
  ])('refuses %j', (address, problem) => {
    expect(checkMailAddress(address)).toMatch(problem)
  })
})

describe('mail messages', () => {
  const record = { job: 'home', status: 'failed', exitCode: 23 }
  const date = new Date(2025, 2, 4, 10, 5, 9)

  it('formats the Date header as RFC 5322 does', () => {
    expect(formatMailDate(date)).toMatch(/^Tue, 04 Mar 2025 10:05:09 [+-]\d{4}$/)
  })

  it('names the host and job in the subject', () => {
    expect(mailSubject('nas', { job: 'home', event: 'failure' })).toBe('[rsb] nas home: backup failed')
    expect(mailSubject('nas', { job: 'home', event: 'success' })).toBe('[rsb] nas home: backup succeeded')
  })

  it('builds the headers, the line, the error and the record', () => {
    const message = buildMailMessage({
      from: 'rsb@nas',
      to: ['root@localhost', 'ops@example.org'],
      subject: mailSubject('nas', { job: 'home', event: 'failure' }),
      date,
      body: mailBody({ line: 'job home: backup failed: rsync exited with status 23', error: 'rsync exited with status 23', record }),
    })
    const headers = headersOf(message)
    expect([...headers.keys()]).toEqual([
      'from',
      'to',
      'subject',
      'date',
      'mime-version',
      'content-type',
      'content-transfer-encoding',
      'auto-submitted',
    ])
    expect(headers.get('from')).toEqual(['rsb@nas'])
    expect(headers.get('to')).toEqual(['root@localhost, ops@example.org'])
    expect(headers.get('subject')).toEqual(['[rsb] nas home: backup failed'])
    expect(headers.get('mime-version')).toEqual(['1.0'])
    expect(headers.get('content-type')).toEqual(['text/plain; charset=utf-8'])
    expect(headers.get('content-transfer-encoding')).toEqual(['8bit'])
    const body = message.slice(message.indexOf('\n\n') + 2)
    expect(body).toBe(
      `job home: backup failed: rsync exited with status 23\n\nError: rsync exited with status 23\n\nRun record:\n${JSON.stringify(record, null, 2)}\n`,
    )
  })

  it('a job name with line breaks cannot add a header', () => {
    const job = 'home\nBcc: victim@example.org\r\nX-Evil: 1\u2028Reply-To: x@y'
    const message = buildMailMessage({
      from: 'rsb@nas',
      to: ['root@localhost'],
      subject: mailSubject('nas', { job, event: 'failure' }),
      date,
      body: mailBody({ line: `job ${job}: backup failed`, record: { job } }),
    })
    const headers = headersOf(message)
    expect(headers.has('bcc')).toBe(false)
    expect(headers.has('x-evil')).toBe(false)
    expect(headers.has('reply-to')).toBe(false)
    expect(headers.get('subject')).toEqual(['[rsb] nas home Bcc: victim@example.org X-Evil: 1 Reply-To: x@y: backup failed'])
    // the header block ends at the first empty line, and every line of it is a header or a continuation
    for (const line of message.slice(0, message.indexOf('\n\n')).split('\n')) expect(line).toMatch(/^([A-Za-z-]+: |[ \t])/)
  })

  it('encodes a subject that is not ASCII as RFC 2047 words', () => {
    const subject = mailSubject('nas', { job: 'Sauvegarde ménage — ' + 'é'.repeat(40), event: 'success' })
    expect(subject).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=(\n =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=)+$/)
    for (const word of subject.split('\n ')) expect(word.length).toBeLessThanOrEqual(75)
    const decoded = subject
      .split('\n ')
      .map((word) => Buffer.from(word.slice(10, -2), 'base64').toString('utf8'))
      .join('')
    expect(decoded).toBe('[rsb] nas Sauvegarde ménage — ' + 'é'.repeat(40) + ': backup succeeded')
    expect(encodeHeaderValue('plain\ttext')).toBe('plain text')
  })

  it('uses quoted-printable when a body line is longer than 998 bytes', () => {
    const error = `rsync: ${'x'.repeat(2000)}`
    const message = buildMailMessage({
      from: 'rsb@nas',
      to: ['root@localhost'],
      subject: 's',
      date,
      body: mailBody({ line: 'l', error, record: {} }),
    })
    expect(headersOf(message).get('content-transfer-encoding')).toEqual(['quoted-printable'])
    for (const line of message.split('\n')) expect(line.length).toBeLessThanOrEqual(998)
    const body = message.slice(message.indexOf('\n\n') + 2)
    const decoded = Buffer.from(
      body.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    ).toString('utf8')
    expect(decoded).toContain(`Error: ${error}`)
  })
})

describe('sendmail lookup', () => {
  const exists = (files: string[]) => (file: string) => files.includes(file)

  it('prefers /usr/sbin/sendmail, then sendmail on PATH', () => {
    expect(resolveSendmail(undefined, { PATH: '/bin:/opt/mta/bin' }, exists(['/usr/sbin/sendmail', '/opt/mta/bin/sendmail']))).toBe(
      '/usr/sbin/sendmail',
    )
    expect(resolveSendmail(undefined, { PATH: '/bin::/opt/mta/bin' }, exists(['/opt/mta/bin/sendmail']))).toBe('/opt/mta/bin/sendmail')
    expect(resolveSendmail(undefined, { PATH: '/bin' }, exists([]))).toBeUndefined()
  })

  it('uses the configured program (a path, or a name on PATH)', () => {
    expect(resolveSendmail('/opt/msmtp', {}, exists(['/opt/msmtp', '/usr/sbin/sendmail']))).toBe('/opt/msmtp')
    expect(resolveSendmail('msmtp', { PATH: '/usr/bin' }, exists(['/usr/bin/msmtp', '/usr/sbin/sendmail']))).toBe('/usr/bin/msmtp')
    expect(resolveSendmail('/missing', {}, exists(['/usr/sbin/sendmail']))).toBeUndefined()
  })
})

describe('syslog lines', () => {
  it('computes <PRI> from facility and severity', () => {
    expect(syslogPriority('user', 'info')).toBe(14)
    expect(syslogPriority('user', 'err')).toBe(11)
    expect(syslogPriority('daemon', 'info')).toBe(30)
    expect(syslogPriority('daemon', 'err')).toBe(27)
  })

  it('gives logger one <PRI> line per line of each message, without control characters', () => {
    expect(
      loggerInput([
        { severity: 'info', message: 'job home: backup started' },
        { severity: 'err', message: 'job home: backup failed:\nline two\r\n\n\u0007bell' },
      ]),
    ).toBe('<14>job home: backup started\n<11>job home: backup failed:\n<11>line two\n<11> bell\n')
  })

  it('runs logger on a socket, with errors on, its tag and a PID', () => {
    expect(loggerArgv({ tag: 'rsb', socket: '/run/x.sock', pid: 42 })).toEqual([
      'logger',
      '--socket=/run/x.sock',
      '--socket-errors=on',
      '--tag=rsb',
      '--id=42',
      '--prio-prefix',
    ])
    expect(loggerArgv({ tag: 'rsb-rotate' })[1]).toBe('--socket=/dev/log')
  })
})

import fs from 'node:fs'
import path from 'node:path'
import type { Context } from '@rsb/exec'
import type { AlertMessage } from './types.js'

/** Where Debian (and most distributions) put the MTA's sendmail interface. */
export const SENDMAIL_PATH = '/usr/sbin/sendmail'

/** How long sendmail may take to accept a message, in milliseconds. */
export const SENDMAIL_TIMEOUT = 60_000

// A dot-atom local part (RFC 5322 atext) and a host name of letters, digits and hyphens: enough for every address
// a backup alert goes to, and nothing that could end a header or start an option (quoted local parts, display
// names, comments and address literals are refused).
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/
const DOMAIN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

/**
 * Checks an e-mail address given in the configuration: a plain `local@domain` (no display name, no line break,
 * no space, no comma), so that it can go into a `To:` or `From:` header as it is.
 *
 * @param text - the configured address
 * @returns a problem, one sentence, or undefined when the address is usable
 * @example
 * ```ts
 * checkMailAddress('root@localhost')   // undefined
 * checkMailAddress('Ops <ops@x.org>') // "The e-mail address 'Ops <ops@x.org>' is not a plain local@domain address …"
 * ```
 */
export function checkMailAddress(text: string): string | undefined {
  if (text === '') return 'The e-mail address is empty.'
  // oxlint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(text)) return 'The e-mail address contains a line break or another control character.'
  const at = text.lastIndexOf('@')
  const local = text.slice(0, at)
  const domain = text.slice(at + 1)
  if (at <= 0 || at > 64 || !LOCAL_PART.test(local) || !DOMAIN.test(domain) || local.startsWith('-'))
    return `The e-mail address '${text}' is not a plain local@domain address (no name, spaces, quotes or angle brackets).`
  return undefined
}

/**
 * A date as RFC 5322 writes it, in local time with its offset: `Tue, 04 Mar 2025 10:00:00 +0100`.
 */
export function formatMailDate(date: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
  const pad = (n: number) => String(n).padStart(2, '0')
  const offset = -date.getTimezoneOffset()
  const sign = offset < 0 ? '-' : '+'
  const zone = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`
  return (
    `${days[date.getDay()]}, ${pad(date.getDate())} ${months[date.getMonth()]} ${date.getFullYear()} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${zone}`
  )
}

/**
 * A header value that cannot start another header: line breaks and other control characters become spaces, runs
 * of spaces one space, and text that is not ASCII is encoded as RFC 2047 words (`=?UTF-8?B?…?=`).
 */
export function encodeHeaderValue(text: string): string {
  const flat = text
    // oxlint-disable-next-line no-control-regex -- control characters are what is removed
    .replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim()
    .slice(0, 900)
  if (/^[\u0020-\u007e]*$/.test(flat)) return flat
  // encoded words of at most 75 characters (45 bytes → 60 base64 characters), never splitting a character
  const words: string[] = []
  let chunk = ''
  for (const char of flat) {
    if (Buffer.byteLength(chunk + char) > 45) {
      words.push(chunk)
      chunk = ''
    }
    chunk += char
  }
  if (chunk) words.push(chunk)
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word).toString('base64')}?=`).join('\n ')
}

/** `[rsb] HOSTNAME JOB: backup failed` (or `succeeded`, `started`), as a header value. */
export function mailSubject(host: string, message: Pick<AlertMessage, 'job' | 'event'>): string {
  const what = message.event === 'failure' ? 'backup failed' : message.event === 'success' ? 'backup succeeded' : 'backup started'
  return encodeHeaderValue(`[rsb] ${host} ${message.job}: ${what}`)
}

/** The text of a mail: the line, the error, and the run record as pretty JSON. */
export function mailBody(message: Pick<AlertMessage, 'line' | 'error' | 'record'>): string {
  const parts = [message.line]
  if (message.error !== undefined && message.error !== '') parts.push(`Error: ${message.error}`)
  parts.push(`Run record:\n${JSON.stringify(message.record, null, 2)}`)
  return `${parts.join('\n\n')}\n`
}

// Quoted-printable (RFC 2045 6.7), for a body with a line longer than SMTP's 998 octets.
function quotedPrintable(text: string): string {
  const out: string[] = []
  for (const line of text.split('\n')) {
    let encoded = ''
    let width = 0
    for (const byte of Buffer.from(line)) {
      const plain = (byte >= 33 && byte <= 126 && byte !== 61) || byte === 32
      const piece = plain ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`
      if (width + piece.length > 75) {
        encoded += '=\n'
        width = 0
      }
      encoded += piece
      width += piece.length
    }
    // a space at the end of a line would be lost in transport
    out.push(encoded.endsWith(' ') ? `${encoded.slice(0, -1)}=20` : encoded)
  }
  return out.join('\n')
}

/** What {@link buildMailMessage} puts together. */
export interface MailParts {
  readonly from: string
  readonly to: readonly string[]
  /** Already a header value (see {@link mailSubject}); encoded again, which changes nothing in one. */
  readonly subject: string
  readonly date: Date
  readonly body: string
}

/**
 * The whole message for `sendmail -t -oi` (LF line ends, as sendmail reads them): From, To, Subject, Date,
 * MIME-Version and a text/plain UTF-8 body, 8bit (quoted-printable when a line is longer than 998 bytes).
 * Addresses must have passed {@link checkMailAddress}; every header value is flattened to one line.
 */
export function buildMailMessage(parts: MailParts): string {
  const body = parts.body.replace(/\r\n?/g, '\n').replaceAll('\u0000', '')
  const long = body.split('\n').some((line) => Buffer.byteLength(line) > 998)
  const to = parts.to.map(encodeHeaderValue)
  const toLine = to.join(', ').length > 72 ? to.join(',\n ') : to.join(', ')
  const subject = parts.subject.split('\n ').map(encodeHeaderValue).join('\n ')
  const headers = [
    `From: ${encodeHeaderValue(parts.from)}`,
    `To: ${toLine}`,
    `Subject: ${subject}`,
    `Date: ${formatMailDate(parts.date)}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Transfer-Encoding: ${long ? 'quoted-printable' : '8bit'}`,
    'Auto-Submitted: auto-generated',
  ]
  return `${headers.join('\n')}\n\n${long ? quotedPrintable(body) : body}`
}

/**
 * The sendmail program to run: the configured one (a name is looked up in `env.PATH`), else
 * {@link SENDMAIL_PATH} when it exists, else `sendmail` on `env.PATH`. Undefined when there is none.
 */
export function resolveSendmail(
  configured: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  isExecutable: (file: string) => boolean = executable,
): string | undefined {
  const lookup = (name: string) => {
    if (name.includes('/')) return isExecutable(name) ? name : undefined
    for (const dir of (env.PATH ?? '').split(':')) {
      if (dir === '') continue
      const file = path.join(dir, name)
      if (isExecutable(file)) return file
    }
    return undefined
  }
  if (configured !== undefined) return lookup(configured)
  return isExecutable(SENDMAIL_PATH) ? SENDMAIL_PATH : lookup('sendmail')
}

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

/** What {@link sendMail} needs. */
export interface SendMailOptions {
  readonly context: Context
  /** The program (see {@link resolveSendmail}). */
  readonly sendmail: string
  readonly signal?: AbortSignal | undefined
  /** Default: {@link SENDMAIL_TIMEOUT}. */
  readonly timeout?: number | undefined
}

/** Hands a message to `sendmail -t -oi` on standard input. Never throws. */
export async function sendMail(text: string, options: SendMailOptions): Promise<{ ok: boolean; detail: string }> {
  const limit = AbortSignal.timeout(options.timeout ?? SENDMAIL_TIMEOUT)
  const signal = options.signal ? AbortSignal.any([options.signal, limit]) : limit
  try {
    const result = await options.context.run([options.sendmail, '-t', '-oi'], {
      input: text,
      sudo: false,
      ionice: undefined,
      check: false,
      signal,
    })
    if (result.exitCode === 0) return { ok: true, detail: `handed to ${options.sendmail}` }
    const how = result.exitCode === undefined ? `was killed by ${result.signal ?? 'a signal'}` : `exited with status ${result.exitCode}`
    const last = result.stderr.trim().split('\n').at(-1)
    return { ok: false, detail: `${options.sendmail} ${how}${last ? `: ${last}` : ''}` }
  } catch (error) {
    if (limit.aborted) return { ok: false, detail: `${options.sendmail} did not finish within ${options.timeout ?? SENDMAIL_TIMEOUT} ms` }
    return { ok: false, detail: error instanceof Error ? error.message : String(error) }
  }
}

import os from 'node:os'
import type { Context } from '@rsb/exec'
import { version } from '../version.js'
import { buildMailMessage, checkMailAddress, mailBody, mailSubject, resolveSendmail, sendMail } from './mail.js'
import { DEFAULT_SYSLOG_SOCKET, sendSyslog } from './syslog.js'
import type { AlertMessage, AlertOutcome, AlertSettings } from './types.js'
import { checkWebhookUrl, postWebhook, scrubUrl, webhookUrl } from './webhook.js'

/** Options of {@link sendAlert}. */
export interface SendAlertOptions {
  /** The environment: PATH (to find sendmail) and RSB_SYSLOG_SOCKET. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Stops every channel (the outcomes then say so). */
  readonly signal?: AbortSignal | undefined
  /** Pauses before the webhook's retries, in milliseconds (default 1 s, 2 s, 4 s; tests shorten them). */
  readonly retryDelays?: readonly number[] | undefined
  /** Time limit of each webhook attempt, of sendmail and of logger, in milliseconds. Default 10 s (sendmail 60 s). */
  readonly timeout?: number | undefined
  /** Where sendmail and logger run. Default: a local context. */
  readonly context?: Context | undefined
  /** The host named in the mail's subject and From. Default: `os.hostname()`. */
  readonly hostname?: string | undefined
  /** The mail's Date. Default: now. */
  readonly now?: Date | undefined
}

/** `os.hostname()` if it can go into an address and a subject, else `localhost`. */
function safeHostname(name: string): string {
  return checkMailAddress(`rsb@${name}`) === undefined ? name : 'localhost'
}

async function webhookOutcome(message: AlertMessage, base: string, options: SendAlertOptions): Promise<AlertOutcome> {
  const problem = checkWebhookUrl(base)
  if (problem) return { channel: 'webhook', ok: false, detail: problem }
  const result = await postWebhook(webhookUrl(base, message.event), JSON.stringify(message.record), {
    signal: options.signal,
    retryDelays: options.retryDelays,
    timeout: options.timeout,
    userAgent: `rsb/${version()}`,
  })
  return { channel: 'webhook', ok: result.ok, detail: result.detail }
}

async function mailOutcome(
  message: AlertMessage,
  settings: AlertSettings,
  options: SendAlertOptions,
  context: () => Promise<Context>,
): Promise<AlertOutcome> {
  const host = safeHostname(options.hostname ?? os.hostname())
  const from = settings.mailFrom ?? `rsb@${host}`
  for (const address of [from, ...settings.mailTo]) {
    const problem = checkMailAddress(address)
    if (problem) return { channel: 'mail', ok: false, detail: `not sent: ${problem}` }
  }
  const sendmail = resolveSendmail(settings.sendmail, options.env)
  if (sendmail === undefined)
    return {
      channel: 'mail',
      ok: false,
      detail: `not sent: no sendmail program (${settings.sendmail ?? '/usr/sbin/sendmail, or sendmail on PATH'}); install an MTA such as exim4-daemon-light, postfix, msmtp-mta or nullmailer`,
    }
  const text = buildMailMessage({
    from,
    to: settings.mailTo,
    subject: mailSubject(host, message),
    date: options.now ?? new Date(),
    body: mailBody(message),
  })
  const result = await sendMail(text, { context: await context(), sendmail, signal: options.signal, timeout: options.timeout })
  return { channel: 'mail', ok: result.ok, detail: result.ok ? `sent to ${settings.mailTo.join(', ')} (${result.detail})` : result.detail }
}

async function syslogOutcome(
  message: AlertMessage,
  settings: AlertSettings,
  options: SendAlertOptions,
  context: () => Promise<Context>,
): Promise<AlertOutcome> {
  const result = await sendSyslog([{ severity: message.event === 'failure' ? 'err' : 'info', message: message.line }], {
    tag: 'rsb',
    facility: settings.syslogFacility ?? 'user',
    socket: settings.syslogSocket ?? (options.env.RSB_SYSLOG_SOCKET || DEFAULT_SYSLOG_SOCKET),
    context: await context(),
    signal: options.signal,
    timeout: options.timeout,
  })
  return { channel: 'syslog', ok: result.ok, detail: result.detail }
}

/**
 * Sends one event of one job on every configured channel, at the same time:
 *
 * - **webhook** (healthchecks.io style): start → POST `URL/start`, success → POST `URL`, failure → POST
 *   `URL/fail`, the record as a JSON body; retried after 1 s, 2 s and 4 s on network errors, time-outs, 5xx and 429.
 * - **mail** on failure (and on success with `mailOnSuccess`; never on start): one message through
 *   `sendmail -t -oi`.
 * - **syslog**: the line through `logger`, tag `rsb`, priority info (start, success) or err (failure).
 *
 * Never throws and never fails the backup: each channel's outcome says what happened. No outcome's detail holds
 * the webhook's path or query (its secret).
 *
 * @returns one outcome per channel that was due (none when nothing is configured)
 * @example
 * ```ts
 * const outcomes = await sendAlert(
 *   { job: 'home', event: 'failure', line: 'job home: backup failed: rsync exited with status 23', record },
 *   { webhook: 'https://hc-ping.com/…', mailTo: ['root@localhost'], mailOnSuccess: false, syslog: true },
 *   { env: process.env },
 * )
 * for (const o of outcomes) if (!o.ok) console.error(`${o.channel}: ${o.detail}`)
 * ```
 */
export async function sendAlert(message: AlertMessage, settings: AlertSettings, options: SendAlertOptions): Promise<AlertOutcome[]> {
  let made: Promise<Context> | undefined
  const context = () =>
    (made ??= options.context ? Promise.resolve(options.context) : import('@rsb/exec').then((exec) => new exec.LocalContext()))
  const channels: Promise<AlertOutcome>[] = []
  // each channel's own code never throws; this is the last line of defence of "never fails the backup"
  const guard = (channel: AlertOutcome['channel'], run: () => Promise<AlertOutcome>) =>
    channels.push(
      run().catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error)
        return { channel, ok: false, detail: settings.webhook ? scrubUrl(reason, settings.webhook) : reason }
      }),
    )
  if (settings.webhook !== undefined) guard('webhook', () => webhookOutcome(message, settings.webhook as string, options))
  const mailDue = message.event === 'failure' || (message.event === 'success' && settings.mailOnSuccess)
  if (settings.mailTo.length > 0 && mailDue) guard('mail', () => mailOutcome(message, settings, options, context))
  if (settings.syslog) guard('syslog', () => syslogOutcome(message, settings, options, context))
  return Promise.all(channels)
}

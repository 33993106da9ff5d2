import { setTimeout as sleep } from 'node:timers/promises'
import type { AlertEvent } from './types.js'

/** Default per-attempt time limit of a webhook request, in milliseconds. */
export const DEFAULT_WEBHOOK_TIMEOUT = 10_000

/** Default pauses before the retries of a webhook request (three retries), in milliseconds. */
export const DEFAULT_RETRY_DELAYS: readonly number[] = [1000, 2000, 4000]

// C0 controls, DEL and whitespace: the URL parser silently drops tabs and newlines inside a URL, which would hide
// a mistake (or a second line pasted into the setting).
// oxlint-disable-next-line no-control-regex -- control characters are what is refused
const FORBIDDEN = /[\u0000-\u0020\u007f]/

/**
 * Checks a webhook URL (a healthchecks.io-style ping URL) given in the configuration.
 *
 * The message never repeats the URL's path or query: a healthchecks URL's path is its check's secret UUID.
 *
 * @param text - the configured URL
 * @returns a problem, one sentence, or undefined when the URL is usable
 * @example
 * ```ts
 * checkWebhookUrl('https://hc-ping.com/5f9c…') // undefined
 * checkWebhookUrl('ftp://example.org/x')      // "The webhook URL must start with http:// or https:// (it uses ftp:)."
 * ```
 */
export function checkWebhookUrl(text: string): string | undefined {
  if (text === '') return 'The webhook URL is empty.'
  if (FORBIDDEN.test(text)) return 'The webhook URL contains a space or a control character (such as a line break).'
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return 'The webhook URL is not a valid absolute URL (it should look like https://hc-ping.com/<uuid>).'
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `The webhook URL must start with http:// or https:// (it uses ${url.protocol}).`
  if (url.hostname === '') return 'The webhook URL has no host.'
  if (url.username !== '' || url.password !== '')
    return `The webhook URL for ${url.protocol}//${url.host} holds a user name or password, which is not supported (put secrets in the path).`
  if (url.hash !== '') return `The webhook URL for ${url.protocol}//${url.host} has a #fragment, which is never sent.`
  return undefined
}

/**
 * The URL to ping for an event, healthchecks.io style: `BASE/start`, `BASE` and `BASE/fail`. A trailing slash
 * of BASE's path is dropped (so `https://hc-ping.com/UUID/` and `https://hc-ping.com/UUID` give the same URLs);
 * the query string is kept.
 *
 * @param base - a URL that {@link checkWebhookUrl} accepts
 * @param event - start, success or failure
 * @example
 * ```ts
 * webhookUrl('https://hc-ping.com/abc/?create=1', 'failure') // 'https://hc-ping.com/abc/fail?create=1'
 * ```
 */
export function webhookUrl(base: string, event: AlertEvent): string {
  const url = new URL(base)
  url.hash = ''
  const path = url.pathname.replace(/\/+$/, '')
  const suffix = event === 'start' ? '/start' : event === 'failure' ? '/fail' : ''
  url.pathname = path + suffix || '/'
  return url.href
}

/**
 * A URL as it may be shown: its scheme and host (with the port) only. The path and query of a ping URL are its
 * secret, and so are a user name and password.
 *
 * @example
 * ```ts
 * redactUrl('https://hc-ping.com/5f9c-secret/fail?x=1') // 'https://hc-ping.com'
 * ```
 */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text)
    return `${url.protocol}//${url.host}`
  } catch {
    return 'an invalid URL'
  }
}

/**
 * Removes every trace of a URL's secret parts (path, query, credentials) from a text, such as an error message
 * of the HTTP client that might quote the URL.
 */
export function scrubUrl(text: string, secretUrl: string): string {
  let url: URL
  try {
    url = new URL(secretUrl)
  } catch {
    return text
  }
  // the whole URL, its path and query, and each path segment or query value long enough to be a secret
  const segments = url.pathname.split('/').filter((segment) => segment.length >= 8)
  const values = [...url.searchParams.values()].filter((value) => value.length >= 8)
  const secrets = [url.href, url.pathname + url.search, url.pathname, url.search, url.username, url.password, ...segments, ...values]
    .flatMap((part) => {
      let decoded = part
      try {
        decoded = decodeURIComponent(part)
      } catch {
        // not percent-encoded text
      }
      return decoded === part ? [part] : [part, decoded]
    })
    .filter((part) => part.length > 1)
    .sort((a, b) => b.length - a.length)
  let result = text
  for (const secret of secrets) result = result.split(secret).join('/…')
  return result
}

/** Whether a response status is worth another attempt (server errors and rate limiting). */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429
}

/** What {@link postWebhook} needs besides the URL and body. */
export interface PostWebhookOptions {
  readonly signal?: AbortSignal | undefined
  /** Pauses before each retry, in milliseconds; their count is the number of retries. */
  readonly retryDelays?: readonly number[] | undefined
  /** Time limit of each attempt, in milliseconds. */
  readonly timeout?: number | undefined
  /** The User-Agent header. */
  readonly userAgent?: string | undefined
}

/** The result of {@link postWebhook}; `detail` names only the scheme and host. */
export interface WebhookResult {
  readonly ok: boolean
  readonly attempts: number
  readonly status: number | undefined
  readonly detail: string
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  if (error.name === 'TimeoutError') return 'timed out'
  // fetch() reports network errors as TypeError('fetch failed') with the real reason as the cause
  const cause = error.cause instanceof Error ? error.cause : undefined
  const code = cause && typeof (cause as NodeJS.ErrnoException).code === 'string' ? (cause as NodeJS.ErrnoException).code : undefined
  if (cause) return code && !cause.message.includes(code) ? `${code}: ${cause.message}` : cause.message
  return error.message
}

/**
 * POSTs a JSON body to a URL, retrying network errors, time-outs, 5xx and 429 answers after each of
 * `retryDelays`; any other answer ends the attempts. Never throws.
 */
export async function postWebhook(url: string, body: string, options: PostWebhookOptions = {}): Promise<WebhookResult> {
  const shown = redactUrl(url)
  const delays = options.retryDelays ?? DEFAULT_RETRY_DELAYS
  const timeout = options.timeout ?? DEFAULT_WEBHOOK_TIMEOUT
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (options.userAgent) headers['user-agent'] = options.userAgent
  let attempts = 0
  let last = ''
  let status: number | undefined
  for (;;) {
    if (options.signal?.aborted) return { ok: false, attempts, status, detail: `POST ${shown}: cancelled${last ? ` (${last})` : ''}` }
    attempts++
    const limit = AbortSignal.timeout(timeout)
    const signal = options.signal ? AbortSignal.any([options.signal, limit]) : limit
    let retry: boolean
    try {
      const response = await fetch(url, { method: 'POST', headers, body, signal, redirect: 'follow' })
      status = response.status
      // read the answer to the end, so that the connection can be reused or closed
      await response.arrayBuffer().catch(() => undefined)
      const text = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`
      if (response.ok)
        return { ok: true, attempts, status, detail: `POST ${shown}: ${text}${attempts > 1 ? ` (attempt ${attempts})` : ''}` }
      last = text
      retry = isRetryableStatus(response.status)
    } catch (error) {
      status = undefined
      if (options.signal?.aborted) return { ok: false, attempts, status, detail: `POST ${shown}: cancelled` }
      last = limit.aborted ? `no answer within ${timeout} ms` : scrubUrl(describeError(error), url)
      retry = true
    }
    const delay = delays[attempts - 1]
    if (!retry || delay === undefined) {
      const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`
      return { ok: false, attempts, status, detail: `POST ${shown} failed after ${tries}: ${last}` }
    }
    try {
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : {})
    } catch {
      // aborted while waiting: reported at the top of the loop
    }
  }
}

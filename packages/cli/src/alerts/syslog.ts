import type { Context } from '@rsb/exec'
import type { Logger, LogLevel } from '../kit/log.js'
import type { SyslogFacility } from './types.js'

/** The syslog socket where nothing else is said: journald's on systemd machines, rsyslog's elsewhere. */
export const DEFAULT_SYSLOG_SOCKET = '/dev/log'

/** Syslog severities (RFC 5424), by name. */
export type SyslogSeverity = 'emerg' | 'alert' | 'crit' | 'err' | 'warning' | 'notice' | 'info' | 'debug'

const SEVERITIES: readonly SyslogSeverity[] = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug']
const FACILITIES: Readonly<Record<SyslogFacility, number>> = { user: 1, daemon: 3 }

/** One syslog line: its severity and text (a text with line breaks becomes one syslog line per line). */
export interface SyslogEntry {
  readonly severity: SyslogSeverity
  readonly message: string
}

/**
 * The `<PRI>` number of a facility and severity: facility × 8 + severity (`user.err` is 11, `user.info` 14).
 */
export function syslogPriority(facility: SyslogFacility, severity: SyslogSeverity): number {
  return FACILITIES[facility] * 8 + SEVERITIES.indexOf(severity)
}

/** Where syslog lines go and how they are tagged. */
export interface SyslogTarget {
  /** The tag (program name) of the lines, e.g. `rsb` or `rsb-rotate`. */
  readonly tag: string
  /** Default `user`. */
  readonly facility?: SyslogFacility | undefined
  /** Default {@link DEFAULT_SYSLOG_SOCKET}. */
  readonly socket?: string | undefined
  /** The PID shown in the lines (`tag[pid]:`). Default: this process's. */
  readonly pid?: number | undefined
}

/**
 * The argv of the `logger` run that sends lines given on its standard input, each with its own `<PRI>` prefix
 * (`--prio-prefix`), to a unix socket; `--socket-errors=on` makes a missing or refusing socket an error even on
 * systemd machines (where logger keeps quiet about it by default).
 */
export function loggerArgv(target: SyslogTarget): string[] {
  return [
    'logger',
    `--socket=${target.socket ?? DEFAULT_SYSLOG_SOCKET}`,
    '--socket-errors=on',
    `--tag=${target.tag}`,
    `--id=${target.pid ?? process.pid}`,
    '--prio-prefix',
  ]
}

/**
 * The standard input of {@link loggerArgv}: one `<PRI>text` line per line of each entry. Control characters
 * other than tabs become spaces, empty lines are left out (logger would skip them).
 */
export function loggerInput(entries: readonly SyslogEntry[], facility: SyslogFacility = 'user'): string {
  let text = ''
  for (const entry of entries) {
    const prefix = `<${syslogPriority(facility, entry.severity)}>`
    for (const line of entry.message.split(/\r\n|\r|\n/)) {
      // oxlint-disable-next-line no-control-regex -- control characters are what is removed
      const clean = line.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, ' ').trimEnd()
      if (clean.trim() !== '') text += `${prefix}${clean}\n`
    }
  }
  return text
}

/** What {@link sendSyslog} needs besides the lines. */
export interface SendSyslogOptions extends SyslogTarget {
  readonly context: Context
  readonly signal?: AbortSignal | undefined
  /** Time limit of the logger run, in milliseconds. Default: 10 s. */
  readonly timeout?: number | undefined
}

/**
 * Sends syslog lines through one run of util-linux's `logger` (on every Debian: bsdutils). Never throws.
 *
 * @returns ok, or not with logger's complaint (`logger: socket /dev/log: No such file or directory`)
 * @example
 * ```ts
 * await sendSyslog([{ severity: 'err', message: 'job home: backup failed' }], { tag: 'rsb', context: new LocalContext() })
 * ```
 */
export async function sendSyslog(entries: readonly SyslogEntry[], options: SendSyslogOptions): Promise<{ ok: boolean; detail: string }> {
  const input = loggerInput(entries, options.facility)
  const socket = options.socket ?? DEFAULT_SYSLOG_SOCKET
  if (input === '') return { ok: true, detail: 'nothing to log' }
  const timeout = options.timeout ?? 10_000
  const limit = AbortSignal.timeout(timeout)
  const signal = options.signal ? AbortSignal.any([options.signal, limit]) : limit
  try {
    const result = await options.context.run(loggerArgv(options), { input, sudo: false, ionice: undefined, check: false, signal })
    if (result.exitCode === 0) return { ok: true, detail: `logged to ${socket}` }
    if (result.exitCode === 127) return { ok: false, detail: 'the logger program is missing (install bsdutils or util-linux)' }
    const last = result.stderr.trim().split('\n').at(-1)
    return { ok: false, detail: last || `logger exited with status ${result.exitCode ?? result.signal}` }
  } catch (error) {
    if (limit.aborted) return { ok: false, detail: `logger did not finish within ${timeout} ms` }
    return { ok: false, detail: error instanceof Error ? error.message : String(error) }
  }
}

/** Options of a {@link SyslogWriter}. */
export interface SyslogWriterOptions extends SyslogTarget {
  /** Where to run `logger`. Default: a local context, made on first use (so that @rsb/exec loads only then). */
  readonly context?: Context | undefined
  /** Hears of each failed send (libraries do not print: the program decides what to say). */
  readonly onError?: ((detail: string) => void) | undefined
}

/**
 * A program's log lines on their way to syslog: lines written in one turn of the event loop (and those written
 * while a send is under way) go together through one `logger` run, so thousands of lines cost a few processes,
 * and the lines stay in order. {@link SyslogWriter.close} waits until everything written was sent.
 *
 * @example
 * ```ts
 * const syslog = new SyslogWriter({ tag: 'rsb-rotate' })
 * syslog.write('info', 'Deleting /backups/2024-01-01 ..')
 * await syslog.close()
 * ```
 */
export class SyslogWriter {
  readonly #options: SyslogWriterOptions
  #context: Context | undefined
  #pending: SyslogEntry[] = []
  #sending: Promise<void> | undefined

  constructor(options: SyslogWriterOptions) {
    this.#options = options
    this.#context = options.context
  }

  /** Queues one line (or one per line of a text with line breaks). */
  write(severity: SyslogSeverity, message: string): void {
    this.#pending.push({ severity, message })
    this.#sending ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#drain())
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const entries = this.#pending
      this.#pending = []
      this.#context ??= new (await import('@rsb/exec')).LocalContext()
      const { tag, facility, socket, pid, onError } = this.#options
      const result = await sendSyslog(entries, { tag, facility, socket, pid, context: this.#context })
      if (!result.ok) onError?.(result.detail)
    }
    this.#sending = undefined
  }

  /** Resolves when every line written so far was sent (or failed). */
  async close(): Promise<void> {
    while (this.#sending) await this.#sending
  }
}

/** The syslog severity of each log level; levels below INFO never go to syslog. */
const LEVEL_SEVERITY: Readonly<Partial<Record<LogLevel, SyslogSeverity>>> = {
  info: 'info',
  notice: 'notice',
  warning: 'warning',
  success: 'notice',
  error: 'err',
  critical: 'crit',
}

/**
 * A logger that also sends its lines to syslog: every line the program's logger shows (on standard error) at
 * INFO or above goes to `writer` too, as `LEVEL message` (rotate-backups' syslog format, `tag[pid]: LEVEL
 * message`) with the matching severity (SUCCESS and NOTICE are notice, ERROR err, CRITICAL crit).
 *
 * @example
 * ```ts
 * const syslog = new SyslogWriter({ tag: 'rsb-rotate' })
 * const logger = withSyslog(createLogger(process.stderr), syslog)
 * logger.log('info', 'Deleting /backups/2024-01-01 ..')
 * await syslog.close()
 * ```
 */
export function withSyslog(logger: Logger, writer: SyslogWriter): Logger {
  return {
    get beforeWrite() {
      return logger.beforeWrite
    },
    set beforeWrite(hook) {
      logger.beforeWrite = hook
    },
    flush: () => logger.flush(),
    enabled: (level) => logger.enabled(level),
    log(level, message) {
      logger.log(level, message)
      const severity = LEVEL_SEVERITY[level]
      if (severity && logger.enabled(level)) writer.write(severity, `${level.toUpperCase()} ${message}`)
    },
  }
}

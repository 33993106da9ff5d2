/** The syslog facilities rsb logs with. */
export type SyslogFacility = 'user' | 'daemon'

/** Where a job's alerts go (one job's `[jobs.NAME.alerts]`, already checked). */
export interface AlertSettings {
  /**
   * A healthchecks.io-style ping URL (http or https; check it with `checkWebhookUrl`): start → POST `URL/start`,
   * success → POST `URL`, failure → POST `URL/fail`. Undefined: no webhook.
   */
  readonly webhook: string | undefined
  /** E-mail recipients (check each with `checkMailAddress`); empty: no mail. */
  readonly mailTo: readonly string[]
  /** Mail also on success (a failure is always mailed when `mailTo` is set). */
  readonly mailOnSuccess: boolean
  /** The From address. Default: `rsb@HOSTNAME`. */
  readonly mailFrom?: string | undefined
  /**
   * The sendmail program: a path, or a name looked up in the PATH of `env`. Default: `/usr/sbin/sendmail` when it
   * exists (the Debian convention: every MTA provides it), else `sendmail` on PATH.
   */
  readonly sendmail?: string | undefined
  /** Log start, success and failure lines to syslog (journald on systemd machines) through `logger`. */
  readonly syslog: boolean
  /** The syslog socket. Default: `$RSB_SYSLOG_SOCKET` of `env`, else `/dev/log`. */
  readonly syslogSocket?: string | undefined
  /** The syslog facility. Default: `user`. */
  readonly syslogFacility?: SyslogFacility | undefined
}

/** What happened to a job's backup. */
export type AlertEvent = 'start' | 'success' | 'failure'

/** One event of one job, for every channel. */
export interface AlertMessage {
  /** The job's name (any text: it is never put into a mail header or a log line unescaped). */
  readonly job: string
  readonly event: AlertEvent
  /** One human line, e.g. `job home: backup failed: rsync exited with status 23`. */
  readonly line: string
  /** The error's message on failure (mailed in the body). */
  readonly error?: string | undefined
  /** The run record: the webhook's JSON body, and pretty JSON in the mail. */
  readonly record: Readonly<Record<string, unknown>>
}

/** What one channel did with an event. `detail` never holds the webhook's path or query. */
export interface AlertOutcome {
  readonly channel: 'webhook' | 'mail' | 'syslog'
  readonly ok: boolean
  readonly detail: string
}

/**
 * Alerts and hooks of rsb jobs: a job's start, success and failure sent to a healthchecks.io-style webhook, by
 * mail (sendmail) and to syslog (logger), and the jobs' hook commands. `rsb run` calls these around each backup;
 * none of them throws for a failing channel or hook, and none prints.
 */
export type { AlertEvent, AlertMessage, AlertOutcome, AlertSettings, SyslogFacility } from './types.js'
export { sendAlert, type SendAlertOptions } from './send.js'
export { checkWebhookUrl, redactUrl, webhookUrl, DEFAULT_RETRY_DELAYS, DEFAULT_WEBHOOK_TIMEOUT } from './webhook.js'
export { checkMailAddress, buildMailMessage, mailBody, mailSubject, resolveSendmail, SENDMAIL_PATH, type MailParts } from './mail.js'
export {
  DEFAULT_SYSLOG_SOCKET,
  SyslogWriter,
  sendSyslog,
  withSyslog,
  syslogPriority,
  type SendSyslogOptions,
  type SyslogEntry,
  type SyslogSeverity,
  type SyslogTarget,
  type SyslogWriterOptions,
} from './syslog.js'
export { runHook, HOOK_OUTPUT_LIMIT, type HookResult, type RunHookOptions } from './hooks.js'

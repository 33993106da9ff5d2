import { isRsbError } from '../errors.js'
import { quoteCommandLine } from './quote.js'
import { formatDuration, joinWords } from './duration.js'
import type { RotationEvent } from './apply.js'

/** A log line for a rotation event, at rotate-backups' level. */
export interface RotationLogLine {
  readonly level: 'debug' | 'verbose' | 'info' | 'notice' | 'error'
  readonly message: string
}

/** Options of {@link describeRotationEvent}. */
export interface DescribeOptions {
  /** `--force` was given: failed sanity checks become NOTICE lines (otherwise they are errors, not lines). */
  force?: boolean | undefined
  /** Local locations only: this home directory is shown as `~` in paths. */
  home?: string | undefined
}

/** `~/…` for a path below `home` (no allocation for the others). */
function shortenHome(path: string, home: string | undefined): string {
  return home !== undefined && home !== '/' && path.length > home.length && path.charCodeAt(home.length) === 0x2f && path.startsWith(home)
    ? `~${path.slice(home.length)}`
    : path
}

/**
 * The log line rotate-backups 8.1 writes for an event, e.g.
 * `Preserving /b/x (matches 'daily' and 'weekly' retention periods) ..` or `Deleting /b/y ..`; undefined for
 * events 8.1 does not log (a failed check without `force`, which becomes an error).
 *
 * @example
 * ```ts
 * onEvent: (event) => { const line = describeRotationEvent(event); if (line) logger.log(line.level, line.message) }
 * ```
 */
export function describeRotationEvent(event: RotationEvent, options: DescribeOptions = {}): RotationLogLine | undefined {
  const home = options.home || undefined
  switch (event.type) {
    case 'scanning':
      return { level: 'info', message: `Scanning ${event.location} for backups ..` }
    case 'check': {
      const what = { exists: 'exists', readable: 'is readable', writable: 'is writable' }[event.check]
      const not = { exists: "doesn't exist", readable: "isn't readable", writable: "isn't writable" }[event.check]
      if (event.ok) return { level: 'verbose', message: `Confirmed that location ${what}: ${event.location}` }
      if (options.force)
        return { level: 'notice', message: `It seems ${event.location} ${not} but --force was given so continuing anyway ..` }
      return undefined
    }
    case 'skipped': {
      const { name, reason, detail } = event.entry
      if (reason === 'no-timestamp') return { level: 'debug', message: `Failed to match time stamp in filename: ${name}` }
      if (reason === 'invalid-date') return { level: 'notice', message: `Ignoring ${name} due to invalid date (${detail}).` }
      if (reason === 'excluded') return { level: 'verbose', message: `Excluded ${name} (it matched the exclude list).` }
      return { level: 'verbose', message: `Excluded ${name} (it didn't match the include list).` }
    }
    case 'found':
      if (event.count === 0) return { level: 'info', message: `No backups found in ${event.location}.` }
      return { level: 'info', message: `Found ${event.count} timestamped backup${event.count === 1 ? '' : 's'} in ${event.location}.` }
    case 'decision': {
      const path = shortenHome(event.path, home)
      if (event.decision.action === 'delete') return { level: 'info', message: `Deleting ${path} ..` }
      const periods = event.decision.reasons.filter((r) => r !== 'protected').map((r) => `'${r}'`)
      const why = periods.length === 0 ? 'protected' : `matches ${joinWords(periods)} retention period${periods.length === 1 ? '' : 's'}`
      return { level: 'info', message: `Preserving ${path} (${why}) ..` }
    }
    case 'removing':
      return { level: 'debug', message: `Running ${quoteCommandLine(event.argv)}` }
    case 'removed':
      return { level: 'verbose', message: `Deleted ${shortenHome(event.path, home)} in ${formatDuration(event.durationMs)}.` }
    case 'removal-failed': {
      const error = event.error
      const code = isRsbError(error) ? ` (${error.code})` : ''
      return {
        level: 'error',
        message: `Failed to delete ${shortenHome(event.path, home)}: ${error instanceof Error ? error.message : String(error)}${code}`,
      }
    }
  }
}

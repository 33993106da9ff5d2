import os from 'node:os'
import { styleText } from 'node:util'

/** Log levels, lowest first (the original's, from verboselogs). */
export type LogLevel = 'spam' | 'debug' | 'verbose' | 'info' | 'notice' | 'warning' | 'success' | 'error' | 'critical'

const LEVELS: readonly LogLevel[] = ['spam', 'debug', 'verbose', 'info', 'notice', 'warning', 'success', 'error', 'critical']
const DEFAULT = LEVELS.indexOf('info')

/** Where log lines go: anything with `write` (process.stderr, a test buffer). */
export interface TextSink {
  write(text: string): unknown
  readonly isTTY?: boolean | undefined
}

/** The run's logger: one line per message on stderr. */
export interface Logger {
  log(level: LogLevel, message: string): void
  /** Whether a level is shown at the current verbosity. */
  enabled(level: LogLevel): boolean
  /** Hook for the progress bar: called before each line is written (to clear the bar). */
  beforeWrite: (() => void) | undefined
}

const COLOURS: Partial<Record<LogLevel, Parameters<typeof styleText>[0]>> = {
  spam: 'gray',
  debug: 'gray',
  verbose: 'blue',
  notice: 'magenta',
  warning: 'yellow',
  success: 'green',
  error: 'red',
  critical: 'red',
}

function pad(n: number): string {
  return String(n).padStart(2, '0')
}

// The same format as @rsb/rotation's formatSnapshotName; not imported, so that --help stays light.
function timestamp(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
}

/**
 * Creates the logger: `YYYY-MM-DD HH:MM:SS HOST rsb[PID] LEVEL message` lines, coloured only when the sink
 * is a terminal. `verbosity` (the count of -v minus the count of -q) moves the threshold from INFO.
 *
 * @example
 * ```ts
 * createLogger(process.stderr, 1).log('verbose', 'shown with -v')
 * ```
 */
export function createLogger(sink: TextSink, verbosity = 0): Logger {
  const threshold = Math.min(LEVELS.length - 1, Math.max(0, DEFAULT - verbosity))
  const colour = sink.isTTY === true
  const host = os.hostname()
  const logger: Logger = {
    beforeWrite: undefined,
    enabled: (level) => LEVELS.indexOf(level) >= threshold,
    log(level, message) {
      if (!logger.enabled(level)) return
      logger.beforeWrite?.()
      let name = level.toUpperCase()
      const style = COLOURS[level]
      if (colour && style) name = styleText(style, name)
      for (const line of message.split('\n')) sink.write(`${timestamp(new Date())} ${host} rsb[${process.pid}] ${name} ${line}\n`)
    },
  }
  return logger
}

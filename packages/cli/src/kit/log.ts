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

/** A program's logger: one line per message (per line of a message) on stderr. */
export interface Logger {
  log(level: LogLevel, message: string): void
  /** Writes out buffered lines now (with `batch`); a no-op otherwise. */
  flush(): void
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

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The program named in each line (default `rsb`). */
  readonly program?: string | undefined
  /**
   * Collect lines and write them in one piece at the next turn of the event loop (or every 64 KiB, or on
   * `flush()`): thousands of lines (a rotation of 10,000 backups) cost a few writes. Off by default, so that a
   * line is out before the next step starts.
   */
  readonly batch?: boolean | undefined
}

/**
 * Creates the logger of every rsb program: `YYYY-MM-DD HH:MM:SS HOST PROGRAM[PID] LEVEL message` lines (one per
 * line of a message), coloured only when the sink is a terminal. `verbosity` (the count of -v minus the count of
 * -q) moves the threshold from INFO.
 *
 * @example
 * ```ts
 * createLogger(process.stderr, 1).log('verbose', 'shown with -v')
 * createLogger(process.stderr, 0, { program: 'rsb-rotate', batch: true })
 * ```
 */
export function createLogger(sink: TextSink, verbosity = 0, options: LoggerOptions = {}): Logger {
  const threshold = Math.min(LEVELS.length - 1, Math.max(0, DEFAULT - verbosity))
  const colour = sink.isTTY === true
  const program = `${os.hostname()} ${options.program ?? 'rsb'}[${process.pid}]`
  let buffer = ''
  let scheduled = false
  // The start of a line (time, host, program, level) per level, rebuilt when the second changes.
  let second = -1
  const heads = new Map<LogLevel, string>()
  const head = (level: LogLevel): string => {
    const now = Date.now()
    if (Math.floor(now / 1000) !== second) {
      second = Math.floor(now / 1000)
      heads.clear()
    }
    let text = heads.get(level)
    if (text === undefined) {
      const style = COLOURS[level]
      const name = colour && style ? styleText(style, level.toUpperCase()) : level.toUpperCase()
      text = `${timestamp(new Date(now))} ${program} ${name} `
      heads.set(level, text)
    }
    return text
  }
  const flush = () => {
    scheduled = false
    if (buffer === '') return
    const text = buffer
    buffer = ''
    sink.write(text)
  }
  const logger: Logger = {
    beforeWrite: undefined,
    flush,
    enabled: (level) => LEVELS.indexOf(level) >= threshold,
    log(level, message) {
      if (!logger.enabled(level)) return
      const start = head(level)
      let text = ''
      for (const line of message.split('\n')) text += `${start}${line}\n`
      if (!options.batch) {
        logger.beforeWrite?.()
        sink.write(text)
        return
      }
      if (buffer === '') logger.beforeWrite?.()
      buffer += text
      if (buffer.length > 65536) flush()
      else if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    },
  }
  return logger
}

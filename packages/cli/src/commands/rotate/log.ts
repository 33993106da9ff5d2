import os from 'node:os'
import { styleText } from 'node:util'

/** Log levels, lowest first (rotate-backups' verboselogs levels). */
export type LogLevel = 'spam' | 'debug' | 'verbose' | 'info' | 'notice' | 'warning' | 'success' | 'error' | 'critical'

const LEVELS: readonly LogLevel[] = ['spam', 'debug', 'verbose', 'info', 'notice', 'warning', 'success', 'error', 'critical']

/** Where text goes: anything with `write` (process.stderr, a test buffer). */
export interface TextSink {
  write(text: string): unknown
  readonly isTTY?: boolean | undefined
}

/** The logger of `rsb-rotate`. */
export interface Logger {
  log(level: LogLevel, message: string): void
  /** Writes out buffered lines (lines are batched until the next turn of the event loop). */
  flush(): void
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

const pad = (n: number) => String(n).padStart(2, '0')

/**
 * Lines like rotate-backups': `YYYY-MM-DD HH:MM:SS HOST rsb-rotate[PID] LEVEL message`, coloured only on a
 * terminal; `verbosity` (-v count minus -q count) moves the threshold from INFO.
 */
export function createLogger(sink: TextSink, verbosity: number): Logger {
  const threshold = Math.min(LEVELS.length - 1, Math.max(0, LEVELS.indexOf('info') - verbosity))
  const host = os.hostname()
  let buffer = ''
  let scheduled = false
  let second = -1
  // The start of a line (time, host, pid, level) per level, rebuilt when the second changes.
  const heads = new Map<LogLevel, string>()
  const flush = () => {
    scheduled = false
    if (buffer === '') return
    const text = buffer
    buffer = ''
    sink.write(text)
  }
  return {
    flush,
    log(level, message) {
      if (LEVELS.indexOf(level) < threshold) return
      const now = Date.now()
      if (Math.floor(now / 1000) !== second) {
        second = Math.floor(now / 1000)
        heads.clear()
      }
      let head = heads.get(level)
      if (head === undefined) {
        const d = new Date(now)
        const style = COLOURS[level]
        const name = sink.isTTY === true && style ? styleText(style, level.toUpperCase()) : level.toUpperCase()
        head = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${host} rsb-rotate[${process.pid}] ${name} `
        heads.set(level, head)
      }
      buffer += `${head}${message}\n`
      if (buffer.length > 65536) flush()
      else if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    },
  }
}

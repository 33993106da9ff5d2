import type { RsyncProgress } from './progress.js'
import { parseProgressLine } from './progress.js'
import { addStatsLine, emptyStats, type RsyncStats } from './stats.js'

/**
 * What {@link runRsync} reports while rsync runs (through its `onEvent` callback):
 *
 * - `command`: the final argv, with the sudo and ionice prefixes, just before rsync starts;
 * - `progress`: one `--info=progress2` line (only with `progress: true`);
 * - `stats`: rsync's statistics, once, when rsync has finished (with `stats: true`, or the summary lines of
 *   `--verbose`);
 * - `output`: any other line rsync printed, on stdout (for example the file list of a dry run) or stderr
 *   (warnings such as vanished files, errors);
 * - `warning`: rsync exited 23 or 24, which counts as success.
 */
export type RsyncEvent =
  | { type: 'command'; argv: readonly string[] }
  | ({ type: 'progress' } & RsyncProgress)
  | { type: 'stats'; stats: RsyncStats }
  | { type: 'output'; stream: 'stdout' | 'stderr'; line: string }
  | { type: 'warning'; exitCode: number; meaning: string; message: string }

/** Options of an {@link RsyncOutputParser}. */
export interface RsyncOutputParserOptions {
  /** Receives the events. Without it the parser only collects the statistics. */
  onEvent?: ((event: RsyncEvent) => void) | undefined
  /** The base of unit suffixes in byte counts: 1000 for rsync's `-h`, 1024 for `-hh`. Default: 1000. */
  unitBase?: number | undefined
}

/**
 * Turns rsync's output, fed in chunks as it arrives, into {@link RsyncEvent}s: `--info=progress2` lines
 * (separated by `\r`) become `progress` events, the `--stats` block and the closing summary become one
 * `stats` record, every other line an `output` event. Pure: no I/O, no timers; chunks may split lines anywhere.
 *
 * The statistics start after an empty line with a line that is one of rsync's statistics lines (file names
 * never produce an empty line: rsync escapes newlines in names), so a file list cannot be mistaken for them.
 *
 * @example
 * ```ts
 * const parser = new RsyncOutputParser({ onEvent: (event) => console.log(event.type) })
 * parser.pushStdout('\r   1,024  50%  1.00MB/s    0:00:01  ')
 * parser.pushStdout('\r   2,048 100%  1.00MB/s    0:00:02 (xfr#1, to-chk=0/2)\n\nNumber of files: 2 (reg: 1, dir: 1)\n')
 * const stats = parser.end() // stats.files.total === 2
 * ```
 */
export class RsyncOutputParser {
  readonly #onEvent: ((event: RsyncEvent) => void) | undefined
  readonly #unitBase: number
  readonly #stats = emptyStats()
  #statsFound = false
  #inSummary = false
  #afterBlank = false
  #stdout = ''
  #stderr = ''
  #ended = false

  constructor(options: RsyncOutputParserOptions = {}) {
    this.#onEvent = options.onEvent
    this.#unitBase = options.unitBase ?? 1000
  }

  /** The statistics collected so far (undefined until a statistics line was seen). */
  get stats(): RsyncStats | undefined {
    return this.#statsFound ? this.#stats : undefined
  }

  /** Feeds a chunk of rsync's standard output. */
  pushStdout(chunk: string): void {
    let text = this.#stdout + chunk
    let start = 0
    for (;;) {
      const cr = text.indexOf('\r', start)
      const lf = text.indexOf('\n', start)
      const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf)
      if (end < 0) break
      this.#stdoutSegment(text.slice(start, end), text.charCodeAt(end) === 10)
      start = end + 1
    }
    text = text.slice(start)
    this.#stdout = text
  }

  /** Feeds a chunk of rsync's standard error. */
  pushStderr(chunk: string): void {
    const text = this.#stderr + chunk
    const lines = text.split('\n')
    this.#stderr = lines.pop() ?? ''
    for (const line of lines) this.#stderrLine(line)
  }

  /**
   * Flushes unfinished lines and, when statistics were seen, emits the `stats` event (once).
   *
   * @returns the statistics, or undefined when rsync printed none
   */
  end(): RsyncStats | undefined {
    if (this.#ended) return this.stats
    this.#ended = true
    if (this.#stdout !== '') this.#stdoutSegment(this.#stdout, true)
    if (this.#stderr !== '') this.#stderrLine(this.#stderr)
    this.#stdout = ''
    this.#stderr = ''
    const stats = this.stats
    if (stats !== undefined) this.#onEvent?.({ type: 'stats', stats })
    return stats
  }

  #stdoutSegment(segment: string, newline: boolean): void {
    if (segment === '' || segment.trim() === '') {
      if (newline) this.#afterBlank = true
      return
    }
    const first = segment.charCodeAt(0)
    // Progress lines start with padding or a digit; skip the regex for everything else.
    if (!this.#inSummary && (first === 32 || (first >= 48 && first <= 57))) {
      const progress = parseProgressLine(segment, this.#unitBase)
      if (progress !== undefined) {
        this.#onEvent?.({ type: 'progress', ...progress })
        return
      }
    }
    if ((this.#inSummary || this.#afterBlank) && addStatsLine(this.#stats, segment, this.#unitBase)) {
      this.#inSummary = true
      this.#statsFound = true
      return
    }
    this.#afterBlank = false
    this.#onEvent?.({ type: 'output', stream: 'stdout', line: segment })
  }

  #stderrLine(line: string): void {
    if (line === '') return
    this.#onEvent?.({ type: 'output', stream: 'stderr', line: line.endsWith('\r') ? line.slice(0, -1) : line })
  }
}

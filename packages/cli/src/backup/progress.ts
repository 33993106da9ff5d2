import type { TextSink } from '../kit/log.js'

const WIDTH = 30

/**
 * A one-line progress bar on a terminal: `[#######.......]  45%  12.3MB/s  0:01:02`. Redrawn in place
 * with `\r`; {@link ProgressBar.clear} removes it before a log line is written.
 */
export class ProgressBar {
  readonly #sink: TextSink
  #shown = false
  #last = ''

  constructor(sink: TextSink) {
    this.#sink = sink
  }

  update(percent: number, details: string): void {
    const clamped = Math.max(0, Math.min(100, percent))
    const filled = Math.round((clamped / 100) * WIDTH)
    const line = `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(Math.round(clamped)).padStart(3)}%  ${details}`
    if (line === this.#last) return
    this.#last = line
    this.#sink.write(`\r\x1b[2K${line}`)
    this.#shown = true
  }

  clear(): void {
    if (!this.#shown) return
    this.#sink.write('\r\x1b[2K')
    this.#shown = false
    this.#last = ''
  }
}

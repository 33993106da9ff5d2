import { parseRsyncInteger } from './internal/numbers.js'

/** One line of rsync's `--info=progress2` output: the progress of the whole transfer. */
export interface RsyncProgress {
  /** Bytes of file data transferred so far (the whole run). */
  bytes: number
  /** `bytes` as a percentage of the total size of the files known so far (0–100, rounded down by rsync). */
  percent: number
  /** The rate as printed, for example `22.86MB/s` (rsync's kB, MB and GB are 1024-based). */
  rate: string
  /** The rate in bytes per second. */
  bytesPerSecond: number
  /** The time as printed: the estimated time left (`0:00:04`, `??:??:??`), or the elapsed time on lines ending a file. */
  time: string
  /** Estimated seconds left, on lines printed while a file is transferred; undefined when unknown or on lines ending a file. */
  etaSeconds: number | undefined
  /** Seconds since the transfer started, on lines printed when a file ends (those with `xfr#`). */
  elapsedSeconds: number | undefined
  /** Files transferred so far (`xfr#N`), on lines ending a file. */
  transfers: number | undefined
  /** Files still to check (`to-chk=N/…` or `ir-chk=N/…`). */
  filesToCheck: number | undefined
  /** Files in the file list so far (`…-chk=…/N`). */
  filesTotal: number | undefined
  /** `filesTotal - filesToCheck`. */
  filesChecked: number | undefined
  /**
   * Whether the file list is complete (`to-chk`) or still growing during an incremental recursion scan
   * (`ir-chk`: the totals and the percentage will still grow). Undefined on lines without the counts.
   */
  fileListComplete: boolean | undefined
}

// "\r%15s %3d%% %7.2f%s %s%s": bytes, percent, rate+units, time, then "  " or " (xfr#N, to-chk=R/T)" padded.
const PROGRESS =
  /^\s*(\d[\d,.]*[KMGTPE]?)\s+(\d{1,3})%\s+(\d+(?:\.\d+)?)([kMGT]?B\/s)\s+(\d+:\d{2}:\d{2}|\?\?:\?\?:\?\?)(?:\s+\(xfr#(\d+), (to|ir)-chk=(\d+)\/(\d+)\))?\s*$/

const RATE_UNITS: Readonly<Record<string, number>> = { 'B/s': 1, 'kB/s': 1024, 'MB/s': 1024 ** 2, 'GB/s': 1024 ** 3, 'TB/s': 1024 ** 4 }

function parseClock(text: string): number | undefined {
  if (text.startsWith('?')) return undefined
  const [hours = 0, minutes = 0, seconds = 0] = text.split(':').map(Number)
  return hours * 3600 + minutes * 60 + seconds
}

/**
 * Parses one line of rsync's `--info=progress2` output (rsync separates them with `\r`; surrounding
 * whitespace is ignored). Pure.
 *
 * @param line - for example `'  1,238,099  63%  110.64kB/s    0:00:04 (xfr#5, to-chk=169/396)'`
 * @param unitBase - the base of the unit suffixes of byte counts when rsync runs with `-h` (1000) or `-hh` (1024)
 * @returns the progress, or undefined when the line is not a progress line
 * @example
 * ```ts
 * parseProgressLine('     56,740   0%   22.86MB/s    0:00:00 (xfr#1, to-chk=301/305)')
 * // { bytes: 56740, percent: 0, rate: '22.86MB/s', bytesPerSecond: 23970447, time: '0:00:00', etaSeconds: undefined,
 * //   elapsedSeconds: 0, transfers: 1, filesToCheck: 301, filesTotal: 305, filesChecked: 4, fileListComplete: true }
 * ```
 */
export function parseProgressLine(line: string, unitBase = 1000): RsyncProgress | undefined {
  const match = PROGRESS.exec(line)
  if (match === null) return undefined
  const [, bytesText = '', percentText = '', rateValue = '', rateUnit = '', time = '', xfr, check, toCheck, total] = match
  const bytes = parseRsyncInteger(bytesText, unitBase)
  if (bytes === undefined) return undefined
  const ending = xfr !== undefined
  const seconds = parseClock(time)
  const filesToCheck = toCheck === undefined ? undefined : Number(toCheck)
  const filesTotal = total === undefined ? undefined : Number(total)
  return {
    bytes,
    percent: Number(percentText),
    rate: `${rateValue}${rateUnit}`,
    bytesPerSecond: Math.round(Number(rateValue) * (RATE_UNITS[rateUnit] ?? 1)),
    time,
    etaSeconds: ending ? undefined : seconds,
    elapsedSeconds: ending ? seconds : undefined,
    transfers: ending ? Number(xfr) : undefined,
    filesToCheck,
    filesTotal,
    filesChecked: filesTotal === undefined || filesToCheck === undefined ? undefined : filesTotal - filesToCheck,
    fileListComplete: check === undefined ? undefined : check === 'to',
  }
}

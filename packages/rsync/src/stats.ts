import { parseRsyncDecimal, parseRsyncInteger } from './internal/numbers.js'

/** Counts by file type, as rsync lists them after a total (`(reg: 5, dir: 3, link: 2, dev: 1, special: 1)`). */
export interface RsyncFileCounts {
  /** The total. */
  total: number
  /** Regular files. */
  regular: number
  /** Directories. */
  directories: number
  /** Symbolic links. */
  symlinks: number
  /** Devices. */
  devices: number
  /** Special files (sockets, FIFOs). */
  specials: number
}

/**
 * rsync's statistics (`--stats`) and its closing summary (`sent … received …`, `total size is … speedup is …`,
 * also printed with `--verbose`). A field is undefined when rsync did not print its line.
 */
export interface RsyncStats {
  /** Number of files (all kinds), by type. */
  files: RsyncFileCounts | undefined
  /** Number of created files, by type. */
  created: RsyncFileCounts | undefined
  /** Number of deleted files, by type (printed when deletions are in effect). */
  deleted: RsyncFileCounts | undefined
  /** Number of regular files transferred (updated through the delta-transfer algorithm). */
  regularFilesTransferred: number | undefined
  /** Total size of all files in bytes. */
  totalFileSize: number | undefined
  /** Total size of the transferred files in bytes. */
  transferredFileSize: number | undefined
  /** Bytes of unmatched data the sender had to send. */
  literalData: number | undefined
  /** Bytes the receiver took from its existing files. */
  matchedData: number | undefined
  /** Size of the file list sent, in bytes. */
  fileListSize: number | undefined
  /** Seconds the sender spent building the file list. */
  fileListGenerationSeconds: number | undefined
  /** Seconds spent sending the file list. */
  fileListTransferSeconds: number | undefined
  /** Total bytes sent. */
  bytesSent: number | undefined
  /** Total bytes received. */
  bytesReceived: number | undefined
  /** Average bytes per second of the summary line. */
  bytesPerSecond: number | undefined
  /** The speedup (total size divided by bytes sent and received). */
  speedup: number | undefined
  /** The summary said `(DRY RUN)`. */
  dryRun: boolean
}

/** A fresh statistics record with every field undefined. @internal */
export function emptyStats(): RsyncStats {
  return {
    files: undefined,
    created: undefined,
    deleted: undefined,
    regularFilesTransferred: undefined,
    totalFileSize: undefined,
    transferredFileSize: undefined,
    literalData: undefined,
    matchedData: undefined,
    fileListSize: undefined,
    fileListGenerationSeconds: undefined,
    fileListTransferSeconds: undefined,
    bytesSent: undefined,
    bytesReceived: undefined,
    bytesPerSecond: undefined,
    speedup: undefined,
    dryRun: false,
  }
}

const NUMBER = String.raw`(\d[\d,.]*[KMGTPE]?)`
const COUNTS = new RegExp(String.raw`^Number of (files|created files|deleted files): ${NUMBER}(?: \(([^)]*)\))?$`)
const BYTES = new RegExp(
  String.raw`^(Number of regular files transferred|Total file size|Total transferred file size|Literal data|Matched data|File list size|Total bytes sent|Total bytes received): ${NUMBER}(?: bytes)?$`,
)
const SECONDS = /^File list (generation|transfer) time: (\d[\d,.]*) seconds$/
const SENT = new RegExp(String.raw`^sent ${NUMBER} bytes {2}received ${NUMBER} bytes {2}(\d[\d,.]*[KMGTPE]?) bytes/sec$`)
const TOTAL = new RegExp(String.raw`^total size is ${NUMBER} {2}speedup is (\d[\d,.]*)( \(DRY RUN\)| \(BATCH ONLY\))?$`)

const COUNT_FIELDS = { files: 'files', 'created files': 'created', 'deleted files': 'deleted' } as const
const BYTE_FIELDS = {
  'Number of regular files transferred': 'regularFilesTransferred',
  'Total file size': 'totalFileSize',
  'Total transferred file size': 'transferredFileSize',
  'Literal data': 'literalData',
  'Matched data': 'matchedData',
  'File list size': 'fileListSize',
  'Total bytes sent': 'bytesSent',
  'Total bytes received': 'bytesReceived',
} as const
const TYPE_FIELDS: Readonly<Record<string, keyof Omit<RsyncFileCounts, 'total'>>> = {
  reg: 'regular',
  dir: 'directories',
  link: 'symlinks',
  dev: 'devices',
  special: 'specials',
}

function parseCounts(totalText: string, details: string | undefined, unitBase: number): RsyncFileCounts | undefined {
  const total = parseRsyncInteger(totalText, unitBase)
  if (total === undefined) return undefined
  const counts: RsyncFileCounts = { total, regular: 0, directories: 0, symlinks: 0, devices: 0, specials: 0 }
  for (const part of details?.split(', ') ?? []) {
    const [name = '', value = ''] = part.split(': ')
    const field = TYPE_FIELDS[name]
    const count = parseRsyncInteger(value, unitBase)
    if (field !== undefined && count !== undefined) counts[field] = count
  }
  return counts
}

/**
 * Adds one line of rsync's statistics or summary to `stats`. Returns false (and changes nothing) when the
 * line is not one of them. Pure apart from updating `stats`.
 *
 * @internal
 */
export function addStatsLine(stats: RsyncStats, line: string, unitBase = 1000): boolean {
  let match = COUNTS.exec(line)
  if (match) {
    const counts = parseCounts(match[2] ?? '', match[3], unitBase)
    if (counts === undefined) return false
    stats[COUNT_FIELDS[match[1] as keyof typeof COUNT_FIELDS]] = counts
    return true
  }
  match = BYTES.exec(line)
  if (match) {
    const value = parseRsyncInteger(match[2] ?? '', unitBase)
    if (value === undefined) return false
    stats[BYTE_FIELDS[match[1] as keyof typeof BYTE_FIELDS]] = value
    return true
  }
  match = SECONDS.exec(line)
  if (match) {
    const value = parseRsyncDecimal(match[2] ?? '')
    if (value === undefined) return false
    if (match[1] === 'generation') stats.fileListGenerationSeconds = value
    else stats.fileListTransferSeconds = value
    return true
  }
  match = SENT.exec(line)
  if (match) {
    stats.bytesSent = parseRsyncInteger(match[1] ?? '', unitBase)
    stats.bytesReceived = parseRsyncInteger(match[2] ?? '', unitBase)
    const rate = match[3] ?? ''
    stats.bytesPerSecond = /[KMGTPE]$/.test(rate) ? parseRsyncInteger(rate, unitBase) : parseRsyncDecimal(rate)
    return true
  }
  match = TOTAL.exec(line)
  if (match) {
    stats.totalFileSize = parseRsyncInteger(match[1] ?? '', unitBase)
    stats.speedup = parseRsyncDecimal(match[2] ?? '')
    stats.dryRun = match[3] === ' (DRY RUN)'
    return true
  }
  return false
}

/**
 * Parses rsync's `--stats` block and closing summary out of its standard output (other lines, such as
 * progress or a `--verbose` file list, are skipped). Pure.
 *
 * @param output - rsync's standard output, or just the statistics block
 * @param unitBase - the base of unit suffixes when rsync ran with `-h` (1000) or `-hh` (1024)
 * @returns the statistics, or undefined when the text holds none
 * @example
 * ```ts
 * const stats = parseStats('Number of files: 305 (reg: 301, dir: 3, link: 1)\nNumber of created files: 0\n…')
 * stats?.files // { total: 305, regular: 301, directories: 3, symlinks: 1, devices: 0, specials: 0 }
 * ```
 */
export function parseStats(output: string, unitBase = 1000): RsyncStats | undefined {
  const stats = emptyStats()
  let found = false
  for (const line of output.split(/[\r\n]/)) {
    if (addStatsLine(stats, line, unitBase)) found = true
  }
  return found ? stats : undefined
}

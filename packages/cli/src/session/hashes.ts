// Content hashes of snapshots, for `rsb verify`. Each backup hashes the regular files that are new inodes in its
// snapshot (the data that changed in that run) and takes the others' hashes from the previous snapshot's record: an
// inode that both hold is the same file, whose hash was recorded when it was new. The record lives in the store's
// metadata, never in the snapshot:
//
//   STORE/.rsb/hashes/<SNAPSHOT>.hashes   a JSON header line (HashHeader), then per regular file of the snapshot
//                                          `HASH INODE SIZE NAME` ending in NUL (NAME: its path in the snapshot, bytes;
//                                          HASH `-` for a file that could not be read then)
//
// Hashes are BLAKE2b with 256 bits, computed by coreutils' `b2sum -l 256` where the files are (on the server over SSH:
// no file crosses the connection): the fastest hash every Linux has (bench/hash.bench.mjs measures it against
// sha256sum, md5sum and node:crypto). Names cross as base64, as in walk.ts.
import type { Context } from '@rsb/exec'
import { CliError } from '../errors.js'
import { runFields } from './fields.js'
import { metadataPath } from './store.js'

export const HASH_ALGORITHM = 'blake2b-256'
export const HASH_FORMAT = 'rsb-hashes'
export const HASH_VERSION = 1

/** The first line of a hash record. */
export interface HashHeader {
  readonly format: typeof HASH_FORMAT
  readonly version: number
  readonly algorithm: string
  readonly snapshot: string
  /** When the hashes were recorded (ISO 8601 UTC). */
  readonly created: string
  /** Regular files in the snapshot (each name counted), the files this run hashed and their bytes. */
  readonly files: number
  /** Files that could not be read when they were recorded (no hash: `rsb verify` cannot check them). */
  readonly unhashed: number
  readonly hashedFiles: number
  readonly hashedBytes: number
}

/** One regular file of a hash record. */
export interface HashEntry {
  /** Its path in the snapshot, its bytes as a latin1 string (one character a byte: names need not be UTF-8). */
  readonly name: string
  readonly inode: number
  readonly size: number
  /** Lower-case hex; undefined for a file that could not be read when it was recorded (written `-`). */
  readonly hash: string | undefined
}

export interface HashRecord {
  readonly header: HashHeader
  readonly entries: readonly HashEntry[]
}

/** The file name of a snapshot's hash record in `.rsb/hashes/`. */
export function hashFileName(snapshot: string): string {
  return `${snapshot}.hashes`
}

export function hashesDirectory(store: string): string {
  return metadataPath(store, 'hashes')
}

/** A recorded hash: 64 lower-case hex digits. */
export const HEX = /^[0-9a-f]{64}$/
const DIGITS = /^\d+$/

/** A hash record as its file's bytes (chunks of at most a few megabytes: records of millions of files). Pure. */
export function formatHashRecord(record: HashRecord): Buffer {
  // latin1 maps each byte to one character and back; strings are joined a chunk at a time
  const chunks: Buffer[] = [Buffer.from(`${JSON.stringify(record.header)}\n`)]
  let lines: string[] = []
  let length = 0
  for (const entry of record.entries) {
    const line = `${entry.hash ?? '-'} ${entry.inode} ${entry.size} ${entry.name}\0`
    lines.push(line)
    length += line.length
    if (length > 4_000_000) {
      chunks.push(Buffer.from(lines.join(''), 'latin1'))
      lines = []
      length = 0
    }
  }
  chunks.push(Buffer.from(lines.join(''), 'latin1'))
  return Buffer.concat(chunks)
}

function damaged(file: string, why: string): CliError {
  return new CliError('ERR_RSB_CLI_HASHES_FAILED', `The hash record ${file} cannot be read: ${why}.`, {
    path: file,
    hint: 'It is written by rsb backup; a record that was changed by hand or damaged on the disk cannot verify its snapshot.',
  })
}

/**
 * A record's header line (without its newline).
 *
 * @throws {CliError} ERR_RSB_CLI_HASHES_FAILED for a header that is not one (or of a newer version)
 */
export function parseHashHeader(line: string, file: string): HashHeader {
  let header: HashHeader
  try {
    header = JSON.parse(Buffer.from(line, 'latin1').toString('utf8')) as HashHeader
  } catch {
    throw damaged(file, 'its header is not JSON')
  }
  if (header === null || typeof header !== 'object' || header.format !== HASH_FORMAT || typeof header.version !== 'number')
    throw damaged(file, 'it is not an rsb hash record')
  if (header.version > HASH_VERSION) throw damaged(file, `it is of version ${header.version} (this rsb reads up to ${HASH_VERSION})`)
  if (header.algorithm !== HASH_ALGORITHM) throw damaged(file, `its hashes are ${String(header.algorithm)}, not ${HASH_ALGORITHM}`)
  if (!Number.isSafeInteger(header.files)) throw damaged(file, 'its header has no count of files')
  return header
}

/**
 * One entry of a record (`HASH INODE SIZE NAME`, without its NUL; a latin1 string of its bytes).
 *
 * @throws {CliError} ERR_RSB_CLI_HASHES_FAILED for a damaged entry
 */
export function parseHashEntry(line: string, file: string): HashEntry {
  const one = line.indexOf(' ')
  const two = one < 0 ? -1 : line.indexOf(' ', one + 1)
  const three = two < 0 ? -1 : line.indexOf(' ', two + 1)
  if (three < 0 || three === line.length - 1) throw damaged(file, 'an entry is damaged')
  const hash = line.slice(0, one)
  const inodeText = line.slice(one + 1, two)
  const sizeText = line.slice(two + 1, three)
  const inode = Number(inodeText)
  const size = Number(sizeText)
  if (
    (hash !== '-' && !HEX.test(hash)) ||
    !DIGITS.test(inodeText) ||
    !DIGITS.test(sizeText) ||
    !Number.isSafeInteger(inode) ||
    !Number.isSafeInteger(size)
  )
    throw damaged(file, 'an entry is damaged')
  return { hash: hash === '-' ? undefined : hash, inode, size, name: line.slice(three + 1) }
}

/**
 * Reads a record from its fields: the header line (with its newline: the file's first line), then one field per
 * entry, then an empty field (the end, as the reading scripts print it). Throws as soon as something is wrong.
 */
export class HashRecordParser {
  readonly #file: string
  readonly #onEntry: (entry: HashEntry) => void
  #header: HashHeader | undefined
  #count = 0
  #ended = false

  constructor(file: string, onEntry: (entry: HashEntry) => void) {
    this.#file = file
    this.#onEntry = onEntry
  }

  /** @returns false once the record has ended (the field is not the record's) */
  push(field: string): boolean {
    if (this.#ended) return false
    if (this.#header === undefined) {
      const newline = field.indexOf('\n')
      if (newline < 0) throw damaged(this.#file, 'it has no header')
      this.#header = parseHashHeader(field.slice(0, newline), this.#file)
      // the first entry shares the field with the header (no NUL between them)
      if (newline + 1 < field.length) this.#entry(field.slice(newline + 1))
      return true
    }
    if (field === '') {
      this.#ended = true
      return true
    }
    this.#entry(field)
    return true
  }

  #entry(line: string): void {
    this.#count++
    this.#onEntry(parseHashEntry(line, this.#file))
  }

  /** The header, once the record ended whole. @throws {CliError} ERR_RSB_CLI_HASHES_FAILED for a record cut short */
  finish(): HashHeader {
    if (this.#header === undefined || !this.#ended) throw damaged(this.#file, 'it is cut short')
    if (this.#count !== this.#header.files)
      throw damaged(this.#file, `it holds ${this.#count} entries, its header says ${this.#header.files}`)
    return this.#header
  }
}

/**
 * A hash record's file. Pure.
 *
 * @throws {CliError} ERR_RSB_CLI_HASHES_FAILED for a file that is not one (or of a newer version, or cut short)
 */
export function parseHashRecord(bytes: Buffer, file: string): HashRecord {
  const entries: HashEntry[] = []
  const parser = new HashRecordParser(file, (entry) => entries.push(entry))
  const text = bytes.toString('latin1')
  if (text !== '' && !text.endsWith('\0') && text.indexOf('\n') !== text.length - 1) throw damaged(file, 'it is cut short')
  const fields = text.split('\0')
  fields.pop()
  if (fields.length === 0 && text !== '') fields.push(text)
  for (const field of fields) parser.push(field)
  parser.push('')
  return { header: parser.finish(), entries }
}

// Hashes the files named on standard input (NUL-separated paths), as base64: each `HASH  NAME` NUL-terminated, then an
// empty field and xargs' exit status. A file that cannot be read is missing from the output (its error is on
// stderr: xargs then exits 123). b2sum's -z (no escaping of names) came with coreutils 8.30: an older one is refused
// before anything is read. The whole run has a time limit (bytes at 20 MiB/s, and 10 minutes more): a file swapped
// for a FIFO or a link to an endless device between the walk and the read never hangs the backup.
const HASH_SCRIPT = `
set -u
b2sum -l 256 -z < /dev/null > /dev/null 2>&1 || { echo 'rsb: b2sum -l 256 -z does not work here (coreutils 8.30 or later has it)' >&2; exit 127; }
{ timeout -k 10 "$1" xargs -0 -r b2sum -l 256 -z --; printf '\\0%s\\0' "$?"; } | base64 -w0
`

/** What {@link hashFiles} gives: hash by path (its bytes as latin1), and the errors of the files not hashed. */
export interface HashedFiles {
  readonly hashes: Map<string, string>
  readonly errors: string
}

/**
 * Hashes `paths` (absolute, their bytes as latin1 strings; `bytes`: their sizes' sum, for the time limit) where they
 * are: one `b2sum` run in `context` (with its ionice and sudo). Files that cannot be read are left out of the map.
 *
 * @throws {CliError} ERR_RSB_CLI_HASHES_FAILED when b2sum cannot run (missing, too old), is killed or runs out of time
 */
export async function hashFiles(
  context: Context,
  paths: readonly string[],
  signal: AbortSignal | undefined,
  bytes = 0,
): Promise<HashedFiles> {
  const hashes = new Map<string, string>()
  if (paths.length === 0) return { hashes, errors: '' }
  const input = Buffer.from(`${paths.join('\0')}\0`, 'latin1')
  const limit = 600 + Math.ceil(bytes / (20 * 2 ** 20))
  let status: string | undefined
  let ended = false
  const result = await runFields(context, ['sh', '-c', HASH_SCRIPT, 'sh', String(limit)], { input, signal, check: false }, (field) => {
    if (ended) status ??= field
    else if (field === '') ended = true
    // HASH, two spaces, NAME (b2sum -z escapes nothing)
    else if (field.length > 66 && HEX.test(field.slice(0, 64))) hashes.set(field.slice(66), field.slice(0, 64))
  })
  // 0: all hashed; 123: some files could not be read (the others are)
  if (result.exitCode !== 0 || (status !== '0' && status !== '123')) {
    const why = status === '124' ? `it ran out of time (${limit} s)` : result.stderr.trim() || `exit status ${status ?? result.exitCode}`
    throw new CliError('ERR_RSB_CLI_HASHES_FAILED', `Could not hash files on ${context.host}: ${why}`, {
      hint: "b2sum with -z comes with coreutils 8.30 and later; 'rsb doctor' checks the destination.",
    })
  }
  return { hashes, errors: result.stderr.trim() }
}

// Prints `missing` when the record does not exist (or is no regular file), else `record`, the first line, the rest
// (its entries, each ending in NUL) and an empty field; all as base64.
const READ_SCRIPT = `
set -u
[ -f "$1" ] && [ ! -L "$1" ] || { printf 'missing\\0' | base64 -w0; exit 0; }
{ printf 'record\\0'; head -n 1 -- "$1"; printf '\\0'; tail -n +2 -- "$1"; printf '\\0'; } | base64 -w0
`

/**
 * Reads a snapshot's hash record entry by entry (undefined when it has none: made before rsb recorded hashes, or its
 * hashing failed). The record is never held whole.
 *
 * @throws {CliError} ERR_RSB_CLI_HASHES_FAILED for a record that cannot be read, is damaged or cut short
 */
export async function readHashEntries(
  context: Context,
  store: string,
  snapshot: string,
  signal: AbortSignal | undefined,
  onEntry: (entry: HashEntry) => void,
): Promise<HashHeader | undefined> {
  const file = `${hashesDirectory(store)}/${hashFileName(snapshot)}`
  const parser = new HashRecordParser(file, onEntry)
  let first: string | undefined
  const result = await runFields(context, ['sh', '-c', READ_SCRIPT, 'sh', file], { signal, check: false, ionice: undefined }, (field) => {
    if (first === undefined) first = field
    else if (first === 'record') {
      // the header line and its NUL, then the entries: the header comes as its own field, its newline with it
      parser.push(field)
    }
  })
  if (result.exitCode !== 0) {
    throw new CliError(
      'ERR_RSB_CLI_HASHES_FAILED',
      `Could not read the hash record ${file}: ${result.stderr.trim() || `exit status ${result.exitCode}`}`,
      { path: file },
    )
  }
  if (first === 'missing') return undefined
  if (first !== 'record') throw damaged(file, 'its reading gave nothing')
  return parser.finish()
}

/** A snapshot's whole hash record (undefined when it has none). See {@link readHashEntries}. */
export async function readHashRecord(
  context: Context,
  store: string,
  snapshot: string,
  signal: AbortSignal | undefined,
): Promise<HashRecord | undefined> {
  const entries: HashEntry[] = []
  const header = await readHashEntries(context, store, snapshot, signal, (entry) => entries.push(entry))
  return header === undefined ? undefined : { header, entries }
}

// Writes standard input to DIR/NAME atomically: a private temporary file (mktemp: O_EXCL, mode 0600: the record names
// the files of the snapshot, as private as they are), checked to hold all LENGTH bytes, renamed over. The temporary
// name carries the mirror's id, so that the mirror's next run (under its lock) removes one a killed run left.
const WRITE_SCRIPT = `
set -u
d=$1 n=$2 length=$3 tag=$4
mkdir -p -- "$d" || exit 3
t=$(mktemp "$d/.tmp.$tag.XXXXXXXX") || exit 3
cat > "$t" || { rm -f -- "$t"; exit 3; }
[ "$(wc -c < "$t")" = "$length" ] || { echo "rsb: the hash record was cut short" >&2; rm -f -- "$t"; exit 3; }
mv -f -T -- "$t" "$d/$n" || { rm -f -- "$t"; exit 3; }
`

/** The start of the temporary names of a mirror's hash records being written (`.tmp.<mirror id>.`). */
export function hashTemporaryPrefix(mirrorId: string): string {
  return `.tmp.${mirrorId}.`
}

/** Writes a snapshot's hash record into the store's metadata (atomically: a reader sees the old file or the new). */
export async function writeHashRecord(
  context: Context,
  store: string,
  record: HashRecord,
  mirrorId: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const input = formatHashRecord(record)
  await context.run(
    ['sh', '-c', WRITE_SCRIPT, 'sh', hashesDirectory(store), hashFileName(record.header.snapshot), String(input.length), mirrorId],
    { input, ionice: undefined, signal },
  )
}

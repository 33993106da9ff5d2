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

const HEX = /^[0-9a-f]{64}$/
const DIGITS = /^\d+$/

/** A hash record as its file's bytes. Pure. */
export function formatHashRecord(record: HashRecord): Buffer {
  // latin1 maps each byte to one character and back: one string, one conversion
  const lines = [`${JSON.stringify(record.header)}\n`]
  for (const entry of record.entries) lines.push(`${entry.hash ?? '-'} ${entry.inode} ${entry.size} ${entry.name}\0`)
  return Buffer.from(lines.join(''), 'latin1')
}

/**
 * A hash record's file. Pure.
 *
 * @throws {CliError} ERR_RSB_CLI_HASHES_FAILED for a file that is not one (or of a newer version)
 */
export function parseHashRecord(bytes: Buffer, file: string): HashRecord {
  const bad = (why: string) =>
    new CliError('ERR_RSB_CLI_HASHES_FAILED', `The hash record ${file} cannot be read: ${why}.`, {
      path: file,
      hint: 'It is written by rsb backup; a record that was changed by hand cannot verify its snapshot.',
    })
  const newline = bytes.indexOf(0x0a)
  if (newline < 0) throw bad('it has no header')
  let header: HashHeader
  try {
    header = JSON.parse(bytes.subarray(0, newline).toString('utf8')) as HashHeader
  } catch {
    throw bad('its header is not JSON')
  }
  if (header.format !== HASH_FORMAT || typeof header.version !== 'number') throw bad('it is not an rsb hash record')
  if (header.version > HASH_VERSION) throw bad(`it is of version ${header.version} (this rsb reads up to ${HASH_VERSION})`)
  if (header.algorithm !== HASH_ALGORITHM) throw bad(`its hashes are ${String(header.algorithm)}, not ${HASH_ALGORITHM}`)
  const entries: HashEntry[] = []
  const text = bytes.toString('latin1', newline + 1)
  if (text !== '' && !text.endsWith('\0')) throw bad('it is cut short')
  const lines = text.split('\0')
  lines.pop()
  for (const line of lines) {
    const one = line.indexOf(' ')
    const two = one < 0 ? -1 : line.indexOf(' ', one + 1)
    const three = two < 0 ? -1 : line.indexOf(' ', two + 1)
    if (three < 0) throw bad('an entry is damaged')
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
      throw bad('an entry is damaged')
    entries.push({ hash: hash === '-' ? undefined : hash, inode, size, name: line.slice(three + 1) })
  }
  return { header, entries }
}

// Hashes the files named on standard input (NUL-separated paths), then, after two NULs (no entry is empty), xargs'
// exit status; all as base64. A file that cannot be read is missing from the output (its error is on stderr).
const HASH_SCRIPT = `{ xargs -0 -r b2sum -l 256 -z --; printf '\\0\\0%s' "$?"; } | base64 -w0`

/** What {@link hashFiles} gives: hash by path (its bytes as latin1), and the errors of the files not hashed. */
export interface HashedFiles {
  readonly hashes: Map<string, string>
  readonly errors: string
}

/**
 * Hashes `paths` (absolute, their bytes as latin1 strings) where they are: one `b2sum` run in `context` (with its ionice and sudo).
 *
 * @throws {CliError} ERR_RSB_CLI_HASHES_FAILED when b2sum cannot run at all (not installed: coreutils 8.26 or later has it)
 */
export async function hashFiles(context: Context, paths: readonly string[], signal: AbortSignal | undefined): Promise<HashedFiles> {
  const hashes = new Map<string, string>()
  if (paths.length === 0) return { hashes, errors: '' }
  const input = Buffer.from(`${paths.join('\0')}\0`, 'latin1')
  const result = await context.run(['sh', '-c', HASH_SCRIPT], { input, signal, check: false })
  const text = Buffer.from(result.stdout, 'base64').toString('latin1')
  const end = text.lastIndexOf('\0\0')
  const status = end < 0 ? undefined : text.slice(end + 2)
  if (result.exitCode !== 0 || end < 0 || status === '127' || status === '126') {
    throw new CliError(
      'ERR_RSB_CLI_HASHES_FAILED',
      `Could not hash files on ${context.host}: ${result.stderr.trim() || `exit status ${status ?? result.exitCode}`}`,
      {
        hint: "b2sum comes with coreutils 8.26 and later; run 'rsb doctor' for the destination.",
      },
    )
  }
  // HASH, two spaces, NAME (b2sum -z escapes nothing)
  for (const line of text.slice(0, end).split('\0')) if (line.length > 66) hashes.set(line.slice(66), line.slice(0, 64))
  return { hashes, errors: result.stderr.trim() }
}

// Prints `missing` when the record does not exist, else its bytes as base64 after `record `.
const READ_SCRIPT = `[ -f "$1" ] && [ ! -L "$1" ] || { printf missing; exit 0; }; printf 'record '; base64 -w0 < "$1"`

/**
 * A snapshot's hash record (undefined when it has none: made before rsb recorded hashes, or its hashing failed).
 *
 * @throws {CliError} ERR_RSB_CLI_HASHES_FAILED for a record that cannot be read
 */
export async function readHashRecord(
  context: Context,
  store: string,
  snapshot: string,
  signal: AbortSignal | undefined,
): Promise<HashRecord | undefined> {
  const file = `${hashesDirectory(store)}/${hashFileName(snapshot)}`
  const result = await context.run(['sh', '-c', READ_SCRIPT, 'sh', file], { signal, check: false, ionice: undefined })
  if (result.exitCode === 0 && result.stdout === 'missing') return undefined
  if (result.exitCode !== 0 || !result.stdout.startsWith('record ')) {
    throw new CliError(
      'ERR_RSB_CLI_HASHES_FAILED',
      `Could not read the hash record ${file}: ${result.stderr.trim() || `exit status ${result.exitCode}`}`,
      {
        path: file,
      },
    )
  }
  return parseHashRecord(Buffer.from(result.stdout.slice('record '.length), 'base64'), file)
}

// Writes standard input to DIR/NAME atomically: a private temporary file (mktemp: O_EXCL, mode 0600), renamed over.
const WRITE_SCRIPT = `
set -u
d=$1 n=$2
mkdir -p -- "$d" || exit 3
t=$(mktemp "$d/.tmp.XXXXXXXX") || exit 3
cat > "$t" || { rm -f -- "$t"; exit 3; }
mv -f -T -- "$t" "$d/$n" || { rm -f -- "$t"; exit 3; }
`

/** Writes a snapshot's hash record into the store's metadata (atomically: a reader sees the old file or the new). */
export async function writeHashRecord(context: Context, store: string, record: HashRecord, signal: AbortSignal | undefined): Promise<void> {
  await context.run(['sh', '-c', WRITE_SCRIPT, 'sh', hashesDirectory(store), hashFileName(record.header.snapshot)], {
    input: formatHashRecord(record),
    ionice: undefined,
    signal,
  })
}

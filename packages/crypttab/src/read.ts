import { LocalContext, type Context } from '@rsb/exec'
import { CrypttabError } from './errors.js'
import { parseCrypttab, type CrypttabEntry, type CrypttabWarning } from './parse.js'

/** Where Debian (and rsb, by default) reads crypttab. */
export const DEFAULT_CRYPTTAB = '/etc/crypttab'

/** What `@rsb/crypttab` reports while it works (libraries never print; the CLI decides what to show). */
export type CrypttabEvent =
  | { type: 'warning'; file: string; line: number; message: string }
  | { type: 'already-unlocked'; target: string }
  | { type: 'unlocking'; target: string; method: UnlockMethod }
  | { type: 'unlocked'; target: string }
  | { type: 'locking'; target: string; method: UnlockMethod }
  | { type: 'locked'; target: string }

/**
 * How a device is unlocked and locked: Debian's `cryptdisks_start`/`cryptdisks_stop` (`cryptdisks`), or
 * `cryptsetup luksOpen`/`luksClose` with the entry's key file and options (`cryptsetup`, the fallback).
 */
export type UnlockMethod = 'cryptdisks' | 'cryptsetup'

/** Options shared by the functions that run commands. */
export interface CrypttabOptions {
  /** Where commands run (locally or over SSH). Default: a new `LocalContext`. */
  context?: Context | undefined
  /** The crypttab file. Default: `/etc/crypttab`. */
  path?: string | undefined
  /** Cancels the running command (it is stopped; the call rejects with `ERR_RSB_EXEC_ABORTED`). */
  signal?: AbortSignal | undefined
  /** Receives progress and warnings. */
  onEvent?: ((event: CrypttabEvent) => void) | undefined
}

/** A crypttab file as read through a context. */
export interface CrypttabFile {
  /** The file's path. */
  readonly path: string
  /** Whether the file exists (a missing file has no entries). */
  readonly exists: boolean
  /** The usable entries, in file order. */
  readonly entries: readonly CrypttabEntry[]
  /** Skipped lines and ignored options. */
  readonly warnings: readonly CrypttabWarning[]
}

/** @internal the context to use */
export function contextOf(options: { context?: Context | undefined }): Context {
  return options.context ?? new LocalContext()
}

/**
 * Reads and parses crypttab through a context: `test -f FILE`, then `cat FILE` (with the context's sudo setting).
 * A missing file has no entries. Warnings are returned and also reported as `warning` events.
 *
 * @param options - context, path (default `/etc/crypttab`), signal, onEvent
 * @returns the file's entries and warnings
 * @throws {ExecError} when the file exists but cannot be read
 * @example
 * ```ts
 * const { entries } = await readCrypttab({ context: new SshContext({ host: 'backup@nas', sudo: true }) })
 * console.log(entries.map((entry) => entry.target))
 * ```
 */
export async function readCrypttab(options: CrypttabOptions = {}): Promise<CrypttabFile> {
  const context = contextOf(options)
  const path = options.path ?? DEFAULT_CRYPTTAB
  const run = { ionice: undefined, signal: options.signal }
  if (!(await context.isFile(path, run))) return { path, exists: false, entries: [], warnings: [] }
  const { entries, warnings } = parseCrypttab(await context.readFile(path, run))
  for (const warning of warnings) options.onEvent?.({ type: 'warning', file: path, ...warning })
  return { path, exists: true, entries, warnings }
}

/**
 * Finds the first entry named `target` in crypttab (read through the context, see {@link readCrypttab}).
 *
 * @param target - the mapping name (first field)
 * @param options - context, path, signal, onEvent
 * @returns the entry
 * @throws {CrypttabError} ERR_RSB_CRYPTTAB_NO_ENTRY when there is none (or the file does not exist)
 * @example
 * ```ts
 * const entry = await findCrypttabEntry('backups')
 * console.log(entry.source, entry.keyFile)
 * ```
 */
export async function findCrypttabEntry(target: string, options: CrypttabOptions = {}): Promise<CrypttabEntry> {
  const file = await readCrypttab(options)
  const entry = file.entries.find((candidate) => candidate.target === target)
  if (entry) return entry
  const where = file.exists ? file.path : `${file.path} (the file does not exist)`
  throw new CrypttabError('ERR_RSB_CRYPTTAB_NO_ENTRY', target, `No entry named '${target}' in ${where}.`, {
    file: file.path,
    hint: `Check the first column of ${file.path} or the --crypto value.`,
  })
}

import type { Context } from '@rsb/exec'
import type { CrypttabEntry } from './parse.js'
import { contextOf } from './read.js'
import { sourceDeviceCandidates } from './source.js'

/** Options of the state checks. */
export interface StateOptions {
  /** Where to check (locally or over SSH). Default: a new `LocalContext`. */
  context?: Context | undefined
  /** Cancels the running check. */
  signal?: AbortSignal | undefined
}

/**
 * The path of the unlocked device of a mapping.
 *
 * @example
 * ```ts
 * mapperDevice('backups') // '/dev/mapper/backups'
 * ```
 */
export function mapperDevice(target: string): string {
  return `/dev/mapper/${target}`
}

/**
 * The existing device of an entry's source, asked through the context each time (`test -e` on each candidate
 * of {@link sourceDeviceCandidates}), or undefined when the disk is absent.
 *
 * @throws {CrypttabError} ERR_RSB_CRYPTTAB_UNSUPPORTED_SOURCE for an unsupported `NAME=` source
 */
export async function findSourceDevice(entry: CrypttabEntry, options: StateOptions = {}): Promise<string | undefined> {
  const context = contextOf(options)
  for (const candidate of sourceDeviceCandidates(entry.source, entry.target)) {
    if (await context.exists(candidate, { ionice: undefined, signal: options.signal })) return candidate
  }
  return undefined
}

/**
 * Whether an entry's source device exists (the backup disk is plugged in): `test -e <resolved source>` in the
 * context, asked every time (never cached).
 *
 * @param entry - a crypttab entry
 * @param options - context, signal
 * @throws {CrypttabError} ERR_RSB_CRYPTTAB_UNSUPPORTED_SOURCE for an unsupported `NAME=` source
 * @example
 * ```ts
 * if (!(await isAvailable(await findCrypttabEntry('backups')))) console.log('plug in the backup disk')
 * ```
 */
export async function isAvailable(entry: CrypttabEntry, options: StateOptions = {}): Promise<boolean> {
  return (await findSourceDevice(entry, options)) !== undefined
}

/**
 * Whether a mapping is unlocked: `test -e /dev/mapper/<target>` in the context, asked every time.
 *
 * @param target - the mapping name (or an entry)
 * @param options - context, signal
 * @example
 * ```ts
 * await isUnlocked('backups') // false
 * ```
 */
export async function isUnlocked(target: string | CrypttabEntry, options: StateOptions = {}): Promise<boolean> {
  const name = typeof target === 'string' ? target : target.target
  return contextOf(options).exists(mapperDevice(name), { ionice: undefined, signal: options.signal })
}

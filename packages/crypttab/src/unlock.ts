import { isRsbError, tailLines, type Context, type RunOptions } from '@rsb/exec'
import { CrypttabError } from './errors.js'
import type { CrypttabEntry } from './parse.js'
import { contextOf, DEFAULT_CRYPTTAB, findCrypttabEntry, type CrypttabOptions, type CrypttabEvent, type UnlockMethod } from './read.js'
import { findSourceDevice, isUnlocked, mapperDevice } from './state.js'
import { resolveSourceDevice } from './source.js'

/** Options of {@link unlock}. */
export interface UnlockOptions extends CrypttabOptions {
  /**
   * `auto` (default): `cryptdisks_start` when it exists in the context (looked up with sudo), else the
   * `cryptsetup` fallback. `cryptdisks` or `cryptsetup` force one of them.
   */
  method?: 'auto' | UnlockMethod | undefined
}

/** Options of {@link lock}. */
export interface LockOptions {
  /** Where commands run. Default: a new `LocalContext`. */
  context?: Context | undefined
  /** `auto` (default): `cryptdisks_stop` when it exists, else `cryptsetup luksClose` (only if unlocked). */
  method?: 'auto' | UnlockMethod | undefined
  /** Cancels the running command. */
  signal?: AbortSignal | undefined
  /** Receives `locking` and `locked` events. */
  onEvent?: ((event: CrypttabEvent) => void) | undefined
}

/** What {@link unlock} did, and how to put it back. */
export interface UnlockHandle {
  /** The mapping name. */
  readonly target: string
  /** `/dev/mapper/<target>`. */
  readonly device: string
  /** The crypttab entry that was used. */
  readonly entry: CrypttabEntry
  /** True when this call unlocked the device; false when it was unlocked already. */
  readonly unlockedByUs: boolean
  /** How it was unlocked (undefined when it was unlocked already). */
  readonly method: UnlockMethod | undefined
  /**
   * Locks the device again, only if this call unlocked it (`cryptdisks_stop NAME`, or `cryptsetup luksClose NAME`
   * after the fallback); otherwise does nothing. Once it has succeeded, later calls do nothing.
   *
   * @param options - `signal` cancels the lock command. The signal given to `unlock()` is deliberately not reused:
   * cleanups must still run after a run was cancelled.
   * @throws {CrypttabError} ERR_RSB_CRYPTTAB_LOCK_FAILED (for example while the filesystem is still mounted); a
   * later call tries again
   */
  undo(options?: { signal?: AbortSignal | undefined }): Promise<void>
}

const COMMAND = { ionice: undefined, sudo: true } as const

/** The last meaningful line of a failed command's output (stderr first). */
function lastLine(...texts: Array<string | undefined>): string | undefined {
  for (const text of texts) {
    const line = text
      ?.split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1)
    if (line) return line
  }
  return undefined
}

/** Runs a privileged command; turns a failed or missing command into `fail(details)`, lets other errors through. */
async function runPrivileged(
  context: Context,
  argv: readonly string[],
  options: RunOptions,
  fail: (details: { cause: unknown; exitCode: number | undefined; output: string | undefined; detail: string | undefined }) => Error,
): Promise<void> {
  let stdout = ''
  try {
    await context.run(argv, { ...COMMAND, ...options, capture: false, onStdout: (chunk) => (stdout += chunk) })
  } catch (error) {
    if (isRsbError(error) && (error.code === 'ERR_RSB_EXEC_COMMAND_FAILED' || error.code === 'ERR_RSB_EXEC_NOT_FOUND')) {
      const stderr = (error as { stderrTail?: string }).stderrTail
      const output = [stdout.trim(), stderr?.trim()].filter(Boolean).join('\n')
      throw fail({
        cause: error,
        exitCode: (error as { exitCode?: number }).exitCode,
        output: output ? tailLines(output) : undefined,
        detail: lastLine(stderr, stdout),
      })
    }
    throw error
  }
}

async function chooseMethod(context: Context, program: string, wanted: UnlockOptions['method'], signal: AbortSignal | undefined) {
  if (wanted === 'cryptdisks' || wanted === 'cryptsetup') return wanted
  // With sudo: for a non-root SSH user /usr/sbin is not on PATH, but it is on sudo's.
  return (await context.which(program, { ...COMMAND, signal })) === undefined ? 'cryptsetup' : 'cryptdisks'
}

/** The sorted `cryptsetup … luksOpen` flags of the fallback (as linux-utils): discard, key file, readonly. */
function fallbackFlags(entry: CrypttabEntry): string[] {
  const flags: string[] = []
  if (entry.options.discard !== undefined) flags.push('--allow-discards')
  if (entry.keyFile !== undefined) flags.push(`--key-file=${entry.keyFile}`)
  if (entry.options.readonly !== undefined) flags.push('--readonly')
  return flags.sort()
}

/**
 * Unlocks the crypttab entry `target` in a context (locally or over SSH), the way rsync-system-backup did:
 *
 * 1. crypttab is read (`test -f`, `cat`); no entry → `ERR_RSB_CRYPTTAB_NO_ENTRY`, nothing else runs;
 * 2. the source device must exist (`test -e`), else `ERR_RSB_CRYPTTAB_MISSING_DISK`;
 * 3. already unlocked (`test -e /dev/mapper/NAME`) → nothing to do, nothing to undo;
 * 4. `[sudo] cryptdisks_start NAME` when that program exists (with `TABFILE=PATH` for a crypttab other than
 *    `/etc/crypttab`), else `[sudo] cryptsetup [--allow-discards] [--key-file=KEY] [--readonly] luksOpen SOURCE NAME`
 *    (LUKS entries only: the `luks` option or `cryptsetup isLuks`);
 * 5. `/dev/mapper/NAME` must exist afterwards, else `ERR_RSB_CRYPTTAB_UNLOCK_FAILED`.
 *
 * Before running anything it refuses entries whose key file is missing and, in a non-interactive context, entries
 * without a key file (they would wait for a passphrase that nobody types).
 *
 * @param target - the mapping name (first crypttab field)
 * @param options - context, crypttab path, method, signal, onEvent
 * @returns a handle whose `undo()` locks the device again only if this call unlocked it
 * @throws {CrypttabError} ERR_RSB_CRYPTTAB_NO_ENTRY, ERR_RSB_CRYPTTAB_MISSING_DISK,
 * ERR_RSB_CRYPTTAB_UNSUPPORTED_SOURCE, ERR_RSB_CRYPTTAB_INVALID_ENTRY, ERR_RSB_CRYPTTAB_KEY_MISSING,
 * ERR_RSB_CRYPTTAB_PASSPHRASE_REQUIRED, ERR_RSB_CRYPTTAB_UNLOCK_FAILED
 * @throws {ExecError} ERR_RSB_EXEC_SUDO_PASSWORD, ERR_RSB_EXEC_ABORTED, SSH connection errors
 * @example
 * ```ts
 * const disk = await unlock('backups', { context: new LocalContext() })
 * try {
 *   // mount /dev/mapper/backups and back up
 * } finally {
 *   await disk.undo()
 * }
 * ```
 */
export async function unlock(target: string, options: UnlockOptions = {}): Promise<UnlockHandle> {
  const context = contextOf(options)
  const path = options.path ?? DEFAULT_CRYPTTAB
  const signal = options.signal
  const entry = await findCrypttabEntry(target, { ...options, context, path })
  const source = await findSourceDevice(entry, { context, signal })
  if (source === undefined) {
    const expected = resolveSourceDevice(entry.source)
    throw new CrypttabError(
      'ERR_RSB_CRYPTTAB_MISSING_DISK',
      target,
      `Encrypted filesystem ${target} isn't available! (the device file ${expected} doesn't exist)`,
      { file: path, device: expected, hint: `Connect the disk of ${target}, or check the second column of ${path}.` },
    )
  }
  const device = mapperDevice(target)
  const handle = (unlockedByUs: boolean, method: UnlockMethod | undefined): UnlockHandle => {
    let done = !unlockedByUs
    return {
      target,
      device,
      entry,
      unlockedByUs,
      method,
      async undo(undoOptions = {}) {
        if (done) return
        await lock(target, { context, method, signal: undoOptions.signal, onEvent: options.onEvent })
        done = true
      },
    }
  }
  if (await isUnlocked(target, { context, signal })) {
    options.onEvent?.({ type: 'already-unlocked', target })
    return handle(false, undefined)
  }

  if (entry.problems.length > 0) {
    throw new CrypttabError(
      'ERR_RSB_CRYPTTAB_INVALID_ENTRY',
      target,
      `The entry of ${target} (line ${entry.line} of ${path}) cannot be used: ${entry.problems.join('; ')}.`,
      { file: path, hint: `Correct line ${entry.line} of ${path} (see crypttab(5)).` },
    )
  }
  const keyscript = entry.options.keyscript !== undefined
  if (entry.keyFile !== undefined && !keyscript && !(await context.exists(entry.keyFile, { ...COMMAND, signal }))) {
    throw new CrypttabError('ERR_RSB_CRYPTTAB_KEY_MISSING', target, `The key file ${entry.keyFile} of ${target} does not exist.`, {
      file: path,
      device: entry.keyFile,
      hint: `Restore the key file or correct the third column of line ${entry.line} of ${path}.`,
    })
  }
  // A passphrase is typed at the user's terminal: only a local context in an interactive run has one.
  const prompts = entry.keyFile === undefined && !keyscript
  if (prompts && (context.defaults.interactive !== true || context.kind !== 'local')) {
    throw new CrypttabError(
      'ERR_RSB_CRYPTTAB_PASSPHRASE_REQUIRED',
      target,
      `Unlocking ${target} needs a passphrase (no key file in ${path}), and nobody can type it here.`,
      { file: path, hint: `Run interactively, or give ${target} a key file in ${path}.` },
    )
  }

  const method = await chooseMethod(context, 'cryptdisks_start', options.method, signal)
  options.onEvent?.({ type: 'unlocking', target, method })
  const fail = (details: { cause?: unknown; exitCode?: number | undefined; output?: string | undefined; detail?: string | undefined }) =>
    new CrypttabError(
      'ERR_RSB_CRYPTTAB_UNLOCK_FAILED',
      target,
      `Failed to unlock encrypted filesystem! (${target})${details.detail ? `: ${details.detail}` : ''}`,
      {
        cause: details.cause,
        file: path,
        device: source,
        exitCode: details.exitCode,
        stderrTail: details.output,
        hint:
          method === 'cryptdisks'
            ? `Check the entry and key of ${target} in ${path}; \`cryptdisks_start ${target}\` shows the details.`
            : `Check the entry and key of ${target} in ${path}.`,
      },
    )

  if (method === 'cryptdisks') {
    const env = path === DEFAULT_CRYPTTAB ? undefined : { TABFILE: path }
    await runPrivileged(context, ['cryptdisks_start', target], { env, signal, terminal: prompts }, fail)
  } else {
    if (keyscript) throw fail({ detail: 'the cryptsetup fallback cannot run keyscript= programs (install cryptdisks_start)' })
    const luks = entry.options.luks !== undefined || (await context.test(['cryptsetup', 'isLuks', source], { ...COMMAND, signal }))
    if (!luks) throw fail({ detail: `${source} is not a LUKS device (the cryptsetup fallback opens LUKS devices only)` })
    await runPrivileged(context, ['cryptsetup', ...fallbackFlags(entry), 'luksOpen', source, target], { signal, terminal: prompts }, fail)
  }
  if (!(await isUnlocked(target, { context, signal }))) throw fail({ detail: `${device} did not appear` })
  options.onEvent?.({ type: 'unlocked', target })
  return handle(true, method)
}

/**
 * Locks a mapping in a context: `[sudo] cryptdisks_stop NAME` when that program exists (it does nothing for a
 * name that is not unlocked), else `[sudo] cryptsetup luksClose NAME` if `/dev/mapper/NAME` exists. Afterwards
 * `/dev/mapper/NAME` must be gone.
 *
 * @param target - the mapping name
 * @param options - context, method, signal, onEvent
 * @returns whether the mapping was unlocked before
 * @throws {CrypttabError} ERR_RSB_CRYPTTAB_LOCK_FAILED when the command fails (still mounted, …) or the mapping stays
 * @example
 * ```ts
 * await lock('backups')
 * ```
 */
export async function lock(target: string, options: LockOptions = {}): Promise<boolean> {
  const context = contextOf(options)
  const signal = options.signal
  const device = mapperDevice(target)
  const wasUnlocked = await isUnlocked(target, { context, signal })
  const method = await chooseMethod(context, 'cryptdisks_stop', options.method, signal)
  if (method === 'cryptsetup' && !wasUnlocked) return false
  const fail = (details: { cause?: unknown; exitCode?: number | undefined; output?: string | undefined; detail?: string | undefined }) =>
    new CrypttabError(
      'ERR_RSB_CRYPTTAB_LOCK_FAILED',
      target,
      `Failed to lock encrypted filesystem! (${target})${details.detail ? `: ${details.detail}` : ''}`,
      {
        cause: details.cause,
        device,
        exitCode: details.exitCode,
        stderrTail: details.output,
        hint: `Make sure nothing uses ${device} any more (unmount its filesystem), then lock it again.`,
      },
    )
  if (wasUnlocked) options.onEvent?.({ type: 'locking', target, method })
  if (method === 'cryptdisks') await runPrivileged(context, ['cryptdisks_stop', target], { signal }, fail)
  else await runPrivileged(context, ['cryptsetup', 'luksClose', target], { signal }, fail)
  if (await isUnlocked(target, { context, signal })) throw fail({ detail: `${device} is still there` })
  if (wasUnlocked) options.onEvent?.({ type: 'locked', target })
  return wasUnlocked
}

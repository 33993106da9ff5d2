import { ExecError } from './errors.js'

/** One registered cleanup. */
interface Cleanup {
  description: string
  run: () => unknown
}

/**
 * A cleanup scope: cleanups registered with {@link CleanupScope.add}
 * run in reverse registration order when the scope closes — on success, on failure and on abort. Every
 * cleanup runs even when an earlier one fails; the first failure is reported.
 *
 * @example
 * ```ts
 * const scope = new CleanupScope()
 * try {
 *   scope.add('unmount /mnt/backups', () => context.run(['umount', '/mnt/backups'], { sudo: true }))
 *   // … work …
 * } finally {
 *   await scope.close()
 * }
 * ```
 */
export class CleanupScope {
  readonly #cleanups: Cleanup[] = []
  #closed = false

  /** Registers a cleanup. @throws {ExecError} ERR_RSB_EXEC_CLEANUP after the scope closed. */
  add(description: string, run: () => unknown): void {
    if (this.#closed) throw new ExecError('ERR_RSB_EXEC_CLEANUP', `Cannot register '${description}': the cleanup scope is closed.`)
    this.#cleanups.push({ description, run })
  }

  /** How many cleanups are pending. */
  get size(): number {
    return this.#cleanups.length
  }

  /**
   * Runs every pending cleanup, newest first; `onFailure` hears of each failure.
   *
   * @throws {ExecError} ERR_RSB_EXEC_CLEANUP (cause: the first failure) when any cleanup failed
   */
  async close(onFailure?: (description: string, error: unknown) => void): Promise<void> {
    this.#closed = true
    let first: { description: string; error: unknown } | undefined
    while (this.#cleanups.length > 0) {
      const cleanup = this.#cleanups.pop() as Cleanup
      try {
        await cleanup.run()
      } catch (error) {
        onFailure?.(cleanup.description, error)
        first ??= { description: cleanup.description, error }
      }
    }
    if (first) {
      const reason = first.error instanceof Error ? first.error.message : String(first.error)
      throw new ExecError('ERR_RSB_EXEC_CLEANUP', `Cleanup '${first.description}' failed: ${reason}`, { cause: first.error })
    }
  }
}

/** What {@link handleInterrupts} gives a program. */
export interface Interrupts {
  /** Aborted with reason `SIGINT` or `SIGTERM` at the first such signal. */
  readonly signal: AbortSignal
  /** Removes the listeners. */
  dispose(): void
}

/**
 * Turns SIGINT and SIGTERM into an AbortSignal for a program's entry point: the first signal aborts (the program
 * stops its work and runs its cleanups), a second is ignored while they run, a third calls `onForce` with the
 * conventional exit status (130 or 143), where the entry point may exit at once. The listeners stay installed
 * (`on`, not `once`): execa's signal-exit handler re-raises a signal when no other listener is left, which would
 * end the program before its cleanups ran.
 *
 * @example
 * ```ts
 * const interrupts = handleInterrupts((status) => process.exit(status))
 * process.exitCode = await main(process.argv.slice(2), { signal: interrupts.signal })
 * ```
 */
export function handleInterrupts(onForce: (exitStatus: 130 | 143) => void): Interrupts {
  const controller = new AbortController()
  let count = 0
  const listener = (signal: 'SIGINT' | 'SIGTERM') => {
    count++
    if (count === 1) controller.abort(signal)
    else if (count >= 3) onForce(signal === 'SIGINT' ? 130 : 143)
  }
  process.on('SIGINT', listener)
  process.on('SIGTERM', listener)
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', listener)
      process.off('SIGTERM', listener)
    },
  }
}

// The output of the scripts that list trees and hashes (walk.ts, hashes.ts, integrity.ts): NUL-terminated fields, sent
// as base64 (file names are bytes, and base64 costs nothing next to od's hex), read as they arrive. A store of millions
// of files gives hundreds of megabytes of output: it is never held as one string (a JavaScript string cannot exceed
// half a gigabyte), only field by field.
import type { Context, RunOptions, RunResult } from '@rsb/exec'

/** Takes the fields of a script's output in order; a thrown error stops the reading (the run still ends). */
export type FieldSink = (field: string) => void

/** Splits bytes into NUL-terminated fields (each as a latin1 string: one character a byte), across chunks. */
export class FieldSplitter {
  #pending = ''
  #error: unknown
  #failed = false
  readonly #sink: FieldSink

  constructor(sink: FieldSink) {
    this.#sink = sink
  }

  /** Some bytes of the output. */
  push(bytes: Buffer): void {
    if (this.#failed) return
    const parts = (this.#pending + bytes.toString('latin1')).split('\0')
    this.#pending = parts.pop() ?? ''
    try {
      for (const part of parts) this.#sink(part)
    } catch (error) {
      this.#failed = true
      this.#error = error
    }
  }

  /**
   * The end of the output: a last field without its NUL is given too.
   *
   * @throws the first error the sink threw
   */
  finish(): void {
    if (!this.#failed && this.#pending !== '') {
      const last = this.#pending
      this.#pending = ''
      try {
        this.#sink(last)
      } catch (error) {
        this.#failed = true
        this.#error = error
      }
    }
    if (this.#failed) throw this.#error
  }
}

/**
 * Runs `argv` (a script ending in `| base64 -w0`) and gives its output's fields to `sink` as they arrive. Standard
 * output is not kept; standard error's tail is, for messages.
 *
 * @throws the sink's first error (after the command ended), and the command's errors as `context.run` throws them
 */
export async function runFields(context: Context, argv: readonly string[], options: RunOptions, sink: FieldSink): Promise<RunResult> {
  const splitter = new FieldSplitter(sink)
  let base64 = ''
  const result = await context.run(argv, {
    ...options,
    capture: false,
    onStdout: (chunk) => {
      base64 += chunk.replace(/\s+/g, '')
      const usable = base64.length - (base64.length % 4)
      if (usable === 0) return
      splitter.push(Buffer.from(base64.slice(0, usable), 'base64'))
      base64 = base64.slice(usable)
    },
  })
  if (base64 !== '') splitter.push(Buffer.from(base64, 'base64'))
  splitter.finish()
  return result
}

/** The fields of a whole output (tests, and the pure parsers' entry point). */
export function splitFields(bytes: Buffer): string[] {
  const fields: string[] = []
  const splitter = new FieldSplitter((field) => fields.push(field))
  splitter.push(bytes)
  splitter.finish()
  return fields
}

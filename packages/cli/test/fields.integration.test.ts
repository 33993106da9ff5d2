// The reading of the walk and hash scripts' output (fields.ts): NUL-terminated fields sent as base64 and split as
// they arrive, whatever the chunks, and never held whole: an output larger than the longest JavaScript string (half a
// gigabyte, a store of millions of files) is read. No program is started: a context stands in for the command.
import type { Context, RunOptions, RunResult } from '@rsb/exec'
import { describe, expect, it } from 'vitest'
import { FieldSplitter, runFields, splitFields } from '../src/session/fields.ts'

/** A context whose one command writes `chunks` (strings of base64) to standard output, then exits 0. */
function producing(chunks: () => Iterable<string>): Context {
  return {
    kind: 'local',
    host: 'localhost',
    async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
      expect(options.capture).toBe(false)
      for (const chunk of chunks()) options.onStdout?.(chunk)
      return { argv, exitCode: 0, signal: undefined, stdout: '', stderr: '' }
    },
  } as unknown as Context
}

describe('fields', () => {
  it('splits fields (names with spaces, newlines and bytes that are not UTF-8) across any chunking', () => {
    const fields = ['root', '/s/a b', 'f 1 2 3 4 644 0 0 1.5 a\nb', Buffer.from([0x63, 0xe9]).toString('latin1'), '', 'done']
    const bytes = Buffer.from(fields.map((f) => `${f}\0`).join(''), 'latin1')
    for (const size of [1, 2, 3, 7, 64, bytes.length]) {
      const got: string[] = []
      const splitter = new FieldSplitter((f) => got.push(f))
      for (let i = 0; i < bytes.length; i += size) splitter.push(bytes.subarray(i, i + size))
      splitter.finish()
      expect(got, `chunks of ${size}`).toEqual(fields)
    }
    expect(splitFields(Buffer.from('a\0b', 'latin1'))).toEqual(['a', 'b'])
  })

  it('runFields decodes base64 cut anywhere (and od-style whitespace), and reports the sink’s first error after the run', async () => {
    const fields = Array.from({ length: 500 }, (_, i) => `entry ${i} ${'x'.repeat(i % 37)}`)
    const base64 = Buffer.from(fields.map((f) => `${f}\0`).join(''), 'latin1').toString('base64')
    for (const size of [1, 5, 999]) {
      const got: string[] = []
      const chunks = function* () {
        for (let i = 0; i < base64.length; i += size) yield base64.slice(i, i + size) + (i % 3 === 0 ? '\n' : '')
      }
      await runFields(producing(chunks), ['sh'], {}, (f) => got.push(f))
      expect(got).toEqual(fields)
    }
    let seen = 0
    const failing = runFields(
      producing(() => [base64]),
      ['sh'],
      {},
      () => {
        seen++
        throw new Error('bad field')
      },
    )
    await expect(failing).rejects.toThrow('bad field')
    expect(seen).toBe(1)
  })

  it('reads an output larger than the longest string (600 MB of base64: 7 million fields) without holding it', async () => {
    // one chunk: 10,000 fields of 64 bytes (a walk's line is about that), as base64
    const line = `f 123456 1 4096 8 644 0 0 1700000000.0000000000 dir/file-name-${'x'.repeat(1)}\0`
    expect(line.length).toBe(64)
    const chunk = Buffer.from(line.repeat(10_000), 'latin1').toString('base64')
    const chunks = 700
    expect(chunk.length * chunks).toBeGreaterThan(2 ** 29) // Node's longest string: 2^29 - 24 characters
    let count = 0
    let bytes = 0
    await runFields(
      producing(function* () {
        for (let i = 0; i < chunks; i++) yield chunk
      }),
      ['sh'],
      {},
      (field) => {
        count++
        bytes += field.length + 1
      },
    )
    expect(count).toBe(10_000 * chunks)
    expect(bytes).toBe(64 * 10_000 * chunks)
  }, 60_000)
})

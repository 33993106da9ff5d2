import { spawn } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const dist = path.resolve(import.meta.dirname, '../dist/index.js')

describe('handleInterrupts', () => {
  it('aborts at the first signal, ignores the second and forces the exit status at the third — even with execa loaded', async () => {
    // A program that loads execa (whose signal-exit handler re-raises signals nobody else listens to) and
    // "cleans up" for a while after the first signal.
    const program = `
      import fs from 'node:fs'
      import * as exec from ${JSON.stringify(dist)}
      const say = (line) => fs.writeSync(1, line + '\\n')
      const interrupts = exec.handleInterrupts((status) => { say('forced ' + status); process.exit(status) })
      await new exec.LocalContext().run(['true'])
      interrupts.signal.addEventListener('abort', () => say('aborted ' + interrupts.signal.reason))
      say('ready')
      setInterval(() => {}, 1000)
    `
    const child = spawn(process.execPath, ['--input-type=module', '-e', program], { stdio: ['ignore', 'pipe', 'ignore'] })
    let stdout = ''
    const waiting: Array<() => void> = []
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      for (const wake of waiting.splice(0)) wake()
    })
    const lines = async (n: number) => {
      while (stdout.trim().split('\n').filter(Boolean).length < n) await new Promise<void>((resolve) => waiting.push(resolve))
    }
    await lines(1)
    child.kill('SIGTERM')
    await lines(2)
    // signals sent back to back may arrive as one: keep sending until the program gives up
    const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
    const more = setInterval(() => child.kill('SIGTERM'), 100)
    const status = await closed
    clearInterval(more)
    expect(stdout.trim().split('\n')).toEqual(['ready', 'aborted SIGTERM', 'forced 143'])
    expect(status).toBe(143)
  })
})

#!/usr/bin/env node
import { handleInterrupts } from '@rsb/exec'
import { main } from '../main.js'

// The first SIGINT/SIGTERM stops the run (cleanups still run), a second is ignored, a third exits at once.
const interrupts = handleInterrupts((status) => process.exit(status))
// exitCode rather than exit(): pending writes to a piped stdout (--json) must not be cut off
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: interrupts.signal,
})
interrupts.dispose()

#!/usr/bin/env node
// rsb-rotate: an alias of `rsb rotate` (rotate-backups 8.1's command line).
import { handleInterrupts } from '@rsb/exec'
import { runProgram } from '../commands/rotate/index.js'

// The first SIGINT/SIGTERM stops the run, a second is ignored, a third exits at once.
const interrupts = handleInterrupts((status) => process.exit(status))
// exitCode rather than exit(): pending writes to a piped stdout (--json) must not be cut off
process.exitCode = await runProgram(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: interrupts.signal,
})
interrupts.dispose()

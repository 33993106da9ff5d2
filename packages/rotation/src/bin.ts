#!/usr/bin/env node
import { Settings } from 'luxon'
import { handleInterrupts } from '@rsb/exec'
import { main } from './cli/main.js'

// The program's own choice (the library leaves luxon's settings alone): a fixed locale spares luxon's first
// calendar arithmetic from asking Intl for the system locale (~20 ms at start-up); rotation never formats text
// with luxon, so the locale changes nothing visible.
Settings.defaultLocale = 'en-US'

// The first SIGINT/SIGTERM stops the run, a second is ignored, a third exits at once.
const interrupts = handleInterrupts((status) => process.exit(status))
// exitCode rather than exit(): pending writes to a piped stdout (--json) must not be cut off
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: interrupts.signal,
})
interrupts.dispose()

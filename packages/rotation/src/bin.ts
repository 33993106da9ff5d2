#!/usr/bin/env node
import { Settings } from 'luxon'
import { main } from './cli/main.js'

// The program's own choice (the library leaves luxon's settings alone): a fixed locale spares luxon's first
// calendar arithmetic from asking Intl for the system locale (~20 ms at start-up); rotation never formats text
// with luxon, so the locale changes nothing visible.
Settings.defaultLocale = 'en-US'

const controller = new AbortController()
let signals = 0
// `on`, not `once`: execa's signal-exit handler re-raises a signal once no other listener is left, which would end
// rsb-rotate in the middle of a removal. The first signal stops the run, a second is ignored, a third exits.
const stop = (signal: 'SIGINT' | 'SIGTERM') => {
  signals++
  if (signals === 1) controller.abort(signal)
  else if (signals >= 3) process.exit(signal === 'SIGINT' ? 130 : 143)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
// exitCode rather than exit(): pending writes to a piped stdout (--json) must not be cut off
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
})

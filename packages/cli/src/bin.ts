#!/usr/bin/env node
import { main } from './main.js'

const controller = new AbortController()
let signals = 0
// `on`, not `once`: execa's signal-exit handler re-raises a signal once no other listener is left, which would
// kill rsb before its cleanups ran. The first signal stops the run (cleanups still run), a second one is
// ignored while they run, a third exits at once.
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

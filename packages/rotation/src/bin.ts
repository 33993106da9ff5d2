#!/usr/bin/env node
import { main } from './cli/main.js'

const controller = new AbortController()
process.once('SIGINT', () => controller.abort('SIGINT'))
process.once('SIGTERM', () => controller.abort('SIGTERM'))
// exitCode rather than exit(): pending writes to a piped stdout (--json) must not be cut off
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
})

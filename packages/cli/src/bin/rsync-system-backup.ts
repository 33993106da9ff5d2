#!/usr/bin/env node
// `rsync-system-backup`: rsb under the original's name and grammar, forever without commands.
import { handleInterrupts } from '@rsb/exec'
import { main } from '../main.js'

const interrupts = handleInterrupts((status) => process.exit(status))
process.exitCode = await main(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: interrupts.signal },
  'rsync-system-backup',
)
interrupts.dispose()

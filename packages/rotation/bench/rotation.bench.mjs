// pnpm bench rotation — the rotation planner and the whole rsb-rotate process.
//
// 1. Plans 10,000 and 100,000 backups (hourly names over years, the FULL scheme) in memory: collectBackups +
//    planRotation. Prints each time (median of 5 after warm-up runs; the cold first run too) and their ratio
//    (O(n log n): about 11.5 for 10×; O(n²) would be 100). Goal: 100,000 in under a second.
// 2. Times the whole `rsb-rotate --dry-run --json` process on a directory of 10,000 entries against `node -e 0`
//    in the same run (medians of 7, interleaved). Goal: within 3× of bare node start-up.
//    rotate-backups 8.1 took about 1.3 s for the same job on a 2-vCPU VM.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { collectBackups, planRotation } from '../dist/index.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const bin = path.join(here, '..', '..', 'cli', 'dist', 'bin', 'rsb-rotate.js')
const mainEntry = pathToFileURL(path.join(here, '..', '..', 'cli', 'dist', 'commands', 'rotate', 'main.js')).href
const SCHEME = { hourly: 24, daily: 7, weekly: 4, monthly: 12, yearly: 'always' }
const FULL = ['--hourly=24', '--daily=7', '--weekly=4', '--monthly=12', '--yearly=always']

/** `count` snapshot names, one per hour, ending 2024-12-31 23:00:00 (100,000 hours ≈ 11.4 years). */
function hourlyNames(count) {
  const end = Date.UTC(2024, 11, 31, 23)
  const names = []
  for (let i = count - 1; i >= 0; i--) {
    const iso = new Date(end - i * 3_600_000).toISOString()
    names.push(`${iso.slice(0, 10)} ${iso.slice(11, 19)}`)
  }
  // Listing order is not time order.
  for (let i = names.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1)
    ;[names[i], names[j]] = [names[j], names[i]]
  }
  return names
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const ms = (value) => `${value.toFixed(1)} ms`

function timePlan(names) {
  const once = () => {
    const started = performance.now()
    const { backups } = collectBackups(names)
    const plan = planRotation(backups, { scheme: SCHEME })
    const elapsed = performance.now() - started
    if (plan.decisions.length !== names.length) throw new Error('wrong plan size')
    return elapsed
  }
  const cold = once()
  for (let i = 0; i < 3; i++) once()
  const runs = Array.from({ length: 5 }, once)
  return { cold, median: median(runs) }
}

console.log('Planner (collectBackups + planRotation, FULL scheme, hourly names):')
const small = timePlan(hourlyNames(10_000))
const large = timePlan(hourlyNames(100_000))
console.log(`  10,000 backups:  ${ms(small.median)} (first run ${ms(small.cold)})`)
console.log(`  100,000 backups: ${ms(large.median)} (first run ${ms(large.cold)})`)
console.log(`  ratio 100,000 / 10,000: ${(large.median / small.median).toFixed(1)} (n log n ≈ 12.5, n² = 100)`)
console.log(`  goal 100,000 under 1 s: ${large.cold < 1000 ? 'met' : 'NOT met'}`)

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rsb-rotate-bench-'))
try {
  for (const name of hourlyNames(10_000)) fs.closeSync(fs.openSync(path.join(dir, name), 'w'))
  const run = (args) => {
    const started = performance.now()
    const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 })
    const elapsed = performance.now() - started
    if (result.status !== 0) throw new Error(`${args.join(' ')} exited with ${result.status}`)
    return { elapsed, stdout: result.stdout }
  }
  const bare = []
  const whole = []
  const loadOnly = []
  let output
  for (let i = 0; i < 7; i++) {
    bare.push(run(['-e', '0']).elapsed)
    const result = run([bin, '--dry-run', '--json', ...FULL, dir])
    whole.push(result.elapsed)
    output = result.stdout
    loadOnly.push(run(['--input-type=module', '-e', `await import(${JSON.stringify(mainEntry)})`]).elapsed)
  }
  const backups = JSON.parse(output.toString()).locations[0].backups.length
  if (backups !== 10_000) throw new Error(`expected 10,000 backups in --json, got ${backups}`)
  console.log('\nWhole process, rsb-rotate --dry-run --json FULL on a directory of 10,000 entries:')
  console.log(`  node -e 0:  ${ms(median(bare))}`)
  console.log(`  rsb-rotate: ${ms(median(whole))}`)
  console.log(
    `  ratio: ${(median(whole) / median(bare)).toFixed(2)}× bare node start-up (goal: within 3×; rotate-backups 8.1: about 1.3 s)`,
  )
  console.log(
    `  of which start-up + loading rsb-rotate's modules (no work): ${ms(median(loadOnly))} = ${(median(loadOnly) / median(bare)).toFixed(2)}×`,
  )
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}

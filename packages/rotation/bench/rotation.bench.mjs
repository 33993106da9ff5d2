// pnpm bench rotation — the rotation planner: plans 10,000 and 100,000 backups (hourly names over years, the FULL
// scheme) in memory: collectBackups + planRotation. Prints each time (median of 5 after warm-up runs; the cold first
// run too) and their ratio (O(n log n): about 11.5 for 10×; O(n²) would be 100). Goal: 100,000 in under a second.
// The whole rsb-rotate process is @rsb/cli's bench (packages/cli/bench/rotate.bench.mjs).
import { collectBackups, planRotation } from '../dist/index.js'

const SCHEME = { hourly: 24, daily: 7, weekly: 4, monthly: 12, yearly: 'always' }

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

// Benchmark: runRsync against the same argv run with bare `rsync`, on a 20,000-file tree with no changes.
// Alternating order, several rounds, medians and their ratio. Goals: <= 1.05 without events, <= 1.10 with progress
// events on (--info=progress2 --stats, every event parsed and delivered). A control line runs bare rsync against
// itself: its distance from 1.000 is the noise of the machine (other load, disk cache), to read the ratios against.
// Run with `pnpm bench rsync` (builds first) or `node packages/rsync/bench/rsync.bench.mjs` after `pnpm build`.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { buildRsyncArgs, runRsync } from '../dist/index.js'

const FILES = 20_000
const PER_DIR = 100
const ROUNDS = Number(process.env.RSB_BENCH_ROUNDS ?? 21)
const root = path.resolve(import.meta.dirname, '../../../.bench-tmp', `rsync-${process.pid}`)
const source = path.join(root, 'source')
const destination = path.join(root, 'latest')

function makeTree() {
  for (let d = 0; d < FILES / PER_DIR; d++) {
    const dir = path.join(source, `dir-${d}`)
    fs.mkdirSync(dir, { recursive: true })
    for (let f = 0; f < PER_DIR; f++) fs.writeFileSync(path.join(dir, `file-${f}.txt`), `${d}/${f}\n`.repeat(1 + (f % 7)))
  }
}

/** The baseline: the same argv, spawned directly, HOME empty like runRsync, output to /dev/null. */
function bare(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore', env: { ...process.env, HOME: '' } })
    child.once('error', reject)
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`rsync exited with ${code}`))))
  })
}

/** Wall time of one call; adds this process's CPU time (user + system) to `cpu`, a robust measure of our own cost. */
async function time(fn, cpu) {
  const startedCpu = process.cpuUsage()
  const started = performance.now()
  await fn()
  const elapsed = performance.now() - started
  const used = process.cpuUsage(startedCpu)
  cpu.push((used.user + used.system) / 1000)
  return elapsed
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

async function compare(name, options, goal, control = false) {
  const argv = buildRsyncArgs(options)
  const ours = []
  const theirs = []
  const ourCpu = []
  const theirCpu = []
  let events = 0
  const run = control
    ? () => bare(argv)
    : () =>
        runRsync({
          ...options,
          onEvent: options.progress
            ? () => {
                events++
              }
            : undefined,
        })
  for (let round = 0; round < ROUNDS; round++) {
    // alternate which one goes first, so that caches and CPU frequency favour neither
    if (round % 2 === 0) {
      ours.push(await time(run, ourCpu))
      theirs.push(await time(() => bare(argv), theirCpu))
    } else {
      theirs.push(await time(() => bare(argv), theirCpu))
      ours.push(await time(run, ourCpu))
    }
  }
  const ratio = median(ours) / median(theirs)
  // Also the median of the per-round ratios: each pair ran back to back, so slow drift (other load on the
  // machine) cancels out.
  const pairwise = median(ours.map((value, i) => value / theirs[i]))
  console.log(
    `${name.padEnd(20)} ${control ? 'bare rsync' : 'runRsync  '} ${median(ours).toFixed(1).padStart(7)} ms   bare rsync ${median(theirs).toFixed(1).padStart(7)} ms   ` +
      `ratio ${ratio.toFixed(3)} (per-round median ${pairwise.toFixed(3)})` +
      (control
        ? '   (the noise floor: the same command on both sides)'
        : `   goal <= ${goal.toFixed(2)}: ${ratio <= goal ? 'met' : 'MISSED'}`) +
      (options.progress ? `   (${Math.round(events / ROUNDS)} events per run)` : '') +
      `\n${''.padEnd(20)} node CPU per run: ${median(ourCpu).toFixed(2)} ms vs ${median(theirCpu).toFixed(2)} ms for a bare spawn`,
  )
  return ratio <= goal
}

fs.rmSync(root, { recursive: true, force: true })
try {
  console.log(`rsync benchmark: ${FILES} files, no changes, ${ROUNDS} rounds, medians (${process.version})`)
  makeTree()
  await runRsync({ source, destination }) // the first copy; every measured run finds nothing to do
  await compare('control', { source, destination }, 1, true)
  await compare('plain', { source, destination }, 1.05)
  await compare('progress events on', { source, destination, progress: true, stats: true }, 1.1)
} finally {
  fs.rmSync(root, { recursive: true, force: true })
}

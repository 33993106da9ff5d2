// Benchmark of the rsb program, run by `pnpm bench cli` after the build.
//
// 1. A full run (backup, snapshot, rotate) of a 20,000-file tree with nothing changed, against the floor: the
//    same rsync argv plus `cp --archive --link` run directly. Alternating, medians, ratio (goal <= 1.10).
// 2. `rsb --version` against `node -e 0` (goal <= 1.5): the start-up cost of the program.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { buildRsyncArgs } from '../../rsync/dist/index.js'

const BIN = path.resolve(import.meta.dirname, '../dist/bin/rsb.js')
const FILES = 20_000
const RUNS = Number(process.env.RSB_BENCH_RUNS ?? 7)
const STARTS = Number(process.env.RSB_BENCH_STARTS ?? 30)

function run(file, args, env = {}) {
  const started = process.hrtime.bigint()
  const result = spawnSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } })
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${result.status ?? result.signal}: ${result.stderr}`)
  return ms
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const pad = (n) => String(n).padStart(2, '0')
const snapshotName = (d) =>
  `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rsb-bench-'))
try {
  const source = path.join(root, 'source')
  for (let d = 0; d < FILES / 100; d++) {
    const dir = path.join(source, `dir-${d}`)
    fs.mkdirSync(dir, { recursive: true })
    for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(dir, `file-${f}.txt`), `file ${d}/${f}\n`)
  }
  const rsbDest = path.join(root, 'rsb')
  const floorDest = path.join(root, 'floor')
  const rsbArgs = ['--no-sudo', '--disable-notifications', '--quiet', source, `${rsbDest}/latest`]
  // the argv rsb runs (rsync-system-backup's), as root or with --no-sudo: HOME empty
  const [, ...rsyncArgs] = buildRsyncArgs({ source, destination: `${floorDest}/latest`, timeout: 600 })
  // first runs populate both destinations (not timed)
  run(process.execPath, [BIN, ...rsbArgs])
  fs.mkdirSync(floorDest)
  run('rsync', rsyncArgs, { HOME: '' })
  run('cp', ['--archive', '--link', `${floorDest}/latest`, `${floorDest}/first`])

  const rsbTimes = []
  const floorTimes = []
  const sameWorkTimes = []
  let previous
  let last = 0
  for (let i = 0; i < RUNS; i++) {
    // one snapshot name per second: never make rsb wait for the next second
    while (Date.now() - last < 1100) spawnSync('sleep', ['0.05'])
    last = Date.now()
    rsbTimes.push(run(process.execPath, [BIN, ...rsbArgs]))
    const snapshot = `${floorDest}/${snapshotName(new Date())}-${i}`
    const floorTime = run('rsync', rsyncArgs, { HOME: '' }) + run('cp', ['--archive', '--link', `${floorDest}/latest`, snapshot])
    floorTimes.push(floorTime)
    // rsb's default rotation deletes the previous snapshot of the same hour (only the hour's oldest and this
    // run's are kept): the same deletion done directly, for a second, like-for-like ratio
    const removal = i >= 1 ? run('rm', ['-fR', previous]) : 0
    previous = snapshot
    sameWorkTimes.push(floorTime + removal)
  }
  const full = median(rsbTimes)
  const floor = median(floorTimes)
  console.log(`full run, ${FILES} files, nothing changed (${RUNS} alternating runs, medians)`)
  console.log(`  rsb (backup, snapshot, rotate)     ${full.toFixed(0)} ms`)
  console.log(`  floor (rsync + cp --archive --link) ${floor.toFixed(0)} ms`)
  console.log(`  ratio ${(full / floor).toFixed(3)} (goal <= 1.10)`)
  const sameWork = median(sameWorkTimes.slice(1))
  console.log(`  floor + the rotation's rm -fR of the previous snapshot ${sameWork.toFixed(0)} ms`)
  console.log(`  ratio against the same work done directly ${(median(rsbTimes.slice(1)) / sameWork).toFixed(3)}`)
  console.log(`  snapshots kept by rsb's default rotation: ${fs.readdirSync(rsbDest).length - 1}`)

  const versionTimes = []
  const nodeTimes = []
  for (let i = 0; i < STARTS; i++) {
    versionTimes.push(run(process.execPath, [BIN, '--version']))
    nodeTimes.push(run(process.execPath, ['-e', '0']))
  }
  const version = median(versionTimes)
  const node = median(nodeTimes)
  console.log(`start-up (${STARTS} alternating runs, medians)`)
  console.log(`  rsb --version ${version.toFixed(1)} ms`)
  console.log(`  node -e 0     ${node.toFixed(1)} ms`)
  console.log(`  ratio ${(version / node).toFixed(3)} (goal <= 1.5)`)
} finally {
  fs.rmSync(root, { recursive: true, force: true })
}

// pnpm bench hashes — what recording content hashes costs a backup: full `rsb backup` runs of a
// 20,000-file tree (80 MiB) with nothing changed and with 1% of the files changed, interleaved (medians of 5).
// - The hashing step (the walk of the mirror, the previous snapshot's record, the hashing of the new inodes and the
//   writing of the record: the manifest's `hashes.seconds`) runs while cp --archive --link copies the mirror. What it
//   adds to the run is the snapshot step ("Took … to create snapshot") minus the same cp -al run alone (the baseline,
//   timed in the same rounds), printed as a share of the whole run.
// - The step against the cost it must stay far below: re-reading the tree (b2sum of every file, page cache).
// - The throughput of the hashes rsb could use, on one 256 MiB file in the page cache: why rsb uses coreutils' b2sum
//   (it runs where the files are, also on a server without node).
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const bin = path.join(import.meta.dirname, '..', 'dist', 'bin', 'rsb.js')
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const seconds = (value) => `${value.toFixed(3)} s`
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
const FILES = 20_000
const CHANGED = FILES / 100

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rsb-hashes-bench-'))
try {
  const source = path.join(dir, 'source')
  const store = path.join(dir, 'store')
  for (let d = 0; d < 100; d++) {
    fs.mkdirSync(path.join(source, `d${d}`), { recursive: true })
    for (let f = 0; f < FILES / 100; f++) fs.writeFileSync(path.join(source, `d${d}`, `f${f}`), Buffer.alloc(4096, (d * 7 + f) % 251))
  }
  let round = 0
  const backup = () => {
    sleep(1100) // snapshots are named by the second
    const started = performance.now()
    const result = spawnSync(
      process.execPath,
      [bin, '--no-sudo', '--disable-notifications', '--keep-latest=100', source, path.join(store, 'latest')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const elapsed = (performance.now() - started) / 1000
    if (result.status !== 0) throw new Error(`rsb backup exited with ${result.status}: ${result.stderr}`)
    const records = path.join(store, '.rsb', 'snapshots')
    const newest = fs.readdirSync(records).sort().at(-1)
    const { manifest } = JSON.parse(fs.readFileSync(path.join(records, newest), 'utf8'))
    if (!manifest?.hashes) throw new Error(`snapshot ${newest} has no hashes: ${result.stderr}`)
    const took = /Took ([\d.]+) seconds? to create snapshot\./.exec(result.stderr.toString())
    if (!took) throw new Error(`no snapshot time in: ${result.stderr}`)
    return { elapsed, snapshot: Number(took[1]), hashing: manifest.hashes.seconds, hashed: manifest.hashes.hashedFiles }
  }
  const change = () => {
    round++
    for (let i = 0; i < CHANGED; i++) {
      const d = i % 100
      const f = Math.floor(i / 100) + round
      fs.writeFileSync(path.join(source, `d${d}`, `f${f % (FILES / 100)}`), Buffer.alloc(4096, (round + i) % 251))
    }
  }
  backup() // the first snapshot hashes everything
  sleep(2500) // past the moment a next run looks back to (ctime margin)
  backup()
  const still = []
  const some = []
  const reread = []
  const copy = []
  for (let i = 0; i < 5; i++) {
    still.push(backup())
    const target = path.join(dir, 'copy')
    const copying = performance.now()
    const cp = spawnSync('cp', ['--archive', '--link', '--no-target-directory', '--', path.join(store, 'latest'), target])
    copy.push((performance.now() - copying) / 1000)
    if (cp.status !== 0) throw new Error(`cp -al failed: ${cp.stderr}`)
    fs.rmSync(target, { recursive: true })
    change()
    sleep(2500)
    some.push(backup())
    const started = performance.now()
    const all = spawnSync('sh', ['-c', 'find "$1" -type f -print0 | xargs -0 b2sum -l 256 > /dev/null', 'sh', source])
    if (all.status !== 0) throw new Error(`b2sum of the tree failed: ${all.stderr}`)
    reread.push((performance.now() - started) / 1000)
  }
  const report = (label, runs) => {
    const run = median(runs.map((r) => r.elapsed))
    const hashing = median(runs.map((r) => r.hashing))
    const hashed = median(runs.map((r) => r.hashed))
    const added = median(runs.map((r) => r.snapshot)) - median(copy)
    console.log(
      `${label}: run ${seconds(run)}; snapshot step ${seconds(median(runs.map((r) => r.snapshot)))} vs cp -al alone ` +
        `${seconds(median(copy))}: ${added >= 0 ? '+' : ''}${seconds(added)} = ${((100 * added) / run).toFixed(1)}% of the run; ` +
        `the hashing step itself ${seconds(hashing)} (${hashed} file(s) hashed) = ${(hashing / median(reread)).toFixed(2)}× a re-read of the tree`,
    )
  }
  console.log(
    `tree: ${FILES} files, ${(FILES * 4096) / 2 ** 20} MiB; a re-read of the tree (b2sum of every file): ${seconds(median(reread))}`,
  )
  report('nothing changed', still)
  report(`${CHANGED} files (1%) changed`, some)

  // throughput of the candidates, one 256 MiB file in the page cache
  const big = path.join(dir, 'big')
  fs.writeFileSync(big, Buffer.alloc(256 * 2 ** 20, 0x5a))
  const throughput = (label, run) => {
    const times = []
    for (let i = 0; i < 3; i++) {
      const started = performance.now()
      run()
      times.push((performance.now() - started) / 1000)
    }
    return `${label} ${Math.round(256 / median(times))} MiB/s`
  }
  const program =
    (name, ...args) =>
    () => {
      const result = spawnSync(name, [...args, big], { stdio: ['ignore', 'ignore', 'pipe'] })
      if (result.status !== 0) throw new Error(`${name} failed: ${result.stderr}`)
    }
  const node = (algorithm) => () => {
    const hash = createHash(algorithm)
    const fd = fs.openSync(big, 'r')
    const buffer = Buffer.alloc(1 << 20)
    for (let n; (n = fs.readSync(fd, buffer)) > 0;) hash.update(buffer.subarray(0, n))
    fs.closeSync(fd)
    hash.digest()
  }
  console.log(
    `hash throughput: ${[
      throughput('b2sum -l 256 (rsb)', program('b2sum', '-l', '256')),
      throughput('sha256sum', program('sha256sum')),
      throughput('md5sum', program('md5sum')),
      throughput('node sha256', node('sha256')),
      throughput('node blake2b512', node('blake2b512')),
    ].join(', ')}`,
  )
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}

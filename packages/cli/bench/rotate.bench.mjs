// pnpm bench rotate — the whole `rsb-rotate --dry-run --json` process (rsb rotate's program) on a directory of 10,000
// entries against `node -e 0` in the same run (medians of 7, interleaved). Goal: within 3× of bare node start-up;
// rotate-backups 8.1 took about 1.3 s for the same job on a 2-vCPU VM.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { formatSnapshotName } from '@rsb/rotation'

const bin = path.join(import.meta.dirname, '..', 'dist', 'bin', 'rsb-rotate.js')
const mainEntry = pathToFileURL(path.join(import.meta.dirname, '..', 'dist', 'commands', 'rotate', 'main.js')).href
const FULL = ['--hourly=24', '--daily=7', '--weekly=4', '--monthly=12', '--yearly=always']
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const ms = (value) => `${value.toFixed(1)} ms`

/** 10,000 snapshot names, one per hour, ending 2024-12-31 23:00 local time. */
const end = new Date(2024, 11, 31, 23).getTime()
const names = Array.from({ length: 10_000 }, (_, i) => formatSnapshotName(new Date(end - i * 3_600_000)))

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rsb-rotate-bench-'))
try {
  for (const name of new Set(names)) fs.closeSync(fs.openSync(path.join(dir, name), 'w'))
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
  if (backups !== new Set(names).size) throw new Error(`expected ${new Set(names).size} backups in --json, got ${backups}`)
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

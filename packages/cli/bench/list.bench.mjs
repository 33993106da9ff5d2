// pnpm bench list — the whole `rsb list --json` process on a store of 1,000 snapshots (real records, each with a
// manifest), against `node -e 0` and `rsb --version` in the same run (medians of 7, interleaved). Goal: well under a
// second (the words); the ratio to bare node start-up shows what listing costs beyond starting.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const bin = path.join(import.meta.dirname, '..', 'dist', 'bin', 'rsb.js')
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const ms = (value) => `${value.toFixed(1)} ms`

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rsb-list-bench-'))
try {
  const store = path.join(dir, 'store')
  fs.mkdirSync(path.join(dir, 'source'))
  fs.writeFileSync(path.join(dir, 'source', 'a'), 'a')
  const first = spawnSync(process.execPath, [
    bin,
    '--no-sudo',
    '--disable-notifications',
    '-q',
    path.join(dir, 'source'),
    path.join(store, 'latest'),
  ])
  if (first.status !== 0) throw new Error(`the first backup failed: ${first.stderr}`)
  const [made] = fs.readdirSync(path.join(store, '.rsb', 'snapshots'))
  const record = JSON.parse(fs.readFileSync(path.join(store, '.rsb', 'snapshots', made), 'utf8'))
  const start = Date.parse('2024-01-01T00:00:00Z')
  for (let i = 0; i < 999; i++) {
    const moment = new Date(start + i * 3_600_000)
    const name = moment.toISOString().slice(0, 19).replace('T', ' ')
    fs.mkdirSync(path.join(store, name))
    fs.writeFileSync(
      path.join(store, '.rsb', 'snapshots', `${name}.json`),
      `${JSON.stringify({ ...record, snapshot: name, created: moment.toISOString() })}\n`,
    )
  }
  const run = (args) => {
    const started = performance.now()
    const result = spawnSync(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, TZ: 'UTC' },
    })
    const elapsed = performance.now() - started
    if (result.status !== 0) throw new Error(`${args.join(' ')} exited with ${result.status}: ${result.stderr}`)
    return { elapsed, stdout: result.stdout }
  }
  const bare = []
  const version = []
  const list = []
  let output
  for (let i = 0; i < 7; i++) {
    bare.push(run(['-e', '0']).elapsed)
    version.push(run([bin, '--version']).elapsed)
    const result = run([bin, 'list', '--json', path.join(store, 'latest')])
    list.push(result.elapsed)
    output = result.stdout
  }
  const snapshots = JSON.parse(output.toString()).snapshots.length
  if (snapshots !== 1000) throw new Error(`expected 1,000 snapshots in rsb list --json, got ${snapshots}`)
  console.log('\nWhole process, rsb list --json on a store of 1,000 snapshots with manifests:')
  console.log(`  node -e 0:      ${ms(median(bare))}`)
  console.log(`  rsb --version:  ${ms(median(version))}`)
  console.log(`  rsb list:       ${ms(median(list))}`)
  console.log(
    `  ratio: ${(median(list) / median(bare)).toFixed(2)}× bare node start-up; ${(median(list) / 1000).toFixed(2)}× the goal's second (goal: well under 1×)`,
  )
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}

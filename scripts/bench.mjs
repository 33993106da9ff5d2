// Runs every package benchmark (packages/*/bench/*.bench.mjs) after a build, one after the other.
// Each benchmark compares against its baseline in the same run and prints the ratio.
// Usage: pnpm bench [FILTER]   (FILTER: a substring of the benchmark's path, e.g. "rotation")
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '..')
const filter = process.argv[2] ?? ''
const build = spawnSync('pnpm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' })
if (build.status !== 0) process.exit(build.status ?? 1)

const files = []
for (const pkg of fs.readdirSync(path.join(root, 'packages')).sort()) {
  const dir = path.join(root, 'packages', pkg, 'bench')
  if (!fs.existsSync(dir)) continue
  for (const file of fs.readdirSync(dir).sort()) {
    if (file.endsWith('.bench.mjs') && path.join(pkg, file).includes(filter)) files.push(path.join(dir, file))
  }
}
let failed = 0
for (const file of files) {
  console.log(`\n== ${path.relative(root, file)}`)
  const run = spawnSync(process.execPath, [file], { cwd: path.dirname(path.dirname(file)), stdio: 'inherit' })
  if (run.status !== 0) {
    failed++
    console.log(`bench: ${path.relative(root, file)} exited with ${run.status ?? run.signal}`)
  }
}
console.log(`\n${files.length - failed} benchmarks ran, ${failed} broke`)
process.exit(failed ? 1 : 0)

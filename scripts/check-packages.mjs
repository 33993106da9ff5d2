// pnpm check:packages — for every published package: publint, @arethetypeswrong/cli (esm-only profile) on the
// packed tarball, and a smoke test that installs all tarballs into an empty temporary project and loads each
// package with ESM `import` and CommonJS `require`. Exits non-zero when anything fails.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '..')
const packages = fs
  .readdirSync(path.join(root, 'packages'))
  .sort()
  .map((dir) => ({
    dir: path.join(root, 'packages', dir),
    manifest: JSON.parse(fs.readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8')),
  }))
  .filter((p) => !p.manifest.private)

let failures = 0
const run = (label, file, args, options = {}) => {
  const result = spawnSync(file, args, { encoding: 'utf8', ...options })
  const ok = result.status === 0
  if (!ok) failures++
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${label}`)
  if (!ok || process.env.VERBOSE) console.log(`${result.stdout ?? ''}${result.stderr ?? ''}`.trim().replace(/^/gm, '     '))
  return result
}

const build = spawnSync('pnpm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' })
if (build.status !== 0) process.exit(1)

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rsb-check-packages-'))
try {
  const tarballs = []
  // @rsb/destination promises zero runtime dependencies.
  const destination = packages.find((p) => p.manifest.name === '@rsb/destination')
  const destinationDeps = Object.keys(destination?.manifest.dependencies ?? {})
  if (!destination || destinationDeps.length > 0) failures++
  console.log(
    `${destination && destinationDeps.length === 0 ? 'ok  ' : 'FAIL'} @rsb/destination has no runtime dependencies${destinationDeps.length ? ` (has ${destinationDeps.join(', ')})` : ''}`,
  )

  for (const { dir, manifest } of packages) {
    run(`publint ${manifest.name}`, 'pnpm', ['exec', 'publint', '--strict', dir], { cwd: root })
    const pack = spawnSync('pnpm', ['pack', '--pack-destination', work], { cwd: dir, encoding: 'utf8' })
    const tarball = fs.readdirSync(work).find((f) => f.startsWith(manifest.name.replace('@', '').replace('/', '-')) && f.endsWith('.tgz'))
    if (pack.status !== 0 || !tarball) {
      failures++
      console.log(`FAIL pack ${manifest.name}\n${pack.stdout}${pack.stderr}`)
      continue
    }
    tarballs.push({ manifest, file: path.join(work, tarball) })
    run(`attw ${manifest.name}`, 'pnpm', ['exec', 'attw', path.join(work, tarball), '--profile', 'esm-only', '--format', 'ascii'], {
      cwd: root,
    })
  }

  const project = path.join(work, 'project')
  fs.mkdirSync(project)
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'smoke', version: '1.0.0', private: true }))
  const install = run(
    'install every tarball into an empty project',
    'npm',
    ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', ...tarballs.map((t) => t.file)],
    { cwd: project },
  )
  if (install.status === 0) {
    for (const { manifest } of tarballs) {
      // every entry point: "." and subpaths such as "@rsb/rotation/io"
      const entries = Object.keys(manifest.exports ?? { '.': null }).filter((key) => !key.endsWith('.json'))
      for (const entry of entries) {
        const specifier = entry === '.' ? manifest.name : `${manifest.name}${entry.slice(1)}`
        const name = JSON.stringify(specifier)
        const check = `if (Object.keys(m).length === 0) throw new Error('no exports')`
        run(`import ${specifier} (ESM)`, process.execPath, ['--input-type=module', '-e', `const m = await import(${name}); ${check}`], {
          cwd: project,
        })
        run(`require ${specifier} (CJS)`, process.execPath, ['-e', `const m = require(${name}); ${check}`], { cwd: project })
      }
      for (const bin of Object.keys(typeof manifest.bin === 'object' ? manifest.bin : {})) {
        run(`${bin} --version`, path.join(project, 'node_modules', '.bin', bin), ['--version'], { cwd: project })
      }
    }
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true })
}
console.log(failures ? `check:packages: ${failures} problem(s)` : 'check:packages: all clean')
process.exit(failures ? 1 : 0)

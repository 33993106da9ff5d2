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
      const name = JSON.stringify(manifest.name)
      run(
        `import ${manifest.name} (ESM)`,
        process.execPath,
        ['--input-type=module', '-e', `const m = await import(${name}); if (Object.keys(m).length === 0) throw new Error('no exports')`],
        { cwd: project },
      )
      run(
        `require ${manifest.name} (CJS)`,
        process.execPath,
        ['-e', `const m = require(${name}); if (Object.keys(m).length === 0) throw new Error('no exports')`],
        { cwd: project },
      )
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

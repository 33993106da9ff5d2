// pnpm check:packages — for every published package: publint, @arethetypeswrong/cli (esm-only profile) on the
// packed tarball, a smoke test that installs all tarballs into an empty temporary project and loads each package
// with ESM `import` and CommonJS `require`, and for each package a project holding only it (and its @rsb
// dependencies) where its types compile under `tsc --strict`. Exits non-zero when anything fails.
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

  // Each package's types under `tsc --strict` with default settings (no skipLibCheck) in a fresh consumer project
  // holding only that package, the @rsb packages it depends on, and @types/node: ESM (.mts) and CommonJS (.cts).
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const byName = new Map(tarballs.map((t) => [t.manifest.name, t]))
  const closure = (name, seen = new Set()) => {
    if (seen.has(name) || !byName.has(name)) return seen
    seen.add(name)
    for (const dep of Object.keys(byName.get(name).manifest.dependencies ?? {})) closure(dep, seen)
    return seen
  }
  for (const { manifest } of tarballs) {
    const consumer = path.join(work, `types-${manifest.name.replace('@', '').replace('/', '-')}`)
    fs.mkdirSync(consumer)
    fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }))
    const files = [...closure(manifest.name)].map((name) => byName.get(name).file)
    const installed = run(
      `install ${manifest.name} alone (with its own @rsb dependencies)`,
      'npm',
      ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', ...files, '@types/node@20'],
      { cwd: consumer },
    )
    if (installed.status !== 0) continue
    const entries = Object.keys(manifest.exports ?? { '.': null })
      .filter((key) => !key.endsWith('.json'))
      .map((entry) => (entry === '.' ? manifest.name : `${manifest.name}${entry.slice(1)}`))
    fs.writeFileSync(
      path.join(consumer, 'esm.mts'),
      `${entries.map((e, i) => `import * as m${i} from ${JSON.stringify(e)}`).join('\n')}\nexport const all = [${entries.map((_, i) => `m${i}`).join(', ')}]\n`,
    )
    fs.writeFileSync(
      path.join(consumer, 'cjs.cts'),
      `${entries.map((e, i) => `import m${i} = require(${JSON.stringify(e)})`).join('\n')}\nexport = [${entries.map((_, i) => `m${i}`).join(', ')}]\n`,
    )
    const compilerOptions = { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', types: ['node'] }
    fs.writeFileSync(path.join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['esm.mts', 'cjs.cts'] }))
    run(`tsc --strict: the types of ${manifest.name} (ESM and CJS)`, process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer })
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true })
}
console.log(failures ? `check:packages: ${failures} problem(s)` : 'check:packages: all clean')
process.exit(failures ? 1 : 0)

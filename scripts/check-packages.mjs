// pnpm check:packages — the release plan of the pending changesets (no major bump of a 0.x package); for every
// published package: publint, @arethetypeswrong/cli (esm-only profile) on the
// packed tarball, a smoke test that installs all tarballs into an empty temporary project and loads each package
// with ESM `import` and CommonJS `require`, and for each package a project holding only it (and the @rsb packages
// it depends on, peer dependencies included) where its types compile under `tsc --strict`. Then @rsb/rotation
// installed alone (no other @rsb tarball): its node_modules hold no execa, ssh2, @rsb/exec or other @rsb package,
// and the README's `## Example` prints what its `// comments` say as ESM (.mjs), as CommonJS (.cjs, imports
// rewritten to `require`) and as TypeScript (.mts, checked and compiled by `tsc --strict`). Exits non-zero when
// anything fails.
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
// one `ok`/`FAIL` line; the details, indented, on failure (always with VERBOSE=1)
const report = (label, ok, details = '') => {
  if (!ok) failures++
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${label}`)
  if ((!ok || process.env.VERBOSE) && details.trim()) console.log(details.trim().replace(/^/gm, '     '))
  return ok
}
const run = (label, file, args, options = {}) => {
  const result = spawnSync(file, args, { encoding: 'utf8', ...options })
  report(label, result.status === 0, `${result.stdout ?? ''}${result.stderr ?? ''}`)
  return result
}
// every package in dir's node_modules, nested node_modules included: [{ name, at: path relative to dir }]
const installedPackages = (dir) => {
  const found = []
  const walk = (modules) => {
    if (!fs.existsSync(modules)) return
    for (const entry of fs.readdirSync(modules)) {
      if (entry.startsWith('.')) continue
      const names = entry.startsWith('@') ? fs.readdirSync(path.join(modules, entry)).map((n) => `${entry}/${n}`) : [entry]
      for (const name of names) {
        found.push({ name, at: path.relative(dir, path.join(modules, name)) })
        walk(path.join(modules, name, 'node_modules'))
      }
    }
  }
  walk(path.join(dir, 'node_modules'))
  return found
}
// runs a README example; ok when it exits with 0 and its stdout lines are the expected ones, in order
const runExample = (label, file, args, options, expected) => {
  const result = spawnSync(file, args, { encoding: 'utf8', ...options })
  const printed = result.stdout ? result.stdout.replace(/\n$/, '').split('\n') : []
  const same = printed.length === expected.length && printed.every((line, i) => line === expected[i])
  const lines = (title, list) => [title, ...list.map((line) => `  ${line}`)].join('\n')
  const details = [
    result.status === 0 ? '' : `exit status ${result.status ?? result.signal}\n${result.stderr ?? result.error ?? ''}`,
    same ? '' : `${lines('expected:', expected)}\n${lines('printed:', printed)}`,
  ]
  report(label, result.status === 0 && same, details.filter(Boolean).join('\n'))
  return result
}

const build = spawnSync('pnpm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' })
if (build.status !== 0) process.exit(1)

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rsb-check-packages-'))
try {
  // The release plan of the pending changesets: every package is 0.x, so a breaking change is a minor bump, and a
  // major bump is a mistake (changesets makes one of a peer dependency's bump unless the peer range still holds).
  const plan = path.join(work, 'release-plan.json')
  const status = spawnSync('pnpm', ['exec', 'changeset', 'status', `--output=${plan}`], { cwd: root, encoding: 'utf8' })
  const majors = status.status === 0 ? JSON.parse(fs.readFileSync(plan, 'utf8')).releases.filter((r) => r.type === 'major') : []
  report(
    'changesets release plan: no major bump of a 0.x package',
    status.status === 0 && majors.length === 0,
    status.status === 0 ? majors.map((r) => `${r.name}: ${r.oldVersion} -> major`).join('\n') : `${status.stdout}${status.stderr}`,
  )
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
  // dependencies and peer dependencies (optional ones too: @rsb/rotation/io's types import @rsb/exec)
  const closure = (name, seen = new Set()) => {
    if (seen.has(name) || !byName.has(name)) return seen
    seen.add(name)
    const { dependencies, peerDependencies } = byName.get(name).manifest
    for (const dep of Object.keys({ ...dependencies, ...peerDependencies })) closure(dep, seen)
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

  // @rsb/rotation's planner installed alone, without any other @rsb tarball: no execa, ssh2 or @rsb/exec comes
  // with it, and its README example runs as ESM, as CommonJS and as compiled TypeScript.
  const rotation = byName.get('@rsb/rotation')
  const alone = path.join(work, 'rotation-alone')
  fs.mkdirSync(alone)
  fs.writeFileSync(path.join(alone, 'package.json'), JSON.stringify({ name: 'rotation-alone', version: '1.0.0', private: true }))
  const aloneInstalled =
    rotation &&
    run(
      'install @rsb/rotation alone (no other @rsb tarball)',
      'npm',
      ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', rotation.file, '@types/node@20'],
      { cwd: alone },
    ).status === 0
  if (!rotation) report('install @rsb/rotation alone (no other @rsb tarball): no @rsb/rotation tarball', false)
  // a check that cannot run is a failure, never a silent pass
  const notChecked = (label) => report(`${label} (not checked: @rsb/rotation alone did not install)`, false)
  const aloneContents = aloneInstalled ? installedPackages(alone) : []
  const hasRotation = aloneContents.some((p) => p.name === '@rsb/rotation')
  const absent = (label, unwanted) => {
    if (!aloneInstalled) return notChecked(label)
    const found = aloneContents.filter((p) => unwanted(p.name)).map((p) => p.at)
    const details = [hasRotation ? '' : 'node_modules/@rsb/rotation itself is missing', ...found.map((at) => `found ${at}`)]
    return report(label, hasRotation && found.length === 0, details.filter(Boolean).join('\n'))
  }
  absent('@rsb/rotation alone: no execa in node_modules', (name) => name === 'execa')
  absent('@rsb/rotation alone: no ssh2 in node_modules', (name) => name === 'ssh2')
  absent(
    '@rsb/rotation alone: no @rsb/exec (nor any @rsb package but @rsb/rotation) in node_modules',
    (name) => name.startsWith('@rsb/') && name !== '@rsb/rotation',
  )

  const readme = fs.readFileSync(path.join(root, 'packages', 'rotation', 'README.md'), 'utf8')
  const example = /^## Example\n\n```ts\n([\s\S]*?)\n```$/m.exec(readme)?.[1]
  const exampleLabels = [
    'README example of @rsb/rotation as example.mjs (node)',
    'README example of @rsb/rotation as example.cjs (node, imports rewritten to require)',
    'tsc --strict: README example of @rsb/rotation as example.mts (type-check and compile)',
    'README example of @rsb/rotation as compiled out/example.mjs (node)',
  ]
  if (example === undefined) {
    report('README example of @rsb/rotation: no "## Example" TypeScript block in packages/rotation/README.md', false)
  } else if (!aloneInstalled) {
    for (const label of exampleLabels) notChecked(label)
  } else {
    const [mjsLabel, cjsLabel, tscLabel, outLabel] = exampleLabels
    // what the `console.log(…) // TEXT` comments say it prints, in order (as in packages/testkit/src/readme.ts)
    const expected = [...example.matchAll(/console\.log\(.*\) \/\/ (.*)$/gm)].map((match) => match[1])
    // import { A, B as C } from 'x'  ->  const { A, B: C } = require('x')
    const cjs = example.replace(
      /^import\s*\{([^}]*)\}\s*from\s*('[^'\n]*'|"[^"\n]*")/gm,
      (_, names, from) =>
        `const { ${names
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean)
          .map((n) => n.replace(/\s+as\s+/, ': '))
          .join(', ')} } = require(${from})`,
    )
    fs.writeFileSync(path.join(alone, 'example.mjs'), example)
    fs.writeFileSync(path.join(alone, 'example.cjs'), cjs)
    fs.writeFileSync(path.join(alone, 'example.mts'), example)
    runExample(mjsLabel, process.execPath, ['example.mjs'], { cwd: alone }, expected)
    runExample(cjsLabel, process.execPath, ['example.cjs'], { cwd: alone }, expected)
    const compilerOptions = { strict: true, module: 'nodenext', moduleResolution: 'nodenext', types: ['node'], outDir: 'out' }
    fs.writeFileSync(path.join(alone, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['example.mts'] }))
    const compiled = run(tscLabel, process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: alone })
    if (compiled.status === 0) runExample(outLabel, process.execPath, [path.join('out', 'example.mjs')], { cwd: alone }, expected)
    else report(`${outLabel} (not run: tsc failed)`, false)
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true })
}
console.log(failures ? `check:packages: ${failures} problem(s)` : 'check:packages: all clean')
process.exit(failures ? 1 : 0)

// The planner entry point (`@rsb/rotation`) stays free of I/O: it never loads @rsb/exec, execa, ssh2, node:fs or
// node:child_process. Checked here at run time on the BUILT dist/index.js (a child node process whose resolve hook
// records every specifier it sees; needs `tsc -b` first, as scripts/test.sh does); pure.test.ts checks the import
// graph of src/index.ts statically.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { testdir } from '@rsb/testkit'
import { describe, expect, it } from 'vitest'

const packageDir = path.dirname(import.meta.dirname)
const builtIndex = path.join(packageDir, 'dist', 'index.js')

/** Specifiers the planner must never load, directly or through a dependency. */
const FORBIDDEN = /^(?:@rsb\/exec|execa|ssh2|(?:node:)?(?:fs|child_process))(?:\/|$)/

interface Resolution {
  specifier: string
  parent: string | undefined
  url: string
}

describe('dist/index.js (built) loads no I/O module', () => {
  // never a silent skip: a missing build is a failure that says so
  it('is built (pnpm build, as scripts/test.sh does)', () => {
    expect(fs.existsSync(builtIndex), `${builtIndex} is missing: build first`).toBe(true)
  })

  it('a child node process importing it resolves neither @rsb/exec, execa, ssh2, node:fs nor node:child_process', async () => {
    const dir = await testdir()
    const log = path.join(dir, 'resolutions.ndjson')
    const hooks = path.join(dir, 'hooks.mjs')
    fs.writeFileSync(
      hooks,
      [
        "import { appendFileSync } from 'node:fs'",
        'export async function resolve(specifier, context, next) {',
        '  const result = await next(specifier, context)',
        `  appendFileSync(${JSON.stringify(log)}, JSON.stringify({ specifier, parent: context.parentURL, url: result.url }) + '\\n')`,
        '  return result',
        '}',
      ].join('\n'),
    )
    const register = path.join(dir, 'register.mjs')
    fs.writeFileSync(register, `import { register } from 'node:module'\nregister(${JSON.stringify(pathToFileURL(hooks).href)})\n`)
    const entry = path.join(dir, 'entry.mjs')
    fs.writeFileSync(
      entry,
      [
        `const planner = await import(${JSON.stringify(pathToFileURL(builtIndex).href)})`,
        "const { backups } = planner.collectBackups(['2024-01-01', '2024-01-02'])",
        'const plan = planner.planRotation(backups, { scheme: { daily: 1 } })',
        "console.log(JSON.stringify({ actions: plan.decisions.map((d) => d.action), builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')) }))",
      ].join('\n'),
    )
    const child = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, entry], { encoding: 'utf8' })
    expect(child.stderr).toBe('')
    expect(child.status).toBe(0)
    const { actions, builtins } = JSON.parse(child.stdout) as { actions: string[]; builtins: string[] }
    expect(actions).toEqual(['delete', 'keep']) // it really loaded and planned

    const resolutions = fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Resolution)
    const entryUrl = pathToFileURL(entry).href
    const loaded = resolutions.filter((r) => r.parent !== entryUrl && r.url !== entryUrl)
    expect(loaded.length).toBeGreaterThan(5) // the hook saw the planner's own modules
    expect(loaded.filter((r) => FORBIDDEN.test(r.specifier) || FORBIDDEN.test(r.url))).toEqual([])
    // Only the package's own dist files and luxon, nothing else from node_modules or the workspace.
    const distUrl = pathToFileURL(path.join(packageDir, 'dist')).href + '/'
    const foreign = loaded.filter((r) => r.url.startsWith('file:') && !r.url.startsWith(distUrl) && !/\/luxon\//.test(r.url))
    expect(foreign).toEqual([])
    expect(loaded.filter((r) => !r.specifier.startsWith('.')).map((r) => r.specifier)).toEqual(['luxon'])
    // No CommonJS side door either: the child_process module was never instantiated.
    expect(builtins.filter((m) => /\bchild_process$/.test(m))).toEqual([])
  })
})

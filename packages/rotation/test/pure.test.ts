// The planner entry point (`@rsb/rotation`) stays free of I/O: it never loads @rsb/exec, execa, ssh2, node:fs or
// node:child_process. Checked twice: at run time on the BUILT dist/index.js (a child node process whose resolve
// hook records every specifier it sees; needs `tsc -b` first, as scripts/test.sh does), and statically on the
// import graph of src/index.ts.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const packageDir = path.dirname(import.meta.dirname)

/** Specifiers the planner must never load, directly or through a dependency. */
const FORBIDDEN = /^(?:@rsb\/exec|execa|ssh2|(?:node:)?(?:fs|child_process))(?:\/|$)/

/** The import and re-export specifiers of a TypeScript file (type-only imports are erased and skipped). */
function importSpecifiers(source: string): string[] {
  const specifiers: string[] = []
  const statement = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm
  for (const match of source.matchAll(statement)) if (!match[2]) specifiers.push(match[3]!)
  for (const match of source.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]/g)) specifiers.push(match[1]!)
  for (const match of source.matchAll(/\brequire\s*\(\s*['"]([^'"]+)['"]/g)) specifiers.push(match[1]!)
  return specifiers
}

describe('src/index.ts import graph', () => {
  it('reaches only planner files (no src/io, src/cli or bin.ts) and no I/O module', () => {
    const src = path.join(packageDir, 'src')
    const seen = new Set<string>()
    const external = new Set<string>()
    const pending = [path.join(src, 'index.ts')]
    while (pending.length > 0) {
      const file = pending.pop()!
      if (seen.has(file)) continue
      seen.add(file)
      for (const specifier of importSpecifiers(fs.readFileSync(file, 'utf8'))) {
        if (specifier.startsWith('.')) pending.push(path.resolve(path.dirname(file), specifier).replace(/\.js$/, '.ts'))
        else external.add(specifier)
      }
    }
    const files = [...seen].map((file) => path.relative(src, file)).sort()
    expect(files).toContain('plan.ts')
    expect(files.filter((file) => file.includes('/') || file === 'bin.ts')).toEqual([])
    // Every top-level source file but bin.ts is part of the planner, and so is checked here.
    const topLevel = fs.readdirSync(src).filter((name) => name.endsWith('.ts') && name !== 'bin.ts')
    expect(files).toEqual(topLevel.sort())
    expect([...external].filter((specifier) => FORBIDDEN.test(specifier))).toEqual([])
    expect([...external]).toEqual(['luxon'])
  })
})

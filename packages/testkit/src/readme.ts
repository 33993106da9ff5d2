import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { onTestFinished, vi } from 'vitest'

/** What {@link runReadmeExample} found and saw. */
export interface ReadmeExampleRun {
  /** What the example's `console.log(…) // TEXT` comments say it prints, in order. */
  expected: string[]
  /** What it printed. */
  printed: string[]
}

/**
 * Runs the TypeScript block under the `## Example` heading of a package's README.md, with every
 * `from '@rsb/NAME'` pointing at that package's source, and collects what it prints with `console.log`.
 * Call it inside a test; compare `printed` with `expected`.
 */
export async function runReadmeExample(packageDir: string): Promise<ReadmeExampleRun> {
  const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8')
  const example = /^## Example\n\n```ts\n([\s\S]*?)\n```$/m.exec(readme)?.[1]
  if (example === undefined) throw new Error(`no "## Example" TypeScript block in ${packageDir}/README.md`)
  const packages = path.dirname(packageDir)
  const code = example.replace(
    /from '@rsb\/([a-z-]+)'/g,
    (_, name: string) => `from ${JSON.stringify(path.join(packages, name, 'src/index.ts'))}`,
  )
  const expected = [...code.matchAll(/console\.log\(.*\) \/\/ (.*)$/gm)].map((match) => match[1] as string)

  const dir = mkdtempSync(path.join(tmpdir(), 'rsb-readme-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'example.ts')
  writeFileSync(file, code)
  const printed: string[] = []
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')))
  try {
    await import(/* @vite-ignore */ file)
  } finally {
    log.mockRestore()
  }
  return { expected, printed }
}

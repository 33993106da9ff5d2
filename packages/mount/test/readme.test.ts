import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it, onTestFinished, vi } from 'vitest'

const packageDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)))

it("runs the README's example and prints what its comments say", async () => {
  const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8')
  const example = /^## Example\n\n```ts\n([\s\S]*?)\n```$/m.exec(readme)?.[1]
  expect(example).toBeDefined()
  const code = (example as string)
    .replace("from '@rsb/mount'", `from ${JSON.stringify(path.join(packageDir, 'src/index.ts'))}`)
    .replace("from '@rsb/exec'", `from ${JSON.stringify(path.join(packageDir, '../exec/src/index.ts'))}`)
  const expected = [...code.matchAll(/console\.log\(.*\) \/\/ (.*)$/gm)].map((match) => match[1])

  const dir = mkdtempSync(path.join(tmpdir(), 'rsb-mount-readme-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'example.ts')
  writeFileSync(file, code)
  const printed: string[] = []
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')))
  onTestFinished(() => log.mockRestore())
  await import(/* @vite-ignore */ file)
  expect(expected.length).toBeGreaterThan(4)
  expect(printed).toEqual(expected)
})

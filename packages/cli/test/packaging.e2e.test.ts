// The program as users reach it: the bin entries of package.json, `pnpm rsb` from a clone, and the README
// against what `rsb --help` prints (every option and exit status the help names is documented).
import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { BIN, runRsb, type RsbResult } from './helpers.ts'

const PACKAGE = path.resolve(import.meta.dirname, '..')
const REPO = path.resolve(import.meta.dirname, '../../..')

const readJson = async (file: string) => JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>

/** The lines of `text` from the line equal to `heading` up to the next empty line. */
function section(text: string, heading: string): string[] {
  const lines = text.split('\n')
  const start = lines.indexOf(heading)
  expect(start, `no '${heading}' in\n${text}`).toBeGreaterThanOrEqual(0)
  const rest = lines.slice(start + 1)
  const end = rest.indexOf('')
  return end === -1 ? rest : rest.slice(0, end)
}

/** The rows of the first Markdown table after `heading` (cells trimmed, header and separator left out). */
function markdownTable(markdown: string, heading: string): string[][] {
  const lines = markdown.split('\n')
  const start = lines.indexOf(heading)
  expect(start, `no '${heading}' in the README`).toBeGreaterThanOrEqual(0)
  const first = lines.findIndex((line, i) => i > start && line.startsWith('|'))
  const rows: string[][] = []
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break
    rows.push(
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    )
  }
  return rows
}

describe('the README documents what rsb --help prints', () => {
  let help: RsbResult
  let readme: string
  beforeAll(async () => {
    help = await runRsb(['--help'])
    readme = await fs.readFile(path.join(PACKAGE, 'README.md'), 'utf8')
  })

  it('rsb --help exits 0', () => {
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Options:')
  })

  it('every long (and short) option of the help is in the README’s option table, and the table names no other', () => {
    const headings = section(help.stdout, 'Options:').filter((line) => /^ {2}-/.test(line))
    const longs = headings.map((line) => /--([a-z][a-z0-9-]*)/.exec(line)?.[1])
    const shorts = headings.map((line) => /^ {2}-([a-zA-Z])[ ,]/.exec(line)?.[1]).filter((s) => s !== undefined)
    expect(longs).not.toContain(undefined)
    expect(longs.length).toBeGreaterThan(20)
    const table = markdownTable(readme, '## Usage')
    const documented = table.map(([cell]) => cell ?? '').join(' ')
    const tableLongs = [...documented.matchAll(/`--([a-z][a-z0-9-]*)/g)].map((m) => m[1])
    const tableShorts = [...documented.matchAll(/`-([a-zA-Z])[ `]/g)].map((m) => m[1])
    expect(new Set(tableLongs)).toEqual(new Set(longs))
    expect(new Set(tableShorts)).toEqual(new Set(shorts))
  })

  it('every exit status of the help is in the README’s exit status table, and the table names no other', () => {
    const statuses = section(help.stdout, 'Exit status:')
      .map((line) => /^ {2}(\d+) /.exec(line)?.[1])
      .filter((s) => s !== undefined)
    expect(statuses).toEqual(['0', '1', '2', '130', '143'])
    const table = markdownTable(readme, '## Exit status')
    expect(table.map(([status]) => status)).toEqual(statuses)
  })

  it('every environment variable of the help is in the README', () => {
    const names = section(help.stdout, 'Environment:')
      .map((line) => /^ {2}([A-Z_]+)[= ]/.exec(line)?.[1])
      .filter((s) => s !== undefined)
    expect(names.length).toBeGreaterThan(3)
    for (const name of names) expect(readme).toContain(`\`${name}`)
  })
})

describe('how rsb is started', () => {
  it('rsb is dist/bin/rsb.js, rsync-system-backup (the original grammar) dist/bin/rsync-system-backup.js, rsb-rotate dist/bin/rsb-rotate.js; all start with #!/usr/bin/env node', async () => {
    const manifest = await readJson(path.join(PACKAGE, 'package.json'))
    expect(manifest.bin).toEqual({
      rsb: './dist/bin/rsb.js',
      'rsync-system-backup': './dist/bin/rsync-system-backup.js',
      'rsb-rotate': './dist/bin/rsb-rotate.js',
    })
    expect(path.resolve(PACKAGE, (manifest.bin as Record<string, string>).rsb as string)).toBe(BIN)
    for (const target of Object.values(manifest.bin as Record<string, string>))
      expect((await fs.readFile(path.resolve(PACKAGE, target), 'utf8')).split('\n')[0]).toBe('#!/usr/bin/env node')
  })

  it('pnpm rsb --version works from the repository root', async () => {
    const { version } = await readJson(path.join(PACKAGE, 'package.json'))
    const env: NodeJS.ProcessEnv = { ...process.env }
    delete env.RSYNC_MODULE_PATH
    const { stdout, stderr } = await promisify(execFile)('pnpm', ['--silent', 'rsb', '--version'], { cwd: REPO, env, timeout: 30_000 })
    expect(stdout).toBe(`rsb ${String(version)}\n`)
    expect(stderr).toBe('')
  })
})

// The layout the README's "Adding a command" describes is the code's: every path it names exists, every command of
// the registry is a folder with the contract (options, a pure parse, run, help), and the programs are src/bin/*.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { COMMANDS } from '../src/commands/index.ts'

const PACKAGE = path.dirname(import.meta.dirname)
const readme = fs.readFileSync(path.join(PACKAGE, 'README.md'), 'utf8')
const section = /\*\*Adding a command\*\*[\s\S]*?\n\n(?:\d\.[\s\S]*?\n\n)+/.exec(readme)?.[0] ?? ''

describe('the layout of @rsb/cli', () => {
  it('the README has one short "Adding a command" section, and every src/ path it names exists', () => {
    expect(section.split('\n').length).toBeGreaterThan(5)
    expect(section.split('\n').length).toBeLessThan(30)
    const paths = [...new Set([...section.matchAll(/`(src\/[^`\s]+)`/g)].map((m) => m[1] as string))]
    expect(paths).toEqual(expect.arrayContaining(['src/bin/', 'src/main.ts', 'src/kit/', 'src/session/', 'src/commands/index.ts']))
    for (const named of paths) {
      if (named.includes('NAME')) continue
      expect(fs.existsSync(path.join(PACKAGE, named)), named).toBe(true)
    }
  })

  it('every available command is src/commands/NAME/index.ts with options, a pure parse, run and help', async () => {
    const available = COMMANDS.filter((command) => command.load !== undefined)
    expect(available.map((command) => command.name)).toEqual([
      'backup',
      'rotate',
      'list',
      'status',
      'restore',
      'diff',
      'du',
      'versions',
      'verify',
      'doctor',
      'run',
      'config',
      'systemd',
      'completion',
      'help',
    ])
    for (const command of available) {
      expect(fs.existsSync(path.join(PACKAGE, 'src/commands', command.name, 'index.ts')), command.name).toBe(true)
      const module = await command.load!()
      expect(Array.isArray(module.options), command.name).toBe(true)
      for (const f of ['parse', 'run', 'help'] as const) expect(typeof module[f], `${command.name}.${f}`).toBe('function')
      expect(module.parse(['--help'], {})).toEqual({ kind: 'help' })
    }
  })

  it('each program is one tiny file in src/bin/, and package.json points at them', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8')) as { bin: Record<string, string> }
    expect(Object.keys(manifest.bin).sort()).toEqual(['rsb', 'rsb-rotate', 'rsync-system-backup'])
    for (const [name, target] of Object.entries(manifest.bin)) {
      expect(target).toBe(`./dist/bin/${name}.js`)
      const source = fs.readFileSync(path.join(PACKAGE, 'src/bin', `${name}.ts`), 'utf8')
      expect(source.split('\n').length, name).toBeLessThan(25)
    }
    expect(fs.readdirSync(path.join(PACKAGE, 'src/bin')).sort()).toEqual(['rsb-rotate.ts', 'rsb.ts', 'rsync-system-backup.ts'])
  })
})

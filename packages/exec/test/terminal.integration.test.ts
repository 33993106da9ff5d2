import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/index.js')

describe('LocalContext with terminal: true', () => {
  // A child node process stands for rsb run by a person: what it gets on standard input is what the person types.
  const runRsb = (code: string, typed: string) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', `import * as exec from ${JSON.stringify(dist)}\n${code}`], {
      input: typed,
      encoding: 'utf8',
    })

  it('hands standard input and output to the command (a passphrase prompt reaches the user)', () => {
    expect(fs.existsSync(dist)).toBe(true)
    const result = runRsb(
      `const c = new exec.LocalContext()
       const r = await c.run(['sh', '-c', 'printf "Passphrase: " >&2; read secret; echo "got [$secret]"'], { terminal: true })
       console.log('exit', r.exitCode, 'captured', JSON.stringify(r.stdout))`,
      'hunter2\n',
    )
    expect(result.stderr).toBe('Passphrase: ')
    expect(result.stdout).toBe('got [hunter2]\nexit 0 captured ""\n')
  })

  it('gives a command nothing on standard input otherwise', () => {
    const result = runRsb(
      `const c = new exec.LocalContext()
       const r = await c.run(['sh', '-c', 'read secret; echo "got [$secret]"'], { check: false })
       console.log(JSON.stringify(r.stdout))`,
      'hunter2\n',
    )
    expect(result.stdout).toBe('"got []\\n"\n')
  })
})

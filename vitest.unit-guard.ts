// The unit tier starts no program: `pnpm test:unit` (RSB_TEST_TIER=unit) loads this before every test file. Every
// spawn throws, and a test during which one was tried fails afterwards even when the code under test caught the
// error (execa with `reject: false` turns it into a failed result), naming the program and where it belongs. Tests
// that run programs are *.integration.test.ts or *.e2e.test.ts (the whole suite, `pnpm test`, runs every tier).
import childProcess from 'node:child_process'
import { syncBuiltinESMExports } from 'node:module'
import { afterEach } from 'vitest'

const SPAWNERS = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const

// one list for the whole worker (the setup runs again for each file without isolation)
const attempts: string[] = ((globalThis as { __rsbSpawnAttempts?: string[] }).__rsbSpawnAttempts ??= [])

for (const name of SPAWNERS) {
  Object.assign(childProcess, {
    [name]: (file: unknown) => {
      attempts.push(`child_process.${name}(${JSON.stringify(String(file))})`)
      throw new Error(`A unit test started a program (child_process.${name}: ${String(file)}).`)
    },
  })
}
// named imports (`import { spawn } from 'node:child_process'`, as execa has) see the replacements too
syncBuiltinESMExports()

afterEach(() => {
  if (attempts.length === 0) return
  const tried = attempts.splice(0).join(', ')
  throw new Error(`This unit test tried to start programs (${tried}). Unit tests start none: move it to a *.integration.test.ts file.`)
})

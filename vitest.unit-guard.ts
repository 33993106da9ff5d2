// The unit tier starts no program: `pnpm test:unit` (RSB_TEST_TIER=unit) loads this before every test file, and any
// spawn is a failing test that says where it belongs. Tests that run programs are *.integration.test.ts or
// *.e2e.test.ts (the whole suite, `pnpm test`, runs every tier).
import childProcess from 'node:child_process'
import { syncBuiltinESMExports } from 'node:module'

const SPAWNERS = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const

for (const name of SPAWNERS) {
  Object.assign(childProcess, {
    [name]: (file: unknown) => {
      throw new Error(
        `A unit test started a program (child_process.${name}: ${String(file)}). Unit tests start none: move this test to a *.integration.test.ts file.`,
      )
    },
  })
}
// named imports (`import { spawn } from 'node:child_process'`, as execa has) see the replacements too
syncBuiltinESMExports()

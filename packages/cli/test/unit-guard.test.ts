// The unit tier's guard (vitest.unit-guard.ts, loaded by `pnpm test:unit`): a unit test that starts a program
// fails, also when the code under test catches the error.
import childProcess, { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

describe('the unit tier starts no program', () => {
  it('every spawn throws and is recorded, so that the test fails afterwards even when the error was caught', async () => {
    await import('../../../vitest.unit-guard.ts')
    const attempts = (globalThis as { __rsbSpawnAttempts?: string[] }).__rsbSpawnAttempts
    expect(attempts).toEqual([])
    expect(() => spawnSync('true')).toThrow(/A unit test started a program \(child_process\.spawnSync: true\)/)
    try {
      childProcess.execFile('sh', ['-c', 'true'])
    } catch {
      // caught, as execa's reject: false would
    }
    expect(attempts).toEqual(['child_process.spawnSync("true")', 'child_process.execFile("sh")'])
    // cleared here, or the guard's afterEach would fail this test (which is what it does to any other)
    attempts?.splice(0)
  })
})

import { describe, expect, it } from 'vitest'
import { CleanupScope } from '../src/index.ts'

describe('CleanupScope', () => {
  it('runs every cleanup in reverse order, even after a failure, and reports the first failure', async () => {
    const scope = new CleanupScope()
    const ran: string[] = []
    scope.add('lock', () => void ran.push('lock'))
    scope.add('unmount', () => {
      ran.push('unmount')
      throw new Error('busy')
    })
    scope.add('close tunnel', async () => void ran.push('close tunnel'))
    const failures: string[] = []
    await expect(scope.close((d) => failures.push(d))).rejects.toMatchObject({
      code: 'ERR_RSB_EXEC_CLEANUP',
      message: "Cleanup 'unmount' failed: busy",
    })
    expect(ran).toEqual(['close tunnel', 'unmount', 'lock'])
    expect(failures).toEqual(['unmount'])
    expect(scope.size).toBe(0)
    expect(() => scope.add('late', () => undefined)).toThrowError(expect.objectContaining({ code: 'ERR_RSB_EXEC_CLEANUP' }))
  })
})

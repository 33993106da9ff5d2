import { describe, expect, it } from 'vitest'
import { parseSshG, SSH_KEEPALIVE } from '../src/index.ts'

describe('parseSshG: ServerAliveInterval and ServerAliveCountMax', () => {
  it('ssh’s defaults when unset or as ssh -G prints them (0 and 3), the values otherwise', () => {
    expect(parseSshG('nas', 'hostname nas')).toMatchObject({ serverAliveInterval: 0, serverAliveCountMax: 3 })
    expect(parseSshG('nas', 'serveraliveinterval 0\nserveralivecountmax 3')).toMatchObject({
      serverAliveInterval: 0,
      serverAliveCountMax: 3,
    })
    expect(parseSshG('nas', 'serveraliveinterval 5\nserveralivecountmax 10')).toMatchObject({
      serverAliveInterval: 5,
      serverAliveCountMax: 10,
    })
  })

  it('SSH_KEEPALIVE is rsb’s own connection’s: 15 s, 4 unanswered', () => {
    expect(SSH_KEEPALIVE).toEqual({ interval: 15, countMax: 4 })
    expect(Object.isFrozen(SSH_KEEPALIVE)).toBe(true)
  })
})

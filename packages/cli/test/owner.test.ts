// kit/owner.ts: whether another user could change a path rsb acts on as root, through every directory on the way to
// it and the directories of every symbolic link followed.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { findUnsafePath } from '../src/kit/owner.ts'

describe('findUnsafePath', () => {
  let t: string
  beforeEach(() => {
    t = fs.mkdtempSync(path.join(os.tmpdir(), 'rsb-owner-'))
    fs.chmodSync(t, 0o755)
    fs.mkdirSync(path.join(t, 'safe'), { mode: 0o755 })
    fs.writeFileSync(path.join(t, 'safe/rsb.toml'), '', { mode: 0o644 })
    fs.mkdirSync(path.join(t, 'open'), { mode: 0o755 })
    fs.chmodSync(path.join(t, 'open'), 0o775)
  })
  afterEach(() => fs.rmSync(t, { recursive: true, force: true }))

  it('a file of this user in directories nobody else may write (the sticky /tmp above) is safe', () => {
    expect(findUnsafePath(path.join(t, 'safe/rsb.toml'))).toBeUndefined()
  })

  it('a file others may write, or one in a directory its group may write, is not', () => {
    fs.chmodSync(path.join(t, 'safe/rsb.toml'), 0o666)
    expect(findUnsafePath(path.join(t, 'safe/rsb.toml'))).toEqual({
      path: path.join(t, 'safe/rsb.toml'),
      reason: 'may be written by every user',
    })
    fs.writeFileSync(path.join(t, 'open/rsb.toml'), '', { mode: 0o644 })
    expect(findUnsafePath(path.join(t, 'open/rsb.toml'))).toEqual({ path: path.join(t, 'open'), reason: 'may be written by its group' })
  })

  it('a link is followed one component at a time: a link in a safe directory to a link in an open one is not safe', () => {
    fs.symlinkSync(path.join(t, 'safe/rsb.toml'), path.join(t, 'open/hop'))
    fs.symlinkSync('../open/hop', path.join(t, 'safe/link.toml'))
    // the real path is safe, but whoever writes open/ can point hop elsewhere
    expect(fs.realpathSync(path.join(t, 'safe/link.toml'))).toBe(path.join(t, 'safe/rsb.toml'))
    expect(findUnsafePath(path.join(t, 'safe/link.toml'))).toEqual({ path: path.join(t, 'open'), reason: 'may be written by its group' })
    fs.symlinkSync('rsb.toml', path.join(t, 'safe/near.toml'))
    expect(findUnsafePath(path.join(t, 'safe/near.toml'))).toBeUndefined()
  })

  it('a loop of links is ELOOP, a missing file ENOENT', () => {
    fs.symlinkSync('b', path.join(t, 'safe/a'))
    fs.symlinkSync('a', path.join(t, 'safe/b'))
    expect(() => findUnsafePath(path.join(t, 'safe/a'))).toThrow(expect.objectContaining({ code: 'ELOOP' }))
    expect(() => findUnsafePath(path.join(t, 'safe/none'))).toThrow(expect.objectContaining({ code: 'ENOENT' }))
  })
})

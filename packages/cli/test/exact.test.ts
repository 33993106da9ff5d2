// Tier 1: how a run decides which files of the mirror get new inodes (exact.ts), without disks (worthMoving: a
// temporary directory and the real stat; moveChangedHere: directories of root).
import { describe, expect, it } from 'vitest'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { isRoot } from '@rsb/testkit'
import {
  CTIME_MARGIN,
  moveChangedHere,
  moveInput,
  optionsFingerprint,
  planExact,
  rsyncReplaces,
  type PlanInput,
} from '../src/backup/exact.ts'
import type { SyncRecord } from '../src/session/store.ts'

const shape = { excludes: [], excludedRoots: undefined, rsyncOptions: [], multiFs: false }
const options = optionsFingerprint(shape)
const started = Date.parse('2026-12-01T10:00:00Z')
const record: SyncRecord = {
  version: 1,
  mirror: 'abcd0123',
  started: new Date(started).toISOString(),
  boot: 'boot-1',
  uptime: 1000,
  host: 'laptop',
  source: '/',
  options,
}
// an hour later, on the same boot, the clock having gone on as the uptime did
const base: PlanInput = {
  record,
  clock: { now: new Date(started + 3_600_000), boot: 'boot-1', uptime: 4600 },
  host: 'laptop',
  source: '/',
  options,
  shared: true,
}

describe('planExact', () => {
  it('uses the last backup’s moment, less the margin, when nothing can have moved the clock under it', () => {
    expect(planExact(base)).toEqual({ kind: 'changed', since: started / 1000 - CTIME_MARGIN })
    // NTP's slewing (0.05%) is not a change of the clock
    expect(planExact({ ...base, clock: { ...base.clock, uptime: 4600 - 1.8 } }).kind).toBe('changed')
  })

  it('widens the margin by what the clock fell behind the uptime within the tolerance (changes it stamped earlier)', () => {
    // 1.5 s behind after an hour: within 2 s + 0.1%, and every change since may carry a stamp up to 1.5 s early
    expect(planExact({ ...base, clock: { ...base.clock, uptime: 4600 + 1.5 } })).toEqual({
      kind: 'changed',
      since: started / 1000 - CTIME_MARGIN - 1.5,
    })
  })

  it('needs nothing when nothing shares the mirror’s inodes', () => {
    expect(planExact({ ...base, record: undefined, shared: false })).toEqual({ kind: 'none' })
  })

  it.each<[string, Partial<PlanInput>, RegExp]>([
    ['no record (the first run, an original store)', { record: undefined }, /no record/],
    ['another machine', { host: 'server' }, /another machine \(laptop\)/],
    ['another SOURCE', { source: '/home' }, /another SOURCE/],
    ['other rsync options', { options: optionsFingerprint({ ...shape, rsyncOptions: ['--checksum'] }) }, /rsync options/],
    ['other excludes', { options: optionsFingerprint({ ...shape, excludes: ['*.iso'] }) }, /excludes/],
    ['a restart', { clock: { ...base.clock, boot: 'boot-2', uptime: 50 } }, /restarted/],
    ['a clock set back an hour', { clock: { ...base.clock, now: new Date(started - 1000) } }, /clock was changed/],
    ['a clock set forward (wall time ran faster than uptime)', { clock: { ...base.clock, uptime: 1000 + 1800 } }, /clock was changed/],
    ['a clock set back less than the time between the runs', { clock: { ...base.clock, uptime: 4600 + 600 } }, /clock was changed/],
    ['no boot id', { clock: { ...base.clock, boot: undefined } }, /boot id/],
    ['a damaged record', { record: { ...record, started: 'yesterday' } }, /damaged/],
  ])('moves every file for %s', (_, change, reason) => {
    const plan = planExact({ ...base, ...change })
    expect(plan.kind).toBe('all')
    expect(plan.kind === 'all' && plan.reason).toMatch(reason)
  })
})

describe('moveInput', () => {
  it('groups names by directory, each with ./ and a NUL, bytes kept as they are', () => {
    const names = ['b/y', 'a', 'b/x', 'a/b/c', 'n\nl/f', Buffer.from([0xff, 0x2f, 0x41]).toString('latin1')].map((n) =>
      Buffer.from(n, 'latin1'),
    )
    const parts = moveInput(names).toString('latin1').split('\0').slice(0, -1)
    expect(parts).toEqual(['./a', './a/b/c', './b/x', './b/y', './n\nl/f', `./${String.fromCharCode(0xff)}/A`])
  })
})

describe('rsyncReplaces', () => {
  const mirror = { size: 10, mtimeMs: 1_700_000_000_500 }
  it('a change of size always makes rsync write a new file', () => {
    expect(rsyncReplaces({ size: 11, mtime: 1_700_000_000.5 }, mirror, ['--checksum'])).toBe(true)
  })
  it('a change of mtime does, unless an option may keep the file (then it gets a new inode first)', () => {
    expect(rsyncReplaces({ size: 10, mtime: 1_600_000_000 }, mirror, [])).toBe(true)
    for (const option of ['--checksum', '-c', '-avc', '--size-only', '--modify-window=2', '-@2', '--update', '-u', '--no-times'])
      expect(rsyncReplaces({ size: 10, mtime: 1_600_000_000 }, mirror, [option]), option).toBe(false)
  })
  it('the same size and mtime (to the second): attributes only, changed in place', () => {
    expect(rsyncReplaces({ size: 10, mtime: 1_700_000_000.9 }, mirror, [])).toBe(false)
  })
})

describe.skipIf(!isRoot)('moveChangedHere (needs root: directories of root)', () => {
  it('copies back only in directories nobody else may write to: a sticky world-writable one goes the careful way', () => {
    const t = fs.mkdtempSync(path.join(os.tmpdir(), 'rsb-here-'))
    try {
      const mirror = path.join(t, 'latest')
      const snapshot = path.join(t, 'snap')
      fs.mkdirSync(snapshot)
      for (const [dir, mode] of [
        ['etc', 0o755],
        ['tmp', 0o1777],
        ['shared', 0o775],
      ] as const) {
        fs.mkdirSync(path.join(mirror, dir), { recursive: true })
        fs.chmodSync(path.join(mirror, dir), mode)
        fs.writeFileSync(path.join(mirror, dir, 'f'), dir)
        fs.linkSync(path.join(mirror, dir, 'f'), path.join(snapshot, `${dir}-f`))
      }
      const names = ['etc/f', 'tmp/f', 'shared/f'].map((n) => Buffer.from(n))
      const { rest, moved } = moveChangedHere(mirror, path.join(t, 'stage'), names)
      expect(moved.map(String)).toEqual(['etc/f'])
      expect(rest.map(String)).toEqual(['tmp/f', 'shared/f'])
      expect(fs.existsSync(path.join(mirror, 'tmp/f'))).toBe(true)
    } finally {
      fs.rmSync(t, { recursive: true, force: true })
    }
  })

  it('nothing in this process when the mirror itself is another user’s (it takes SOURCE’s owner): all the careful way', () => {
    const t = fs.mkdtempSync(path.join(os.tmpdir(), 'rsb-here-'))
    try {
      const mirror = path.join(t, 'latest')
      fs.mkdirSync(path.join(mirror, 'etc'), { recursive: true })
      fs.writeFileSync(path.join(mirror, 'etc/f'), 'f')
      fs.linkSync(path.join(mirror, 'etc/f'), path.join(t, 'snap-f'))
      fs.chownSync(mirror, 4321, 4321)
      const { rest, moved } = moveChangedHere(mirror, path.join(t, 'stage'), [Buffer.from('etc/f')])
      expect(moved).toEqual([])
      expect(rest.map(String)).toEqual(['etc/f'])
      expect(fs.existsSync(path.join(mirror, 'etc/f'))).toBe(true)
    } finally {
      fs.rmSync(t, { recursive: true, force: true })
    }
  })

  it('rsync replacing a file anyway (other mtime) holds for regular files only: a symlink is moved aside all the same', () => {
    const t = fs.mkdtempSync(path.join(os.tmpdir(), 'rsb-here-'))
    try {
      const mirror = path.join(t, 'latest')
      fs.mkdirSync(mirror)
      fs.writeFileSync(path.join(mirror, 'file'), 'f')
      fs.symlinkSync('file', path.join(mirror, 'link'))
      fs.linkSync(path.join(mirror, 'file'), path.join(t, 'snap-file'))
      fs.linkSync(path.join(mirror, 'link'), path.join(t, 'snap-link'))
      const { rest, moved } = moveChangedHere(mirror, path.join(t, 'stage'), [Buffer.from('file'), Buffer.from('link')], () => true)
      expect(rest).toEqual([])
      // the symlink stays aside (rsync makes it anew); nothing is copied back for it
      expect(moved).toEqual([])
      expect(fs.existsSync(path.join(mirror, 'file'))).toBe(true)
      expect(fs.readlinkSync(path.join(t, 'stage', 'link'))).toBe('file')
    } finally {
      fs.rmSync(t, { recursive: true, force: true })
    }
  })
})

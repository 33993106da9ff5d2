// How a run decides which files of the mirror get new inodes (exact.ts), with the real programs: worthMoving's one
// stat on a temporary directory, and the real find of findChanged.
import { describe, expect, it } from 'vitest'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { LocalContext } from '@rsb/exec'
import { findChanged, worthMoving } from '../src/backup/exact.ts'

const HOSTILE = `it's "q" $(touch pwned)\nx`

describe('worthMoving (one stat in the mirror, as over SSH)', () => {
  const hostile = `odd/it's "q" $(touch pwned)\nx`
  const scene = () => {
    const t = fs.mkdtempSync(path.join(os.tmpdir(), 'rsb-worth-'))
    const mirror = path.join(t, 'latest')
    const snapshot = path.join(t, 'snap')
    const files: Record<string, string> = { 'shared-same': 'aaaa', 'shared-size': 'bbbb', single: 'cccc', [hostile]: 'dddd' }
    for (const [rel, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(mirror, rel)), { recursive: true })
      fs.writeFileSync(path.join(mirror, rel), content)
      fs.utimesSync(path.join(mirror, rel), 1_700_000_000, 1_700_000_000)
    }
    fs.mkdirSync(path.join(mirror, 'dir'))
    fs.mkdirSync(snapshot)
    for (const rel of ['shared-same', 'shared-size']) fs.linkSync(path.join(mirror, rel), path.join(snapshot, rel))
    fs.linkSync(path.join(mirror, hostile), path.join(snapshot, 'hostile'))
    return { t, mirror }
  }
  const names = ['shared-same', 'shared-size', 'single', 'dir', 'missing', hostile].map((n) => Buffer.from(n))
  const facts = (size: number) =>
    new Map(names.map((name) => [name, { size: name.toString() === 'shared-size' ? size + 1 : size, mtime: 1_700_000_000.4 }]))

  it('keeps only what a snapshot shares and rsync would change in place: no new, single-link, replaced file or directory', async () => {
    const { t, mirror } = scene()
    try {
      const worth = await worthMoving(new LocalContext(), mirror, names, facts(4), [], undefined)
      expect(worth.map(String)).toEqual(['shared-same', hostile])
      // another mtime: replaced by rsync, unless an option may keep it
      const later = new Map([...facts(4)].map(([name, f]) => [name, { ...f, mtime: 1_600_000_000 }]))
      expect((await worthMoving(new LocalContext(), mirror, names, later, [], undefined)).map(String)).toEqual([])
      expect((await worthMoving(new LocalContext(), mirror, names, later, ['--checksum'], undefined)).map(String)).toEqual([
        'shared-same',
        hostile,
      ])
      expect(fs.readdirSync(t)).not.toContain('pwned')
    } finally {
      fs.rmSync(t, { recursive: true, force: true })
    }
  })

  it('facts it cannot read (no such mirror): every candidate', async () => {
    const worth = await worthMoving(new LocalContext(), '/nonexistent/rsb-mirror', names, facts(4), [], undefined)
    expect(worth).toEqual(names)
  })
})

describe('findChanged (the real find)', () => {
  it('finds files whose inode changed since the moment; with --copy-links also symlinks whose target changed', async () => {
    const t = fs.mkdtempSync(path.join(os.tmpdir(), 'rsb-find-'))
    try {
      const source = path.join(t, 'source')
      fs.mkdirSync(path.join(source, 'sub'), { recursive: true })
      fs.writeFileSync(path.join(t, 'target'), 'outside')
      fs.writeFileSync(path.join(source, 'old'), 'old')
      fs.writeFileSync(path.join(source, 'sub', HOSTILE), 'h')
      fs.symlinkSync(path.join(t, 'target'), path.join(source, 'link'))
      await new Promise((r) => setTimeout(r, 1100))
      const since = Date.now() / 1000 - 0.5
      fs.chmodSync(path.join(source, 'sub', HOSTILE), 0o600)
      fs.chmodSync(path.join(t, 'target'), 0o600)
      const options = { multiFs: false, prune: [], signal: undefined }
      const plain = await findChanged(new LocalContext(), source, since, options)
      expect('names' in plain && plain.names.map(String)).toEqual([`sub/${HOSTILE}`])
      const followed = await findChanged(new LocalContext(), source, since, { ...options, follow: true })
      expect('names' in followed && followed.names.map(String).sort()).toEqual(['link', `sub/${HOSTILE}`])
    } finally {
      fs.rmSync(t, { recursive: true, force: true })
    }
  })
})

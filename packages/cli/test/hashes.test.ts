// The pure parts of content hashes and link health: the hash record's format (names as bytes), the walk's output,
// which snapshot a backup compares with, when a snapshot is said to be a full copy, and rsb verify's command line.
import { describe, expect, it } from 'vitest'
import { linkHealthWarning, previousSnapshot } from '../src/backup/integrity.ts'
import { parse as parseVerify, parseSample, printablePath } from '../src/commands/verify/index.ts'
import { formatHashRecord, hashFileName, parseHashRecord, type HashRecord } from '../src/session/hashes.ts'
import type { SnapshotRecord, StoreState } from '../src/session/store.ts'
import { findSnapshot, parseWalk } from '../src/session/walk.ts'

const HASH = 'ab'.repeat(32)
const LATIN1_NAME = Buffer.from([0x63, 0x61, 0x66, 0xe9]) // "café" in latin1: not UTF-8

function record(): HashRecord {
  return {
    header: {
      format: 'rsb-hashes',
      version: 1,
      algorithm: 'blake2b-256',
      snapshot: '2026-12-01 03:00:00',
      created: '2026-12-01T03:00:05.000Z',
      files: 3,
      unhashed: 1,
      hashedFiles: 2,
      hashedBytes: 12,
    },
    entries: [
      { name: 'dir/a file with spaces\nand a newline', inode: 12, size: 5, hash: HASH },
      { name: LATIN1_NAME.toString('latin1'), inode: 13, size: 7, hash: 'cd'.repeat(32) },
      { name: 'gone while hashed', inode: 14, size: 0, hash: undefined },
    ],
  }
}

describe('hash records', () => {
  it('round-trips, names as bytes (spaces, newlines, not UTF-8) and a file without a hash', () => {
    const bytes = formatHashRecord(record())
    expect(bytes.toString('latin1').split('\n')[0]).toBe(JSON.stringify(record().header))
    const parsed = parseHashRecord(bytes, 'x')
    expect(parsed.header).toEqual(record().header)
    expect(parsed.entries).toEqual(record().entries)
    expect(bytes.includes(LATIN1_NAME)).toBe(true)
  })

  it.each([
    ['no header', Buffer.from('')],
    ['not JSON', Buffer.from('{x\n')],
    ['another format', Buffer.from('{"format":"other","version":1}\n')],
    ['a newer version', Buffer.from('{"format":"rsb-hashes","version":2,"algorithm":"blake2b-256"}\n')],
    ['another algorithm', Buffer.from('{"format":"rsb-hashes","version":1,"algorithm":"md5"}\n')],
    ['cut short', Buffer.concat([formatHashRecord(record()).subarray(0, -3)])],
    ['a damaged hash', Buffer.from(`${JSON.stringify(record().header)}\nxyz 1 2 name\0`)],
    ['a damaged size', Buffer.from(`${JSON.stringify(record().header)}\n${HASH} 1 two name\0`)],
    ['an empty inode', Buffer.from(`${JSON.stringify(record().header)}\n${HASH}  2 name\0`)],
    ['a hash that is not hex', Buffer.from(`${JSON.stringify(record().header)}\n${'g'.repeat(64)} 1 2 name\0`)],
    ['fewer entries than its header says (cut at an entry)', Buffer.from(`${JSON.stringify(record().header)}\n${HASH} 1 2 name\0`)],
  ])('refuses a record with %s (ERR_RSB_CLI_HASHES_FAILED, naming the file)', (_what, bytes) => {
    expect(() => parseHashRecord(bytes, '/s/.rsb/hashes/x.hashes')).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_CLI_HASHES_FAILED', message: expect.stringContaining('/s/.rsb/hashes/x.hashes') }),
    )
  })

  it('names the file after its snapshot', () => {
    expect(hashFileName('2026-12-01 03:00:00')).toBe('2026-12-01 03:00:00.hashes')
  })
})

describe('the walk of snapshot trees', () => {
  const out = (...fields: (string | Buffer)[]) => Buffer.concat(fields.flatMap((f) => [Buffer.from(f), Buffer.from([0])]))

  it('reads entries, names as bytes, symlink targets and a missing root', () => {
    const trees = parseWalk(
      out(
        'root',
        '/s/a',
        'd 2 3 4096 8 755 0 0 1700000000.5000000000 ',
        '',
        'f 12 2 5 8 644 1000 100 1700000001.2500000000 dir/x y',
        '',
        Buffer.concat([Buffer.from('f 13 1 7 8 600 0 0 1700000002.0000000000 '), LATIN1_NAME]),
        '',
        'l 14 1 6 0 777 0 0 1700000003.0000000000 link',
        'target with spaces',
        'end',
        'root',
        '/s/b',
        'missing',
        'end',
        'done',
      ),
    )
    expect(trees).toHaveLength(2)
    const [a, b] = trees as [NonNullable<typeof trees>[number], NonNullable<typeof trees>[number]]
    expect(b).toEqual({ root: '/s/b', entries: undefined })
    expect(a.entries?.map((e) => [e.path, e.type, e.inode, e.links, e.size, e.blocks, e.mode, e.uid, e.gid, e.mtime, e.target])).toEqual([
      ['', 'd', 2, 3, 4096, 8, 0o755, 0, 0, '1700000000.5000000000', ''],
      ['dir/x y', 'f', 12, 2, 5, 8, 0o644, 1000, 100, '1700000001.2500000000', ''],
      ['caf\uFFFD', 'f', 13, 1, 7, 8, 0o600, 0, 0, '1700000002.0000000000', ''],
      ['link', 'l', 14, 1, 6, 0, 0o777, 0, 0, '1700000003.0000000000', 'target with spaces'],
    ])
    expect(a.entries?.[2]?.name.equals(LATIN1_NAME)).toBe(true)
  })

  it('gives undefined when find failed, and refuses output cut short', () => {
    expect(parseWalk(out('root', '/s/a', 'f 12 2 5 8 644 0 0 1.0 x', '', 'failed'))).toBeUndefined()
    expect(() => parseWalk(out('root', '/s/a', 'f 12 2 5 8 644 0 0 1.0 x', ''))).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_CLI_WALK_FAILED' }),
    )
    expect(() => parseWalk(out('root', '/s/a', 'f 12 x', '', 'end', 'done'))).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_CLI_WALK_FAILED' }),
    )
  })
})

describe('link health', () => {
  const links = (files: number, copied: number, first = false) => ({
    previous: first ? undefined : 'p',
    files,
    linked: files - copied,
    copied,
    copiedBytes: copied * 10,
  })

  it('warns when a run that changed little made mostly new inodes, naming the likely causes', () => {
    const warning = linkHealthWarning(links(1000, 1000), 3)
    expect(warning).toContain('1000 of the 1000 files of this snapshot are new copies, though rsync transferred only 3')
    expect(warning).toContain('without hard links')
    expect(warning).toContain('--link-dest')
  })

  it.each([
    ['the first snapshot', links(1000, 1000, true), 0],
    ['a run that changed most files', links(1000, 900), 800],
    ['a snapshot that is mostly linked', links(1000, 400), 0],
    ['a small tree', links(19, 19), 0],
  ])('does not warn for %s', (_what, figures, transferred) => {
    expect(linkHealthWarning(figures, transferred)).toBeUndefined()
  })

  it('warns for a snapshot alone (no transfer in this run, as the daemon hook makes) only when every file is a new copy', () => {
    expect(linkHealthWarning(links(100, 100), undefined)).toContain('100 of the 100 files')
    expect(linkHealthWarning(links(100, 99), undefined)).toBeUndefined()
  })
})

describe('the previous snapshot of a mirror', () => {
  const ID = 'abcdef01'
  function state(names: Record<string, string | undefined>, mirrors = 1): StoreState {
    const snapshots = new Map<string, SnapshotRecord>()
    for (const [name, mirror] of Object.entries(names))
      if (mirror !== undefined)
        snapshots.set(name, { version: 1, snapshot: name, mirror, created: `${name.replace(' ', 'T')}Z`, adopted: false })
    return {
      directory: '/b',
      store: { format: 'rsb-store', version: 1, created: '2026-01-01T00:00:00Z' },
      mirrors: Array.from({ length: mirrors }, (_, i) => ({ version: 1, name: `m${i}`, id: i === 0 ? ID : `other${i}`, created: '' })),
      snapshots,
      entries: new Map([['m0', 'd'], ...Object.keys(names).map((n) => [n, 'd'] as [string, string])]),
      deleting: [],
    }
  }
  const mirror = { version: 1, name: 'm0', id: ID, created: '' }
  const now = new Date('2026-12-01T12:00:00Z')

  it("is the mirror's newest before now: another mirror's and a future one are passed over", () => {
    const s = state({ '2026-11-30 12:00:00': ID, '2026-12-01 11:00:00': 'other1', '2027-01-01 00:00:00': ID, '2026-11-29 12:00:00': ID }, 2)
    expect(previousSnapshot(s, mirror, now)).toBe('2026-11-30 12:00:00')
  })

  it('takes an unrecorded snapshot only in a store of one mirror, and there is none in an empty store', () => {
    expect(previousSnapshot(state({ '2026-11-30 12:00:00': undefined }), mirror, now)).toBe('2026-11-30 12:00:00')
    expect(previousSnapshot(state({ '2026-11-30 12:00:00': undefined }, 2), mirror, now)).toBeUndefined()
    expect(previousSnapshot(state({}), mirror, now)).toBeUndefined()
  })
})

describe('rsb verify command line', () => {
  it('takes DESTINATION, SNAPSHOTs and --sample', () => {
    expect(parseVerify(['--sample=2.5', '/b/latest', 'latest', '2026-12-01 03:00:00'])).toEqual({
      kind: 'run',
      args: { destination: '/b/latest', snapshots: ['latest', '2026-12-01 03:00:00'], sample: 2.5, sudo: true, json: false, verbosity: 0 },
    })
    expect(parseVerify(['--json', '--no-sudo', '-v', 'h:/b'])).toMatchObject({
      kind: 'run',
      args: { json: true, sudo: false, verbosity: 1 },
    })
    expect(parseVerify(['--help'])).toEqual({ kind: 'help' })
  })

  it.each([['0'], ['101'], ['-5'], ['ten'], [''], ['1e2']])('refuses --sample=%s (a usage error)', (value) => {
    expect(() => parseSample(value, '--sample')).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE' }))
  })

  it('refuses no DESTINATION, an empty SNAPSHOT and a daemon', () => {
    expect(() => parseVerify([])).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE' }))
    expect(() => parseVerify(['/b', ''])).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE' }))
    expect(() => parseVerify(['nas::backups/latest'])).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_DESTINATION_DAEMON' }))
  })

  it('quotes a path with control characters in its text', () => {
    expect(printablePath('etc/passwd')).toBe('etc/passwd')
    expect(printablePath('a\nb')).toBe('"a\\nb"')
  })

  it('finds a snapshot by name or latest, else names the ones there are', () => {
    const snapshots = ['2026-11-30 03:00:00', '2026-12-01 03:00:00'].map((name) => ({ name }) as never)
    expect(findSnapshot(snapshots, 'latest', '/b').name).toBe('2026-12-01 03:00:00')
    expect(findSnapshot(snapshots, '2026-11-30 03:00:00', '/b').name).toBe('2026-11-30 03:00:00')
    expect(() => findSnapshot(snapshots, 'nope', '/b')).toThrow(
      expect.objectContaining({
        code: 'ERR_RSB_CLI_SNAPSHOT_NOT_FOUND',
        hint: expect.stringContaining('2026-11-30 03:00:00, 2026-12-01 03:00:00'),
      }),
    )
  })
})

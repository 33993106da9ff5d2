import { describe, expect, it } from 'vitest'
import { parseStats } from '../src/index.ts'
import { fixture } from './fixtures.ts'

describe('parseStats', () => {
  it('parses the --stats block and summary of a first copy (rsync 3.5.0)', () => {
    const stats = parseStats(fixture('initial.stdout'))
    expect(stats).toEqual({
      files: { total: 306, regular: 302, directories: 3, symlinks: 1, devices: 0, specials: 0 },
      created: { total: 306, regular: 302, directories: 3, symlinks: 1, devices: 0, specials: 0 },
      deleted: { total: 0, regular: 0, directories: 0, symlinks: 0, devices: 0, specials: 0 },
      regularFilesTransferred: 301,
      totalFileSize: expect.any(Number),
      transferredFileSize: expect.any(Number),
      literalData: expect.any(Number),
      matchedData: 0,
      fileListSize: 0,
      fileListGenerationSeconds: expect.any(Number),
      fileListTransferSeconds: expect.any(Number),
      bytesSent: expect.any(Number),
      bytesReceived: expect.any(Number),
      bytesPerSecond: expect.any(Number),
      speedup: expect.any(Number),
      dryRun: false,
    })
    // 300 files of i*97 bytes, 6 MiB, a 17-byte symlink (the hard link counts once in the transfer)
    const small = (97 * 300 * 301) / 2
    expect(stats?.totalFileSize).toBe(small + 97 + 6 * 1024 * 1024 + '../include-me.txt'.length)
    expect(stats?.transferredFileSize).toBe(small + 6 * 1024 * 1024)
    expect(stats?.literalData).toBe(stats?.transferredFileSize)
  })

  it('parses a run without changes', () => {
    expect(parseStats(fixture('no-change.stdout'))).toMatchObject({
      created: { total: 0 },
      deleted: { total: 0 },
      regularFilesTransferred: 0,
      transferredFileSize: 0,
      literalData: 0,
      dryRun: false,
    })
  })

  it('parses a dry run with deletions (created and deleted counts by type, DRY RUN)', () => {
    expect(parseStats(fixture('dry-run.stdout'))).toMatchObject({
      files: { total: 305, regular: 301 },
      created: { total: 1, regular: 1 },
      deleted: { total: 2, regular: 2 },
      regularFilesTransferred: 1,
      transferredFileSize: 44,
      dryRun: true,
    })
  })

  it('parses the two summary lines of a --verbose run without --stats', () => {
    const stats = parseStats(fixture('dry-run-plain.stdout'))
    expect(stats).toMatchObject({ files: undefined, created: undefined, regularFilesTransferred: undefined, dryRun: true })
    expect(stats?.bytesSent).toBeGreaterThan(0)
    expect(stats?.bytesReceived).toBe(54)
    expect(stats?.totalFileSize).toBeGreaterThan(10_000_000)
    expect(stats?.speedup).toBeGreaterThan(1000)
  })

  it('reads unit suffixes of -h (units of 1000)', () => {
    const stats = parseStats(fixture('human-readable.stdout'))
    expect(stats?.totalFileSize).toBe(10_670_000)
    expect(stats?.bytesSent).toBe(5_610)
    expect(stats?.bytesPerSecond).toBe(11_360)
    expect(stats?.speedup).toBeCloseTo(1878.64)
  })

  it('parses thousands separators in counts and decimals', () => {
    const stats = parseStats(fixture('incremental.stdout'))
    expect(stats?.files).toEqual({ total: 4201, regular: 4000, directories: 201, symlinks: 0, devices: 0, specials: 0 })
    expect(
      parseStats('sent 10,690,859 bytes  received 5,770 bytes  21,393,258.00 bytes/sec\ntotal size is 10,670,679  speedup is 1,915.05\n'),
    ).toMatchObject({
      bytesSent: 10690859,
      bytesReceived: 5770,
      bytesPerSecond: 21393258,
      totalFileSize: 10670679,
      speedup: 1915.05,
    })
  })

  it('reads all file types and times', () => {
    const stats = parseStats(
      'Number of files: 12 (reg: 5, dir: 3, link: 2, dev: 1, special: 1)\nFile list generation time: 1.250 seconds\nFile list transfer time: 0.004 seconds\n',
    )
    expect(stats?.files).toEqual({ total: 12, regular: 5, directories: 3, symlinks: 2, devices: 1, specials: 1 })
    expect(stats?.fileListGenerationSeconds).toBe(1.25)
    expect(stats?.fileListTransferSeconds).toBe(0.004)
  })

  it('returns undefined when there are no statistics', () => {
    expect(parseStats('')).toBeUndefined()
    expect(parseStats('sending incremental file list\n./\nnotes.txt\n')).toBeUndefined()
  })
})

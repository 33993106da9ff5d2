import { describe, expect, it } from 'vitest'
import { parseProgressLine } from '../src/index.ts'
import { fixture } from './fixtures.ts'

describe('parseProgressLine', () => {
  it('parses a line that ends a file (elapsed time, transfer count, files to check)', () => {
    expect(parseProgressLine('         56,740   0%   22.86MB/s    0:00:00 (xfr#1, to-chk=301/305)')).toEqual({
      bytes: 56740,
      percent: 0,
      rate: '22.86MB/s',
      bytesPerSecond: Math.round(22.86 * 1024 * 1024),
      time: '0:00:00',
      etaSeconds: undefined,
      elapsedSeconds: 0,
      transfers: 1,
      filesToCheck: 301,
      filesTotal: 305,
      filesChecked: 4,
      fileListComplete: true,
    })
  })

  it('parses an in-flight line (estimate, no counts)', () => {
    expect(parseProgressLine('      3,127,474  29%    2.95MB/s    0:00:02  ')).toMatchObject({
      bytes: 3127474,
      percent: 29,
      rate: '2.95MB/s',
      time: '0:00:02',
      etaSeconds: 2,
      elapsedSeconds: undefined,
      transfers: undefined,
      filesToCheck: undefined,
      fileListComplete: undefined,
    })
  })

  it('tells an incremental scan (ir-chk) from a complete file list (to-chk)', () => {
    expect(parseProgressLine('              4   0%    0.00kB/s    0:00:00 (xfr#1, ir-chk=1019/1221)')).toMatchObject({
      filesToCheck: 1019,
      filesTotal: 1221,
      filesChecked: 202,
      fileListComplete: false,
    })
  })

  it('reads the padding rsync adds when a line got shorter, and the manual examples', () => {
    expect(parseProgressLine('              0   0%    0.00kB/s    0:00:00 (xfr#0, to-chk=2/306)  ')?.filesToCheck).toBe(2)
    expect(parseProgressLine('782448  63%  110.64kB/s    0:00:04')).toMatchObject({
      bytes: 782448,
      percent: 63,
      bytesPerSecond: 113295,
      etaSeconds: 4,
    })
    expect(parseProgressLine('1,238,099 100%  146.38kB/s    0:00:08  (xfr#5, to-chk=169/396)')).toMatchObject({
      bytes: 1238099,
      percent: 100,
      elapsedSeconds: 8,
      transfers: 5,
    })
  })

  it('reads long durations, unknown estimates, GB/s rates and unit suffixes (-h)', () => {
    expect(parseProgressLine('  1,000,000,000  10%    1.50GB/s  123:04:05  ')?.etaSeconds).toBe(123 * 3600 + 4 * 60 + 5)
    expect(parseProgressLine('  1,000  10%    0.00kB/s    ??:??:??  ')).toMatchObject({ etaSeconds: undefined, time: '??:??:??' })
    expect(parseProgressLine('  1,000  10%    1.50GB/s    0:00:01  ')?.bytesPerSecond).toBe(1.5 * 1024 ** 3)
    expect(parseProgressLine('          1.23G  45%   12.34MB/s    0:00:10  ')?.bytes).toBe(1_230_000_000)
    expect(parseProgressLine('          1.00M  45%   12.34MB/s    0:00:10  ', 1024)?.bytes).toBe(1024 * 1024)
  })

  it('returns undefined for anything else', () => {
    for (const line of [
      '',
      'sending incremental file list',
      'deleting a/f2',
      'notes.txt',
      'Number of files: 305',
      '12 files',
      '100%',
      ' 1 2 3',
    ]) {
      expect(parseProgressLine(line)).toBeUndefined()
    }
  })

  it('parses every progress segment of recorded runs', () => {
    for (const name of ['initial.stdout', 'no-change.stdout', 'incremental.stdout', 'daemon.stdout', 'human-readable.stdout']) {
      const segments = fixture(name)
        .split(/[\r\n]/)
        .filter((s) => /%/.test(s))
      expect(segments.length).toBeGreaterThan(0)
      for (const segment of segments) expect(parseProgressLine(segment), `${name}: ${JSON.stringify(segment)}`).toBeDefined()
    }
  })
})

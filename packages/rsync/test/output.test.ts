import { describe, expect, it } from 'vitest'
import { parseStats, RsyncOutputParser, type RsyncEvent } from '../src/index.ts'
import { fixture } from './fixtures.ts'

function feed(text: string, chunkSize: number): RsyncEvent[] {
  const events: RsyncEvent[] = []
  const parser = new RsyncOutputParser({ onEvent: (event) => events.push(event) })
  for (let i = 0; i < text.length; i += chunkSize) parser.pushStdout(text.slice(i, i + chunkSize))
  parser.end()
  return events
}

const ofType = <T extends RsyncEvent['type']>(events: RsyncEvent[], type: T) =>
  events.filter((e): e is Extract<RsyncEvent, { type: T }> => e.type === type)

describe('RsyncOutputParser on recorded output', () => {
  it.each([1, 7, 64, 4096, 1_000_000])('gives the same events whatever the chunk size (%i)', (size) => {
    const text = fixture('dry-run.stdout')
    expect(feed(text, size)).toEqual(feed(text, text.length))
  })

  it('turns progress2 lines into progress events and the --stats block into one stats event', () => {
    const text = fixture('initial.stdout')
    const events = feed(text, 100)
    const progress = ofType(events, 'progress')
    expect(progress.length).toBe(text.split(/[\r\n]/).filter((s) => s.includes('%')).length)
    expect(progress.at(-1)).toMatchObject({ filesToCheck: 0, filesTotal: 306, transfers: 301, fileListComplete: true })
    expect(progress.some((p) => p.etaSeconds !== undefined && p.etaSeconds > 0)).toBe(true)
    // bytes never go backwards
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.bytes).toBeGreaterThanOrEqual(progress[i - 1]!.bytes)
    const stats = ofType(events, 'stats')
    expect(stats).toHaveLength(1)
    expect(stats[0]!.stats).toEqual(parseStats(text))
    expect(ofType(events, 'output')).toEqual([])
    expect(events.at(-1)?.type).toBe('stats')
  })

  it('reports the dry-run file list as output lines, not as statistics', () => {
    const events = feed(fixture('dry-run.stdout'), 13)
    expect(ofType(events, 'output').map((e) => e.line)).toEqual([
      'sending incremental file list',
      './',
      'deleting a/f3',
      'deleting a/f2',
      'notes.txt',
      'a/',
    ])
    expect(ofType(events, 'stats')[0]?.stats).toMatchObject({ deleted: { total: 2 }, dryRun: true })
  })

  it('collects the summary of a plain --verbose dry run', () => {
    const parser = new RsyncOutputParser()
    parser.pushStdout(fixture('dry-run-plain.stdout'))
    expect(parser.end()).toMatchObject({ dryRun: true, bytesReceived: 54 })
  })

  it('follows an incremental recursion scan until the file list is complete', () => {
    const progress = ofType(feed(fixture('incremental.stdout'), 4096), 'progress')
    expect(progress[1]).toMatchObject({ fileListComplete: false })
    expect(progress.at(-1)).toMatchObject({ fileListComplete: true, filesToCheck: 0, filesTotal: 4201, transfers: 4000, percent: 100 })
  })

  it('does not take a file named like a statistics line for statistics', () => {
    const events = feed('sending incremental file list\nNumber of files: 3\nsent 1 bytes  received 2 bytes  3.00 bytes/sec\n', 5)
    expect(ofType(events, 'output')).toHaveLength(3)
    expect(ofType(events, 'stats')).toHaveLength(0)
  })

  it('splits stderr into lines, also across chunks and without a final newline', () => {
    const events: RsyncEvent[] = []
    const parser = new RsyncOutputParser({ onEvent: (e) => events.push(e) })
    const text = fixture('connection-refused.stderr')
    parser.pushStderr(text.slice(0, 10))
    parser.pushStderr(text.slice(10))
    parser.pushStderr('file has vanished: "/x"')
    parser.end()
    expect(events).toEqual([
      { type: 'output', stream: 'stderr', line: 'rsync: [sender] failed to connect to 127.0.0.1 (127.0.0.1): Connection refused (111)' },
      { type: 'output', stream: 'stderr', line: expect.stringMatching(/^rsync error: error in socket IO \(code 10\)/) },
      { type: 'output', stream: 'stderr', line: 'file has vanished: "/x"' },
    ])
  })

  it('emits the stats event once', () => {
    const events: RsyncEvent[] = []
    const parser = new RsyncOutputParser({ onEvent: (e) => events.push(e) })
    parser.pushStdout(fixture('no-change.stdout'))
    parser.end()
    parser.end()
    expect(ofType(events, 'stats')).toHaveLength(1)
  })
})

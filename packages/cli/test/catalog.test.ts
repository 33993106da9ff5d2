// The pure parts of rsb list and rsb status: the catalogue of a store as read, the status of its mirrors, the
// default age limit, the metrics' text and the command lines.
import { describe, expect, it } from 'vitest'
import { redactArgv, redactRsyncOption } from '../src/backup/manifest.ts'
import { formatAge } from '../src/commands/list/options.ts'
import { parse as parseList, rotationText } from '../src/commands/list/index.ts'
import { defaultMaxAge, metricsText, mirrorStatuses, parse as parseStatus } from '../src/commands/status/index.ts'
import { buildCatalog } from '../src/session/catalog.ts'
import type { RunRecord, SnapshotRecord, StoreState } from '../src/session/store.ts'

const ID = 'abcdef01'
const NOW = new Date('2026-12-01T12:00:00Z')

function record(name: string, created: string, manifest = true): SnapshotRecord {
  return {
    version: 1,
    snapshot: name,
    mirror: ID,
    created,
    adopted: false,
    ...(manifest ? { manifest: { entries: 3, bytes: 10 } as never } : {}),
  }
}

function run(outcome: RunRecord['outcome'], started: string, code?: string): RunRecord {
  return {
    version: 1,
    mirror: ID,
    mirrorName: 'latest',
    started,
    ended: started,
    durationSeconds: 1,
    host: 'h',
    user: 'root',
    pid: 1,
    rsbVersion: '0.0.0',
    actions: ['backup'],
    argv: [],
    source: '/',
    destination: '/b/latest',
    outcome,
    exitCode: outcome === 'succeeded' ? 0 : 1,
    error: code ? { code, message: 'it broke', hint: undefined } : undefined,
    snapshot: undefined,
    statistics: undefined,
    warnings: [],
  }
}

function state(records: SnapshotRecord[], runs: RunRecord[] = [], extra: string[] = []): StoreState {
  const entries = new Map<string, string>([['latest', 'd']])
  for (const r of records) entries.set(r.snapshot, 'd')
  for (const name of extra) entries.set(name, 'd')
  return {
    directory: '/b',
    store: { format: 'rsb-store', version: 1, created: '2026-01-01T00:00:00Z' },
    mirrors: [{ version: 1, name: 'latest', id: ID, created: '2026-01-01T00:00:00Z' }],
    snapshots: new Map(records.map((r) => [r.snapshot, r])),
    entries,
    deleting: [],
    catalog: { runs, holders: new Map(), deleting: [] },
  }
}

describe('status', () => {
  it('the default limit is the finest period of the scheme and a twelfth of it', () => {
    expect(defaultMaxAge({ daily: 7, weekly: 4 })).toBe(26 * 3600)
    expect(defaultMaxAge({ hourly: 24, daily: 7 })).toBe(65 * 60)
    expect(defaultMaxAge({ hourly: 0, weekly: 2 })).toBe(7 * 86_400 + 14 * 3600)
    expect(formatAge(26 * 3_600_000)).toBe('26h')
    expect(formatAge(65 * 60_000)).toBe('65m')
    expect(formatAge(3 * 86_400_000 + 5)).toBe('3d')
    expect(formatAge(-90_000)).toBe('in 90s')
  })

  it('a snapshot dated in the future is never the newest: the mirror is stale, not fresh for a year', () => {
    const catalog = buildCatalog(
      state([record('2027-12-01 12:00:00', '2027-12-01T12:00:00Z'), record('2026-11-20 12:00:00', '2026-11-20T12:00:00Z')]),
      ['latest'],
      { scheme: { daily: 7 }, keepLatest: 0, now: NOW },
    )
    const [status] = mirrorStatuses(catalog, NOW, 26 * 3600)
    expect(status?.newest?.name).toBe('2026-11-20 12:00:00')
    expect(status?.stale).toBe(true)
    expect(catalog.snapshots.find((s) => s.name === '2027-12-01 12:00:00')?.rotation.action).toBe('future')
  })

  it('failing since the first failure after the last success; a success ends it', () => {
    const runs = [
      run('succeeded', '2026-11-29T00:00:00Z'),
      run('failed', '2026-11-30T00:00:00Z', 'ERR_RSB_RSYNC_X'),
      run('refused', '2026-12-01T00:00:00Z', 'ERR_RSB_CLI_SOURCE_EMPTY'),
    ]
    const catalog = buildCatalog(state([record('2026-12-01 11:00:00', '2026-12-01T11:00:00Z')], runs), ['latest'], {
      scheme: { daily: 7 },
      keepLatest: 0,
      now: NOW,
    })
    const [status] = mirrorStatuses(catalog, NOW, 26 * 3600)
    expect(status).toMatchObject({ stale: false, failed: true })
    expect(status?.failingSince?.started).toBe('2026-11-30T00:00:00Z')
    expect(status?.lastSuccess?.started).toBe('2026-11-29T00:00:00Z')
    const again = buildCatalog(state([], [...runs, run('succeeded', '2026-12-01T06:00:00Z')]), ['latest'], {
      scheme: { daily: 7 },
      keepLatest: 0,
      now: NOW,
    })
    expect(mirrorStatuses(again, NOW, 3600)[0]).toMatchObject({ failed: false, failingSince: undefined, stale: true })
  })

  it('runs count by when they ended; a run refused because another held the lock, and one ending in the future, do not count', () => {
    const long = { ...run('succeeded', '2026-12-01T01:00:00Z'), ended: '2026-12-01T03:00:00Z' }
    const locked = run('refused', '2026-12-01T02:00:00Z', 'ERR_RSB_CLI_LOCKED')
    const ahead = { ...run('failed', '2027-06-01T00:00:00Z', 'ERR_RSB_RSYNC_X'), ended: '2027-06-01T00:00:01Z' }
    const catalog = buildCatalog(state([record('2026-12-01 03:00:00', '2026-12-01T03:00:00Z')], [locked, long, ahead]), ['latest'], {
      scheme: { daily: 7 },
      keepLatest: 0,
      now: NOW,
    })
    expect(catalog.runs.map((r) => r.started)).toEqual(['2026-12-01T02:00:00Z', '2026-12-01T01:00:00Z'])
    const [status] = mirrorStatuses(catalog, NOW, 26 * 3600)
    expect(status).toMatchObject({ failed: false, stale: false })
    expect(status?.lastRun?.started).toBe('2026-12-01T01:00:00Z')
  })

  it("a lock's holder that is gone (a killed run) is not shown as running; one that may be at work is", () => {
    const base = state([])
    const holder = { host: 'h', pid: 4_000_000, since: '2026-12-01T00:00:00Z', key: 'k' }
    const withHolder: StoreState = { ...base, catalog: { runs: [], holders: new Map([['latest', JSON.stringify(holder)]]), deleting: [] } }
    const options = { scheme: { daily: 7 }, keepLatest: 0, now: NOW }
    expect(buildCatalog(withHolder, ['latest'], { ...options, alive: () => false }).mirrors[0]?.running).toBeUndefined()
    expect(buildCatalog(withHolder, ['latest'], { ...options, alive: () => true }).mirrors[0]?.running).toMatchObject({ pid: 4_000_000 })
  })

  it('metrics: a value of a damaged record that is not a number is left out', () => {
    const broken = { ...run('succeeded', '2026-12-01T06:00:00Z'), durationSeconds: 'soon' as unknown as number }
    const catalog = buildCatalog(state([record('2026-12-01 11:00:00', '2026-12-01T11:00:00Z')], [broken]), ['latest'], {
      scheme: { daily: 7 },
      keepLatest: 0,
      now: NOW,
    })
    const text = metricsText('/b/latest', mirrorStatuses(catalog, NOW, 3600), undefined, NOW, 3600, true)
    expect(text).not.toContain('rsb_last_run_duration_seconds')
    expect(text).toContain('rsb_last_run_success{destination="/b/latest",mirror="latest"} 1')
  })

  it('metrics: label values escaped, families without samples left out', () => {
    const catalog = buildCatalog(state([record('2026-12-01 11:00:00', '2026-12-01T11:00:00Z')]), ['latest'], {
      scheme: { daily: 7 },
      keepLatest: 0,
      now: NOW,
    })
    const text = metricsText('host:/a "b"\\c\nd', mirrorStatuses(catalog, NOW, 3600), undefined, NOW, 3600, true)
    expect(text).toContain('rsb_fresh{destination="host:/a \\"b\\"\\\\c\\nd",mirror="latest"} 1\n')
    expect(text).not.toContain('rsb_last_run_success')
    expect(text).not.toContain('rsb_store_free_bytes')
    expect(text.endsWith('\n')).toBe(true)
  })

  it('command lines: one DESTINATION, durations, a daemon refused; list takes the rotation options of rsb backup', () => {
    expect(parseStatus(['--max-age=26h', '--metrics=/x.prom', '/b/latest'])).toMatchObject({
      kind: 'run',
      args: { destination: '/b/latest', maxAge: 93_600, metrics: '/x.prom' },
    })
    expect(() => parseStatus(['--max-age=0', '/b'])).toThrow(/more than 0/)
    expect(() => parseStatus(['/a', '/b'])).toThrow(/one DESTINATION/)
    expect(() => parseStatus(['host::module'])).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_DESTINATION_DAEMON' }))
    expect(parseList(['--rotation=daily=7*2', '--keep-latest=3', '-u', '/b/latest'])).toMatchObject({
      kind: 'run',
      args: { scheme: { daily: 14 }, keepLatest: 3, sudo: false },
    })
    expect(() => parseList(['--rotation=daily=x', '/b'])).toThrow(expect.objectContaining({ code: 'ERR_RSB_ROTATION_BAD_RETENTION' }))
  })
})

describe('run records', () => {
  it('keep no command of a remote shell: --rsync-option values that hold one are redacted, in any spelling', () => {
    expect(
      redactArgv([
        '--rsync-option=--rsh=sshpass -p secret ssh',
        '--rsync-opt',
        '-esshpass -p secret ssh',
        '--rsync-option=--bwlimit=100',
        '--rsync-option',
        '--rsync-path=sudo rsync',
        '/src',
        '--',
        '--rsync-option=--rsh=kept after --',
      ]),
    ).toEqual([
      '--rsync-option=--rsh=<redacted>',
      '--rsync-opt',
      '-e<redacted>',
      '--rsync-option=--bwlimit=100',
      '--rsync-option',
      '--rsync-path=<redacted>',
      '/src',
      '--',
      '--rsync-option=--rsh=kept after --',
    ])
    expect(redactRsyncOption('--remote-option=--log-file=/x')).toBe('--remote-option=<redacted>')
    expect(redactRsyncOption('--exclude-from=/x')).toBe('--exclude-from=/x')
  })
})

describe('list', () => {
  it('the rotation column says why a snapshot is kept', () => {
    const catalog = buildCatalog(
      state(
        [record('2026-11-01 12:00:00', '2026-11-01T12:00:00Z'), record('2026-11-30 12:00:00', '2026-11-30T12:00:00Z', false)],
        [],
        ['2026-10-01 00:00:00'],
      ),
      ['latest'],
      { scheme: { daily: 7, monthly: 'always' }, keepLatest: 0, now: NOW },
    )
    const texts = Object.fromEntries(catalog.snapshots.map((s) => [s.name, [s.status, rotationText(s)]]))
    expect(texts).toEqual({
      '2026-11-30 12:00:00': ['no-manifest', 'keep: daily'],
      '2026-11-01 12:00:00': ['complete', 'keep: monthly'],
      // unrecorded, in a store of one mirror: its next backup adopts it
      '2026-10-01 00:00:00': ['no-manifest', 'keep: monthly'],
    })
  })
})

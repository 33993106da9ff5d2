// `rsb restore`'s pure parts: the command line, PATHs, --at's TIME, the snapshot choice, targets and rsync's argv.
import { describe, expect, it } from 'vitest'
import { normalizeRestorePath, parseRestoreArgs, parseRestoreTime, type RestoreArgs } from '../src/commands/restore/args.ts'
import {
  buildRestoreArgs,
  chooseSnapshot,
  isSystemDirectory,
  manifestSource,
  restoredPath,
  snapshotsOfMirror,
} from '../src/commands/restore/plan.ts'
import { restoreExitCode } from '../src/commands/restore/run.ts'
import { CliError, UsageError } from '../src/errors.ts'
import type { SnapshotRecord, StoreState } from '../src/session/store.ts'

function args(argv: string[]): RestoreArgs {
  const parsed = parseRestoreArgs(argv)
  if (parsed.kind !== 'run') throw new Error(`not a run: ${parsed.kind}`)
  return parsed.args
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run()
  } catch (error) {
    return (error as { code?: string }).code
  }
  return undefined
}

describe('parseRestoreArgs', () => {
  it('reads DESTINATION, PATHs, the snapshot choice and the options; --latest is the default', () => {
    expect(args(['/mnt/backups/latest', '/etc/hosts', 'etc/ssh/', '--to=/tmp/r'])).toMatchObject({
      destination: '/mnt/backups/latest',
      paths: [
        { given: '/etc/hosts', relative: 'etc/hosts' },
        { given: 'etc/ssh/', relative: 'etc/ssh' },
      ],
      snapshot: { kind: 'latest' },
      to: '/tmp/r',
      inPlace: false,
      delete: false,
      dryRun: false,
      sudo: true,
      timeout: 600,
    })
    expect(args(['-nu', '--delete', '--in-place', '--timeout=90s', '--snapshot=2024-01-02 03:04:05', 'd/latest', 'x'])).toMatchObject({
      snapshot: { kind: 'name', name: '2024-01-02 03:04:05' },
      inPlace: true,
      delete: true,
      dryRun: true,
      sudo: false,
      timeout: 90,
    })
    expect(args(['--at=2024-01-02T03:04:05Z', 'd/latest', 'x']).snapshot).toMatchObject({
      kind: 'at',
      moment: new Date('2024-01-02T03:04:05Z'),
    })
    expect(parseRestoreArgs(['--help'])).toEqual({ kind: 'help' })
  })

  it('refuses two snapshot choices, --to with --in-place, a missing PATH, the mirror as a snapshot, clashing names in DIR', () => {
    for (const argv of [
      ['--latest', '--snapshot=2024-01-02 03:04:05', 'd/latest', 'x'],
      ['--at=2024-01-02', '--latest', 'd/latest', 'x'],
      ['--latest', '--latest', 'd/latest', 'x'],
      ['--to=/tmp/r', '--in-place', 'd/latest', 'x'],
      ['d/latest'],
      [],
      ['--snapshot=latest', 'd/latest', 'x'],
      ['--to=/tmp/r', 'd/latest', 'etc/ssh', 'usr/ssh'],
      ['--to=/tmp/r', 'd/latest', '/', 'etc'],
      ['--at=yesterday', 'd/latest', 'x'],
    ]) {
      expect(
        codeOf(() => parseRestoreArgs(argv)),
        argv.join(' '),
      ).toBe('ERR_RSB_CLI_USAGE')
    }
  })

  it('refuses daemon destinations and unsafe paths with their own codes', () => {
    expect(codeOf(() => parseRestoreArgs(['nas::module/latest', 'x', '--to=/r']))).toBe('ERR_RSB_CLI_DESTINATION_DAEMON')
    expect(codeOf(() => parseRestoreArgs(['rsync://nas/module/latest', 'x', '--to=/r']))).toBe('ERR_RSB_CLI_DESTINATION_DAEMON')
    expect(codeOf(() => parseRestoreArgs(['d/latest', 'a/../../b', '--to=/r']))).toBe('ERR_RSB_CLI_RESTORE_UNSAFE_PATH')
  })
})

describe('normalizeRestorePath', () => {
  it('makes PATH relative to the snapshot root', () => {
    expect(normalizeRestorePath('/etc/hosts')).toBe('etc/hosts')
    expect(normalizeRestorePath('./etc//ssh/.')).toBe('etc/ssh')
    expect(normalizeRestorePath('/')).toBe('')
    expect(normalizeRestorePath('a b/it\'s "$(x)"\nz')).toBe('a b/it\'s "$(x)"\nz')
  })
  it('refuses empty paths, .. and NUL', () => {
    for (const bad of ['', '..', 'a/..', '../a', 'a\0b'])
      expect(
        codeOf(() => normalizeRestorePath(bad)),
        bad,
      ).toBe('ERR_RSB_CLI_RESTORE_UNSAFE_PATH')
  })
})

describe('parseRestoreTime', () => {
  it('reads ISO 8601 with and without a zone and the snapshot-name form, local time without a zone', () => {
    expect(parseRestoreTime('2026-11-30T12:00Z').toISOString()).toBe('2026-11-30T12:00:00.000Z')
    expect(parseRestoreTime('2026-11-30T12:00:00+01:00').toISOString()).toBe('2026-11-30T11:00:00.000Z')
    expect(parseRestoreTime('2026-11-30 12:00:00').getTime()).toBe(new Date(2026, 10, 30, 12, 0, 0).getTime())
    expect(parseRestoreTime('2026-11-30T12:00').getTime()).toBe(new Date(2026, 10, 30, 12, 0, 0).getTime())
    expect(parseRestoreTime('2026-11-30').getTime()).toBe(new Date(2026, 10, 30).getTime())
  })
  it('refuses anything else', () => {
    for (const bad of ['', 'yesterday', '2026-13-01', '12:00 tomorrow']) expect(() => parseRestoreTime(bad)).toThrow(UsageError)
  })
})

function state(entries: Record<string, string>, records: Partial<SnapshotRecord>[], mirrors: string[] | undefined): StoreState {
  return {
    directory: '/b',
    store: mirrors === undefined ? undefined : { format: 'rsb-store', version: 1, created: '2024-01-01T00:00:00Z' },
    mirrors: (mirrors ?? []).map((name, i) => ({ version: 1, name, id: `0000000${i}`, created: '' })),
    snapshots: new Map(records.map((r) => [r.snapshot as string, { version: 1, adopted: false, ...r } as SnapshotRecord])),
    entries: new Map(Object.entries(entries)),
    deleting: [],
  }
}

describe('snapshotsOfMirror and chooseSnapshot', () => {
  const entries = {
    latest: 'd',
    other: 'd',
    '2024-01-01 00:00:00': 'd',
    '2024-01-02 00:00:00': 'd',
    '2024-01-03 00:00:00': 'd',
    '2024-01-04 00:00:00': 'l',
    '.rsb-snapshot-00000000-1-2': 'd',
  }
  const records = [
    { snapshot: '2024-01-01 00:00:00', mirror: '00000000', created: '2024-01-01T00:00:00.700Z' },
    { snapshot: '2024-01-02 00:00:00', mirror: '00000001', created: '2024-01-02T00:00:00.000Z' },
  ]

  it('counts a mirror’s recorded snapshots, unrecorded ones only in a one-mirror or unrecorded store, never links or hidden names', () => {
    expect(snapshotsOfMirror(state(entries, records, ['latest', 'other']), 'latest', 'd').map((c) => c.name)).toEqual([
      '2024-01-01 00:00:00',
    ])
    expect(snapshotsOfMirror(state(entries, records, ['latest', 'other']), 'other', 'd').map((c) => c.name)).toEqual([
      '2024-01-02 00:00:00',
    ])
    expect(snapshotsOfMirror(state(entries, records.slice(0, 1), ['latest']), 'latest', 'd').map((c) => c.name)).toEqual([
      '2024-01-01 00:00:00',
      '2024-01-02 00:00:00',
      '2024-01-03 00:00:00',
    ])
    expect(snapshotsOfMirror(state(entries, [], undefined), 'latest', 'd')).toHaveLength(3)
    expect(codeOf(() => snapshotsOfMirror(state(entries, records, ['latest']), 'nope', 'd'))).toBe('ERR_RSB_CLI_SNAPSHOT_NOT_FOUND')
  })

  it('--latest, --snapshot and --at (to the second, as the names)', () => {
    const candidates = snapshotsOfMirror(state(entries, [], undefined), 'latest', 'd')
    expect(chooseSnapshot(candidates, { kind: 'latest' }, 'd').name).toBe('2024-01-03 00:00:00')
    expect(chooseSnapshot(candidates, { kind: 'name', name: '2024-01-02 00:00:00' }, 'd').name).toBe('2024-01-02 00:00:00')
    const at = (text: string) => ({ kind: 'at' as const, text, moment: parseRestoreTime(text) })
    expect(chooseSnapshot(candidates, at('2024-01-02 12:00:00'), 'd').name).toBe('2024-01-02 00:00:00')
    expect(chooseSnapshot(candidates, at('2024-01-03 00:00:00'), 'd').name).toBe('2024-01-03 00:00:00')
    const recorded = snapshotsOfMirror(state(entries, records, ['latest', 'other']), 'latest', 'd')
    expect(chooseSnapshot(recorded, { kind: 'at', text: 'x', moment: new Date('2024-01-01T00:00:00Z') }, 'd').name).toBe(
      '2024-01-01 00:00:00',
    )
    for (const choice of [{ kind: 'name' as const, name: '2024-01-09 00:00:00' }, at('2023-12-31 23:59:59')])
      expect(codeOf(() => chooseSnapshot(candidates, choice, 'd'))).toBe('ERR_RSB_CLI_SNAPSHOT_NOT_FOUND')
    expect(codeOf(() => chooseSnapshot([], { kind: 'latest' }, 'd'))).toBe('ERR_RSB_CLI_SNAPSHOT_NOT_FOUND')
  })
})

describe('targets', () => {
  it('restoredPath: the last component into DIR, or SOURCE/PATH in place', () => {
    expect(restoredPath({ given: 'etc/ssh', relative: 'etc/ssh' }, { to: '/tmp/r' })).toBe('/tmp/r/ssh')
    expect(restoredPath({ given: '/', relative: '' }, { to: '/tmp/r' })).toBe('/tmp/r')
    expect(restoredPath({ given: 'etc', relative: 'etc' }, { source: '/' })).toBe('/etc')
  })
  it('isSystemDirectory: /, the system directories themselves and /lib*, not what is inside them', () => {
    for (const dir of ['/', '/etc', '/etc/', '/usr', '/lib', '/lib64', '/home', '/var', '/root', '/boot', '/opt', '/srv', '/bin', '/sbin'])
      expect(isSystemDirectory(dir), dir).toBe(true)
    for (const dir of ['/etc/ssh', '/home/alice', '/tmp', '/library/x', '/srv2']) expect(isSystemDirectory(dir), dir).toBe(false)
  })
  it('manifestSource: only an absolute string of the record’s manifest', () => {
    const record = { version: 1, snapshot: 's', mirror: 'm', created: '', adopted: false } as SnapshotRecord
    expect(manifestSource({ ...record, manifest: { source: '/srv' } } as SnapshotRecord)).toBe('/srv')
    expect(manifestSource(record)).toBeUndefined()
    expect(manifestSource({ ...record, manifest: { source: 'relative' } } as unknown as SnapshotRecord)).toBeUndefined()
    expect(manifestSource(undefined)).toBeUndefined()
  })
})

describe('buildRestoreArgs', () => {
  const paths = [
    { given: 'etc/ssh', relative: 'etc/ssh' },
    { given: "it's $(x)", relative: "it's $(x)" },
  ]
  it('--to: sources without a trailing slash into DIR/', () => {
    expect(
      buildRestoreArgs({
        snapshot: '/b/2024-01-01 00:00:00',
        paths,
        target: { kind: 'to', directory: '/tmp/r/' },
        delete: false,
        dryRun: false,
        timeout: 0,
      }),
    ).toEqual(['rsync', '-aHAX', '--numeric-ids', '/b/2024-01-01 00:00:00/etc/ssh', "/b/2024-01-01 00:00:00/it's $(x)", '/tmp/r/'])
    expect(
      buildRestoreArgs({
        snapshot: '/b/s',
        paths: [{ given: '/', relative: '' }],
        target: { kind: 'to', directory: '/r' },
        delete: true,
        dryRun: true,
        timeout: 600,
      }),
    ).toEqual(['rsync', '-aHAX', '--numeric-ids', '--delete', '--dry-run', '--itemize-changes', '--timeout=600', '/b/s/', '/r/'])
  })
  it('in place: --relative --no-implied-dirs with SNAPSHOT/./PATH into SOURCE/; over SSH with -s and --rsh', () => {
    expect(
      buildRestoreArgs({
        snapshot: '/b/s',
        paths,
        remote: 'me@host',
        rsh: 'ssh -p 2222 -o ServerAliveInterval=15',
        target: { kind: 'in-place', directory: '/' },
        delete: false,
        dryRun: false,
        timeout: 0,
      }),
    ).toEqual([
      'rsync',
      '-aHAX',
      '--numeric-ids',
      '--relative',
      '--no-implied-dirs',
      '-s',
      '--rsh=ssh -p 2222 -o ServerAliveInterval=15',
      'me@host:/b/s/./etc/ssh',
      "me@host:/b/s/./it's $(x)",
      '/',
    ])
  })
})

describe('restoreExitCode', () => {
  it('2 for errors of the command line, 1 for the others', () => {
    expect(restoreExitCode(new UsageError('x'))).toBe(2)
    expect(restoreExitCode(new CliError('ERR_RSB_CLI_RESTORE_IN_PLACE', 'x'))).toBe(2)
    expect(restoreExitCode(new CliError('ERR_RSB_CLI_RESTORE_PATH_MISSING', 'x'))).toBe(1)
    expect(restoreExitCode(new Error('bug'))).toBe(1)
  })
})

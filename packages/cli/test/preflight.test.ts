// Tier 1: the pre-flight checks (checkPaths) on facts as the probe reports them, and the path helpers.
import { RecordingContext } from '@rsb/exec'
import { describe, expect, it } from 'vitest'
import { checkPaths, isInside, literalFilterPath, type PathCheckInput } from '../src/backup/preflight.ts'
import { probePath, type PathFacts } from '../src/backup/probe.ts'
import type { StoreState } from '../src/session/store.ts'

const DIRECTORY: PathFacts = {
  resolved: '/b/latest',
  type: 'directory',
  nonEmpty: true,
  readable: true,
  isStore: false,
  holdsSnapshots: false,
  isRegisteredMirror: false,
  besideSnapshots: false,
  insideBackup: undefined,
  storeId: '',
}
const MISSING: PathFacts = { ...DIRECTORY, type: 'missing', nonEmpty: false, readable: false }
const SOURCE: PathFacts = { ...DIRECTORY, resolved: '/srv' }
const MIRROR = { version: 1, name: 'latest', id: '0123abcd', created: '2024-01-01T00:00:00.000Z' }

function store(entries: Record<string, string> = {}, registered = true): StoreState {
  return {
    directory: '/b',
    store: registered ? { format: 'rsb-store', version: 1, created: '2024-01-01T00:00:00.000Z' } : undefined,
    mirrors: registered ? [MIRROR] : [],
    snapshots: new Map(),
    entries: new Map(Object.entries(entries)),
    deleting: [],
  }
}

function input(changes: Partial<PathCheckInput> = {}): PathCheckInput {
  return {
    destinationText: '/b/latest',
    destination: DIRECTORY,
    store: store({ latest: 'd' }),
    source: SOURCE,
    sourceText: '/srv',
    sameMachine: true,
    mountPoint: undefined,
    backup: true,
    acceptDestination: false,
    allowEmptySource: false,
    ...changes,
  }
}

describe('checkPaths', () => {
  it('a registered mirror with a good SOURCE is accepted as it is', () => {
    expect(checkPaths(input())).toMatchObject({
      destination: '/b/latest',
      store: '/b',
      mirrorName: 'latest',
      mirror: MIRROR,
      source: '/srv',
      excludeStore: false,
    })
  })

  it.each<[string, Partial<PathCheckInput>, string]>([
    [
      'a store as DESTINATION',
      { destination: { ...DIRECTORY, resolved: '/b', isStore: true }, store: store({}, false) },
      'ERR_RSB_CLI_DESTINATION_IS_STORE',
    ],
    [
      'snapshots inside DESTINATION',
      { destination: { ...MISSING, type: 'directory', holdsSnapshots: true, resolved: '/x/b' }, store: store({}, false) },
      'ERR_RSB_CLI_DESTINATION_IS_STORE',
    ],
    ['the mount point', { mountPoint: '/b/latest' }, 'ERR_RSB_CLI_DESTINATION_IS_MOUNT_POINT'],
    ['a symlink', { destination: { ...DIRECTORY, type: 'symlink' } }, 'ERR_RSB_CLI_DESTINATION_SYMLINK'],
    ['a file', { destination: { ...DIRECTORY, type: 'other' } }, 'ERR_RSB_CLI_DESTINATION_NOT_DIRECTORY'],
    [
      'inside a mirror',
      { destination: { ...MISSING, resolved: '/b/latest/x', insideBackup: '/b/latest' } },
      'ERR_RSB_CLI_DESTINATION_IN_BACKUP',
    ],
    ['a non-empty unknown directory', { store: store({ latest: 'd' }, false) }, 'ERR_RSB_CLI_DESTINATION_NOT_EMPTY'],
    ['a missing SOURCE', { source: { ...SOURCE, type: 'missing' } }, 'ERR_RSB_CLI_SOURCE_MISSING'],
    ['a SOURCE file', { source: { ...SOURCE, type: 'other' } }, 'ERR_RSB_CLI_SOURCE_NOT_DIRECTORY'],
    ['an unreadable SOURCE', { source: { ...SOURCE, readable: false } }, 'ERR_RSB_CLI_SOURCE_UNREADABLE'],
    ['an empty SOURCE', { source: { ...SOURCE, nonEmpty: false } }, 'ERR_RSB_CLI_SOURCE_EMPTY'],
    ['a SOURCE mirror', { source: { ...SOURCE, isRegisteredMirror: true } }, 'ERR_RSB_CLI_SOURCE_IS_BACKUP'],
    ['a SOURCE store', { source: { ...SOURCE, isStore: true } }, 'ERR_RSB_CLI_SOURCE_IS_BACKUP'],
    ['SOURCE = DESTINATION', { source: { ...SOURCE, resolved: '/b/latest' } }, 'ERR_RSB_CLI_OVERLAP'],
    ['SOURCE inside DESTINATION', { source: { ...SOURCE, resolved: '/b/latest/x' } }, 'ERR_RSB_CLI_OVERLAP'],
    ['SOURCE is the store', { source: { ...SOURCE, resolved: '/b' } }, 'ERR_RSB_CLI_OVERLAP'],
  ])('refuses %s', (_what, changes, code) => {
    expect(() => checkPaths(input(changes))).toThrow(expect.objectContaining({ code, hint: expect.any(String) }))
  })

  it('a store inside SOURCE is excluded (rsb / /var/backups/latest)', () => {
    const plan = checkPaths(input({ source: { ...SOURCE, resolved: '/' }, destination: { ...DIRECTORY, resolved: '/var/backups/latest' } }))
    expect(plan).toMatchObject({ store: '/var/backups', excludeStore: true })
  })

  it('an original store (a mirror beside snapshots, no records) is adopted without a flag; lost+found and files do not count', () => {
    const entries = {
      latest: 'd',
      'lost+found': 'd',
      notes: 'f',
      '2024-01-01 00:00:00': 'd',
      '2024-01-02 00:00:00': 'd',
      '2024-01-03 00:00:00': 'f',
    }
    const plan = checkPaths(input({ store: store(entries, false) }))
    expect(plan).toMatchObject({ mirror: undefined, adopt: ['2024-01-01 00:00:00', '2024-01-02 00:00:00'], unowned: [], accepted: false })
  })

  it.each<[string, string]>([
    ['a snapshot of it', '2024-01-01 00:00:00'],
    ['another directory beside the mirror', 'photos'],
  ])('in an original store, %s as DESTINATION is not adopted: refused unless accepted, and then the others are adopted', (_what, name) => {
    const entries = { latest: 'd', photos: 'd', '2024-01-01 00:00:00': 'd', '2024-01-02 00:00:00': 'd' }
    const destination = { ...DIRECTORY, resolved: `/b/${name}` }
    expect(() => checkPaths(input({ destination, store: store(entries, false) }))).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_CLI_DESTINATION_NOT_EMPTY' }),
    )
    const plan = checkPaths(input({ destination, store: store(entries, false), acceptDestination: true }))
    expect(plan.accepted).toBe(true)
    expect(plan.adopt).toEqual(['2024-01-01 00:00:00', '2024-01-02 00:00:00'].filter((n) => n !== name))
  })

  it('a new mirror beside an original one (not adopted) takes none of its snapshots', () => {
    const entries = { latest: 'd', '2024-01-01 00:00:00': 'd' }
    const plan = checkPaths(input({ destination: { ...MISSING, resolved: '/b/server-latest' }, store: store(entries, false) }))
    expect(plan).toMatchObject({ adopt: [], unowned: ['2024-01-01 00:00:00'] })
  })

  it('snapshot or rotate alone refuses a DESTINATION that does not exist (a typo must not make a store)', () => {
    expect(() => checkPaths(input({ destination: MISSING, source: undefined, backup: false }))).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_CLI_DESTINATION_MISSING' }),
    )
  })

  it('unrecorded snapshots in a store of several mirrors belong to none (kept, never rotated)', () => {
    const state = { ...store({ latest: 'd', '2024-01-01 00:00:00': 'd' }), mirrors: [MIRROR, { ...MIRROR, name: 'other', id: 'ffffffff' }] }
    expect(checkPaths(input({ store: state }))).toMatchObject({ adopt: [], unowned: ['2024-01-01 00:00:00'] })
  })

  it('--accept-destination and --allow-empty-source accept what they name, and only that', () => {
    expect(checkPaths(input({ store: store({ latest: 'd' }, false), acceptDestination: true })).accepted).toBe(true)
    expect(checkPaths(input({ source: { ...SOURCE, nonEmpty: false }, allowEmptySource: true })).source).toBe('/srv')
    expect(() => checkPaths(input({ store: store({}, false), acceptDestination: true, mountPoint: '/b/latest' }))).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_CLI_DESTINATION_IS_MOUNT_POINT' }),
    )
  })

  it('snapshot and rotate without a backup need no SOURCE and accept a non-empty destination (the daemon hook)', () => {
    expect(checkPaths(input({ source: undefined, backup: false, store: store({ latest: 'd' }, false) })).source).toBeUndefined()
  })
})

describe('path helpers', () => {
  it('isInside is strict and component-wise', () => {
    expect(isInside('/b/latest', '/b')).toBe(true)
    expect(isInside('/b', '/b')).toBe(false)
    expect(isInside('/bc', '/b')).toBe(false)
    expect(isInside('/x', '/')).toBe(true)
  })

  it('literalFilterPath escapes wildcards only where rsync reads them', () => {
    expect(literalFilterPath('/var/back\\ups')).toBe('/var/back\\ups')
    expect(literalFilterPath('/var/[x]*?\\')).toBe('/var/\\[x]\\*\\?\\\\')
  })
})

describe('probePath over a context with sudo (the backup@server setup)', () => {
  it('expands ~ as the login user, without sudo (whose HOME is root’s), then probes with sudo', async () => {
    const context = new RecordingContext(
      ({ argv }) => {
        if (argv[0] === 'sh') return { stdout: '/home/backup/x/latest' } // the ~ expansion, as the login user
        return { stdout: 'resolved=/home/backup/x/latest\0type=missing\0' }
      },
      { sudo: true, privileged: false },
    )
    const facts = await probePath(context, '~/x/latest', { tilde: true, what: 'DESTINATION' })
    expect(facts.resolved).toBe('/home/backup/x/latest')
    const [expand, probe] = context.calls.map((call) => call.argv)
    expect(expand?.slice(0, 2)).toEqual(['sh', '-c'])
    expect(expand?.at(-1)).toBe('~/x/latest')
    expect(probe?.slice(0, 4)).toEqual(['sudo', '-n', 'sh', '-c'])
    expect(probe).toContain('/home/backup/x/latest')
  })

  it('a ~user that does not exist is ERR_RSB_CLI_PATH_UNRESOLVED, and nothing else runs', async () => {
    const context = new RecordingContext(() => ({ exitCode: 3, stderr: 'no such user: nobody-here' }), { sudo: true, privileged: false })
    await expect(probePath(context, '~nobody-here/x', { tilde: true, what: 'DESTINATION' })).rejects.toMatchObject({
      code: 'ERR_RSB_CLI_PATH_UNRESOLVED',
    })
    expect(context.calls).toHaveLength(1)
  })
})

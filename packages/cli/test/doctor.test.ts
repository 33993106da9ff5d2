// rsb doctor's pure parts: its command line, the table of known-bad rsync releases, and the rules that turn what the
// probes found into ok, warn and fail (no processes started).
import { describe, expect, it } from 'vitest'
import {
  exitStatusOf,
  filesystemChecks,
  knownBadRsync,
  mtimeGranularity,
  parseFilesystemFacts,
  parseSourceFacts,
  PROBE_MTIME,
  rsyncCheck,
  type FilesystemFacts,
  type SourceFacts,
} from '../src/commands/doctor/checks.ts'
import { doctorText, parse } from '../src/commands/doctor/index.ts'

const EXT4: FilesystemFacts = {
  base: '/mnt/backups',
  mountPoint: '/mnt',
  type: 'ext4',
  sizeBytes: 1e12,
  availableBytes: 5e11,
  inodes: 1_000_000,
  freeInodes: 900_000,
  linkMax: 65000,
  notWritten: undefined,
  scratch: '/mnt/backups/.rsb-doctor.AbCdEfGhIj',
  hardLink: true,
  acl: true,
  xattr: true,
  owner: true,
  caseSensitive: true,
  mtime: `${PROBE_MTIME} +0000`,
  mtimeError: undefined,
}
const SOURCE: SourceFacts = { path: '/srv', entries: 1000, bytes: 1e9, maxLinks: 3, unreadable: undefined }

const statusOf = (checks: ReturnType<typeof filesystemChecks>) => Object.fromEntries(checks.map((c) => [c.id, c.status]))

describe('parse', () => {
  it('one or two positionals: DESTINATION, or SOURCE and DESTINATION; the options', () => {
    expect(parse(['/mnt/b/latest'])).toEqual({
      kind: 'run',
      args: { source: undefined, destination: '/mnt/b/latest', multiFs: false, sudo: true, json: false, verbosity: 0 },
    })
    expect(parse(['--json', '--no-sudo', '--multi-fs', '-vv', '/srv', 'nas:/b/latest'])).toEqual({
      kind: 'run',
      args: { source: '/srv', destination: 'nas:/b/latest', multiFs: true, sudo: false, json: true, verbosity: 2 },
    })
    expect(parse(['--help', 'x'])).toEqual({ kind: 'help' })
    expect(parse(['--version'])).toEqual({ kind: 'version' })
  })

  it('usage errors: no DESTINATION, three arguments, empty ones, a remote SOURCE, a daemon DESTINATION', () => {
    expect(() => parse([])).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE', message: 'rsb doctor needs a DESTINATION.' }))
    expect(() => parse(['a', 'b', 'c'])).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE' }))
    expect(() => parse(['', '/b'])).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE', message: 'SOURCE is empty.' }))
    expect(() => parse(['host:/srv', '/b'])).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE' }))
    expect(() => parse(['nas::module/latest'])).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_DESTINATION_DAEMON' }))
    expect(() => parse(['--bogus', '/b'])).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE' }))
  })
})

describe('the known-bad rsync releases', () => {
  it('3.4.0, 3.4.1, 3.4.3 and 3.5.0 warn (also as distribution versions); others are ok', () => {
    for (const v of ['3.4.0', '3.4.1', '3.4.1-2ubuntu1', '3.4.3', '3.5.0']) expect(knownBadRsync(v)?.status, v).toBe('warn')
    for (const v of ['3.2.7', '3.3.0', '3.4.10', '3.4.2', '3.5.1']) expect(knownBadRsync(v), v).toBeUndefined()
    expect(rsyncCheck('rsync-local', 'here', '3.4.1')).toMatchObject({ status: 'warn', value: '3.4.1' })
    expect(rsyncCheck('rsync-local', 'here', '3.4.1').detail).toContain('link-dest regressions reported')
    expect(rsyncCheck('rsync-local', 'here', '3.2.7').status).toBe('ok')
    expect(rsyncCheck('rsync-remote', 'on nas', undefined).status).toBe('fail')
  })
})

describe('mtimeGranularity', () => {
  it('nanoseconds, fractions, whole seconds, FAT 2 seconds; anything else is not kept', () => {
    expect(mtimeGranularity(PROBE_MTIME, '2001-02-03 04:05:07.123456789 +0000')).toBe('ns')
    expect(mtimeGranularity(PROBE_MTIME, '2001-02-03 04:05:07.123456000 +0000')).toBe('subsecond')
    expect(mtimeGranularity(PROBE_MTIME, '2001-02-03 04:05:07.000000000 +0000')).toBe('1s')
    expect(mtimeGranularity(PROBE_MTIME, '2001-02-03 04:05:06.000000000 +0000')).toBe('2s')
    expect(mtimeGranularity(PROBE_MTIME, '2026-12-01 10:00:00.000000000 +0000')).toBeUndefined()
  })
})

describe('filesystemChecks', () => {
  it('ext4 with room: every check ok', () => {
    const checks = filesystemChecks(EXT4, SOURCE, false)
    expect(Object.values(statusOf(checks)).every((s) => s === 'ok')).toBe(true)
    expect(exitStatusOf(checks)).toBe(0)
  })

  it('the link limit: fail above it, warn when one snapshot would reach it; no hard links is a limit of 1', () => {
    expect(statusOf(filesystemChecks(EXT4, { ...SOURCE, maxLinks: 70_000 }, false))['link-limit']).toBe('fail')
    expect(statusOf(filesystemChecks(EXT4, { ...SOURCE, maxLinks: 40_000 }, false))['link-limit']).toBe('warn')
    const fat = filesystemChecks({ ...EXT4, hardLink: 'ln: Operation not permitted', linkMax: 127 }, SOURCE, false)
    expect(fat.find((c) => c.id === 'link-limit')).toMatchObject({ status: 'fail', value: 1 })
    expect(statusOf(fat)['hard-links']).toBe('fail')
    expect(exitStatusOf(fat)).toBe(1)
  })

  it('space and inodes: fail when the first backup does not fit, warn when a mirror is there or within 10%', () => {
    const small = { ...EXT4, availableBytes: 5e8, freeInodes: 500 }
    expect(statusOf(filesystemChecks(small, SOURCE, false))).toMatchObject({ space: 'fail', inodes: 'fail' })
    expect(statusOf(filesystemChecks(small, SOURCE, true))).toMatchObject({ space: 'warn', inodes: 'warn' })
    expect(statusOf(filesystemChecks({ ...EXT4, availableBytes: 1.05e9 }, SOURCE, false)).space).toBe('warn')
    expect(statusOf(filesystemChecks({ ...EXT4, inodes: 0, freeInodes: 0 }, SOURCE, false)).inodes).toBe('ok')
    expect(statusOf(filesystemChecks(small, undefined, false))).toMatchObject({ space: 'ok', inodes: 'ok', 'link-limit': 'ok' })
  })

  it('ACLs, xattrs, owners and case fail; 2-second mtimes warn; a missing setfacl warns; no write tests: not checked', () => {
    const fat = filesystemChecks(
      {
        ...EXT4,
        type: 'fuse.fusefat',
        acl: 'setfacl: x: Operation not supported',
        xattr: 'setfattr: x: Operation not supported',
        owner: 'chown: Function not implemented',
        caseSensitive: false,
        mtime: '2001-02-03 04:05:06.000000000 +0000',
      },
      SOURCE,
      false,
    )
    expect(statusOf(fat)).toMatchObject({
      filesystem: 'ok',
      acls: 'fail',
      xattrs: 'fail',
      owners: 'fail',
      case: 'fail',
      timestamps: 'warn',
    })
    expect(statusOf(filesystemChecks({ ...EXT4, acl: 'no setfacl program' }, SOURCE, false)).acls).toBe('warn')
    const unwritten = filesystemChecks(
      {
        ...EXT4,
        notWritten: 'every user may write in /x',
        hardLink: undefined,
        acl: undefined,
        xattr: undefined,
        owner: undefined,
        caseSensitive: undefined,
        mtime: undefined,
      },
      SOURCE,
      false,
    )
    expect(statusOf(unwritten)).toMatchObject({ 'hard-links': 'skip', acls: 'skip', owners: 'skip', case: 'skip', timestamps: 'skip' })
    expect(statusOf(filesystemChecks({ ...EXT4, type: 'tmpfs' }, SOURCE, false)).filesystem).toBe('warn')
  })
})

describe('parsing the probes', () => {
  it("the filesystem probe: its fields, df's line, errors as their last line", () => {
    const out = [
      'base=/mnt/b',
      'mountpoint=/mnt',
      'df=fuse.fusefat  33554432 33468416 16343 16342',
      'linkmax=127',
      'scratch=/mnt/b/.rsb-doctor.x',
      'hardlink-error=ln: failed to create hard link\nln: Operation not permitted',
      'acl=1',
      'case=insensitive',
      'mtime=2001-02-03 04:05:06.000000000 +0000',
      '',
    ].join('\0')
    expect(parseFilesystemFacts(out)).toMatchObject({
      base: '/mnt/b',
      type: 'fuse.fusefat',
      availableBytes: 33468416,
      inodes: 16343,
      freeInodes: 16342,
      linkMax: 127,
      hardLink: 'ln: Operation not permitted',
      acl: true,
      xattr: undefined,
      caseSensitive: false,
    })
    expect(parseFilesystemFacts('base=/x\0unsafe=every user may write in /x\0').notWritten).toBe('every user may write in /x')
  })

  it("the source scan: four numbers; find's failure is a complaint", () => {
    expect(parseSourceFacts('/srv', '12 3400 3 0\n', '')).toEqual({
      path: '/srv',
      entries: 12,
      bytes: 3400,
      maxLinks: 3,
      unreadable: undefined,
    })
    expect(parseSourceFacts('/srv', '12 3400 0 1\n', "find: '/srv/x': Permission denied\n")).toMatchObject({
      maxLinks: 1,
      unreadable: "find: '/srv/x': Permission denied",
    })
    expect(parseSourceFacts('/srv', '', 'sh: find: not found')).toBeUndefined()
  })
})

describe('doctorText', () => {
  it('one line per check, a hint under a warning or failure, the counts; -q shows only warnings and failures', () => {
    const report = { host: 'localhost', store: '/b', checks: filesystemChecks({ ...EXT4, hardLink: 'not permitted' }, SOURCE, false) }
    const text = doctorText(report, false)
    expect(text).toMatch(/^ok {4}filesystem +ext4 at \/mnt\/backups \(on \/mnt\)$/m)
    expect(text).toMatch(/^fail {2}hard links +not supported: not permitted\n +hint: Snapshots are hard links/m)
    expect(text.trimEnd().split('\n').at(-1)).toMatch(/^\d+ ok, 0 warning\(s\), 2 failure\(s\), 0 not checked$/)
    expect(doctorText(report, true)).not.toContain('ok    filesystem')
  })
})

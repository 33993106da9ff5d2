import { quoteCommandLine } from '@rsb/exec'
import { describe, expect, it } from 'vitest'
import { buildRsyncArgs, DEFAULT_EXCLUDED_ROOTS, formatRsyncLocation, RsyncError } from '../src/index.ts'

// The concrete command lines of the reference (rsync-system-backup.md, 4.6), shell-quoted, without the sudo prefix.
const FILTERS =
  "'--filter=-/ /dev/' '--filter=-/ /home/*/.cache/' '--filter=-/ /media/' '--filter=-/ /mnt/' '--filter=-/ /proc/' '--filter=-/ /run/' '--filter=-/ /sys/' '--filter=-/ /tmp/' '--filter=-/ /var/cache/' '--filter=-/ /var/tmp/'"
const BASE = '--delete --delete-excluded --acls --archive --hard-links --numeric-ids --xattrs'

describe('buildRsyncArgs: the original argv', () => {
  it('default run: rsb /mnt/backups/latest', () => {
    const argv = buildRsyncArgs({ destination: '/mnt/backups/latest' })
    expect(quoteCommandLine(argv)).toBe(`rsync ${BASE} --one-file-system ${FILTERS} / /mnt/backups/latest/`)
  })

  it('keeps each filter rule as one argv element holding a space', () => {
    const argv = buildRsyncArgs({ destination: '/mnt/backups/latest' })
    expect(argv.slice(9, 19)).toEqual(DEFAULT_EXCLUDED_ROOTS.map((root) => `--filter=-/ ${root}`))
    expect(argv).toHaveLength(21)
  })

  it('dry run: --dry-run --verbose come first', () => {
    const argv = buildRsyncArgs({ destination: '/mnt/backups/latest', dryRun: true })
    expect(quoteCommandLine(argv)).toBe(`rsync --dry-run --verbose ${BASE} --one-file-system ${FILTERS} / /mnt/backups/latest/`)
  })

  it('-x a -x *.log --multi-fs /srv// /mnt/backups/latest/', () => {
    const argv = buildRsyncArgs({ source: '/srv//', destination: '/mnt/backups/latest/', excludes: ['a', '*.log'], multiFs: true })
    expect(quoteCommandLine(argv)).toBe(`rsync ${BASE} ${FILTERS} --exclude=a '--exclude=*.log' /srv/ /mnt/backups/latest/`)
  })

  it('dry run, multi-fs and excludes together keep the order', () => {
    const argv = buildRsyncArgs({ source: '/home', destination: '/b/latest', dryRun: true, multiFs: true, excludes: ['x'] })
    expect(argv).toEqual([
      'rsync',
      '--dry-run',
      '--verbose',
      ...BASE.split(' '),
      ...DEFAULT_EXCLUDED_ROOTS.map((r) => `--filter=-/ ${r}`),
      '--exclude=x',
      '/home/',
      '/b/latest/',
    ])
  })

  it('passes excludes in command-line order, verbatim (quote-hostile too)', () => {
    const patterns = ["it's", 'a b', '$(reboot)', 'line\nbreak', '"q"', '*.tmp', '-x']
    const argv = buildRsyncArgs({ destination: '/d', excludes: patterns })
    expect(argv.slice(-2 - patterns.length, -2)).toEqual(patterns.map((p) => `--exclude=${p}`))
  })

  it('uses the given excluded roots instead of the defaults', () => {
    expect(buildRsyncArgs({ destination: '/d', excludedRoots: ['/srv/cache/'] })).toContain('--filter=-/ /srv/cache/')
    expect(buildRsyncArgs({ destination: '/d', excludedRoots: [] }).some((a) => a.startsWith('--filter'))).toBe(false)
  })

  it('SSH destination: user@host:dir/', () => {
    expect(buildRsyncArgs({ destination: 'backup-user@backup-server:/backups/laptop' }).at(-1)).toBe(
      'backup-user@backup-server:/backups/laptop/',
    )
    expect(
      buildRsyncArgs({ destination: { kind: 'ssh', username: 'backup-user', hostname: 'backup-server', directory: '/backups/laptop' } }).at(
        -1,
      ),
    ).toBe('backup-user@backup-server:/backups/laptop/')
  })

  it('passes an empty source as an empty argument', () => {
    expect(buildRsyncArgs({ source: '', destination: '/d' }).at(-2)).toBe('')
  })

  it('adds nothing of rsb unless asked', () => {
    const argv = buildRsyncArgs({ destination: '/d', progress: false, stats: false, rsyncOptions: [] })
    expect(argv.filter((a) => a.startsWith('--info') || a === '--stats')).toEqual([])
  })
})

describe('buildRsyncArgs: daemon destinations', () => {
  const last = (destination: Parameters<typeof formatRsyncLocation>[0], tunnelPort?: number) =>
    buildRsyncArgs({ destination, tunnelPort }).at(-1)

  it.each([
    [{ kind: 'daemon', hostname: 'server', module: 'module', directory: '' }, 'rsync://server:873/module/'],
    [
      { kind: 'daemon', username: 'user', hostname: 'server', port: 8873, module: 'module', directory: '' },
      'rsync://user@server:8873/module/',
    ],
    [{ kind: 'daemon', hostname: 'server', module: 'module', directory: 'dir' }, 'rsync://server:873/module/dir/'],
    [{ kind: 'daemon', hostname: 'host', module: 'module', directory: 'a/b' }, 'rsync://host:873/module/a/b/'],
    [{ kind: 'daemon', hostname: '0.0.0.0', module: 'module', directory: 'directory' }, 'rsync://0.0.0.0:873/module/directory/'],
  ] as const)('%o → %s (module and directory never fused)', (destination, expected) => {
    expect(last(destination)).toBe(expected)
  })

  it('uses the tunnel port when the destination names none', () => {
    expect(last({ kind: 'daemon', hostname: 'localhost', module: 'module', directory: '' }, 40123)).toBe('rsync://localhost:40123/module/')
  })

  it('keeps an explicit port over the tunnel port', () => {
    expect(last({ kind: 'daemon', hostname: 'localhost', port: 8873, module: 'm', directory: 'd' }, 40123)).toBe(
      'rsync://localhost:8873/m/d/',
    )
  })

  it('rejects ports outside 1-65535', () => {
    expect(() => last({ kind: 'daemon', hostname: 'h', port: 0, module: 'm', directory: '' })).toThrow(RsyncError)
    expect(() => last({ kind: 'daemon', hostname: 'h', module: 'm', directory: '' }, 70000)).toThrow(/tunnel port/)
  })
})

describe('buildRsyncArgs: rsb additions', () => {
  it('adds --info=progress2 and --stats after the original options, before the operands', () => {
    const argv = buildRsyncArgs({ destination: '/d', excludes: ['x'], progress: true, stats: true })
    expect(argv.slice(-5)).toEqual(['--exclude=x', '--info=progress2', '--stats', '/', '/d/'])
  })

  it('passes --rsync-option values last among the options, in order', () => {
    const argv = buildRsyncArgs({ destination: '/d', progress: true, rsyncOptions: ['--no-A', '--bwlimit=10M', '-h'] })
    expect(argv.slice(-6)).toEqual(['--info=progress2', '--no-A', '--bwlimit=10M', '-h', '/', '/d/'])
  })

  it('rejects pass-through values that are not options', () => {
    for (const bad of ['/etc', '', '-', '--', 'x']) {
      expect(() => buildRsyncArgs({ destination: '/d', rsyncOptions: [bad] })).toThrow(
        expect.objectContaining({ code: 'ERR_RSB_RSYNC_INVALID_OPTION' }),
      )
    }
  })

  it('rejects a source or destination that rsync would read as an option', () => {
    expect(() => buildRsyncArgs({ source: '-weird-src', destination: '/d' })).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_RSYNC_INVALID_OPTION' }),
    )
    expect(() => buildRsyncArgs({ destination: '--rsh=evil' })).toThrow(/starts with '-'/)
  })
})

describe('buildRsyncArgs: exactly one trailing slash (ensure_trailing_slash)', () => {
  it.each([
    ['/', '/'],
    ['//', '/'],
    ['a', 'a/'],
    ['a//', 'a/'],
    ['/mnt/backups/latest///', '/mnt/backups/latest/'],
  ])('source %j → %j', (input, output) => {
    expect(buildRsyncArgs({ source: input, destination: '/d' }).at(-2)).toBe(output)
  })

  it.each([
    ['/mnt/backups/latest///', '/mnt/backups/latest/'],
    ['host:dir', 'host:dir/'],
    ['host:', 'host:/'],
    ['relative/dir', 'relative/dir/'],
  ])('destination %j → %j', (input, output) => {
    expect(buildRsyncArgs({ destination: input }).at(-1)).toBe(output)
  })
})

describe('buildRsyncArgs: destinations given as text', () => {
  it.each([
    ['server::module', 'rsync://server:873/module/'],
    ['rsync://user@server:8873/module', 'rsync://user@server:8873/module/'],
    ['server::module/dir', 'rsync://server:873/module/dir/'],
    ['rsync://host/module/a/b', 'rsync://host:873/module/a/b/'],
    ['backup-user@backup-server::laptop_backups', 'rsync://backup-user@backup-server:873/laptop_backups/'],
    [
      'rsync://backup-user@backup-server:12345/laptop_backups/some-directory',
      'rsync://backup-user@backup-server:12345/laptop_backups/some-directory/',
    ],
    ['user@[::1]::mod/dir', 'rsync://user@[::1]:873/mod/dir/'],
  ])('%s → %s (the original always rewrote daemon destinations as URLs)', (input, output) => {
    expect(buildRsyncArgs({ destination: input }).at(-1)).toBe(output)
  })

  it('-t gateway localhost::module: the tunnel port, unless the URL names one', () => {
    expect(buildRsyncArgs({ destination: 'localhost::module', tunnelPort: 40123 }).at(-1)).toBe('rsync://localhost:40123/module/')
    expect(buildRsyncArgs({ destination: 'rsync://localhost:8873/module', tunnelPort: 40123 }).at(-1)).toBe(
      'rsync://localhost:8873/module/',
    )
  })

  it('refuses what @rsb/destination refuses', () => {
    expect(() => buildRsyncArgs({ destination: '' })).toThrow(expect.objectContaining({ code: 'ERR_RSB_DESTINATION_INVALID' }))
    expect(() => buildRsyncArgs({ destination: 'a\nb' })).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_DESTINATION_CONTROL_CHARACTER' }),
    )
  })
})

describe('formatRsyncLocation', () => {
  it('formats local, SSH and daemon locations', () => {
    expect(formatRsyncLocation({ kind: 'local', directory: 'relative/dir' })).toBe('relative/dir')
    expect(formatRsyncLocation({ kind: 'ssh', hostname: 'host', directory: '' })).toBe('host:')
    expect(formatRsyncLocation({ kind: 'daemon', username: 'u', hostname: 'nas', module: 'laptop', directory: '/latest' })).toBe(
      'rsync://u@nas:873/laptop/latest',
    )
    expect(formatRsyncLocation({ kind: 'daemon', username: '', hostname: '::1', port: 8873, module: 'm', directory: '' })).toBe(
      'rsync://[::1]:8873/m',
    )
    expect(formatRsyncLocation({ kind: 'ssh', username: undefined, hostname: '::1', directory: 'backups' })).toBe('[::1]:backups')
  })
})

import { quoteCommandLine } from '@rsb/exec'
import { describe, expect, it } from 'vitest'
import {
  buildRsyncArgs,
  checkRsyncOptions,
  DEFAULT_EXCLUDED_ROOTS,
  formatExcludeArgument,
  formatRsyncLocation,
  remoteShellOption,
  RsyncError,
  UNSAFE_RSYNC_OPTIONS,
} from '../src/index.ts'

// The concrete command lines of rsync-system-backup, shell-quoted, without the sudo prefix.
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

describe('buildRsyncArgs: several sources', () => {
  it('one source in `sources` is the same argv as `source` (no --relative)', () => {
    const one = buildRsyncArgs({ source: '/srv', destination: '/b/latest', excludes: ['x'] })
    expect(buildRsyncArgs({ sources: ['/srv'], destination: '/b/latest', excludes: ['x'] })).toEqual(one)
    expect(one).not.toContain('--relative')
  })

  it('several: --relative after --xattrs, each source with one trailing slash before the destination', () => {
    const argv = buildRsyncArgs({ sources: ['/etc', '/home//', '/it\'s a "name"'], destination: '/b/latest', excludes: ['*.log'] })
    expect(quoteCommandLine(argv)).toBe(
      `rsync ${BASE} --relative --one-file-system ${FILTERS} '--exclude=*.log' /etc/ /home/ '/it'"'"'s a "name"/' /b/latest/`,
    )
  })

  it('several, over SSH and to a daemon: the operands are the sources, then the destination', () => {
    expect(buildRsyncArgs({ sources: ['/etc', '/home'], destination: 'u@h:/b/latest', multiFs: true }).slice(-3)).toEqual([
      '/etc/',
      '/home/',
      'u@h:/b/latest/',
    ])
    expect(buildRsyncArgs({ sources: ['/etc', '/home'], destination: 'h::m/latest' }).slice(-3)).toEqual([
      '/etc/',
      '/home/',
      'rsync://h:873/m/latest/',
    ])
  })

  it('refuses no source, a relative one among several, and one that starts with -', () => {
    expect(() => buildRsyncArgs({ sources: [], destination: '/d' })).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_RSYNC_INVALID_OPTION' }),
    )
    expect(() => buildRsyncArgs({ sources: ['/etc', 'home'], destination: '/d' })).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_RSYNC_INVALID_OPTION', message: expect.stringContaining("'home' is not an absolute path") }),
    )
    expect(() => buildRsyncArgs({ sources: ['/etc', '-x'], destination: '/d' })).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_RSYNC_INVALID_OPTION' }),
    )
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

describe('buildRsyncArgs: pass-through options that break hard-link snapshots are refused', () => {
  const refusal = (rsyncOptions: string[]) => {
    try {
      buildRsyncArgs({ destination: '/d', rsyncOptions })
    } catch (error) {
      return error as RsyncError
    }
    throw new Error(`${JSON.stringify(rsyncOptions)} was not refused`)
  }

  it.each(UNSAFE_RSYNC_OPTIONS.map((option) => [option.name, option] as const))('--%s in every spelling rsync accepts', (_name, option) => {
    const spellings = [`--${option.name}`, `--${option.name}=x`]
    if (option.short) spellings.push(`-${option.short}`, `-a${option.short}`, `-v${option.short}n`, `-${option.short}v`)
    spellings.push(`-M--${option.name}`, `--remote-option=--${option.name}=x`, `-avM--${option.name}`)
    for (const spelling of spellings) {
      const error = refusal(['--bwlimit=1M', spelling])
      expect(error).toBeInstanceOf(RsyncError)
      expect(error.code).toBe('ERR_RSB_RSYNC_UNSAFE_OPTION')
      expect(error.message).toContain(`--${option.name}`)
      expect(error.message).toContain(option.reason)
      expect(error.hint).toContain(`--rsync-option=${spelling}`)
    }
    // the separate value form: --rsync-option=--link-dest --rsync-option=-x
    expect(refusal([`--${option.name}`, '-x']).code).toBe('ERR_RSB_RSYNC_UNSAFE_OPTION')
    // and the separate value of -M: --rsync-option=-M --rsync-option=--inplace
    expect(refusal(['-M', `--${option.name}`]).code).toBe('ERR_RSB_RSYNC_UNSAFE_OPTION')
  })

  it('names the option and why, with the spelling it was given in', () => {
    expect(refusal(['--inplace']).message).toBe(
      '--inplace writes into existing files, which older snapshots share (hard links): it would change them.',
    )
    expect(refusal(['--inplace']).hint).toBe(
      "Leave out --rsync-option=--inplace: rsb's hard-link snapshots already keep the older versions of every file.",
    )
    expect(refusal(['-ab']).message).toMatch(/^-b \(--backup\) in '-ab' keeps replaced and deleted files as extra copies/)
    expect(refusal(['-ab']).hint).toMatch(/^Leave out -b from --rsync-option=-ab: /)
    expect(refusal(['--link-dest=/b/old']).message).toMatch(/^--link-dest in '--link-dest=\/b\/old' makes files in DESTINATION hard links/)
    expect(refusal(['-vM--append']).message).toMatch(
      /^--append in '-vM--append' \(sent to the other side by -M\) appends to existing files/,
    )
    expect(refusal(['--remote-option=-b']).message).toMatch(
      /^-b \(--backup\) in '--remote-option=-b' \(sent to the other side by --remote-option\) keeps/,
    )
  })

  it('lists at least the options that would change or break older snapshots (and those that would skip what exact snapshots moved aside)', () => {
    expect(UNSAFE_RSYNC_OPTIONS.map((o) => o.name).sort()).toEqual(
      [
        'append',
        'append-verify',
        'backup',
        'backup-dir',
        'compare-dest',
        'copy-dest',
        'daemon',
        'exclude',
        'exclude-from',
        'existing',
        'ignore-non-existing',
        'max-size',
        'min-size',
        'filter',
        'include',
        'include-from',
        'inplace',
        'link-dest',
        'only-write-batch',
        'read-batch',
        'remove-sent-files',
        'remove-source-files',
        'sender',
        'server',
        'suffix',
        'write-devices',
      ].sort(),
    )
  })

  it.each([
    ['--no-inplace'],
    ['--no-backup'],
    ['--no-append'],
    ['--bwlimit=10M'],
    ['-avz'],
    ['-eb'], // -e takes the rest as its value: the remote shell 'b'
    ['-Tb'],
    ['-B4096b'],
    ['-@b'],
    ['-Mb'],
    ['--remote-option=--bwlimit=1M'],
    ['--delete-after'],
    ['--inplacex'],
    ['--info=backup'],
    ['--suffixes'],
  ])('allows %s (not one of them, or not the option in that spelling)', (option) => {
    expect(buildRsyncArgs({ destination: '/d', rsyncOptions: [option] })).toContain(option)
  })

  it.each([
    ['--exclude=!'],
    ['--include=!'],
    ['-f!'],
    ['-vf', '!'],
    ['--filter=clear'],
    ['--exclude-from=/tmp/rules'],
    ['--filter=merge /tmp/rules'],
  ])('refuses filter rules in pass-through options (%s): they could clear the system excludes; -x PATTERN is the way', (...options) => {
    const error = refusal(options)
    expect(error.code).toBe('ERR_RSB_RSYNC_UNSAFE_OPTION')
    expect(error.message).toContain("rsb's system excludes")
    expect(error.message).toContain('-x PATTERN')
  })

  it('checkRsyncOptions is the same check, for command lines checked before anything runs', () => {
    expect(() => checkRsyncOptions(['--no-acls', '--append'])).toThrow(expect.objectContaining({ code: 'ERR_RSB_RSYNC_UNSAFE_OPTION' }))
    expect(() => checkRsyncOptions(['x'])).toThrow(expect.objectContaining({ code: 'ERR_RSB_RSYNC_INVALID_OPTION' }))
    expect(() => checkRsyncOptions(['--no-acls', '-h'])).not.toThrow()
  })
})

describe('buildRsyncArgs: timeouts', () => {
  it('adds --timeout for every destination and --contimeout only for daemons, after rsb’s options and before the pass-through ones', () => {
    const local = buildRsyncArgs({ destination: '/d', timeout: 600, connectTimeout: 60, rsyncOptions: ['--timeout=5'] })
    expect(local.slice(-4)).toEqual(['--timeout=600', '--timeout=5', '/', '/d/'])
    expect(local).not.toContain('--contimeout=60')
    const daemon = buildRsyncArgs({ destination: 'nas::m', timeout: 600, connectTimeout: 60 })
    expect(daemon.slice(-4)).toEqual(['--timeout=600', '--contimeout=60', '/', 'rsync://nas:873/m/'])
    expect(buildRsyncArgs({ destination: 'nas::m', timeout: 0, connectTimeout: 0 })).toEqual(buildRsyncArgs({ destination: 'nas::m' }))
    expect(() => buildRsyncArgs({ destination: '/d', timeout: 1.5 })).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_RSYNC_INVALID_OPTION' }),
    )
  })
})

describe('buildRsyncArgs: an exclude is always an exclude', () => {
  it.each([
    ['!', '--filter=- !'],
    ['+ secret', '--filter=- + secret'],
    ['- secret', '--filter=- - secret'],
    ['+ ', '--filter=- + '],
    ['- ', '--filter=- - '],
    ['*.log', '--exclude=*.log'],
    ['!x', '--exclude=!x'],
    [' !', '--exclude= !'],
    ['! ', '--exclude=! '],
    ['+x', '--exclude=+x'],
    ['-x', '--exclude=-x'],
    ['/home/*/.cache/', '--exclude=/home/*/.cache/'],
  ])('%j → %j', (pattern, argument) => {
    expect(formatExcludeArgument(pattern)).toBe(argument)
    expect(buildRsyncArgs({ destination: '/d', excludes: ['a', pattern] }).slice(-4, -2)).toEqual(['--exclude=a', argument])
  })

  it('refuses an empty pattern', () => {
    expect(() => buildRsyncArgs({ destination: '/d', excludes: [''] })).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_RSYNC_INVALID_OPTION', message: 'An exclude pattern is empty.' }),
    )
  })
})

describe('remoteShellOption: how pass-through options choose rsync’s remote shell (never the command itself)', () => {
  it.each([
    [['--rsh=ssh -p 2222'], '--rsh'],
    [['--rsh', 'ssh'], '--rsh'],
    [['-essh -p 1'], '-e'],
    [['-avessh'], '-e'],
    [['-ae', '-p1'], '-e'],
    [['-Tessh'], undefined], // the e is -T's value
    [['-Be'], undefined],
    [['-@1e'], undefined],
    [['--remote-option=-essh'], undefined],
    [['--exclude=-e'], undefined],
    [[], undefined],
  ] as const)('%j → %s', (options, expected) => {
    expect(remoteShellOption(options)).toBe(expected)
  })
})

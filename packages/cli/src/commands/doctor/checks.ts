// The checks of `rsb doctor` as data and pure rules: what the probes found in, one check (ok, warn or fail, with a
// hint) out. The probes themselves (the commands that look and test) are in probes.ts.

/** How a check came out; `skip`: not checked (nothing to compare with, or an earlier check failed). */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip'

/** One line of `rsb doctor`. */
export interface Check {
  /** Stable identifier (`hard-links`, `space`, …): the `--json` document's `checks[].id`. */
  readonly id: string
  /** What is checked, for people. */
  readonly title: string
  readonly status: CheckStatus
  /** What was found. */
  readonly detail: string
  /** What to do about a warning or a failure. */
  readonly hint?: string | undefined
  /** The figure behind the check, for programs (a version, a byte count, a limit). */
  readonly value?: string | number | boolean | undefined
}

/** The worst status of some checks (`skip` counts as `ok`). */
export function worstStatus(checks: readonly Check[]): 'ok' | 'warn' | 'fail' {
  if (checks.some((c) => c.status === 'fail')) return 'fail'
  return checks.some((c) => c.status === 'warn') ? 'warn' : 'ok'
}

/** The exit status of a doctor run: 1 when any check failed, else 0 (warnings included). */
export function exitStatusOf(checks: readonly Check[]): 0 | 1 {
  return worstStatus(checks) === 'fail' ? 1 : 0
}

/** One known-bad rsync release and what is wrong with it for hard-link backups. */
export interface KnownBadRsync {
  /** The versions, as `rsync --version` prints them (`3.4.1` also matches `3.4.1-2` and `3.4.1dev`, not `3.4.10`). */
  readonly versions: readonly string[]
  readonly status: 'warn' | 'fail'
  readonly problem: string
  /** Where it is reported. */
  readonly source: string
}

/**
 * rsync releases with reported `--link-dest` (hard-link snapshot) problems. Source note: users' reports of 3.5.0's
 * slow `--link-dest` and of the 2025–2026 link-dest regressions, and the rsync issue tracker
 * (github.com/RsyncProject/rsync): #715 and #724 "failed verification" regressions of the CVE fixes in 3.4.x
 * receivers (fixed in master by #864, #913), #928 a relative `--link-dest=../…` over SSH failing verification in
 * 3.4.3 (fixed by #953), #915 `--link-dest` through a daemon broken by the security fixes (still seen with 3.5.0
 * builds). Distribution backports (3.2.7 with the security fixes) cannot be told from the version and are not listed.
 */
export const KNOWN_BAD_RSYNC: readonly KnownBadRsync[] = Object.freeze([
  {
    versions: ['3.4.0', '3.4.1'],
    status: 'warn',
    problem: 'link-dest regressions reported (files "failed verification" against their basis after the CVE fixes)',
    source: 'RsyncProject/rsync#715, #724',
  },
  {
    versions: ['3.4.3'],
    status: 'warn',
    problem: 'link-dest regressions reported (a relative --link-dest over SSH fails verification)',
    source: 'RsyncProject/rsync#928',
  },
  {
    versions: ['3.5.0'],
    status: 'warn',
    problem: 'slow --link-dest reported, and --link-dest through an rsync daemon broken',
    source: 'RsyncProject/rsync#915; slow --link-dest reported by users',
  },
])

/** The known-bad entry of an rsync version, if it is one. */
export function knownBadRsync(version: string): KnownBadRsync | undefined {
  return KNOWN_BAD_RSYNC.find((entry) =>
    entry.versions.some((v) => version === v || (version.startsWith(v) && !/^[0-9.]/.test(version.slice(v.length)))),
  )
}

/** The check of rsync's version on one machine (`where`: `here`, `on HOST`). */
export function rsyncCheck(id: string, where: string, version: string | undefined): Check {
  const title = `rsync ${where}`
  if (version === undefined) {
    return {
      id,
      title,
      status: 'fail',
      detail: `no rsync ${where} (rsync --version did not answer)`,
      hint: `Install rsync ${where} (apt install rsync).`,
    }
  }
  const bad = knownBadRsync(version)
  if (bad === undefined) return { id, title, status: 'ok', detail: `version ${version}`, value: version }
  return {
    id,
    title,
    status: bad.status,
    detail: `version ${version}: ${bad.problem} (${bad.source})`,
    hint: `Use another rsync release ${where} (an older or a newer one), or check that your snapshots share their unchanged files (stat -c %h).`,
    value: version,
  }
}

/** What the filesystem probe found where the destination's files go (see probes.ts). */
export interface FilesystemFacts {
  /** The directory probed: the store, or the nearest existing parent. */
  readonly base: string
  /** The mount point holding it. */
  readonly mountPoint: string | undefined
  /** The filesystem type, as the mount table says (`ext4`, `fuse.fusefat`). */
  readonly type: string | undefined
  readonly sizeBytes: number | undefined
  readonly availableBytes: number | undefined
  /** Inodes in all and free (0 in all: the filesystem has no fixed number, btrfs). */
  readonly inodes: number | undefined
  readonly freeInodes: number | undefined
  /** `getconf LINK_MAX`: the links a file may have there, as pathconf says. */
  readonly linkMax: number | undefined
  /** Why nothing was written: the directory is not safe to write in, or the scratch directory could not be made. */
  readonly notWritten: string | undefined
  /** The private scratch directory that was made and removed. */
  readonly scratch: string | undefined
  /** The outcome of each write test: true, or why it failed (undefined: not tested). */
  readonly hardLink: true | string | undefined
  readonly acl: true | string | undefined
  readonly xattr: true | string | undefined
  /** Tested only as root (who can give files away). */
  readonly owner: true | string | undefined
  readonly caseSensitive: boolean | undefined
  /** The mtime written (`2001-02-03 04:05:07.123456789`, UTC) as read back; or why it could not be set. */
  readonly mtime: string | undefined
  readonly mtimeError: string | undefined
}

/** What the scan of SOURCE found. */
export interface SourceFacts {
  readonly path: string
  /** Entries (inodes: hard links counted once). */
  readonly entries: number
  /** Bytes of the regular files and symlinks (hard links counted once). */
  readonly bytes: number
  /** The highest link count of a regular file (1 when none has more). */
  readonly maxLinks: number
  /** Part of SOURCE could not be read (find's complaint), when so. */
  readonly unreadable: string | undefined
}

/** The mtime the timestamp probe writes (UTC); an odd second, with nanoseconds. */
export const PROBE_MTIME = '2001-02-03 04:05:07.123456789'

/** The granularity an mtime read back shows: `ns`, `subsecond`, `1s`, `2s`, or undefined when it is not the written one. */
export function mtimeGranularity(written: string, read: string): 'ns' | 'subsecond' | '1s' | '2s' | undefined {
  const parse = (text: string) => /^(\d{4}-\d\d-\d\d \d\d:\d\d):(\d\d)(?:\.(\d+))?/.exec(text.trim())
  const w = parse(written)
  const r = parse(read)
  if (!w || !r || w[1] !== r[1]) return undefined
  const fraction = (r[3] ?? '').replace(/0+$/, '')
  const second = Number(r[2])
  const wanted = Number(w[2])
  if (second === wanted && fraction === (w[3] ?? '').replace(/0+$/, '')) return 'ns'
  if (second === wanted && fraction !== '') return 'subsecond'
  if (second === wanted) return '1s'
  if (second === wanted - 1 && fraction === '') return '2s'
  return undefined
}

/** Filesystem types that do not survive a reboot. */
const VOLATILE = new Set(['tmpfs', 'ramfs'])

/** A size for the detail lines: bytes with their binary unit. */
function size(value: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let n = value
  let unit = 0
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024
    unit++
  }
  return `${unit === 0 ? n : n.toFixed(1)} ${units[unit]}`
}

const LINUX_FS = 'a Linux filesystem (ext4, xfs, btrfs)'

function notTested(fs: FilesystemFacts): string {
  return fs.notWritten === undefined ? 'not tested' : `not tested: ${fs.notWritten}`
}

/**
 * The checks of the destination's filesystem, from the probe's facts and, when given, SOURCE's. `hasMirror`: the
 * store holds a mirror already (the next backup then needs only what changed, so too little space is a warning).
 */
export function filesystemChecks(fs: FilesystemFacts, source: SourceFacts | undefined, hasMirror: boolean): Check[] {
  const checks: Check[] = []
  const where = fs.mountPoint === undefined ? fs.base : `${fs.base} (on ${fs.mountPoint})`
  checks.push(
    fs.type === undefined
      ? { id: 'filesystem', title: 'filesystem', status: 'warn', detail: `type of ${where} unknown (df did not say)` }
      : VOLATILE.has(fs.type)
        ? {
            id: 'filesystem',
            title: 'filesystem',
            status: 'warn',
            detail: `${fs.type} at ${where}: its files are gone at the next reboot`,
            hint: 'Back up to a disk (mount it first), not to memory.',
            value: fs.type,
          }
        : { id: 'filesystem', title: 'filesystem', status: 'ok', detail: `${fs.type} at ${where}`, value: fs.type },
  )

  // hard links
  let limit: number | undefined
  if (fs.hardLink === true) {
    limit = fs.linkMax
    checks.push({ id: 'hard-links', title: 'hard links', status: 'ok', detail: 'supported (made one)', value: true })
  } else if (fs.hardLink === undefined) {
    checks.push({ id: 'hard-links', title: 'hard links', status: 'skip', detail: notTested(fs) })
  } else {
    limit = 1
    checks.push({
      id: 'hard-links',
      title: 'hard links',
      status: 'fail',
      detail: `not supported: ${fs.hardLink}`,
      hint: `Snapshots are hard links of the mirror: use ${LINUX_FS} for the destination (mkfs.ext4 on the disk erases it).`,
      value: false,
    })
  }

  // the per-file link limit against SOURCE's most-linked file
  if (limit === undefined) {
    checks.push({
      id: 'link-limit',
      title: 'links per file',
      status: 'skip',
      detail: fs.hardLink === true ? 'limit unknown' : notTested(fs),
    })
  } else if (source === undefined) {
    checks.push({
      id: 'link-limit',
      title: 'links per file',
      status: 'ok',
      detail: `at most ${limit} (give SOURCE to compare with its most-linked file)`,
      value: limit,
    })
  } else if (source.maxLinks > limit) {
    checks.push({
      id: 'link-limit',
      title: 'links per file',
      status: 'fail',
      detail: `at most ${limit} here, but a file of SOURCE has ${source.maxLinks} links: rsync cannot keep them together`,
      hint: `Use a filesystem whose limit is above ${source.maxLinks} (ext4: 65000), or exclude the most-linked files (find ${source.path} -type f -links +${limit}).`,
      value: limit,
    })
  } else if (source.maxLinks > 1 && source.maxLinks * 2 > limit) {
    checks.push({
      id: 'link-limit',
      title: 'links per file',
      status: 'warn',
      detail: `at most ${limit} here, a file of SOURCE has ${source.maxLinks} links: snapshots copy it instead of linking it`,
      hint: 'Each such copy takes space of its own; a filesystem with a higher limit keeps snapshots small.',
      value: limit,
    })
  } else {
    checks.push({
      id: 'link-limit',
      title: 'links per file',
      status: 'ok',
      detail: `at most ${limit}, SOURCE's most-linked file has ${source.maxLinks}`,
      value: limit,
    })
  }

  const capability = (id: string, title: string, found: true | string | undefined, lost: string, hint: string): Check =>
    found === true
      ? { id, title, status: 'ok', detail: 'supported (set one)', value: true }
      : found === undefined
        ? { id, title, status: 'skip', detail: notTested(fs) }
        : found.startsWith('no ')
          ? {
              id,
              title,
              status: 'warn',
              detail: `not tested: ${found}`,
              hint: `Install the program on that machine (apt install ${title === 'ACLs' ? 'acl' : 'attr'}).`,
            }
          : { id, title, status: 'fail', detail: `not supported: ${found}: ${lost}`, hint, value: false }
  checks.push(
    capability(
      'acls',
      'ACLs',
      fs.acl,
      'the files of SOURCE that have ACLs fail to copy (rsync --acls, exit 23)',
      `Use ${LINUX_FS} with ACLs (mount -o acl), or back up without them: --rsync-option=--no-acls.`,
    ),
    capability(
      'xattrs',
      'extended attributes',
      fs.xattr,
      'the files of SOURCE that have them fail to copy (rsync --xattrs, exit 23)',
      `Use ${LINUX_FS}, or back up without them: --rsync-option=--no-xattrs.`,
    ),
  )
  if (fs.owner === undefined) {
    checks.push({
      id: 'owners',
      title: 'owners',
      status: 'skip',
      detail: fs.notWritten === undefined ? 'not tested: only root can give a file away' : notTested(fs),
    })
  } else if (fs.owner === true) {
    checks.push({ id: 'owners', title: 'owners', status: 'ok', detail: 'kept (gave one file away)', value: true })
  } else {
    checks.push({
      id: 'owners',
      title: 'owners',
      status: 'fail',
      detail: `not kept: ${fs.owner}: every file would belong to one user`,
      hint: `Use ${LINUX_FS}: a restore must give files back to their owners.`,
      value: false,
    })
  }

  checks.push(
    fs.caseSensitive === undefined
      ? { id: 'case', title: 'case sensitivity', status: 'skip', detail: notTested(fs) }
      : fs.caseSensitive
        ? {
            id: 'case',
            title: 'case sensitivity',
            status: 'ok',
            detail: 'names differ by case (README and readme are two files)',
            value: true,
          }
        : {
            id: 'case',
            title: 'case sensitivity',
            status: 'fail',
            detail: 'names that differ only by case are one file here: one of them is lost',
            hint: `Use ${LINUX_FS}.`,
            value: false,
          },
  )

  const granularity = fs.mtime === undefined ? undefined : mtimeGranularity(PROBE_MTIME, fs.mtime)
  if (fs.mtime === undefined && fs.mtimeError === undefined) {
    checks.push({ id: 'timestamps', title: 'timestamps', status: 'skip', detail: notTested(fs) })
  } else if (granularity === 'ns' || granularity === 'subsecond' || granularity === '1s') {
    const said = { ns: 'nanoseconds', subsecond: 'fractions of a second', '1s': 'whole seconds' }[granularity]
    checks.push({ id: 'timestamps', title: 'timestamps', status: 'ok', detail: `mtimes kept to ${said}`, value: granularity })
  } else if (granularity === '2s') {
    checks.push({
      id: 'timestamps',
      title: 'timestamps',
      status: 'warn',
      detail: 'mtimes kept to 2 seconds only (FAT): rsync sees files with odd seconds as changed at every run',
      hint: `Use ${LINUX_FS}, or give --rsync-option=--modify-window=1.`,
      value: '2s',
    })
  } else {
    checks.push({
      id: 'timestamps',
      title: 'timestamps',
      status: 'fail',
      detail:
        fs.mtimeError === undefined
          ? `mtime not kept (set ${PROBE_MTIME}, read ${fs.mtime ?? '-'})`
          : `mtime cannot be set: ${fs.mtimeError}`,
      hint: `Use ${LINUX_FS}: rsync finds unchanged files by their size and mtime.`,
    })
  }

  // space and inodes against SOURCE
  if (fs.availableBytes === undefined) {
    checks.push({ id: 'space', title: 'free space', status: 'warn', detail: 'unknown (df did not say)' })
  } else if (source === undefined) {
    checks.push({
      id: 'space',
      title: 'free space',
      status: 'ok',
      detail: `${size(fs.availableBytes)} free (give SOURCE to compare)`,
      value: fs.availableBytes,
    })
  } else {
    checks.push(
      against('space', 'free space', fs.availableBytes, source.bytes, hasMirror, {
        text: (n) => size(n),
        hint: `Free space on ${fs.mountPoint ?? fs.base} (rsb rotate deletes old snapshots), use a bigger disk, or exclude what need not be kept.`,
      }),
    )
  }
  if (fs.freeInodes === undefined || fs.inodes === undefined) {
    checks.push({ id: 'inodes', title: 'free inodes', status: 'warn', detail: 'unknown (df did not say)' })
  } else if (fs.inodes === 0) {
    checks.push({ id: 'inodes', title: 'free inodes', status: 'ok', detail: 'no fixed number of inodes (allocated as needed)' })
  } else if (source === undefined) {
    checks.push({
      id: 'inodes',
      title: 'free inodes',
      status: 'ok',
      detail: `${fs.freeInodes} free (give SOURCE to compare)`,
      value: fs.freeInodes,
    })
  } else {
    checks.push(
      against('inodes', 'free inodes', fs.freeInodes, source.entries, hasMirror, {
        text: (n) => `${n} inodes`,
        hint: `Make room for ${source.entries} entries (delete old snapshots), or make the filesystem with more inodes (mkfs.ext4 -N, -i).`,
      }),
    )
  }
  return checks
}

/** Free room against what SOURCE needs: fail below it (warn when a mirror is there already), warn within 10% of it. */
function against(
  id: string,
  title: string,
  free: number,
  needed: number,
  hasMirror: boolean,
  say: { text: (n: number) => string; hint: string },
): Check {
  const detail = `${say.text(free)} free, SOURCE holds ${say.text(needed)}`
  if (free < needed) {
    return hasMirror
      ? {
          id,
          title,
          status: 'warn',
          detail: `${detail}: enough only when most of it is in the mirror already`,
          hint: say.hint,
          value: free,
        }
      : { id, title, status: 'fail', detail: `${detail}: the first backup does not fit`, hint: say.hint, value: free }
  }
  if (free < needed * 1.1)
    return { id, title, status: 'warn', detail: `${detail}: little room left for changes`, hint: say.hint, value: free }
  return { id, title, status: 'ok', detail, value: free }
}

/** Parses the NUL-separated `KEY=VALUE` fields a probe script prints. */
export function parseFields(stdout: string): Map<string, string> {
  const facts = new Map<string, string>()
  for (const field of stdout.split('\0')) {
    const eq = field.indexOf('=')
    if (eq > 0) facts.set(field.slice(0, eq), field.slice(eq + 1))
  }
  return facts
}

const number = (text: string | undefined): number | undefined =>
  text !== undefined && /^\d+$/.test(text.trim()) ? Number(text.trim()) : undefined

/** The filesystem probe's output as facts. */
export function parseFilesystemFacts(stdout: string): FilesystemFacts {
  const f = parseFields(stdout)
  // df -B1 --output=fstype,size,avail,itotal,iavail: one line of five fields
  const df = (f.get('df') ?? '').trim().split(/\s+/)
  const outcome = (key: string): true | string | undefined =>
    f.has(key) ? true : f.has(`${key}-error`) ? lastLine(f.get(`${key}-error`)!) : undefined
  return {
    base: f.get('base') ?? '',
    mountPoint: f.get('mountpoint') || undefined,
    type: df.length === 5 && df[0] ? df[0] : undefined,
    sizeBytes: df.length === 5 ? number(df[1]) : undefined,
    availableBytes: df.length === 5 ? number(df[2]) : undefined,
    inodes: df.length === 5 ? number(df[3]) : undefined,
    freeInodes: df.length === 5 ? number(df[4]) : undefined,
    linkMax: number(f.get('linkmax')),
    notWritten: f.has('unsafe')
      ? f.get('unsafe')
      : f.has('scratch-error')
        ? `cannot make a directory there: ${lastLine(f.get('scratch-error')!)}`
        : undefined,
    scratch: f.get('scratch'),
    hardLink: outcome('hardlink'),
    acl: outcome('acl'),
    xattr: outcome('xattr'),
    owner: outcome('owner'),
    caseSensitive: f.has('case') ? f.get('case') === 'sensitive' : undefined,
    mtime: f.get('mtime') || undefined,
    mtimeError: f.has('mtime-error') ? lastLine(f.get('mtime-error')!) : undefined,
  }
}

/** The last non-empty line of a program's complaint, without the program's own name when it repeats the path. */
function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .at(-1)
      ?.trim() ?? 'failed'
  )
}

/** The source scan's output (`ENTRIES BYTES MAXLINKS FIND-STATUS`, find's complaints on stderr) as facts. */
export function parseSourceFacts(path: string, stdout: string, stderr: string): SourceFacts | undefined {
  const [entries, bytes, maxLinks, exitCode] = stdout.trim().split(/\s+/).map(number)
  if (entries === undefined || bytes === undefined || maxLinks === undefined || exitCode === undefined) return undefined
  return {
    path,
    entries,
    bytes,
    maxLinks: Math.max(1, maxLinks),
    unreadable: exitCode === 0 ? undefined : lastLine(stderr || `find exited with status ${exitCode}`),
  }
}

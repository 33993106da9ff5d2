import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Context } from '@rsb/exec'
import { BASE_RSYNC_OPTIONS } from '@rsb/rsync'
import { CliError } from '../errors.js'
import type { Logger } from '../kit/log.js'
import { metadataPath, STORE_VERSION, writeRecords, type MirrorRecord, type StoreState, type SyncRecord } from '../session/store.js'

// Exact snapshots. A snapshot is `cp --archive --link` of the mirror, so it shares every inode with it,
// and rsync changes a file's mode, owner, group, ACL or xattrs *in place* when only those changed: every snapshot
// holding that inode would change with it. So before rsync runs, each file of the mirror that rsync may change in
// place is moved out of the mirror into a stage in `.rsb/staged/` (a rename: no data is copied, the snapshots keep
// their inode). Locally as root, where no other user can write to the directories on the way, the regular files are
// then copied back with every attribute (new inodes that rsync may change). Elsewhere rsync gets the stage as
// `--link-dest`: it links a file back when SOURCE did not change it, and makes a new inode otherwise. A linked inode
// is never changed in place.
//
// Which files: those whose inode changed since the last backup that rsync finished, by ctime (`find -newerct`,
// cheap: one walk of SOURCE, no reading of the mirror). ctime cannot be set by users; it follows the clock, so the
// moment is trusted only within one boot of the machine, with a clock that went on as the uptime did, for the same
// SOURCE and the same rsync options. Otherwise every file of the mirror is moved out (its top-level entries: a few
// renames) and rsync links back all that did not change: slower, but exact whatever the clock says.

/**
 * The start of the names of the directories a mirror's files are moved into: `.rsb/staged/<MIRROR ID>-<PID>-<MS>`.
 * They live in `.rsb/`, which only root and rsb's user may write to (readStore checks it), so nobody else can plant
 * one; an interrupted run's is found by its mirror id, reused, then removed.
 */
export function stagePrefix(mirror: MirrorRecord): string {
  return `${mirror.id}-`
}

/** The source machine's clock and boot, read from /proc (undefined where they cannot be read). */
export interface ClockFacts {
  readonly now: Date
  readonly boot: string | undefined
  readonly uptime: number | undefined
}

export function readClock(): ClockFacts {
  const now = new Date()
  const read = (file: string) => {
    try {
      return fs.readFileSync(file, 'utf8')
    } catch {
      return undefined
    }
  }
  const boot = read('/proc/sys/kernel/random/boot_id')?.trim() || undefined
  const uptime = Number.parseFloat(read('/proc/uptime') ?? '')
  return { now, boot, uptime: Number.isFinite(uptime) ? uptime : undefined }
}

/** What decides the attributes rsync gives the mirror's files, apart from SOURCE itself. */
export interface RsyncShape {
  readonly excludes: readonly string[]
  readonly excludedRoots: readonly string[] | undefined
  readonly rsyncOptions: readonly string[]
  readonly multiFs: boolean
}

export function optionsFingerprint(shape: RsyncShape): string {
  const text = JSON.stringify({ base: BASE_RSYNC_OPTIONS, ...shape, excludedRoots: shape.excludedRoots ?? null })
  return createHash('sha256').update(text).digest('hex')
}

/**
 * What a sync record's `source` holds: the resolved SOURCE, or for a mirror that keeps its SOURCEs under their whole
 * paths (rsync `--relative`: several SOURCEs, or one in a mirror that had several) their JSON array (`["/etc","/home"]`,
 * `["/home"]`, which no absolute path can be), so that a run with another list is another SOURCE, and the mirror's
 * layout stays known (see {@link keepsWholePaths}).
 */
export function sourceKey(sources: readonly string[], wholePaths = sources.length > 1): string {
  return sources.length === 1 && !wholePaths ? (sources[0] as string) : JSON.stringify(sources)
}

/**
 * Whether a sync record's `source` ({@link sourceKey}) says the mirror keeps its SOURCEs under their whole paths (the
 * layout of several SOURCEs): then a run with one SOURCE keeps that layout, so that rsync's `--delete` never reaches
 * the other SOURCEs' copies. False for one SOURCE at the top of the mirror and for a damaged record.
 */
export function keepsWholePaths(key: string): boolean {
  return !key.startsWith('/') && recordedSources(key) !== undefined
}

/** The SOURCEs a sync record's `source` names ({@link sourceKey} read back); undefined for a damaged one. */
export function recordedSources(key: string): string[] | undefined {
  if (key.startsWith('/')) return [key]
  try {
    const list: unknown = JSON.parse(key)
    return Array.isArray(list) && list.every((item) => typeof item === 'string') ? (list as string[]) : undefined
  } catch {
    return undefined
  }
}

/** How the run keeps the snapshots exact. */
export type ExactPlan =
  /** Nothing shares the mirror's inodes (no mirror yet, or nothing else in the store). */
  | { readonly kind: 'none' }
  /** Files whose inode changed since `since` (seconds, wall clock) are moved out. */
  | { readonly kind: 'changed'; readonly since: number }
  /** Every file is moved out; `reason` says why the last backup's moment cannot be used. */
  | { readonly kind: 'all'; readonly reason: string }

/** Seconds taken off the recorded moment: ctime comes from the kernel's coarse clock. */
export const CTIME_MARGIN = 2

/** What the recorded moment is checked against. */
export interface PlanInput {
  readonly record: SyncRecord | undefined
  readonly clock: ClockFacts
  readonly host: string
  readonly source: string
  readonly options: string
  /** Whether anything in the store may share the mirror's inodes (and the mirror exists). */
  readonly shared: boolean
}

/**
 * Chooses how this run keeps the snapshots exact (pure). The recorded moment is used only when nothing can have moved
 * the clock under it: the same boot, and wall-clock time elapsed as the uptime did (give or take 2 s and 0.1%, more
 * than NTP's slewing); the same machine, SOURCE and rsync options.
 */
export function planExact(input: PlanInput): ExactPlan {
  if (!input.shared) return { kind: 'none' }
  const { record, clock } = input
  const all = (reason: string): ExactPlan => ({ kind: 'all', reason })
  if (record === undefined) return all('rsb has no record of its last backup into it')
  if (record.started === '') return all('its last backup did not finish')
  if (record.host !== input.host) return all(`its last backup came from another machine (${record.host})`)
  if (record.source !== input.source) return all(`its last backup was of another SOURCE (${record.source})`)
  if (record.options !== input.options) return all('its last backup had other excludes or rsync options')
  const started = Date.parse(record.started)
  if (!Number.isFinite(started) || typeof record.uptime !== 'number') return all('the record of its last backup is damaged')
  if (clock.boot === undefined || clock.uptime === undefined) return all("this machine's boot id or uptime cannot be read")
  if (record.boot !== clock.boot)
    return all('this machine was restarted since its last backup (the clock cannot be followed across a restart)')
  const wall = (clock.now.getTime() - started) / 1000
  const up = clock.uptime - record.uptime
  if (wall < 0 || up < 0 || Math.abs(wall - up) > 2 + up / 1000) return all('the clock was changed since its last backup')
  // a clock that fell behind the uptime (within the tolerance) may have stamped changes before the recorded moment
  return { kind: 'changed', since: started / 1000 - CTIME_MARGIN - Math.max(0, up - wall) }
}

// find's output, made safe to carry as text (file names are bytes): od's hex, then, after two NULs (no name is empty),
// find's exit status.
const FIND_SCRIPT = `{ find "$@"; printf '\\0\\0%s' "$?"; } | od -An -v -tx1`

/**
 * rsync's options that copy what symlinks point to (`--copy-links`/`-L`, `--copy-unsafe-links`, `--copy-dirlinks`/`-k`):
 * then a change of the target is what rsync applies, so find follows symlinks too (over-counting in a cluster such as
 * `-T/L` only looks at more files).
 */
const COPY_LINKS = /^(--copy-links|--copy-unsafe-links|--copy-dirlinks|-[^-]*[Lk].*)$/

/** A find -path pattern matching exactly PATH. */
function literalFindPath(path: string): string {
  return path.replace(/[*?[\\]/g, '\\$&')
}

/**
 * The files of SOURCE (relative names, bytes) whose inode changed since `since`: not directories (cp makes new
 * ones for every snapshot). `prune` are absolute locations left out (rsb's excludes without wildcards, the store).
 * find may fail to read what rsync cannot read either (permission denied; files vanished while it looked): those
 * errors are fine. Any other failure returns undefined: the caller then moves every file.
 */
export async function findChanged(
  context: Context,
  source: string,
  since: number,
  options: { multiFs: boolean; prune: readonly string[]; signal: AbortSignal | undefined; follow?: boolean },
): Promise<{ names: Buffer[]; facts: Map<Buffer, { size: number; mtime: number }> } | { error: string }> {
  const start = source === '/' ? '/' : source.replace(/\/+$/, '')
  const prune = options.prune.flatMap((p, i) => [...(i > 0 ? ['-o'] : []), '-path', literalFindPath(p)])
  const args = [
    options.follow ? '-L' : '-P',
    start,
    ...(options.multiFs ? [] : ['-xdev']),
    ...(prune.length > 0 ? ['(', ...prune, ')', '-prune', '-o'] : []),
    '!',
    '-type',
    'd',
    '-newerct',
    `@${since.toFixed(3)}`,
    '-printf',
    '%s %T@ %P\\0',
  ]
  const result = await context.run(['sh', '-c', FIND_SCRIPT, 'sh', ...args], { check: false, signal: options.signal })
  const bytes = Buffer.from(result.stdout.replace(/\s+/g, ''), 'hex')
  const end = bytes.lastIndexOf(Buffer.from([0, 0]))
  if (result.exitCode !== 0 || end === -1) return { error: result.stderr.trim() || `exit status ${result.exitCode}` }
  const status = bytes.subarray(end + 2).toString()
  const benign = result.stderr
    .split('\n')
    .filter((line) => line.trim() !== '')
    .every((line) => /Permission denied|No such file or directory/.test(line))
  if (status !== '0' && !(status === '1' && benign)) return { error: result.stderr.trim() || `find exited with ${status}` }
  const names: Buffer[] = []
  const facts = new Map<Buffer, { size: number; mtime: number }>()
  let from = 0
  const list = bytes.subarray(0, end)
  while (from < list.length) {
    let to = list.indexOf(0, from)
    if (to === -1) to = list.length
    // SIZE MTIME NAME
    const one = list.indexOf(0x20, from)
    const two = one === -1 ? -1 : list.indexOf(0x20, one + 1)
    if (two !== -1 && two < to && to > two + 1) {
      const name = list.subarray(two + 1, to)
      names.push(name)
      facts.set(name, { size: Number(list.subarray(from, one).toString()), mtime: Number(list.subarray(one + 1, two).toString()) })
    }
    from = to + 1
  }
  return { names, facts }
}

/**
 * The paths in the mirror of SOURCEs kept under their whole paths (no leading or trailing `/`); undefined when one of
 * them is `/`, whose whole path is the mirror itself (rsync `--relative` or not: the same layout).
 */
export function pathsInMirror(roots: readonly string[]): string[] | undefined {
  const paths = roots.map((root) => root.replace(/^\/+|\/+$/g, ''))
  return paths.includes('') ? undefined : paths
}

/**
 * {@link findChanged} in each of `roots`: one root's names as they are (relative to the mirror), several roots' (rsync
 * `--relative`, also one with `wholePaths`) each below the root's path without its leading `/`, as they lie in the
 * mirror. The first error wins.
 */
export async function findChangedIn(
  context: Context,
  roots: readonly string[],
  since: number,
  options: Parameters<typeof findChanged>[3],
  wholePaths = roots.length > 1,
): ReturnType<typeof findChanged> {
  if (roots.length === 1 && (!wholePaths || pathsInMirror(roots) === undefined))
    return findChanged(context, roots[0] as string, since, options)
  const names: Buffer[] = []
  const facts = new Map<Buffer, { size: number; mtime: number }>()
  for (const root of roots) {
    const found = await findChanged(context, root, since, options)
    if ('error' in found) return found
    const prefix = Buffer.from(`${root.replace(/^\/+|\/+$/g, '')}/`, 'utf8')
    for (const name of found.names) {
      const full = Buffer.concat([prefix, name])
      names.push(full)
      const fact = found.facts.get(name)
      if (fact !== undefined) facts.set(full, fact)
    }
  }
  return { names, facts }
}

// Moves files out of the mirror M into the stage S (0700, made by the outer script or by moveChangedHere): the arguments are paths
// relative to M, each starting with ./, grouped by directory. Each directory is entered with cd -P and must then be
// exactly where it should be ($PWD, the physical path): a directory of the mirror replaced by a symlink is never
// followed (files under a symlink are not the mirror's). mv renames (same filesystem): the snapshots keep their inodes.
// Whatever could not be moved (and still exists) is printed as `left NAME`: the run stops before rsync. The files of a
// directory that cannot be entered this way are left where they are (rsync replaces the symlink with a directory).
const MOVE_SCRIPT = `
set -u
m=$1 s=$2; shift 2
cd -P -- "$m" || exit 71
m=$PWD
group() {
  d=\${1%/*}
  case $d in .) t=$m ;; *) t=$m/\${d#./} ;; esac
  if ! cd -P -- "$t" 2>/dev/null || [ "$PWD" != "$t" ]; then cd -P -- "$m" || exit 71; return 0; fi
  n=$#
  for p do set -- "$@" "./\${p##*/}"; done
  shift "$n"
  mv -f -t "$s/$d" -- "$@" 2>/dev/null
  for p do if [ -e "$p" ] || [ -L "$p" ]; then printf 'left %s\\0' "$t/\${p#./}"; fi; done
  cd -P -- "$m" || exit 71
}
# the stage's directories first, in one mkdir
dirs= d0= i=0
for a do
  i=$((i + 1))
  d=\${a%/*}
  [ "$d" = "$d0" ] || dirs="$dirs \\"\\$s/\\\${$i%/*}\\"" d0=$d
done
eval "mkdir -p -- $dirs" || exit 72
refs= d0= i=0
for a do
  i=$((i + 1))
  d=\${a%/*}
  if [ "$d" != "$d0" ]; then
    [ -z "$refs" ] || eval "group $refs"
    refs= d0=$d
  fi
  refs="$refs \\"\\\${$i}\\""
done
[ -z "$refs" ] || eval "group $refs"
`

// Moves every entry of the mirror M (its top level: a few renames, as many mv as the argument limit needs) into the
// new stage S (in .rsb/staged/, made here). What is still there is printed as `left NAME`.
const MOVE_ALL_SCRIPT = `
set -u
s=$2
cd -P -- "$1" || exit 71
{ [ -d "\${s%/*}" ] && [ ! -L "\${s%/*}" ]; } || mkdir -m 700 -- "\${s%/*}" || exit 72
mkdir -m 700 -- "$s" || exit 72
find . -mindepth 1 -maxdepth 1 -exec mv -f -t "$s" -- {} + 2>/dev/null
find . -mindepth 1 -maxdepth 1 -exec sh -c 'for p do printf "left %s/%s\\0" "$PWD" "\${p#./}"; done' sh {} +
`

// Several SOURCEs (rsync --relative): moves the entries of each SOURCE's directory in the mirror M ($3…: their paths
// relative to M, no leading /) into the same path below the new stage S, and nothing else: what lies outside the
// SOURCEs (one left out of this run, the directories above them) is not in the transfer, and stays. A directory on the
// way that is a symlink (its physical path is not M/PATH) or missing is skipped: nothing of the mirror is there.
const MOVE_ROOTS_SCRIPT = `
set -u
s=$2
cd -P -- "$1" || exit 71
m=$PWD
shift 2
{ [ -d "\${s%/*}" ] && [ ! -L "\${s%/*}" ]; } || mkdir -m 700 -- "\${s%/*}" || exit 72
mkdir -m 700 -- "$s" || exit 72
for r do
  t=$m/$r
  if cd -P -- "$t" 2>/dev/null && [ "$PWD" = "$t" ]; then
    mkdir -p -- "$s/$r" || exit 72
    find . -mindepth 1 -maxdepth 1 -exec mv -f -t "$s/$r" -- {} + 2>/dev/null
    find . -mindepth 1 -maxdepth 1 -exec sh -c 'for p do printf "left %s/%s\\0" "$PWD" "\${p#./}"; done' sh {} +
  fi
  cd -P -- "$m" || exit 71
done
`

function leftOver(stdout: string, mirror: string): void {
  const left = stdout
    .split('\0')
    .filter((field) => field.startsWith('left '))
    .map((field) => field.slice(5))
  if (left.length === 0) return
  throw new CliError(
    'ERR_RSB_CLI_EXACT_FAILED',
    `${left.length} file(s) of ${mirror} could not be moved aside before the backup (first: ${left[0]}), so rsync could change them inside older snapshots.`,
    { path: mirror, hint: `Check that rsb may rename files in ${mirror} (its owner, and chattr's immutable flag: lsattr -d).` },
  )
}

/** Sorts relative names by their directory (the move script's groups), and gives each a leading ./ and a NUL. */
export function moveInput(names: readonly Buffer[]): Buffer {
  const slash = 0x2f
  const keyed = names.map((name) => {
    const at = name.lastIndexOf(slash)
    return { name, dir: at === -1 ? Buffer.alloc(0) : name.subarray(0, at) }
  })
  keyed.sort((a, b) => Buffer.compare(a.dir, b.dir) || Buffer.compare(a.name, b.name))
  return Buffer.concat(keyed.flatMap(({ name }) => [Buffer.from('./'), name, Buffer.from([0])]))
}

/** The command that moves the files named on its standard input ({@link moveInput}) out of MIRROR into the new STAGE. */
export function moveCommand(mirror: string, stage: string): string[] {
  const outer =
    '{ [ -d "${3%/*}" ] && [ ! -L "${3%/*}" ]; } || mkdir -m 700 -- "${3%/*}" || exit 72; ' +
    '{ [ -d "$3" ] && [ ! -L "$3" ]; } || mkdir -m 700 -- "$3" || exit 72; exec xargs -0 -r sh -c "$1" sh "$2" "$3"'
  return ['sh', '-c', outer, 'sh', MOVE_SCRIPT, mirror, stage]
}

/**
 * Moves files aside in this process, for a local destination when rsb runs as root: a rename by absolute path, but
 * only where every directory from the mirror down to the file is root's and nobody else may write to it (not even
 * a sticky one), so that no other user can swap one for a symlink or put one where the file is copied back.
 * Returns the names left for the shell's way (a `cd -P` into each directory), which is safe everywhere but costs a
 * process per directory.
 */
export function moveChangedHere(
  mirror: string,
  stage: string,
  names: readonly Buffer[],
  replaced?: (name: Buffer, st: fs.Stats) => boolean,
): { rest: Buffer[]; moved: Buffer[] } {
  let root: Buffer
  try {
    root = Buffer.from(fs.realpathSync(mirror))
    try {
      fs.mkdirSync(path.dirname(stage), { mode: 0o700 })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    fs.mkdirSync(stage, { mode: 0o700 })
  } catch {
    return { rest: [...names], moved: [] }
  }
  // and the directories above it (the store among them): root's, and nobody else may write there unless it is sticky
  // (others may then make names, but not rename root's)
  for (let dir = path.dirname(root.toString('latin1')); ; dir = path.dirname(dir)) {
    try {
      const st = fs.lstatSync(Buffer.from(dir, 'latin1'))
      if (!st.isDirectory() || st.uid !== 0 || ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0)) return { rest: [...names], moved: [] }
    } catch {
      return { rest: [...names], moved: [] }
    }
    if (dir === '/') break
  }
  const at = (rel: Buffer) => (rel.length === 0 ? root : Buffer.concat([root, Buffer.from('/'), rel]))
  const safe = new Map<string, boolean>()
  const safeChain = (rel: Buffer): boolean => {
    const key = rel.toString('latin1')
    let known = safe.get(key)
    if (known === undefined) {
      // the mirror's own directory too: it takes SOURCE's owner (a user's home, say)
      const up = rel.lastIndexOf(0x2f)
      known = rel.length === 0 || safeChain(up === -1 ? Buffer.alloc(0) : rel.subarray(0, up))
      if (known) {
        try {
          const st = fs.lstatSync(at(rel))
          // not a sticky one either (as /tmp): others may not rename entries there, but may make new ones, such as a
          // symlink at the name just vacated, which cp would then write through
          known = st.isDirectory() && st.uid === 0 && (st.mode & 0o022) === 0
        } catch {
          known = false
        }
      }
      safe.set(key, known)
    }
    return known
  }
  const rest: Buffer[] = []
  const moved: Buffer[] = []
  const stageAt = (rel: Buffer) => Buffer.concat([Buffer.from(`${stage}/`), rel])
  for (const name of names) {
    const up = name.lastIndexOf(0x2f)
    const dir = up === -1 ? Buffer.alloc(0) : name.subarray(0, up)
    if (!safeChain(dir)) {
      rest.push(name)
      continue
    }
    let regular: boolean
    try {
      // nothing to keep apart: gone, a directory (cp makes new ones), shared with nothing, or replaced by rsync anyway
      const st = fs.lstatSync(at(name))
      // (the shortcut holds for regular files only: rsync changes a symlink's or a device's mtime in place)
      if (st.isDirectory() || st.nlink < 2 || (st.isFile() && replaced?.(name, st))) continue
      regular = st.isFile()
    } catch {
      continue
    }
    try {
      if (dir.length > 0) fs.mkdirSync(stageAt(dir), { recursive: true, mode: 0o700 })
      fs.renameSync(at(name), stageAt(name))
      // a symlink, device or FIFO stays aside: rsync makes it anew from SOURCE (cp would not keep a symlink's mtime)
      if (regular) moved.push(name)
    } catch (error) {
      // gone already (nothing to keep apart), or a directory of SOURCE where the mirror has a file: fine; else the
      // shell's way tries again and reports what it cannot move
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') rest.push(name)
    }
  }
  return { rest, moved }
}

// Copies the files moved aside back into the mirror M from the stage S, with every attribute (hard links among them
// kept, within one cp): new inodes that rsync may then change in place. Only for files moveChangedHere moved, whose
// directories only root may write to. stdin: NUL-terminated names relative to both.
const COPY_BACK = 'cd -- "$1" && exec xargs -0 -r cp --archive --parents -t "$2" --'

/**
 * rsync's options that may make it keep a file whose mtime differs (then it may change the file's attributes in place,
 * and only a change of size is sure to make it write a new file): `--checksum`, `--size-only`, `--modify-window`,
 * `--update`, `--no-times`, and short clusters holding `c`, `u` or `@`. Over-counting only copies a few more files.
 */
const QUICK_CHECK = /^(--checksum|--size-only|--modify-window(=.*)?|--update|--no-times|--no-t|-[^-]*[cu@].*)$/

/** Whether rsync writes a new file for SOURCE's file of these facts (never changing the mirror's inode in place). */
export function rsyncReplaces(
  source: { size: number; mtime: number },
  mirror: { size: number; mtimeMs: number },
  rsyncOptions: readonly string[],
): boolean {
  if (source.size !== mirror.size) return true
  if (rsyncOptions.some((option) => QUICK_CHECK.test(option))) return false
  return Math.floor(source.mtime) !== Math.floor(mirror.mtimeMs / 1000)
}

// Facts of the named files of the mirror M (stdin: moveInput's ./names), NUL-terminated: links, size, mtime (whole
// seconds), mode (hex), ./name; as find's output above, in od's hex with xargs's status after two NULs. Read only: facts read
// through a symlinked directory on the way do not matter, since the move never follows one (rsync replaces the symlink).
const STAT_SCRIPT = `cd -P -- "$1" || exit 71
{ xargs -0 -r stat --printf '%h %s %Y %f %n\\0' --; printf '\\0\\0%s' "$?"; } | od -An -v -tx1`

/**
 * The candidates that are worth moving aside, where the mirror is not on this machine or not root's alone: as
 * {@link moveChangedHere} decides locally (shared with a snapshot, no directory, not replaced by rsync anyway), from
 * one `stat` over rsb's connection. Where the facts cannot be read (a stat without `--printf`), all of them.
 */
export async function worthMoving(
  context: Context,
  mirror: string,
  names: readonly Buffer[],
  facts: ReadonlyMap<Buffer, { size: number; mtime: number }>,
  rsyncOptions: readonly string[],
  signal: AbortSignal | undefined,
): Promise<Buffer[]> {
  if (names.length === 0) return []
  const result = await context.run(['sh', '-c', STAT_SCRIPT, 'sh', mirror], {
    input: moveInput(names),
    ionice: undefined,
    signal,
    check: false,
  })
  const bytes = Buffer.from(result.stdout.replace(/\s+/g, ''), 'hex')
  const end = bytes.lastIndexOf(Buffer.from([0, 0]))
  // 123: some of them are not in the mirror (new files: nothing to keep apart)
  const status = end === -1 ? '' : bytes.subarray(end + 2).toString()
  if (result.exitCode !== 0 || (status !== '0' && status !== '123')) return [...names]
  const seen = new Map<string, { links: number; size: number; mtimeMs: number; mode: number }>()
  const out = bytes.subarray(0, end)
  let from = 0
  while (from < out.length) {
    let to = out.indexOf(0, from)
    if (to === -1) to = out.length
    if (to === from) {
      from = to + 1
      continue
    }
    const fields: number[] = []
    let at = from
    for (let i = 0; i < 4 && at !== -1; i++) {
      const space = out.indexOf(0x20, at)
      if (space === -1 || space >= to) {
        at = -1
        break
      }
      fields.push(i === 3 ? parseInt(out.subarray(at, space).toString(), 16) : Number(out.subarray(at, space).toString()))
      at = space + 1
    }
    if (at === -1 || fields.some((n) => !Number.isFinite(n)) || out[at] !== 0x2e || out[at + 1] !== 0x2f) return [...names]
    const [links, size, mtime, mode] = fields as [number, number, number, number]
    seen.set(out.subarray(at + 2, to).toString('latin1'), { links, size, mtimeMs: mtime * 1000, mode })
    from = to + 1
  }
  return names.filter((name) => {
    const st = seen.get(name.toString('latin1'))
    if (st === undefined) return false
    const fact = facts.get(name)
    const type = st.mode & 0o170000
    const replaced = type === 0o100000 && fact !== undefined && rsyncReplaces(fact, st, rsyncOptions)
    return type !== 0o040000 && st.links >= 2 && !replaced
  })
}

export async function moveChanged(
  context: Context,
  mirror: string,
  stage: string,
  names: readonly Buffer[],
  signal: AbortSignal | undefined,
): Promise<void> {
  const result = await context.run(moveCommand(mirror, stage), {
    input: moveInput(names),
    ionice: undefined,
    signal,
    check: false,
  })
  if (result.exitCode !== 0) throw moveFailed(mirror, result.stderr)
  leftOver(result.stdout, mirror)
}

/**
 * Moves every file of the mirror into the new stage (its top-level entries), or with `roots` (several SOURCEs, their
 * paths in the mirror) only what lies in those: a SOURCE left out of this run keeps its copy in the mirror.
 */
export async function moveAll(
  context: Context,
  mirror: string,
  stage: string,
  signal: AbortSignal | undefined,
  roots?: readonly string[],
): Promise<void> {
  const command =
    roots === undefined
      ? ['sh', '-c', MOVE_ALL_SCRIPT, 'sh', mirror, stage]
      : ['sh', '-c', MOVE_ROOTS_SCRIPT, 'sh', mirror, stage, ...roots.map((root) => root.replace(/^\/+|\/+$/g, ''))]
  const result = await context.run(command, { ionice: undefined, signal, check: false })
  if (result.exitCode !== 0) throw moveFailed(mirror, result.stderr)
  leftOver(result.stdout, mirror)
}

function moveFailed(mirror: string, stderr: string): CliError {
  return new CliError(
    'ERR_RSB_CLI_EXACT_FAILED',
    `Files of ${mirror} could not be moved aside before the backup: ${stderr.trim() || 'failed'}.`,
    {
      path: mirror,
    },
  )
}

/** What the backup step needs to know about the store for {@link prepareExact}. */
export interface ExactStep {
  readonly sourceContext: Context
  readonly destinationContext: Context
  readonly logger: Logger
  /** The resolved store and mirror. */
  readonly store: string
  readonly directory: string
  readonly mirror: MirrorRecord
  readonly state: StoreState
  /** The resolved SOURCE (with several: `/`, see `sources`). */
  readonly source: string
  /**
   * Several resolved SOURCEs, backed up with rsync `--relative` (each at its whole path in the mirror): the files
   * changed in each are found under that path, and the record keeps them all (see {@link sourceKey}).
   */
  readonly sources?: readonly string[] | undefined
  /**
   * Whether the mirror keeps its SOURCEs under their whole paths (rsync `--relative`; default: with several). With one
   * SOURCE, a mirror that had several: only what lies under its path is moved aside, the record keeps the layout.
   */
  readonly wholePaths?: boolean | undefined
  readonly shape: RsyncShape
  /** Absolute locations find leaves out. */
  readonly prune: readonly string[]
  /** Whether the mirror existed before this run. */
  readonly mirrorExists: boolean
  readonly dryRun: boolean
  readonly signal: AbortSignal | undefined
  /** Tests: the clock and host. */
  readonly clock?: ClockFacts | undefined
  readonly host?: string | undefined
}

/** The backup's side of an exact run: rsync's `--link-dest` directories, and what to do once rsync finished. */
export interface ExactRun {
  readonly linkDest: readonly string[]
  /**
   * The files moved aside because their inode changed since the last backup (plan `changed`): they get new inodes
   * on purpose. With plan `all` none do (rsync links back every unchanged file).
   */
  readonly renewed: number
  /**
   * Once rsync ended (any status): waits for the stage's removal begun before rsync; after 0 or 24 records the moment
   * and removes the stages. Returns a warning when something could not be cleaned up (the next run finishes it).
   */
  finish(exitCode: number): Promise<string | undefined>
  /** Waits for what this step still runs (the stage's removal), for a run that ends without {@link finish}. */
  settled(): Promise<void>
}

/**
 * Moves aside the files of the mirror that rsync could change in place (see the top of this file) and returns rsync's
 * `--link-dest` directories: this run's stage, and the stages interrupted runs left (their files are what those runs
 * moved aside and rsync never put back). A dry run moves nothing and records nothing.
 */
export async function prepareExact(step: ExactStep): Promise<ExactRun> {
  const { logger, state, mirror } = step
  const clock = step.clock ?? readClock()
  const host = step.host ?? os.hostname()
  const options = optionsFingerprint(step.shape)
  const prefix = stagePrefix(mirror)
  // every stage an interrupted run of this mirror left is removed once rsync has finished; rsync takes 20 --link-dest
  // directories at most: the newest 19 and this run's
  const made = (name: string) => Number(name.slice(name.lastIndexOf('-') + 1)) || 0
  const allLeftovers = (state.staged ?? [])
    .filter((name) => name.startsWith(prefix))
    .sort((a, b) => made(b) - made(a))
    .map((name) => metadataPath(step.store, 'staged', name))
  const leftovers = allLeftovers.slice(0, 19)
  const mirrorName = step.directory.slice(step.directory.lastIndexOf('/') + 1)
  const others = [...state.entries.keys()].some((name) => name !== mirrorName)
  const roots = step.sources !== undefined && step.sources.length > 1 ? step.sources : [step.source]
  const wholePaths = step.wholePaths ?? roots.length > 1
  const key = sourceKey(roots, wholePaths)
  const recorded = state.synced?.get(mirror.id)
  let plan = planExact({
    record: recorded,
    clock,
    host,
    source: key,
    options,
    shared: step.mirrorExists && others,
  })
  const stage = metadataPath(step.store, 'staged', `${prefix}${process.pid}-${clock.now.getTime()}`)
  // a mirror that gets the whole-paths layout says so before rsync writes anything: a backup that rsync does not
  // finish (exit 23, a kill) leaves the record of its SOURCEs with no moment (`started` empty: every file is checked
  // next time), so that a later run of one SOURCE still keeps the others' copies (see keepsWholePaths)
  if (!step.dryRun && wholePaths && recorded?.source !== key) {
    const placeholder: SyncRecord = {
      version: STORE_VERSION,
      mirror: mirror.id,
      started: '',
      boot: '',
      uptime: -1,
      host,
      source: key,
      options,
    }
    await writeRecords(
      step.destinationContext,
      metadataPath(step.store, 'synced'),
      new Map([[`${mirror.id}.json`, placeholder]]),
      'replace',
      step.signal,
    )
  }
  let staged = false
  let removing: Promise<Error | undefined> | undefined
  let renewed = 0
  if (plan.kind === 'changed') {
    const found = await findChangedIn(
      step.sourceContext,
      roots,
      plan.since,
      {
        follow: step.shape.rsyncOptions.some((option) => COPY_LINKS.test(option)),
        multiFs: step.shape.multiFs,
        prune: step.prune,
        signal: step.signal,
      },
      wholePaths,
    )
    if ('error' in found) {
      plan = { kind: 'all', reason: `finding the files changed since its last backup failed (${found.error})` }
    } else if (found.names.length > 0) {
      renewed = found.names.length
      logger.log(
        'verbose',
        `${found.names.length} file(s) of SOURCE changed since the last backup: ${step.dryRun ? 'they would be moved' : 'moving them'} aside in ${step.directory}, so that rsync gives them new inodes and older snapshots keep theirs.`,
      )
      if (!step.dryRun) {
        let rest = found.names
        if (step.destinationContext.kind === 'local' && process.getuid?.() === 0) {
          // here, as root: renames in this process, and the files whose attributes alone changed are copied back (new
          // inodes that rsync may change): no --link-dest, which costs rsync time for every file
          const replaced = (name: Buffer, st: fs.Stats) => {
            const facts = found.facts.get(name)
            return facts !== undefined && rsyncReplaces(facts, st, step.shape.rsyncOptions)
          }
          const here = moveChangedHere(step.directory, stage, found.names, replaced)
          rest = here.rest
          if (here.moved.length > 0) {
            const back = await step.destinationContext.run(['sh', '-c', COPY_BACK, 'sh', stage, step.directory], {
              input: Buffer.concat(here.moved.flatMap((name) => [name, Buffer.from([0])])),
              ionice: undefined,
              signal: step.signal,
              check: false,
            })
            // what was not copied back, rsync links from the stage or copies
            if (back.exitCode !== 0) staged = true
          }
          // everything is back: the stage holds only the old names of inodes the snapshots keep, removed while rsync
          // runs (finish waits for it; an interrupted removal is a leftover stage, reused and removed by the next run)
          if (!staged && rest.length === 0)
            removing = step.destinationContext.run(['rm', '-fR', '--', stage], { signal: step.signal }).then(
              () => undefined,
              (error: unknown) => error as Error,
            )
        }
        rest = await worthMoving(step.destinationContext, step.directory, rest, found.facts, step.shape.rsyncOptions, step.signal)
        if (rest.length > 0) {
          await moveChanged(step.destinationContext, step.directory, stage, rest, step.signal)
          staged = true
        }
      }
    }
  }
  if (plan.kind === 'all') {
    logger.log(
      'info',
      `Every file of ${step.directory} gets checked for a new inode this time, because ${plan.reason}: rsync links the unchanged ones back (slower than a usual run; older snapshots never change).`,
    )
    if (!step.dryRun) {
      // under whole paths, only what lies in this run's SOURCEs: the others' copies stay (/ among them: everything)
      await moveAll(step.destinationContext, step.directory, stage, step.signal, wholePaths ? pathsInMirror(roots) : undefined)
      staged = true
    }
  }
  const stages = [...leftovers, ...(staged ? [stage] : [])]
  return {
    linkDest: stages,
    renewed,
    async settled() {
      await removing
    },
    async finish(exitCode: number) {
      const removed = await removing
      const warning =
        removed === undefined
          ? undefined
          : `The files moved aside for new inodes could not be removed (${removed.message}); the next run finishes it.`
      if (step.dryRun || (exitCode !== 0 && exitCode !== 24)) return warning
      const record: SyncRecord = {
        version: STORE_VERSION,
        mirror: mirror.id,
        started: clock.now.toISOString(),
        boot: clock.boot ?? '',
        uptime: clock.uptime ?? -1,
        host,
        source: key,
        options,
      }
      try {
        await writeRecords(
          step.destinationContext,
          metadataPath(step.store, 'synced'),
          new Map([[`${mirror.id}.json`, record]]),
          'replace',
          step.signal,
        )
        const done = [...allLeftovers, ...(staged ? [stage] : [])]
        if (done.length > 0) await step.destinationContext.run(['rm', '-fR', '--', ...done], { signal: step.signal })
      } catch (error) {
        return `The files moved aside for new inodes could not be cleaned up (${(error as Error).message}); the next run finishes it.`
      }
      return warning
    },
  }
}

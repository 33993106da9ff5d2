// Benchmark of the designs for point-in-time-exact snapshots, run by `pnpm bench snapshot`
// after the build. Measurement only: plain commands, not rsb; printed, never asserted.
//
// A 20,000-file tree (100 dirs x 200 small files, plus hard-linked pairs), one store per design holding one
// snapshot, then per run three scenarios, each timed from "source prepared" to "new snapshot complete and
// `latest` holds the newest state":
//   S1 nothing changed,  S2 1% of the files rewritten (new content, new mtime),
//   S3 1% metadata-only changes (chmod, chown, touch -d, setfattr user.x, setfacl), some on hard-linked files.
// Designs (the commands each runs are printed):
//   today  rsync into the mirror `latest` + `cp --archive --link latest SNAPSHOT` (the baseline; not exact)
//   a1     rsync --link-dest=NEWEST into .new, rename to SNAPSHOT, `latest` a symlink swapped atomically
//   a2     as a1, `latest` a real directory: cp -al SNAPSHOT .latest.new, two renames, rm -rf the old one
//   b      rsync --dry-run --out-format='%i %n' lists metadata-only changes; those files get a new inode in
//          `latest` (cp --archive --parents into a staging dir + renames, in one perl process); then today's
//   d      as b, but the candidates come from the source's ctime (`find -newerct @PREVIOUS_RUN`), no dry run
//   e      rsb's choice: d's candidates are moved (renamed) out of `latest` into a stage, rsync gets the stage as
//          --link-dest (links back what did not change, a new inode for what did), no data is copied beforehand
//   e-all  rsb's fallback when the last run's moment cannot be trusted: all of `latest` moved aside, then as e
// After S3 each design's previous snapshot is compared with a listing taken before S3 (mode uid gid mtime size
// inode, xattrs and ACLs): "exact"; the new snapshot and `latest` are compared with the source (the same, with
// hard-link groups instead of inodes).
// Alternating designs (rotated order per run), medians of RSB_BENCH_RUNS runs (default 5), ratio against today.
// RSB_BENCH_DIRS (default 100) shrinks the tree for a quick try. The figures are noisy on a shared machine.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { buildRsyncArgs } from '../../rsync/dist/index.js'
import { moveChangedHere, moveCommand, moveInput, rsyncReplaces } from '../dist/backup/exact.js'

const DIRS = Number(process.env.RSB_BENCH_DIRS ?? 100)
const PER_DIR = 200
const FILES = DIRS * PER_DIR
const PAIRS = Math.min(10, DIRS) // dir-N/link-0.txt is a hard link to dir-N/file-0.txt
const CHANGED = FILES / 100
const RUNS = Number(process.env.RSB_BENCH_RUNS ?? 5)

// Gives each listed file of DIRECTORY (cwd) a new inode with all its attributes, when it has more than one link
// (a file with one link shares nothing). stdin: NUL-terminated records "SIZE NAME" ("- NAME": no size known);
// a record whose size differs from the file's is skipped, since rsync will replace that file anyway. The copies
// are made by one cp (per 1000 files) into a staging directory beside it, then renamed over the originals, so
// hard links between files copied together are kept (and rsync --hard-links repairs the others).
const BREAK_LINKS_PL = String.raw`
use strict; use warnings; use File::Path qw(remove_tree);
my ($dir, $stage) = @ARGV;
chdir $dir or die "chdir $dir: $!\n";
local $/ = "\0";
my @todo;
while (my $record = <STDIN>) {
  chomp $record;
  my ($size, $name) = split / /, $record, 2;
  my @st = lstat $name or next;
  next if -d _ || $st[3] < 2;
  next if $size ne '-' && $size != $st[7];
  push @todo, $name;
}
if (@todo) {
  mkdir $stage or die "mkdir $stage: $!\n";
  my @rest = @todo;
  while (my @chunk = splice @rest, 0, 1000) {
    system('cp', '--archive', '--parents', '--target-directory', $stage, '--', @chunk) == 0 or die "cp failed\n";
  }
  for my $name (@todo) { rename "$stage/$name", $name or die "rename $name: $!\n" }
  remove_tree($stage);
}
print scalar(@todo), "\n";
`

function run(file, args, options = {}) {
  const started = process.hrtime.bigint()
  const result = spawnSync(file, args, {
    stdio: [options.input === undefined ? 'ignore' : 'pipe', options.capture ? 'pipe' : 'ignore', 'pipe'],
    input: options.input,
    cwd: options.cwd,
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, ...options.env },
  })
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${result.status ?? result.signal}: ${result.stderr}`)
  return { ms, stdout: options.capture ? result.stdout : undefined }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const pad = (n) => String(n).padStart(2, '0')
const snapshotName = (d, n) =>
  `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}-${n}`

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rsb-snapshot-designs-'))
const source = path.join(root, 'source')
// the argv rsb runs (rsync-system-backup's, with --hard-links), without its operands
const RSYNC_OPTIONS = buildRsyncArgs({ source, destination: path.join(root, 'x'), timeout: 600 }).slice(1, -2)
const RSYNC_ENV = { HOME: '' }
const rsync = (extra, to) => run('rsync', [...RSYNC_OPTIONS, ...extra, `${source}/`, `${to}/`], { env: RSYNC_ENV })

// ---- the designs: init (untimed) makes the store's first snapshot; backup (timed) returns its steps ----

const mirrorSnapshot = (store, name, steps) => {
  steps.push(['rsync', rsync([], path.join(store.dir, 'latest')).ms])
  steps.push(['cp -al', run('cp', ['--archive', '--link', path.join(store.dir, 'latest'), path.join(store.dir, name)]).ms])
}

const breakLinks = (store, records, steps) => {
  if (records.length === 0) return store.broken.push(0) // nothing to break: no process
  const input = Buffer.from(records.map((r) => `${r}\0`).join(''))
  const result = run('perl', ['-e', BREAK_LINKS_PL, path.join(store.dir, 'latest'), path.join(store.dir, '.break')], {
    input,
    capture: true,
  })
  steps.push(['break links', result.ms])
  store.broken.push(Number(String(result.stdout).trim()))
}

const linkDestSnapshot = (store, name, steps) => {
  const fresh = path.join(store.dir, '.new')
  // a leftover .new must go first: rsync would tweak attributes of its files in place, and those may be links
  // into the newest snapshot
  steps.push(['rsync --link-dest', rsync([`--link-dest=${path.join(store.dir, store.newest)}`], fresh).ms])
  steps.push(['mv', run('mv', ['-T', fresh, path.join(store.dir, name)]).ms])
}

const DESIGNS = [
  {
    id: 'today',
    commands: 'rsync SOURCE/ latest/; cp --archive --link latest SNAPSHOT',
    init(store, name) {
      mirrorSnapshot(store, name, [])
    },
    backup(store, name, steps) {
      mirrorSnapshot(store, name, steps)
    },
  },
  {
    id: 'a1',
    commands: 'rsync --link-dest=/STORE/NEWEST SOURCE/ .new/; mv -T .new SNAPSHOT; ln -sfn SNAPSHOT .latest.tmp; mv -T .latest.tmp latest',
    init(store, name) {
      rsync([], path.join(store.dir, name))
      fs.symlinkSync(name, path.join(store.dir, 'latest'))
    },
    backup(store, name, steps) {
      linkDestSnapshot(store, name, steps)
      const temp = path.join(store.dir, '.latest.tmp')
      steps.push(['ln -sfn', run('ln', ['-sfn', name, temp]).ms])
      steps.push(['mv latest', run('mv', ['-T', temp, path.join(store.dir, 'latest')]).ms])
    },
  },
  {
    id: 'a2',
    commands:
      'rsync --link-dest=/STORE/NEWEST SOURCE/ .new/; mv -T .new SNAPSHOT; cp --archive --link SNAPSHOT .latest.new; ' +
      'mv -T latest .latest.old; mv -T .latest.new latest; rm -rf .latest.old',
    init(store, name) {
      rsync([], path.join(store.dir, name))
      run('cp', ['--archive', '--link', path.join(store.dir, name), path.join(store.dir, 'latest')])
    },
    backup(store, name, steps) {
      linkDestSnapshot(store, name, steps)
      const [latest, fresh, old] = ['latest', '.latest.new', '.latest.old'].map((n) => path.join(store.dir, n))
      steps.push(['cp -al', run('cp', ['--archive', '--link', path.join(store.dir, name), fresh]).ms])
      steps.push(['mv latest', run('mv', ['-T', latest, old]).ms + run('mv', ['-T', fresh, latest]).ms])
      steps.push(['rm -rf old', run('rm', ['-rf', old]).ms])
    },
  },
  {
    id: 'b',
    commands:
      "rsync --dry-run --out-format='%i %n' SOURCE/ latest/; perl (break links: cp --archive --parents + renames); " +
      'rsync SOURCE/ latest/; cp --archive --link latest SNAPSHOT',
    init(store, name) {
      mirrorSnapshot(store, name, [])
    },
    backup(store, name, steps) {
      const started = process.hrtime.bigint()
      const dry = run('rsync', [...RSYNC_OPTIONS, '--dry-run', '--out-format=%i %n', `${source}/`, `${store.dir}/latest/`], {
        env: RSYNC_ENV,
        capture: true,
      })
      // YXcstpoguax: Y '.' (not transferred) or 'h' (hard-link follower), not a directory, data letters c and s
      // unchanged, some other letter set. (Real names would need rsync's \#ooo escapes decoded; these have none.)
      const records = []
      for (const line of String(dry.stdout).split('\n')) {
        if (line.length < 13 || !'.h'.includes(line[0]) || line[1] === 'd' || line[2] === 'c' || line[3] === 's') continue
        if (/[a-zA-Z]/.test(line.slice(4, 11))) records.push(`- ${line.slice(12)}`)
      }
      steps.push(['rsync --dry-run', Number(process.hrtime.bigint() - started) / 1e6])
      breakLinks(store, records, steps)
      mirrorSnapshot(store, name, steps)
    },
  },
  {
    id: 'd',
    commands:
      "find SOURCE/ -xdev ! -type d -newerct @PREVIOUS_START-1s -printf '%s %P\\0'; perl (break links, as b); " +
      'rsync SOURCE/ latest/; cp --archive --link latest SNAPSHOT',
    init(store, name) {
      store.since = Date.now() / 1000
      mirrorSnapshot(store, name, [])
    },
    backup(store, name, steps) {
      // 1 s of margin: file timestamps come from the kernel's coarse clock
      const since = store.since - 1
      store.since = Date.now() / 1000
      const found = run('find', [`${source}/`, '-xdev', '!', '-type', 'd', '-newerct', `@${since.toFixed(3)}`, '-printf', '%s %P\\0'], {
        capture: true,
      })
      steps.push(['find -newerct', found.ms])
      const records = String(found.stdout).split('\0').filter(Boolean)
      breakLinks(store, records, steps)
      mirrorSnapshot(store, name, steps)
    },
  },
  {
    id: 'e',
    commands:
      "find SOURCE/ -xdev ! -type d -newerct @PREVIOUS_START-2s -printf '%s %T@ %P\\0'; the changed files that rsync would " +
      'not replace (same size and mtime) renamed out of latest into a stage and copied back with cp --archive --parents (as root, locally; ' +
      'elsewhere: moved aside and given to rsync as --link-dest); rsync SOURCE/ latest/ (rm -rf STAGE meanwhile); cp --archive --link latest SNAPSHOT',
    init(store, name) {
      store.since = Date.now() / 1000
      mirrorSnapshot(store, name, [])
    },
    backup(store, name, steps) {
      // rsb's choice (exact.ts): the margin is rsb's CTIME_MARGIN
      const since = store.since - 2
      store.since = Date.now() / 1000
      const found = run('find', [`${source}/`, '-xdev', '!', '-type', 'd', '-newerct', `@${since.toFixed(3)}`, '-printf', '%s %T@ %P\\0'], {
        capture: true,
      })
      steps.push(['find -newerct', found.ms])
      const names = []
      const facts = new Map()
      let from = 0
      for (let i = 0; i < found.stdout.length; i++) {
        if (found.stdout[i] === 0) {
          const record = found.stdout.subarray(from, i)
          const one = record.indexOf(0x20)
          const two = record.indexOf(0x20, one + 1)
          const name = record.subarray(two + 1)
          names.push(name)
          facts.set(name, { size: Number(record.subarray(0, one).toString()), mtime: Number(record.subarray(one + 1, two).toString()) })
          from = i + 1
        }
      }
      const stage = path.join(store.dir, '.rsb-snapshot-bench-stage')
      const linkDest = []
      if (names.length > 0) {
        // as rsb does it as root for a local destination: renames in this process where only root may write the
        // directories, the shell's careful way (a cd -P and an mv per directory) for the rest
        const started = process.hrtime.bigint()
        const latest = path.join(store.dir, 'latest')
        const replaced = (name, st) => {
          const f = facts.get(name)
          return f !== undefined && rsyncReplaces(f, st, [])
        }
        const { rest, moved } = moveChangedHere(latest, stage, names, replaced)
        if (moved.length > 0) {
          const input = Buffer.concat(moved.flatMap((n) => [n, Buffer.from([0])]))
          run('sh', ['-c', 'cd -- "$1" && exec xargs -0 -r cp --archive --parents -t "$2" --', 'sh', stage, latest], { input })
        }
        if (rest.length > 0) {
          const [file, ...args] = moveCommand(latest, stage)
          run(file, args, { input: moveInput(rest) })
          linkDest.push(`--link-dest=${stage}`)
        }
        steps.push(['new inodes', Number(process.hrtime.bigint() - started) / 1e6])
      }
      store.broken.push(names.length)
      if (linkDest.length === 0 && fs.existsSync(stage)) {
        // everything copied back: rsb removes the stage while rsync runs
        const both = 'rm -rf -- "$1" & shift; rsync "$@"; s=$?; wait; exit $s'
        const args = [...RSYNC_OPTIONS, `${source}/`, `${path.join(store.dir, 'latest')}/`]
        steps.push(['rsync', run('sh', ['-c', both, 'sh', stage, ...args], { env: RSYNC_ENV }).ms])
      } else {
        steps.push(['rsync', rsync(linkDest, path.join(store.dir, 'latest')).ms])
        if (fs.existsSync(stage)) steps.push(['rm stage', run('rm', ['-rf', stage]).ms])
      }
      steps.push(['cp -al', run('cp', ['--archive', '--link', path.join(store.dir, 'latest'), path.join(store.dir, name)]).ms])
    },
  },
  {
    id: 'e-all',
    commands:
      "rsb's fallback (no trusted moment of the last backup): every top-level entry of latest moved into a stage; " +
      'rsync --link-dest=STAGE SOURCE/ latest/; rm -rf STAGE; cp --archive --link latest SNAPSHOT',
    init(store, name) {
      mirrorSnapshot(store, name, [])
    },
    backup(store, name, steps) {
      const latest = path.join(store.dir, 'latest')
      const stage = path.join(store.dir, '.rsb-snapshot-bench-stage')
      fs.mkdirSync(stage, { mode: 0o700 })
      const entries = fs.readdirSync(latest).map((n) => path.join(latest, n))
      steps.push(['mv all aside', run('mv', ['-t', stage, '--', ...entries]).ms])
      steps.push(['rsync --link-dest', rsync([`--link-dest=${stage}`], latest).ms])
      steps.push(['rm stage', run('rm', ['-rf', stage]).ms])
      steps.push(['cp -al', run('cp', ['--archive', '--link', latest, path.join(store.dir, name)]).ms])
    },
  },
]

// ---- listings for the correctness checks (untimed) ----

function xattrText(dir) {
  const { stdout } = run('getfattr', ['--recursive', '--physical', '--dump', '--match=-', '.'], { cwd: dir, capture: true })
  const blocks = String(stdout)
    .split('\n\n')
    .filter((b) => b.trim())
  return blocks.map((b) => b.trim()).sort()
}

// mode uid gid mtime size of every entry, and either its inode or (inodes: false) its hard-link group
function listing(dir, { inodes }) {
  const real = fs.realpathSync(dir)
  const entries = []
  const walk = (rel) => {
    const st = fs.lstatSync(path.join(real, rel), { bigint: true })
    entries.push({ rel, st })
    if (st.isDirectory()) for (const name of fs.readdirSync(path.join(real, rel)).sort()) walk(rel ? `${rel}/${name}` : name)
  }
  walk('')
  const first = new Map()
  for (const { rel, st } of entries) if (!st.isDirectory() && !first.has(st.ino)) first.set(st.ino, rel)
  const lines = entries.map(({ rel, st }) => {
    const link = st.isDirectory() ? '' : inodes ? ` ino=${st.ino}` : first.get(st.ino) === rel ? '' : ` =${first.get(st.ino)}`
    return `${rel || '.'} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeNs} ${st.isDirectory() ? '-' : st.size}${link}`
  })
  return [...lines, ...xattrText(real)]
}

const differences = (a, b) => {
  const setB = new Set(b)
  const setA = new Set(a)
  return a.filter((l) => !setB.has(l)).length + b.filter((l) => !setA.has(l)).length
}

// ---- the source and its changes ----

function makeSource() {
  for (let d = 0; d < DIRS; d++) {
    const dir = path.join(source, `dir-${d}`)
    fs.mkdirSync(dir, { recursive: true })
    for (let f = 0; f < PER_DIR; f++) fs.writeFileSync(path.join(dir, `file-${f}.txt`), `file ${d}/${f}\n`)
  }
  for (let d = 0; d < PAIRS; d++) fs.linkSync(path.join(source, `dir-${d}`, 'file-0.txt'), path.join(source, `dir-${d}`, 'link-0.txt'))
}

// CHANGED distinct files for run i of a scenario (different files every run and scenario), never file-0
const pick = (i, offset) =>
  Array.from({ length: CHANGED }, (_, k) => {
    const perDir = CHANGED / DIRS
    const f = 1 + ((i * 2 * perDir + offset * perDir + Math.floor(k / DIRS)) % (PER_DIR - 1))
    return path.join(source, `dir-${k % DIRS}`, `file-${f}.txt`)
  })

const SCENARIOS = [
  { id: 'S1', title: 'no change', prepare() {} },
  {
    id: 'S2',
    title: '1% content',
    prepare(i) {
      // rewritten in place (new content, new size, new mtime); dir-1/file-0.txt is a hard-linked pair
      for (const file of [...pick(i, 0), path.join(source, 'dir-1', 'file-0.txt')]) fs.writeFileSync(file, `changed in run ${i}: ${file}\n`)
    },
  },
  {
    id: 'S3',
    title: '1% metadata',
    prepare(i) {
      const files = pick(i, 1)
      const kind = (n) => files.filter((_, k) => k % 5 === n)
      // hard-linked pairs get a chmod, a chown and an xattr too
      const linked = (d) => (PAIRS > d ? [path.join(source, `dir-${d}`, 'file-0.txt')] : [])
      for (const file of [...kind(0), ...linked(0)]) fs.chmodSync(file, i % 2 ? 0o640 : 0o600)
      for (const file of [...kind(1), ...linked(2)]) fs.chownSync(file, 1000 + i, 1000 + i)
      for (const file of kind(2)) fs.utimesSync(file, new Date(2001, 0, 1 + i), new Date(2001, 0, 1 + i))
      run('setfattr', ['--name=user.x', `--value=run ${i}`, ...kind(3), ...linked(3)])
      run('setfacl', ['--modify', `u:${1000 + i}:r`, ...kind(4)])
    },
  },
]

// ---- the runs ----

try {
  makeSource()
  // a source older than 2 s: rsync 3.5.0 leaves a directory's mtime a fraction of a second off when the source
  // directory changed in the same second (and later runs compare seconds only, so never fix it); and d's first
  // find must not see the whole new tree as changed
  spawnSync('sleep', ['2.1'])
  const stores = new Map()
  let counter = 0
  for (const design of DESIGNS) {
    const dir = path.join(root, `store-${design.id}`)
    fs.mkdirSync(dir)
    const name = snapshotName(new Date(), counter++)
    const store = { dir, newest: name, snapshots: [name], broken: [], exact: [], latestOk: [], snapshotOk: [] }
    design.init(store, name)
    stores.set(design.id, store)
  }
  const count = fs.readdirSync(path.join(stores.get('today').dir, 'latest', 'dir-0')).length * DIRS
  console.log(`snapshot designs, ${FILES} files (${count} names in latest, ${PAIRS} hard-linked pairs), ${CHANGED} files changed in S2/S3`)
  console.log(`rsync options: ${RSYNC_OPTIONS.filter((o) => !o.startsWith('--filter')).join(' ')} (+ rsb's --filter=-/ ROOT rules)`)

  const times = new Map() // `${design} ${scenario}` -> [total ms]
  const stepTimes = new Map() // `${design} ${scenario}` -> Map(step -> [ms])
  for (let i = 0; i < RUNS; i++) {
    const order = [...DESIGNS.slice(i % DESIGNS.length), ...DESIGNS.slice(0, i % DESIGNS.length)]
    for (const scenario of SCENARIOS) {
      const before = new Map()
      let wanted
      if (scenario.id === 'S3') {
        for (const design of order) {
          const store = stores.get(design.id)
          before.set(design.id, listing(path.join(store.dir, store.newest), { inodes: true }))
        }
      }
      scenario.prepare(i)
      // changes made less than e's 2 s margin (d's: 1 s) before a run would be seen again by the next run's find
      // (and given new inodes again needlessly); real runs are hours apart
      spawnSync('sleep', ['2.1'])
      for (const design of order) {
        const store = stores.get(design.id)
        const name = snapshotName(new Date(), counter++)
        const steps = []
        design.backup(store, name, steps)
        const previous = store.newest
        store.newest = name
        store.snapshots.push(name)
        const key = `${design.id} ${scenario.id}`
        if (!times.has(key)) times.set(key, [])
        times.get(key).push(steps.reduce((sum, [, ms]) => sum + ms, 0))
        if (!stepTimes.has(key)) stepTimes.set(key, new Map())
        for (const [step, ms] of steps) {
          const list = stepTimes.get(key).get(step) ?? []
          list.push(ms)
          stepTimes.get(key).set(step, list)
        }
        if (scenario.id === 'S3') {
          store.exact.push(differences(before.get(design.id), listing(path.join(store.dir, previous), { inodes: true })))
          wanted ??= listing(source, { inodes: false })
          store.latestOk.push(differences(wanted, listing(path.join(store.dir, 'latest'), { inodes: false })))
          store.snapshotOk.push(differences(wanted, listing(path.join(store.dir, name), { inodes: false })))
        }
      }
    }
    // keep the two newest snapshots of each store (untimed), so stores stay the same size from run to run
    for (const store of stores.values()) {
      while (store.snapshots.length > 2) run('rm', ['-rf', path.join(store.dir, store.snapshots.shift())])
    }
  }

  const ms = (v) => `${v.toFixed(0)} ms`.padStart(8)
  console.log(
    `\nmedian ms of ${RUNS} alternating runs (ratio of medians against today / median of the per-round ratios); noisy: a shared 2-core machine`,
  )
  console.log(`design ${SCENARIOS.map((s) => `${s.id} ${s.title}`.padStart(28)).join('')}`)
  for (const design of DESIGNS) {
    const cells = SCENARIOS.map((s) => {
      const values = times.get(`${design.id} ${s.id}`)
      const bases = times.get(`today ${s.id}`)
      const value = median(values)
      const paired = median(values.map((v, i) => v / bases[i]))
      return `${ms(value)} (${(value / median(bases)).toFixed(2)}x / ${paired.toFixed(2)}x)`.padStart(28)
    })
    console.log(`${design.id.padEnd(6)} ${cells.join('')}`)
  }
  // what rsb's design adds to the commands it shares with today (rsync into latest, cp -al): its own steps
  const added = (step) => SCENARIOS.map((s) => median(stepTimes.get(`e ${s.id}`).get(step) ?? [0]))
  const extra = SCENARIOS.map((s, i) => added('find -newerct')[i] + added('new inodes')[i] + added('rm stage')[i])
  console.log(
    `e's own steps (find, new inodes, stage removal): ${extra.map((v, i) => `${SCENARIOS[i].id} +${v.toFixed(0)} ms = +${((100 * v) / median(times.get(`today ${SCENARIOS[i].id}`))).toFixed(0)}%`).join(', ')} of today's run (goal: within 15%)`,
  )
  console.log('\nsteps (median ms per step, S1 / S2 / S3)')
  for (const design of DESIGNS) {
    const steps = [...new Set(SCENARIOS.flatMap((s) => [...stepTimes.get(`${design.id} ${s.id}`).keys()]))]
    const cell = (s, step) => {
      const list = stepTimes.get(`${design.id} ${s.id}`).get(step)
      return list ? median(list).toFixed(0) : '-'
    }
    const parts = steps.map((step) => `${step} ${SCENARIOS.map((s) => cell(s, step)).join('/')}`)
    console.log(`  ${design.id.padEnd(6)} ${parts.join(', ')}`)
  }
  console.log('\ncorrectness after S3 (differing listing lines; 0 everywhere = yes), and commands per backup')
  for (const design of DESIGNS) {
    const store = stores.get(design.id)
    const exact = store.exact.every((n) => n === 0)
    const fine = store.latestOk.every((n) => n === 0) && store.snapshotOk.every((n) => n === 0)
    const commands = design.commands.split('; ').length
    console.log(
      `  ${design.id.padEnd(6)} exact: ${exact ? 'yes' : 'no '} (previous snapshot changed lines per run: ${store.exact.join(' ')}); ` +
        `latest and new snapshot = source: ${fine ? 'yes' : 'no'} (${store.latestOk.join(' ')} / ${store.snapshotOk.join(' ')})`,
    )
    const broken = store.broken.length ? `; files given a new inode per run: ${store.broken.join(' ')}` : ''
    console.log(`         ${commands} commands: ${design.commands}${broken}`)
  }
  console.log('  (rsync forks 2 more processes of its own locally; perl forks one cp per 1000 files to break, none when there is none)')
} finally {
  fs.rmSync(root, { recursive: true, force: true })
}

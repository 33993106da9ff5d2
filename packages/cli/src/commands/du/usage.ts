// The space of a store's snapshots, in one pass over the store by inode (hard links counted once), in the
// destination's context: over SSH the walk and the sums run on the server (`find -printf` into awk: POSIX awk, mawk
// on Debian), and only one line per snapshot crosses the connection. Metadata only: no file is read, nothing written.
import type { Context } from '@rsb/exec'
import { CliError } from '../../errors.js'

/** The figures of one tree walked (a snapshot or a mirror), distinct inodes only. */
export interface TreeUsage {
  /** Disk usage of everything in it (find's %b × 512), directories and symbolic links included. */
  readonly bytes: number
  /** The sizes (find's %s) of the same inodes. */
  readonly apparentBytes: number
  /** Inodes that are not directories (files, symbolic links, …). */
  readonly files: number
  readonly directories: number
  /** What only it holds: inodes whose every link (their %n) is inside it; deleting it frees them. */
  readonly exclusiveBytes: number
  readonly exclusiveApparentBytes: number
  readonly exclusiveFiles: number
}

/** What the walk gives: each root's figures (undefined: not there), the store's and its filesystem's. */
export interface StoreUsage {
  readonly trees: readonly (TreeUsage | undefined)[]
  /** Every distinct inode of the trees walked. */
  readonly total: { readonly bytes: number; readonly apparentBytes: number; readonly inodes: number }
  /** The filesystem that holds the store (`stat -f`); undefined when it cannot tell. */
  readonly filesystem: FilesystemUsage | undefined
}

export interface FilesystemUsage {
  readonly sizeBytes: number
  /** Available to rsb's user (stat -f's %a: without the blocks reserved for root). */
  readonly freeBytes: number
  readonly inodes: number
  readonly freeInodes: number
}

// Arguments: the store, then the roots. Every line of find is numbers only (`K DEV INODE LINKS BLOCKS SIZE TYPE`):
// no name ever reaches awk, so no name (spaces, quotes, newlines) can break its parse. An inode of one link or a
// directory is its root's alone at once; an inode of several links is kept (its last root, +K+1 while it has been
// seen in one root only, -(K+1) once in several; how often it was seen; its blocks, size and links), and at the end it
// is its root's alone when it was seen in one root only, as often as it has links. The roots are walked one after
// the other, so "seen in this root already" is "last seen in this root". Output: `fs …` (or `fs -`), one `r K …` line
// per root (`m K` for a root that is not there), `t …`, `done`. find's errors make it exit 3 (its error on stderr).
export const DU_SCRIPT = `
set -u
LC_ALL=C
export LC_ALL
store=$1
shift
stat -f -c 'fs %S %b %a %c %d' -- "$store" 2>/dev/null || echo 'fs -'
k=0
for r do
  if [ -d "$r" ] && [ ! -L "$r" ]; then
    find "$r" -printf "$k %D %i %n %b %s %y\\n" || echo "E $k"
  else
    echo "M $k"
  fi
  k=$((k + 1))
done | awk -v roots="$#" '
$1 == "E" { failed = 1; next }
$1 == "M" { missing[$2] = 1; next }
NF != 7 { failed = 1; next }
{
  k = $1; b = $5; s = $6
  if ($7 == "d" || $4 == 1) {
    rb[k] += b; rs[k] += s; xb[k] += b; xs[k] += s
    if ($7 == "d") rd[k]++; else { rf[k]++; xf[k]++ }
    tb += b; ts += s; tn++
    next
  }
  key = $2 " " $3
  if (!(key in last)) {
    last[key] = k + 1; seen[key] = 1; info[key] = b " " s " " $4
    rb[k] += b; rs[k] += s; rf[k]++
    tb += b; ts += s; tn++
    next
  }
  seen[key]++
  w = last[key]
  if (w != k + 1 && w != -(k + 1)) { last[key] = -(k + 1); rb[k] += b; rs[k] += s; rf[k]++ }
}
END {
  if (failed) exit 3
  for (key in last) {
    w = last[key]
    if (w < 0) continue
    split(info[key], f, " ")
    if (seen[key] != f[3]) continue
    xb[w - 1] += f[1]; xs[w - 1] += f[2]; xf[w - 1]++
  }
  for (k = 0; k < roots; k++) {
    if (k in missing) { printf "m %d\\n", k; continue }
    printf "r %d %.0f %.0f %.0f %.0f %.0f %.0f %.0f\\n", k, rb[k], rs[k], rf[k], rd[k], xb[k], xs[k], xf[k]
  }
  printf "t %.0f %.0f %.0f\\ndone\\n", tb, ts, tn
}'
`

/**
 * Walks `roots` (absolute paths in the context: the snapshots and the mirrors of `store`) in one command and sums
 * their space by inode. Metadata only.
 *
 * @throws {CliError} ERR_RSB_CLI_DU_FAILED when find could not read all of a tree (its error is in the message), or
 *   the output is not what the script prints
 */
export async function measureStore(
  context: Context,
  store: string,
  roots: readonly string[],
  signal: AbortSignal | undefined,
): Promise<StoreUsage> {
  const result = await context.run(['sh', '-c', DU_SCRIPT, 'sh', store, ...roots], { signal, check: false })
  if (result.exitCode !== 0) {
    throw new CliError(
      'ERR_RSB_CLI_DU_FAILED',
      `Could not read the space of the snapshots in ${store} on ${context.host}: ${result.stderr.trim() || `exit status ${result.exitCode}`}`,
      {
        path: store,
        hint: 'Run as root (or let rsb use sudo): snapshots keep the owners and modes of SOURCE; a snapshot a rotation removed meanwhile: run it again.',
      },
    )
  }
  return parseUsage(result.stdout, roots.length)
}

/** The output of {@link DU_SCRIPT} for `count` roots. Pure (exported for tests). */
export function parseUsage(output: string, count: number): StoreUsage {
  const bad = () =>
    new CliError('ERR_RSB_CLI_DU_FAILED', `The walk of the store gave output rsb cannot read: ${JSON.stringify(output.slice(0, 200))}`)
  const lines = output.split('\n')
  if (lines.at(-1) === '') lines.pop()
  if (lines.length !== count + 3 || lines.at(-1) !== 'done') throw bad()
  const numbers = (line: string, tag: string, n: number): number[] => {
    const parts = line.split(' ')
    if (parts[0] !== tag || parts.length !== n + 1) throw bad()
    const values = parts.slice(1).map((p) => (/^\d+$/.test(p) ? Number(p) : Number.NaN))
    if (values.some((v) => !Number.isSafeInteger(v))) throw bad()
    return values
  }
  const fsLine = lines[0]!
  let filesystem: FilesystemUsage | undefined
  if (fsLine !== 'fs -') {
    const [block, blocks, available, inodes, freeInodes] = numbers(fsLine, 'fs', 5) as [number, number, number, number, number]
    filesystem = { sizeBytes: block * blocks, freeBytes: block * available, inodes, freeInodes }
  }
  const trees: (TreeUsage | undefined)[] = []
  for (let k = 0; k < count; k++) {
    const line = lines[k + 1]!
    if (line === `m ${k}`) {
      trees.push(undefined)
      continue
    }
    const [index, blocks, size, files, directories, exclusiveBlocks, exclusiveSize, exclusiveFiles] = numbers(line, 'r', 8) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ]
    if (index !== k) throw bad()
    trees.push({
      bytes: blocks * 512,
      apparentBytes: size,
      files,
      directories,
      exclusiveBytes: exclusiveBlocks * 512,
      exclusiveApparentBytes: exclusiveSize,
      exclusiveFiles,
    })
  }
  const [blocks, size, inodes] = numbers(lines[count + 1]!, 't', 3) as [number, number, number]
  return { trees, total: { bytes: blocks * 512, apparentBytes: size, inodes }, filesystem }
}

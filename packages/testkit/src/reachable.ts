// Copies of checkout files that a throwaway user can run. The checkout may lie where only root gets in (a clone
// in a `mktemp -d` directory is 0700), so a program a test runs as another user must not be run from it.
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { runChecked } from './process.js'

/** A copy in a fresh directory that every user can read, outside the checkout. */
export interface UserCopy {
  /** The fresh directory (0755, under `os.tmpdir()`) holding the copy. */
  readonly root: string
  /** Where the copied directory (the source, or the package) lies in the copy. */
  readonly path: string
  /** Removes the copy. */
  remove(): Promise<void>
}

/**
 * Copies the directory `source` (symbolic links as they are) into a fresh directory under `os.tmpdir()` that every
 * user can read: directories 0755, files readable by all (executable by all when executable by anyone).
 * For stand-in scripts and other self-contained folders. Remove it with `remove()`.
 */
export async function copyForUsers(source: string): Promise<UserCopy> {
  const real = await fs.realpath(source)
  return withUserRoot(async (root) => {
    const target = path.join(root, path.basename(real))
    await runChecked('cp', ['-a', '--', real, target])
    return target
  })
}

/**
 * Copies a built package (its `package.json` and what its `files` publish, e.g. `dist`; a package without `files`
 * whole but for `node_modules`) together with every package it resolves through `node_modules` (`dependencies`,
 * and the `optionalDependencies` and `peerDependencies` that are installed), recursively, into a fresh directory
 * that every user can read (see {@link copyForUsers}). The copy keeps the layout of the originals relative to their
 * common ancestor and recreates each `node_modules` entry as a relative symbolic link, so node resolves every import
 * inside the copy exactly as it does in the checkout (pnpm's layout included). `path` is the package's copy.
 */
export async function copyPackageForUsers(packageDir: string): Promise<UserCopy> {
  const { packages, links } = await dependencyClosure(await fs.realpath(packageDir))
  const base = commonAncestor([...packages, ...links.keys()])
  const inCopy = (root: string, file: string) => path.join(root, path.relative(base, file))
  return withUserRoot(async (root) => {
    for (const dir of packages) await copyPackage(dir, inCopy(root, dir))
    for (const [link, target] of links) {
      const at = inCopy(root, link)
      await fs.mkdir(path.dirname(at), { recursive: true })
      if (!(await exists(at))) await fs.symlink(path.relative(path.dirname(at), inCopy(root, target)), at)
    }
    return inCopy(root, [...packages][0] as string)
  })
}

/** Creates the fresh root, lets `fill` copy into it, then opens everything in it to all users. */
async function withUserRoot(fill: (root: string) => Promise<string>): Promise<UserCopy> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'rsb-user-copy-'))
  const remove = () => fs.rm(root, { recursive: true, force: true })
  try {
    await assertSearchableByAll(path.dirname(root))
    await fs.chmod(root, 0o755)
    const copied = await fill(root)
    await openToAll(root)
    return { root, path: copied, remove }
  } catch (error) {
    await remove()
    throw error
  }
}

/** Throws unless every directory from `/` down to `dir` lets other users through. */
async function assertSearchableByAll(dir: string): Promise<void> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const stat = await fs.stat(current)
    if ((stat.mode & 0o001) === 0) {
      throw new Error(
        `${current} (mode ${(stat.mode & 0o777).toString(8)}) does not let other users through, so a copy below ` +
          `${dir} would not reach them either: point TMPDIR at a directory every user can reach`,
      )
    }
    if (current === path.dirname(current)) return
  }
}

/** Directories 0755; files readable by all, executable by all when someone may execute them; links untouched. */
async function openToAll(dir: string): Promise<void> {
  await runChecked('chmod', ['-R', 'u+rwX,go=rX', '--', dir])
}

interface Manifest {
  files?: unknown
  main?: unknown
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
}

async function readManifest(dir: string): Promise<Manifest> {
  return JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8')) as Manifest
}

/**
 * The real directories of `start` and of every package it needs, `start` first, and the `node_modules` entries
 * (at their real parent directory) through which node finds them, each with the package's real directory.
 */
async function dependencyClosure(start: string): Promise<{ packages: Set<string>; links: Map<string, string> }> {
  const packages = new Set<string>()
  const links = new Map<string, string>()
  const queue = [start]
  for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) {
    if (packages.has(dir)) continue
    packages.add(dir)
    const manifest = await readManifest(dir)
    const required = Object.keys(manifest.dependencies ?? {})
    const optional = [...Object.keys(manifest.optionalDependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]
    // type packages (`@types/…`) are never loaded by node
    for (const name of [...required, ...optional].filter((dependency) => !dependency.startsWith('@types/'))) {
      const found = await findInstalled(dir, name)
      if (!found) {
        if (required.includes(name)) throw new Error(`${dir}: dependency ${name} is not installed (run pnpm install)`)
        continue
      }
      links.set(found.entry, found.dir)
      queue.push(found.dir)
    }
  }
  return { packages, links }
}

/** Where node finds the package `name` from the directory `from`: the `node_modules` entry and its real directory. */
async function findInstalled(from: string, name: string): Promise<{ entry: string; dir: string } | undefined> {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (path.basename(dir) !== 'node_modules') {
      const candidate = path.join(dir, 'node_modules', name)
      if (await exists(candidate)) {
        const entry = path.join(await fs.realpath(path.dirname(candidate)), path.basename(candidate))
        return { entry, dir: await fs.realpath(candidate) }
      }
    }
    if (dir === path.dirname(dir)) return undefined
  }
}

/** Copies what the package at `dir` publishes (never its node_modules) to `target` (`cp -a`: links as they are). */
async function copyPackage(dir: string, target: string): Promise<void> {
  const manifest = await readManifest(dir)
  const listed = Array.isArray(manifest.files) ? manifest.files.filter((entry): entry is string => typeof entry === 'string') : undefined
  let entries: string[]
  if (!listed || listed.some((entry) => /[*?[{]/.test(entry) && !entry.startsWith('!'))) {
    entries = (await fs.readdir(dir)).filter((name) => name !== 'node_modules')
  } else {
    entries = ['package.json', ...listed.filter((entry) => !entry.startsWith('!'))]
    if (typeof manifest.main === 'string') entries.push(manifest.main)
  }
  // one `cp -a -t PARENT -- ENTRY…` per parent directory in the package
  const byParent = new Map<string, string[]>()
  for (const entry of new Set(entries.map((name) => path.normalize(name).replace(/\/+$/, '')))) {
    if (entry === '.' || entry.startsWith('..') || path.isAbsolute(entry) || !(await exists(path.join(dir, entry)))) continue
    const parent = path.dirname(entry)
    byParent.set(parent, [...(byParent.get(parent) ?? []), path.join(dir, entry)])
  }
  for (const [parent, sources] of byParent) {
    await fs.mkdir(path.join(target, parent), { recursive: true })
    await runChecked('cp', ['-a', '-t', path.join(target, parent), '--', ...sources])
  }
}

/** The deepest directory holding all of `paths` (absolute). */
function commonAncestor(paths: readonly string[]): string {
  const split = paths.map((file) => file.split(path.sep))
  const first = split[0] ?? ['']
  let length = 0
  while (length < first.length && split.every((parts) => parts[length] === first[length])) length++
  return first.slice(0, length).join(path.sep) || path.sep
}

async function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    () => false,
  )
}

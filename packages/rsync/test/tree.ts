import fs from 'node:fs/promises'
import path from 'node:path'
import { expect } from 'vitest'

/** The original test suite's `create_source`: a file with known content, a directory, a dangling symlink. */
export const NOTES = 'This file should be included in the backup.\n'

export async function createSource(dir: string): Promise<void> {
  await fs.mkdir(path.join(dir, 'subdirectory'), { recursive: true })
  await fs.writeFile(path.join(dir, 'notes.txt'), NOTES)
  await fs.symlink('../include-me.txt', path.join(dir, 'subdirectory', 'symbolic-link'))
}

/** The original test suite's `verify_destination`. */
export async function verifyDestination(dir: string): Promise<void> {
  expect((await fs.lstat(path.join(dir, 'notes.txt'))).isFile()).toBe(true)
  expect(await fs.readFile(path.join(dir, 'notes.txt'), 'utf8')).toBe(NOTES)
  expect((await fs.lstat(path.join(dir, 'subdirectory'))).isDirectory()).toBe(true)
  const link = path.join(dir, 'subdirectory', 'symbolic-link')
  expect((await fs.lstat(link)).isSymbolicLink()).toBe(true)
  expect(await fs.readlink(link)).toBe('../include-me.txt')
}

/** Every entry below `dir` (relative paths, sorted) with its mode, owner, size, mtime (whole seconds, as rsync compares them) and link target. */
export async function listTree(dir: string): Promise<string[]> {
  const entries: string[] = []
  const walk = async (relative: string): Promise<void> => {
    for (const name of (await fs.readdir(path.join(dir, relative))).sort()) {
      const child = path.join(relative, name)
      const stat = await fs.lstat(path.join(dir, child))
      const target = stat.isSymbolicLink() ? ` -> ${await fs.readlink(path.join(dir, child))}` : ''
      entries.push(
        `${JSON.stringify(child)} ${stat.mode.toString(8)} ${stat.uid}:${stat.gid} ${stat.isDirectory() ? '-' : stat.size} ${Math.floor(stat.mtimeMs / 1000)}${target}`,
      )
      if (stat.isDirectory()) await walk(child)
    }
  }
  await walk('')
  return entries
}

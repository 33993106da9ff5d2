import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { onTestFinished } from 'vitest'

/** A tree to create: file paths map to contents (string), `null` makes a directory. */
export type Tree = Record<string, string | null>

/** Writes a tree below `root`. */
export async function writeTree(root: string, tree: Tree): Promise<void> {
  for (const [relative, content] of Object.entries(tree)) {
    const target = path.join(root, relative)
    if (content === null) {
      await fs.mkdir(target, { recursive: true })
    } else {
      await fs.mkdir(path.dirname(target), { recursive: true })
      await fs.writeFile(target, content)
    }
  }
}

/** Creates a fresh temporary directory (removed when `remove()` is called). */
export async function makeTempDir(prefix = 'rsb-test-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix))
  return { path: dir, remove: () => fs.rm(dir, { recursive: true, force: true }) }
}

/**
 * Creates a fresh temporary directory holding `tree`, removed when the current test finishes.
 * Call it inside a test.
 */
export async function testdir(tree: Tree = {}, prefix = 'rsb-test-'): Promise<string> {
  const dir = await makeTempDir(prefix)
  onTestFinished(() => dir.remove())
  await writeTree(dir.path, tree)
  return dir.path
}

/** Whether this process runs as root (tests that need root say so and still run in CI). */
export const isRoot = process.getuid?.() === 0

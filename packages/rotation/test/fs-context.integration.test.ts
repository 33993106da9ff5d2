import fs from 'node:fs/promises'
import path from 'node:path'
import { LocalContext } from '@rsb/exec'
import { testdir } from '@rsb/testkit'
import { describe, expect, it } from 'vitest'
import { FsLocalContext } from '../src/io/fs-context.ts'

const HOSTILE = ['2024-01-01 00:00:00', 'it\'s "quoted"', '-rf', 'new\nline', 'ünï €', '\u{1F600}', '.hidden', 'b', 'a']

async function fixture(): Promise<Record<string, string>> {
  const root = await testdir({ 'full/x': null, 'empty/': null, 'file.txt': 'x' })
  for (const name of HOSTILE) await fs.writeFile(path.join(root, 'full', name), '')
  await fs.symlink(path.join(root, 'full'), path.join(root, 'link'))
  await fs.symlink(path.join(root, 'nowhere'), path.join(root, 'dangling'))
  return {
    full: path.join(root, 'full'),
    empty: path.join(root, 'empty'),
    file: path.join(root, 'file.txt'),
    missing: path.join(root, 'missing'),
    link: path.join(root, 'link'),
    'link/': `${path.join(root, 'link')}/`,
    dangling: path.join(root, 'dangling'),
  }
}

const settle = (promise: Promise<unknown>) =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error: (error as { code?: string }).code ?? String(error) }),
  )

/** Runs `body` with no program found on PATH: any command fails. */
async function withoutPrograms<T>(body: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH
  process.env.PATH = await testdir()
  try {
    return await body()
  } finally {
    process.env.PATH = saved
  }
}

describe('FsLocalContext (the local context of rsb-rotate)', () => {
  it('answers checks and listings like the commands', async () => {
    const paths = await fixture()
    const fast = new FsLocalContext()
    const slow = new LocalContext()
    for (const [label, target] of Object.entries(paths)) {
      for (const method of ['isDirectory', 'isReadable', 'isWritable', 'listEntries'] as const) {
        expect(await settle(fast[method](target)), `${method} ${label}`).toEqual(await settle(slow[method](target)))
      }
    }
    expect(await fast.listEntries(paths.full!)).toEqual([...HOSTILE, 'x'].sort())
    expect(fast.defaults).toEqual(slow.defaults)
  })

  it('runs no command for a plain directory or a symlink to one (not even with no program on PATH)', async () => {
    const paths = await fixture()
    const fast = new FsLocalContext()
    const answers = await withoutPrograms(async () => [
      await fast.isDirectory(paths.full!),
      await fast.isReadable(paths.full!),
      await fast.isWritable(paths.full!),
      await fast.listEntries(paths.full!),
      await fast.listEntries(paths.link!), // a symlink to the directory is followed, as find DIR/ does
    ])
    expect(answers).toEqual([true, true, true, [...HOSTILE, 'x'].sort(), [...HOSTILE, 'x'].sort()])
  })

  it('runs everything else as a LocalContext', async () => {
    const fast = new FsLocalContext()
    const slow = new LocalContext()
    expect(await fast.capture(['echo', 'hi'])).toBe('hi')
    expect((await fast.run(['sh', '-c', 'echo out; echo err >&2'])).stdout).toBe('out\n')
    expect(await fast.test(['false'])).toBe(false)
    expect(await fast.which('sh')).toBe(await slow.which('sh'))
    expect(await fast.commandLine(['rm', '-fR', '/x'], { ionice: 'idle', sudo: true })).toEqual(
      await slow.commandLine(['rm', '-fR', '/x'], { ionice: 'idle', sudo: true }),
    )
    expect(await fast.isPrivileged()).toBe(await slow.isPrivileged())
    await fast.close()
    await new FsLocalContext().close()
  })

  it('leaves a call that is aborted already to the command path (which reports the abort)', async () => {
    const paths = await fixture()
    const signal = AbortSignal.abort('SIGTERM')
    for (const method of ['isDirectory', 'listEntries'] as const) {
      const fast = await settle(new FsLocalContext()[method](paths.full!, { signal }))
      expect(fast).toEqual(await settle(new LocalContext()[method](paths.full!, { signal })))
      expect(fast).not.toHaveProperty('value', expect.anything())
    }
  })
})

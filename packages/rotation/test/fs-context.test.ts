import fs from 'node:fs/promises'
import path from 'node:path'
import { LocalContext, type SpawnOutcome, type SpawnRequest } from '@rsb/exec'
import { testdir } from '@rsb/testkit'
import { describe, expect, it } from 'vitest'
import { FsLocalContext } from '../src/io/fs-context.ts'

/** Counts the commands it runs. */
class CountingFsContext extends FsLocalContext {
  commands: string[][] = []
  protected override spawn(request: SpawnRequest): Promise<SpawnOutcome> {
    this.commands.push([...request.argv])
    return super.spawn(request)
  }
}

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

const settle = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error: (error as { code?: string }).code ?? String(error) }),
  )

describe('FsLocalContext (the local context of rsb-rotate)', () => {
  it('answers checks and listings like the commands, without running any for plain directories', async () => {
    const paths = await fixture()
    const fast = new CountingFsContext()
    const slow = new LocalContext()
    for (const [label, target] of Object.entries(paths)) {
      for (const method of ['isDirectory', 'isReadable', 'isWritable', 'listEntries'] as const) {
        expect(await settle(fast[method](target)), `${method} ${label}`).toEqual(await settle(slow[method](target)))
      }
    }
    expect(await fast.listEntries(paths.full!)).toEqual([...HOSTILE, 'x'].sort())
    // Only the listings that find answers differently from readdir (a symbolic link) or that fail ran a command.
    expect(fast.commands.map((argv) => argv.slice(0, 2).concat(path.basename(argv[1]!)))).toEqual(
      ['file', 'missing', 'link', 'dangling'].map((name) => ['find', paths[name]!, path.basename(paths[name]!)]),
    )
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

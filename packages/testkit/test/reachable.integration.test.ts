// What a test runs as a throwaway user must not depend on where the checkout lies: a clone in a `mktemp -d`
// directory (0700) is out of other users' reach. The checkout is simulated by a tree below such a directory; the
// user runs the helpers' copies of it. Needs root (a throwaway user).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { copyForUsers, copyPackageForUsers, createSudoUser, isRoot, testdir, writeTree, type TestUser, type Tree } from '../src/index.ts'

describe.skipIf(!isRoot)('copies of checkout files that a throwaway user can run, wherever the checkout lies (needs root)', () => {
  let user: TestUser
  beforeAll(async () => {
    user = await createSudoUser({ sudo: false, prefix: 'rsbc' })
  })
  afterAll(async () => {
    await user?.remove()
  })

  const runAs = (file: string, args: readonly string[] = []) =>
    spawnSync(file, args, { uid: user.uid, gid: user.gid, cwd: '/', encoding: 'utf8', env: { PATH: process.env.PATH } })

  /** A checkout holding `tree` below a fresh 0700 directory: only root gets in. */
  async function unreachableCheckout(tree: Tree): Promise<string> {
    const hidden = await testdir({}, 'rsb-hidden-')
    expect((await fs.stat(hidden)).mode & 0o777).toBe(0o700)
    const checkout = path.join(hidden, 'checkout')
    await writeTree(checkout, tree)
    return checkout
  }

  it('copyPackageForUsers: a built package with a workspace dependency and a pnpm-installed one (with its own dependency)', async () => {
    const manifest = (fields: object) => JSON.stringify({ version: '1.0.0', ...fields })
    const checkout = await unreachableCheckout({
      'packages/app/package.json': manifest({ name: 'app', type: 'module', files: ['dist'], dependencies: { lib: '*', dep: '*' } }),
      'packages/app/dist/main.js': "import { lib } from 'lib'\nimport dep from 'dep'\nconsole.log(lib, dep)\n",
      'packages/app/src/main.ts': 'not published\n',
      'packages/lib/package.json': manifest({ name: 'lib', type: 'module', exports: './dist/index.js', files: ['dist'] }),
      'packages/lib/dist/index.js': "export const lib = 'lib'\n",
      'node_modules/.pnpm/dep@1.0.0/node_modules/dep/package.json': manifest({ name: 'dep', dependencies: { sub: '*' } }),
      'node_modules/.pnpm/dep@1.0.0/node_modules/dep/index.js': "module.exports = 'dep+' + require('sub')\n",
      'node_modules/.pnpm/sub@2.0.0/node_modules/sub/package.json': manifest({ name: 'sub' }),
      'node_modules/.pnpm/sub@2.0.0/node_modules/sub/index.js': "module.exports = 'sub'\n",
      'node_modules/.pnpm/unrelated@1.0.0/node_modules/unrelated/package.json': manifest({ name: 'unrelated' }),
    })
    // pnpm's layout: relative links from each node_modules into the store
    const link = (target: string, at: string) =>
      fs.mkdir(path.dirname(path.join(checkout, at)), { recursive: true }).then(() => fs.symlink(target, path.join(checkout, at)))
    await link('../../lib', 'packages/app/node_modules/lib')
    await link('../../../node_modules/.pnpm/dep@1.0.0/node_modules/dep', 'packages/app/node_modules/dep')
    await link('../../sub@2.0.0/node_modules/sub', 'node_modules/.pnpm/dep@1.0.0/node_modules/sub')
    // a build under umask 077: only root may read the program
    const main = path.join(checkout, 'packages/app/dist/main.js')
    await fs.chmod(main, 0o600)
    expect(runAs(process.execPath, [main]).stderr).toContain('Cannot find module')

    const copy = await copyPackageForUsers(path.join(checkout, 'packages/app'))
    onTestFinished(() => copy.remove())
    expect(path.relative(path.dirname(checkout), copy.root)).toMatch(/^\.\.\//)
    expect((await fs.stat(copy.root)).mode & 0o777).toBe(0o755)
    const run = runAs(process.execPath, [path.join(copy.path, 'dist/main.js')])
    expect(run.stderr).toBe('')
    expect(run.stdout).toBe('lib dep+sub\n')
    // only what the package publishes and imports
    expect(existsSync(path.join(copy.path, 'src'))).toBe(false)
    expect(existsSync(path.join(copy.root, 'node_modules/.pnpm/unrelated@1.0.0'))).toBe(false)
    await copy.remove()
    expect(existsSync(copy.root)).toBe(false)
  })

  it('copyForUsers: a folder of scripts that call each other, executable by their owner only', async () => {
    const checkout = await unreachableCheckout({
      'bin/hello': '#!/bin/sh\nexec "$(dirname -- "$0")/name" "$@"\n',
      'bin/name': '#!/bin/sh\necho "hello $(id -u) $*"\n',
    })
    for (const name of ['hello', 'name']) await fs.chmod(path.join(checkout, 'bin', name), 0o700)
    expect(runAs(path.join(checkout, 'bin/hello')).error).toMatchObject({ code: 'EACCES' })

    const copy = await copyForUsers(path.join(checkout, 'bin'))
    onTestFinished(() => copy.remove())
    expect(path.relative(path.dirname(checkout), copy.root)).toMatch(/^\.\.\//)
    const run = runAs(path.join(copy.path, 'hello'), ['again'])
    expect(run.stderr).toBe('')
    expect(run.stdout).toBe(`hello ${user.uid} again\n`)
    await copy.remove()
    expect(existsSync(copy.root)).toBe(false)
  })
})

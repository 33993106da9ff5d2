import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { copyPackageForUsers, createSudoUser, isRoot, testdir, type TestUser, type UserCopy } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildRsyncArgs } from '../src/index.ts'
import { createSource, verifyDestination } from './tree.ts'

// runRsync as a non-root user, for real: a node process under a throwaway user's uid imports the built package
// (run `pnpm build` first; scripts/test.sh does), from a copy the users can read (the checkout may lie where only
// root gets in).
const here = path.dirname(fileURLToPath(import.meta.url))
const dist = path.resolve(here, '../dist/index.js')
const describeAsRoot = isRoot ? describe : describe.skip

describeAsRoot('runRsync with sudo as a non-root user (root: creates throwaway users)', () => {
  let user: TestUser
  let noSudo: TestUser
  let copy: UserCopy
  let copied: string

  beforeAll(async () => {
    copy = await copyPackageForUsers(path.resolve(here, '..'))
    copied = path.join(copy.path, 'dist/index.js')
    user = await createSudoUser()
    noSudo = await createSudoUser({ sudo: false })
  })
  afterAll(async () => {
    await user?.remove()
    await noSudo?.remove()
    await copy?.remove()
  })

  const runAs = (u: TestUser, options: Record<string, unknown>) =>
    spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { runRsync } from ${JSON.stringify(copied)}
         import { LocalContext } from '@rsb/exec'
         try {
           const result = await runRsync({ ...${JSON.stringify(options)}, context: new LocalContext({ sudo: true }) })
           console.log(JSON.stringify({ argv: result.argv, exitCode: result.exitCode }))
         } catch (error) {
           console.log(JSON.stringify({ code: error.code, message: error.message }))
         }`,
      ],
      {
        uid: u.uid,
        gid: u.gid,
        cwd: path.dirname(copied),
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: u.home },
      },
    )

  it('runs sudo -n -H rsync … (no NAME=value for sudo): root-only files are copied with their owner', async () => {
    await fs.access(dist)
    const root = await testdir({}, 'rsb-rsync-sudo-')
    const source = path.join(root, 'source')
    const destination = path.join(root, 'latest')
    await createSource(source)
    await fs.writeFile(path.join(source, 'secret'), 'root only', { mode: 0o600 })
    await fs.chown(path.join(source, 'secret'), 0, 0)
    const result = runAs(user, { source, destination })
    expect(result.stderr).toBe('')
    expect(JSON.parse(result.stdout)).toEqual({ argv: ['sudo', '-n', '-H', ...buildRsyncArgs({ source, destination })], exitCode: 0 })
    await verifyDestination(destination)
    const secret = await fs.stat(path.join(destination, 'secret'))
    expect([secret.uid, secret.mode & 0o777]).toEqual([0, 0o600])
  })

  it('a user without a sudo rule gets ERR_RSB_RSYNC_SUDO_PASSWORD at once, not a hang or a syntax error', async () => {
    const root = await testdir({}, 'rsb-rsync-sudo-')
    const result = runAs(noSudo, { source: path.join(root, 'source'), destination: path.join(root, 'latest') })
    expect(JSON.parse(result.stdout)).toMatchObject({ code: 'ERR_RSB_RSYNC_SUDO_PASSWORD' })
  })
})

// Rotation of a remote location ([user@]host:/dir) over a real sshd on 127.0.0.1 (needs root and openssh-server).
import { SshContext } from '@rsb/exec'
import { isRoot, startSshd, testdir, type SshServer } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyRotation } from '@rsb/rotation/io'
import { entries, makeEntries, runCli } from './helpers.ts'

const NAMES = [
  "2024-01-01 it's",
  '2024-01-02 "quoted"',
  '2024-01-03 $(touch pwned)',
  '2024-01-04 a\nb',
  '2024-01-05 `x` ;|&',
  '2024-01-06 last',
]

describe.skipIf(!isRoot)('rotation over SSH (root: real sshd on 127.0.0.1)', () => {
  let server: SshServer

  beforeAll(async () => {
    server = await startSshd()
  })

  afterAll(async () => {
    await server?.stop()
  })

  it('rsb-rotate HOST:/dir lists, plans and deletes remotely on one connection, hostile names intact', async () => {
    const root = await testdir()
    await makeEntries(root, [...NAMES, 'no timestamp'])
    const before = await server.connectionCount()
    const run = await runCli(['--daily=2', '--json', `${server.alias}:${root}`], { env: { RSB_SSH_CONFIG: server.sshConfigFile } })
    expect(run.code).toBe(0)
    expect(await entries(root)).toEqual(['2024-01-05 `x` ;|&', '2024-01-06 last', 'no timestamp'])
    expect((await server.connectionCount()) - before).toBe(1)
    const json = JSON.parse(run.stdout) as { locations: { directory: string; backups: { action: string }[] }[] }
    expect(json.locations[0]?.directory).toBe(`${server.alias}:${root}`)
    expect(json.locations[0]?.backups.map((b) => b.action)).toEqual(['delete', 'delete', 'delete', 'delete', 'keep', 'keep'])
    expect(run.lines).toContain(`INFO Scanning ${server.alias}:${root} for backups ..`)
    expect(run.lines).toContain(`INFO Deleting ${root}/2024-01-03 $(touch pwned) ..`)
  })

  it('dry-run and -j over SSH, with user@host', async () => {
    const root = await testdir()
    await makeEntries(root, NAMES)
    const env = { RSB_SSH_CONFIG: server.sshConfigFile }
    expect((await runCli(['-n', '--daily=1', `root@${server.alias}:${root}`], { env })).code).toBe(0)
    expect(await entries(root)).toEqual([...NAMES].sort())
    expect((await runCli(['-j', '--daily=1', '--ionice=idle', `root@${server.alias}:${root}`], { env })).code).toBe(0)
    expect(await entries(root)).toEqual(['2024-01-06 last'])
  })

  it('a missing remote directory is a clear error', async () => {
    const run = await runCli(['--daily=1', `${server.alias}:/nonexistent-rsb-dir`], { env: { RSB_SSH_CONFIG: server.sshConfigFile } })
    expect(run.code).toBe(1)
    expect(run.lines.filter((line) => line.startsWith('ERROR '))).toEqual([
      `ERROR It seems ${server.alias}:/nonexistent-rsb-dir doesn't exist or isn't a directory! (ERR_RSB_ROTATION_LOCATION_MISSING) Hint: Check the location; use --force to continue anyway.`,
    ])
  })

  it('applyRotation on an SshContext: snapshot names only, the destination ignored, the new snapshot protected', async () => {
    const root = await testdir()
    await makeEntries(root, [
      '2024-01-01 00:00:00',
      '2024-01-01 00:30:00',
      '2024-01-01 01:00:00',
      '2030-01-01 10:52:28',
      'latest',
      'photos-2019-01-01',
    ])
    const context = new SshContext({ host: server.alias, sshConfigFile: server.sshConfigFile })
    try {
      const result = await applyRotation(context, root, {
        scheme: { hourly: 24, daily: 7, weekly: 4, monthly: 'always' },
        snapshotNamesOnly: true,
        ignore: ['latest'],
        extraNames: ['2030-01-01 10:52:29'],
        protect: ['2030-01-01 10:52:29'],
        dryRun: true,
      })
      expect(result.plan.decisions.map((d) => [d.name, d.action, d.reasons])).toEqual([
        ['2024-01-01 00:00:00', 'keep', ['monthly']],
        ['2024-01-01 00:30:00', 'delete', []],
        ['2024-01-01 01:00:00', 'delete', []],
        ['2030-01-01 10:52:28', 'keep', ['hourly', 'daily', 'weekly', 'monthly']],
        ['2030-01-01 10:52:29', 'keep', ['protected']],
      ])
      expect(result.results.map((r) => r.status)).toEqual(['planned', 'planned'])
      expect(await entries(root)).toHaveLength(6)
    } finally {
      await context.close()
    }
  })
})

// The built rsb as a non-root user whose only sudo rule is the README's least-privilege one:
// NOPASSWD for the listed programs, no SETENV, no ALL. Needs root: it creates a throwaway user and installs the
// rule in /etc/sudoers.d/ (checked with visudo -cf, removed in afterAll whatever happened).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createSudoUser, isRoot, testdir, type TestUser } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSource, runRsbAs, snapshotsIn, verifyDestination } from './helpers.ts'

const README = path.resolve(import.meta.dirname, '../../../README.md')

/** The rule of the README's "Running with sudo", as written there (for the user `backup`). */
async function documentedRule(): Promise<string> {
  const text = await fs.readFile(README, 'utf8')
  const section = text.slice(text.indexOf('\n### Running with sudo\n'))
  const block = /```sudoers\n([^\n]+)\n```/.exec(section)?.[1]
  if (block === undefined || !block.startsWith('backup ALL=(root) NOPASSWD: ')) throw new Error('no sudoers rule in the README')
  return block
}

/** The programs a rule allows, by name (`/usr/bin/rsync` → `rsync`). */
function programsOf(rule: string): string[] {
  return rule
    .slice(rule.indexOf('NOPASSWD:') + 'NOPASSWD:'.length)
    .split(',')
    .map((p) => path.basename(p.trim()))
    .sort()
}

/** The programs rsb ran through sudo, from its `NODE_DEBUG=rsb:exec` trace (`localhost: sudo -n -H rsync …`). */
function sudoPrograms(trace: string): string[] {
  const programs = new Set<string>()
  for (const match of trace.matchAll(/localhost: sudo((?: -[\w-]+(?:=\S*)?)*) (\S+)/g)) programs.add(match[2] as string)
  return [...programs].sort()
}

function runAs(user: string, args: readonly string[], cwd: string, env: Record<string, string> = {}) {
  return runRsbAs(user, ['--disable-notifications', ...args], {
    cwd,
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/tmp', NODE_DEBUG: 'rsb:exec', ...env },
  })
}

describe.skipIf(!isRoot)('the README’s least-privilege sudoers rule (needs root: a throwaway user and /etc/sudoers.d/)', () => {
  let user: TestUser
  let rule: string
  const installed: string[] = []

  /** Installs `text` (the rule for `backup`) for the throwaway user, checked by visudo. */
  async function install(text: string): Promise<void> {
    const file = `/etc/sudoers.d/rsb-test-rule-${user.name}`
    installed.push(file)
    await fs.writeFile(file, `${text.replace(/^backup /, `${user.name} `)}\n`, { mode: 0o440 })
    const check = spawnSync('visudo', ['-c', '-f', file], { encoding: 'utf8' })
    expect(check.status, check.stdout + check.stderr).toBe(0)
  }

  beforeAll(async () => {
    rule = await documentedRule()
    user = await createSudoUser({ sudo: false, prefix: 'rsbs' })
  })

  afterAll(async () => {
    for (const file of installed) await fs.rm(file, { force: true })
    await user?.remove()
  })

  /** A root-only SOURCE (0700 directory, 0600 files, owned by root) and a root-only store with two old snapshots. */
  async function scene() {
    const t = await testdir({}, 'rsb-sudoers-')
    await fs.chmod(t, 0o755)
    const source = path.join(t, 'source')
    await createSource(source)
    await fs.writeFile(path.join(source, 'secret.txt'), 'root only\n', { mode: 0o600 })
    await fs.mkdir(path.join(source, 'private'), { mode: 0o700 })
    await fs.writeFile(path.join(source, 'private/key'), 'key\n', { mode: 0o600 })
    await fs.chmod(source, 0o700)
    const backups = path.join(t, 'backups')
    await fs.mkdir(path.join(backups, '2024-01-01 00:30:00'), { recursive: true })
    await fs.mkdir(path.join(backups, '2024-01-01 00:45:00'))
    await fs.chmod(backups, 0o700)
    return { t, source, backups, latest: path.join(backups, 'latest') }
  }

  it('backs up a root-only source, snapshots and rotates, twice, with no NAME=value for sudo', { timeout: 120_000 }, async () => {
    await install(rule)
    const s = await scene()
    // rsync's variables that rsb forwards must not make sudo refuse (RSYNC_RSH means nothing for a local
    // destination, RSYNC_PROXY only for a daemon)
    const env = { RSYNC_RSH: 'ssh -o BatchMode=yes', RSYNC_PROXY: '127.0.0.1:9' }
    const first = await runAs(user.name, [s.source, s.latest], s.t, env)
    expect(first.code, first.stderr).toBe(0)
    const afterFirst = await snapshotsIn(s.backups)
    const second = await runAs(user.name, [s.source, s.latest], s.t, env)
    expect(second.code, second.stderr).toBe(0)
    const trace = first.stderr + second.stderr
    expect(trace).not.toContain('ERR_RSB_')
    expect(trace).toMatch(/localhost: sudo -n -H rsync --delete/)
    expect(trace).not.toMatch(/localhost: sudo(?: -\S+)* [A-Za-z_][A-Za-z0-9_]*=/)
    // the README lists exactly the programs rsb ran through sudo
    expect(sudoPrograms(trace)).toEqual(programsOf(rule))

    await verifyDestination(s.latest)
    const snapshots = await snapshotsIn(s.backups)
    expect(afterFirst).toHaveLength(2)
    expect(afterFirst[0]).toBe('2024-01-01 00:30:00') // 00:45 rotated away (one per hour), the new one kept
    expect(snapshots).toHaveLength(3)
    for (const snapshot of [snapshots[1] as string, snapshots[2] as string, 'latest']) {
      const root = path.join(s.backups, snapshot)
      expect(await fs.readFile(path.join(root, 'secret.txt'), 'utf8')).toBe('root only\n')
      const secret = await fs.stat(path.join(root, 'secret.txt'))
      const key = await fs.stat(path.join(root, 'private/key'))
      const dir = await fs.stat(path.join(root, 'private'))
      expect([secret.uid, secret.gid, secret.mode & 0o7777]).toEqual([0, 0, 0o600])
      expect([key.uid, key.mode & 0o7777, dir.uid, dir.mode & 0o7777]).toEqual([0, 0o600, 0, 0o700])
    }
  })

  it.each(['rsync', 'sh', 'cp', 'mv'])(
    'a rule without %s: exit 1 with ERR_RSB_EXEC_SUDO_DENIED and the sudoers hint, not an rsync error',
    { timeout: 60_000 },
    async (missing) => {
      const programs = rule.slice(rule.indexOf('NOPASSWD: ') + 'NOPASSWD: '.length).split(', ')
      const kept = programs.filter((p) => path.basename(p) !== missing)
      expect(kept).toHaveLength(programs.length - 1)
      await install(`backup ALL=(root) NOPASSWD: ${kept.join(', ')}`)
      const s = await scene()
      const result = await runAs(user.name, [s.source, s.latest], s.t)
      expect(result.code).toBe(1)
      const error = result.stderr.split('\n').find((line) => line.includes('ERROR Aborting due to error:')) ?? ''
      expect(error, result.stderr).toContain(`sudo on localhost does not allow this user to run ${missing}:`)
      expect(error).toContain('(ERR_RSB_EXEC_SUDO_DENIED)')
      expect(error).toMatch(new RegExp(`Hint: Add ${missing} .* NOPASSWD sudoers rule .*/etc/sudoers\\.d/.*"Running with sudo"`))
      expect(result.stderr).not.toMatch(/ERR_RSB_RSYNC_|syntax or usage error|rsync exited with/)
      expect(await snapshotsIn(s.backups)).toEqual(['2024-01-01 00:30:00', '2024-01-01 00:45:00'])
    },
  )
})

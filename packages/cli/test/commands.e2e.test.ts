// rsb's commands, end to end with the built programs: `rsb COMMAND`. A command word is never a directory to back up, the
// default command is today's backup, `rsb rotate` is rsb-rotate, and rsync-system-backup keeps the original grammar.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { testdir } from '@rsb/testkit'
import { describe, expect, it } from 'vitest'
import { BIN, listing, runRsb } from './helpers.ts'

const QUIET = ['--no-sudo', '--disable-notifications']
const ORIGINAL_BIN = path.resolve(import.meta.dirname, '../dist/bin/rsync-system-backup.js')
const ROTATE_BIN = path.resolve(import.meta.dirname, '../dist/bin/rsb-rotate.js')
const JOBS = ['run', 'config', 'systemd', 'completion']
const READING = ['list', 'status', 'restore']

function run(bin: string, args: readonly string[], cwd: string) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** The commands a run traced (NODE_DEBUG=rsb:exec), without log lines and with numbers (PIDs, times) made alike. */
function traced(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => !/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /.test(line))
    .map((line) => line.replace(/\d{3,}/g, 'N'))
}

describe('rsb COMMAND', () => {
  it.each([
    ['run', 'ERR_RSB_CLI_CONFIG_MISSING'],
    ['config', "Unknown action '"],
  ])('rsb %s DEST: the command, not a backup of ./%s: a refusal (exit 2), nothing is written', async (word, text) => {
    const t = await testdir({ 'here/keep': 'x' })
    const before = await listing(t)
    const result = await runRsb([word, path.join(t, 'backups/latest')], {
      cwd: path.join(t, 'here'),
      env: { RSB_CONFIG: path.join(t, 'none.toml') },
    })
    expect(result.code, result.stderr).toBe(2)
    expect(result.stderr).toContain(text)
    expect(await listing(t)).toEqual(before)
  })

  it('a command word after options is refused, not backed up (rsb -v restore DEST), also with --json', async () => {
    const t = await testdir({ 'restore/keep': 'x' })
    const before = await listing(t)
    const result = await runRsb(['-v', '--json', 'restore', path.join(t, 'backups/latest')], { cwd: t })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("'restore' is a command of rsb: it comes first")
    expect(JSON.parse(result.stdout)).toMatchObject({ exitCode: 2, error: { code: 'ERR_RSB_CLI_USAGE' } })
    expect(await listing(t)).toEqual(before)
  })

  it('./list backs up the directory list', async () => {
    const t = await testdir({ 'list/a': 'a', 'list/sub/b': 'b' })
    const result = await runRsb([...QUIET, './list', path.join(t, 'backups/latest')], { cwd: t })
    expect(result.code, result.stderr).toBe(0)
    expect(fs.readFileSync(path.join(t, 'backups/latest/sub/b'), 'utf8')).toBe('b')
  })

  it('rsb backup SOURCE DESTINATION runs the same commands as rsb SOURCE DESTINATION', async () => {
    const t = await testdir({ 'src/a': 'a', 'src/sub/b': 'b' })
    const args = [...QUIET, '--dry-run', path.join(t, 'src'), path.join(t, 'backups/latest')]
    const plain = await runRsb(args, { env: { NODE_DEBUG: 'rsb:exec' } })
    const command = await runRsb(['backup', ...args], { env: { NODE_DEBUG: 'rsb:exec' } })
    expect([plain.code, command.code]).toEqual([0, 0])
    expect(traced(plain.stderr).filter((line) => line.startsWith('RSB:EXEC')).length).toBeGreaterThan(5)
    expect(traced(command.stderr)).toEqual(traced(plain.stderr))
  })

  it('rsb backup DESTINATION where a directory ./backup exists: which one was meant is asked (exit 2), nothing runs', async () => {
    const t = await testdir({ 'backup/keep': 'x' })
    const before = await listing(t)
    const result = await runRsb(['backup', ...QUIET, path.join(t, 'backups/latest')], { cwd: t })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("there is a directory ./backup here. (ERR_RSB_CLI_USAGE) Hint: Give SOURCE: 'rsb backup /")
    expect(await listing(t)).toEqual(before)
  })

  it('rsb help, rsb help backup, rsb help list and rsb help diff', async () => {
    const help = await runRsb(['help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: rsb \[OPTIONS\] \[SOURCE\] DESTINATION\n(?: {7}.*\n)* {7}rsb COMMAND/)
    for (const word of ['backup', 'rotate', ...READING, ...JOBS, 'help']) expect(help.stdout).toMatch(new RegExp(`^  ${word} +\\S`, 'm'))
    expect((await runRsb(['--help'])).stdout).toBe(help.stdout)
    const backup = await runRsb(['help', 'backup'])
    expect(backup.stdout).toMatch(/^Usage: rsb backup \[OPTIONS\] \[SOURCE\] DESTINATION\n(?: {7}.*\n)*\n/)
    expect(backup.stdout).not.toContain('Commands:')
    expect((await runRsb(['backup', '--help'])).stdout).toBe(backup.stdout)
    for (const word of READING) {
      const command = await runRsb(['help', word])
      expect(command.code).toBe(0)
      expect(command.stdout).toMatch(new RegExp(`^Usage: rsb ${word} \\[OPTIONS\\] `))
      expect(command.stdout).toMatch(/^Exit status:\n {2}0 /m)
      expect((await runRsb([word, '--help'])).stdout).toBe(command.stdout)
    }
    const config = await runRsb(['help', 'config'])
    expect(config.code).toBe(0)
    expect(config.stdout).toMatch(/^Usage: rsb config check /)
    expect((await runRsb(['help', 'list'])).stdout).toMatch(/^Jobs:\n {2}--job=NAME\n/m)
  })
})

describe('rsb rotate is rsb-rotate', () => {
  const names = ['2024-01-01 00:00:00', '2024-01-02 00:00:00', '2024-02-01 00:00:00', '2024-03-01 12:00:00', '2024-03-02 12:00:00', 'other']
  it.each<[string, string[]]>([
    ['a dry run with JSON', ['--daily=1', '--monthly=2', '--dry-run', '--json']],
    ['the help', ['--help']],
    ['a usage error', ['--daily=x']],
    ['a rotation that removes', ['--daily=1', '--monthly=1']],
  ])('%s: byte-identical output and exit status', async (_what, args) => {
    const t = await testdir()
    for (const side of ['a', 'b']) for (const name of names) fs.mkdirSync(path.join(t, side, name), { recursive: true })
    // the same directory name in both output: each side is moved to x in turn
    const withDir = (bin: string, extra: string[], side: string) => {
      fs.renameSync(path.join(t, side), path.join(t, 'x'))
      try {
        return run(bin, [...extra, ...args, path.join(t, 'x')], t)
      } finally {
        fs.renameSync(path.join(t, 'x'), path.join(t, side))
      }
    }
    const a = withDir(ROTATE_BIN, [], 'a')
    const b = withDir(BIN, ['rotate'], 'b')
    const alike = (text: string) => text.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (\S+) (\S+)\[\d+\]/gm, 'TIME $1 $2[PID]')
    expect({ code: b.code, stdout: b.stdout, stderr: alike(b.stderr) }).toEqual({ code: a.code, stdout: a.stdout, stderr: alike(a.stderr) })
    expect(fs.readdirSync(path.join(t, 'b')).sort()).toEqual(fs.readdirSync(path.join(t, 'a')).sort())
  })
})

describe('rsync-system-backup keeps the original grammar', () => {
  it('its help names it and has no commands', () => {
    const result = run(ORIGINAL_BIN, ['--help'], '/')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Usage: rsync-system-backup \[OPTIONS\] \[SOURCE\] DESTINATION\n\n/)
    expect(result.stdout).not.toContain('Commands:')
  })

  it('a word such as list is a SOURCE there, as it always was', async () => {
    const t = await testdir({ 'list/a': 'a' })
    const result = run(ORIGINAL_BIN, [...QUIET, 'list', path.join(t, 'backups/latest')], t)
    expect(result.code, result.stderr).toBe(0)
    expect(fs.readFileSync(path.join(t, 'backups/latest/a'), 'utf8')).toBe('a')
  })

  it('three positionals are the original error, not several SOURCEs (rsb takes them); nothing is written', async () => {
    const t = await testdir({ 'a/x': 'x', 'b/y': 'y' })
    const before = await listing(t)
    const result = run(ORIGINAL_BIN, [...QUIET, path.join(t, 'a'), path.join(t, 'b'), path.join(t, 'backups/latest')], t)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('rsync-system-backup: error: Expected one or two positional arguments! (got 3) (ERR_RSB_CLI_USAGE)')
    expect(await listing(t)).toEqual(before)
  })

  it('its usage errors name it', () => {
    const result = run(ORIGINAL_BIN, ['--bogus', '/x'], '/')
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^rsync-system-backup: error: .*\(ERR_RSB_CLI_USAGE\) Hint: Try 'rsync-system-backup --help'/)
  })
})

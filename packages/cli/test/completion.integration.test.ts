// The bash completion for real: the script `rsb completion bash` prints is sourced in bash, and its function _rsb is
// called the way bash calls it (COMP_WORDS as bash splits the line: at spaces and at = and : outside quotes,
// COMP_CWORD, COMP_LINE, COMP_POINT), with the built rsb first on PATH; COMPREPLY is what bash would insert. Snapshot
// names come from a real store (two backups at fixed clocks, names with a space and colons), job names from a real
// configuration file (rsb config jobs).
import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { isRoot, makeTempDir } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, clockAt, createSource, runRsb, snapshotsIn } from './helpers.ts'

const PACKAGE = path.resolve(import.meta.dirname, '..')

// sources SCRIPT, sets the completion variables from LINE and the words, calls _rsb, prints COMPREPLY one a line
const DRIVER = `
. "$1" || exit 1
COMP_LINE=$2
COMP_POINT=\${#COMP_LINE}
shift 2
COMP_WORDS=("$@")
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
_rsb "\${COMP_WORDS[0]}" "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD - 1]-}" || exit 1
((\${#COMPREPLY[@]} == 0)) || printf '%s\\n' "\${COMPREPLY[@]}"
`

let t: string
let script: string
let bin: string

beforeAll(async () => {
  const temporary = await makeTempDir()
  afterAll(temporary.remove)
  t = temporary.path
  const printed = await runRsb(['completion', 'bash'])
  expect(printed).toMatchObject({ code: 0, stderr: '' })
  script = path.join(t, 'rsb.bash')
  await fs.writeFile(script, printed.stdout)
  // `rsb` on PATH, as installed: the built program
  bin = path.join(t, 'bin')
  await fs.mkdir(bin)
  await fs.writeFile(path.join(bin, 'rsb'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`, {
    mode: 0o755,
  })
})

/**
 * What bash completes: `line` as typed (the cursor at its end), `words` as bash splits it (default: at spaces). The
 * replies, sorted, and what the function wrote on stderr (it must write nothing).
 */
async function complete(line: string, words?: string[], options: { env?: Record<string, string> } = {}) {
  const argv = words ?? line.split(' ')
  const { stdout, stderr } = await promisify(execFile)('bash', ['--norc', '--noprofile', '-c', DRIVER, 'driver', script, line, ...argv], {
    cwd: t,
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: t, TZ: 'UTC', LANG: 'C.UTF-8', ...options.env },
    timeout: 60_000,
  })
  expect(stderr).toBe('')
  return stdout === '' ? [] : stdout.replace(/\n$/, '').split('\n').sort()
}

describe('rsb completion bash, sourced in bash', () => {
  it('is valid bash (bash -n) and registers _rsb for rsb, rsync-system-backup and rsb-rotate', async () => {
    await promisify(execFile)('bash', ['-n', script])
    const { stdout } = await promisify(execFile)('bash', [
      '--norc',
      '-c',
      '. "$1"; complete -p rsb rsync-system-backup rsb-rotate',
      'x',
      script,
    ])
    expect(stdout).toBe('complete -F _rsb rsb\ncomplete -F _rsb rsync-system-backup\ncomplete -F _rsb rsb-rotate\n')
  })

  it('command words: rsb li → list, rsb ver → versions and verify, rsb help di → diff', async () => {
    expect(await complete('rsb li')).toEqual(['list'])
    expect(await complete('rsb ver')).toEqual(['verify', 'versions'])
    expect(await complete('rsb help di')).toEqual(['diff'])
    expect(await complete('rsb completion ')).toEqual(['bash'])
  })

  it('long options of the command: rsb list --js → --json, rsb restore --sn → --snapshot=, the backup’s without a command', async () => {
    expect(await complete('rsb list --js')).toEqual(['--json'])
    expect(await complete('rsb restore --sn')).toEqual(['--snapshot='])
    expect(await complete('rsb --dry')).toEqual(['--dry-run'])
    expect(await complete('rsb backup --mu')).toEqual(['--multi-fs'])
    expect(await complete('rsync-system-backup --no-p')).toEqual(['--no-progress'])
    expect(await complete('rsb-rotate --dai')).toEqual(['--daily='])
    // rsync-system-backup has no commands: li is a SOURCE
    expect(await complete('rsync-system-backup li')).toEqual([])
  })

  it('option values: fixed words after --ionice= and after -i, directories after --mount=, nothing for a free value', async () => {
    expect(await complete('rsb --ionice=be', ['rsb', '--ionice', '=', 'be'])).toEqual(['best-effort'])
    expect(await complete('rsb --ioni=i', ['rsb', '--ioni', '=', 'i'])).toEqual(['idle'])
    expect(await complete('rsb -i id')).toEqual(['idle'])
    expect(await complete('rsb -nui re')).toEqual(['realtime'])
    expect(await complete('rsb --daemon-hook=', ['rsb', '--daemon-hook', '='])).toEqual(['post', 'pre'])
    await fs.mkdir(path.join(t, 'mnt point'), { recursive: true })
    expect(await complete('rsb --mount=mn', ['rsb', '--mount', '=', 'mn'])).toEqual(['mnt point'])
    expect(await complete('rsb --rotation=', ['rsb', '--rotation', '='])).toEqual([])
  })

  it('positionals: directories (not files) for DESTINATION, files for restore’s PATH', async () => {
    await fs.mkdir(path.join(t, 'stuff dir'), { recursive: true })
    await fs.writeFile(path.join(t, 'stuff.txt'), '')
    expect(await complete('rsb list stu')).toEqual(['stuff dir'])
    expect(await complete('rsb ./stu')).toEqual(['./stuff dir'])
    expect(await complete('rsb restore /nowhere stu')).toEqual(['stuff dir', 'stuff.txt'])
  })
})

describe('snapshot names from a real store', () => {
  let store: string
  // the two names (the clock runs on from 10:00:00: the seconds may differ) and as typed unquoted (a\ b)
  let a: string
  let b: string
  const escaped = (name: string) => name.replace(' ', '\\ ')
  beforeAll(async () => {
    // a store whose path has a space, made by two real backups
    store = path.join(t, 'my store')
    await createSource(path.join(t, 'source'))
    for (const day of ['2026-11-30T10:00:00Z', '2026-12-01T10:00:00Z']) {
      const result = await runRsb(['--no-sudo', '--disable-notifications', path.join(t, 'source'), path.join(store, 'latest')], {
        env: clockAt(new Date(day)),
      })
      expect(result.code, result.stderr).toBe(0)
    }
    ;[a = '', b = ''] = await snapshotsIn(store)
    expect(a).toMatch(/^2026-11-30 10:00:0\d$/)
    expect(b).toMatch(/^2026-12-01 10:00:0\d$/)
    const listed = await promisify(execFile)(process.execPath, [BIN, 'completion', '--snapshots', path.join(store, 'latest')])
    expect(listed.stdout).toBe(`${a}\n${b}\n`)
  })

  it('rsb restore DESTINATION --snapshot=<TAB>: both names, the space escaped', async () => {
    const words = ['rsb', 'restore', 'my\\ store/latest', '--snapshot', '=']
    expect(await complete('rsb restore my\\ store/latest --snapshot=', words)).toEqual([escaped(a), escaped(b)])
  })

  it('after a colon: only what follows the last colon is replaced (bash splits there)', async () => {
    const words = ['rsb', 'restore', 'my\\ store/latest', '--snapshot', '=', '2026-12-01\\ 10', ':', '0']
    expect(await complete('rsb restore my\\ store/latest --snapshot=2026-12-01\\ 10:0', words)).toEqual([b.slice('2026-12-01 10:'.length)])
  })

  it('the destination may come after the option, and --snapshot may be abbreviated', async () => {
    // the cursor on the value, the destination after it: COMP_CWORD is the value's word, not the last
    const { stdout } = await promisify(execFile)(
      'bash',
      [
        '--norc',
        '-c',
        `. "$1"; COMP_LINE='rsb restore --snap=2026-11'; COMP_POINT=\${#COMP_LINE}; COMP_WORDS=(rsb restore --snap = 2026-11 'my\\ store/latest'); COMP_CWORD=4; _rsb; printf '%s\\n' "\${COMPREPLY[@]}"`,
        'x',
        script,
      ],
      { cwd: t, env: { PATH: `${bin}:/usr/bin:/bin`, HOME: t, TZ: 'UTC' } },
    )
    expect(stdout).toBe(`${escaped(a)}\n`)
  })

  it('a quoted value gets the names as they are (readline closes the quote)', async () => {
    const words = ['rsb', 'diff', "'my store/latest'", "'2026-11"]
    expect(await complete("rsb diff 'my store/latest' '2026-11", words)).toEqual([a])
  })

  it('rsb diff and rsb verify: the snapshots and latest after DESTINATION', async () => {
    expect(await complete('rsb diff my\\ store/latest ', ['rsb', 'diff', 'my\\ store/latest', ''])).toEqual([
      escaped(a),
      escaped(b),
      'latest',
    ])
    expect(await complete('rsb verify my\\ store/latest la', ['rsb', 'verify', 'my\\ store/latest', 'la'])).toEqual(['latest'])
  })

  it('nothing, and nothing on stderr, where there is no store or no DESTINATION yet', async () => {
    expect(await complete('rsb diff /nowhere/latest 2', ['rsb', 'diff', '/nowhere/latest', '2'])).toEqual([])
    expect(await complete('rsb restore --snapshot=', ['rsb', 'restore', '--snapshot', '='])).toEqual([])
    const quiet = await promisify(execFile)(process.execPath, [BIN, 'completion', '--snapshots', '/nowhere/latest']).catch(
      (e: unknown) => e,
    )
    expect(quiet).toMatchObject({ code: 1, stdout: '', stderr: '' })
  })
})

describe('job names from the configuration file (rsb config jobs)', () => {
  it.skipIf(!isRoot)('rsb run <TAB> and rsb systemd <TAB>: the jobs of $RSB_CONFIG (needs root: the file must be root’s)', async () => {
    const config = path.join(t, 'rsb.toml')
    await fs.copyFile(path.join(PACKAGE, 'examples', 'rsb.toml'), config)
    await fs.chmod(config, 0o644)
    const jobs = (
      await promisify(execFile)(process.execPath, [BIN, 'config', 'jobs'], { env: { ...process.env, RSB_CONFIG: config } })
    ).stdout
      .split('\n')
      .filter(Boolean)
      .sort()
    expect(jobs.length).toBeGreaterThan(1)
    expect(await complete('rsb run ', ['rsb', 'run', ''], { env: { RSB_CONFIG: config } })).toEqual(jobs)
    expect(await complete('rsb systemd h', ['rsb', 'systemd', 'h'], { env: { RSB_CONFIG: config } })).toEqual(
      jobs.filter((j) => j.startsWith('h')),
    )
  })

  it('nothing, quietly, when rsb config jobs fails (no configuration file)', async () => {
    expect(await complete('rsb run ', ['rsb', 'run', ''], { env: { RSB_CONFIG: path.join(t, 'missing.toml') } })).toEqual([])
  })
})

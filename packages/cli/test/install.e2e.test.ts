// rsb as users install it: the published packages packed (pnpm pack, as the registry would get them) and installed
// with `npm install --global --prefix` into a temporary prefix; then, with a PATH of only that prefix's bin, /usr/bin,
// /bin and node's directory, the programs run, `man -l` renders rsb(1) where npm linked it, and a real backup makes
// a snapshot. scripts/install.sh installs the same from the clone (programs, man page, bash completion) and
// --uninstall leaves the prefix as it was. npm fetches the third-party dependencies from the registry (or its cache).
import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { makeTempDir } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSource, snapshotsIn, verifyDestination } from './helpers.ts'

const REPO = path.resolve(import.meta.dirname, '../../..')
const run = promisify(execFile)

/** Every entry under `root`, relative, with its type, sorted (for a before/after comparison). */
async function tree(root: string): Promise<string[]> {
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true })
  return entries
    .map((e) => `${path.relative(root, path.join(e.parentPath, e.name))}${e.isDirectory() ? '/' : e.isSymbolicLink() ? '@' : ''}`)
    .sort()
}

let work: string
let prefix: string
let env: NodeJS.ProcessEnv
const published: string[] = []

beforeAll(async () => {
  const temporary = await makeTempDir('rsb-install-')
  afterAll(temporary.remove)
  work = temporary.path
  const tarballs = path.join(work, 'tarballs')
  await fs.mkdir(tarballs)
  for (const dir of (await fs.readdir(path.join(REPO, 'packages'))).sort()) {
    const manifest = JSON.parse(await fs.readFile(path.join(REPO, 'packages', dir, 'package.json'), 'utf8')) as {
      name: string
      private?: boolean
    }
    if (manifest.private) continue
    published.push(manifest.name)
    await run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: path.join(REPO, 'packages', dir) })
  }
  prefix = path.join(work, 'prefix')
  const files = (await fs.readdir(tarballs)).map((name) => path.join(tarballs, name))
  expect(files).toHaveLength(published.length)
  await run(
    'npm',
    ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...files],
    {
      cwd: work,
      timeout: 300_000,
    },
  )
  env = {
    PATH: [path.join(prefix, 'bin'), '/usr/bin', '/bin', path.dirname(process.execPath)].join(':'),
    HOME: work,
    TZ: 'UTC',
    LANG: 'C.UTF-8',
  }
}, 300_000)

describe('npm install --global from the packed tarballs', () => {
  it('installs @rsb/cli and the @rsb libraries it depends on (not the private testkit)', async () => {
    expect(published).toContain('@rsb/cli')
    expect(published).not.toContain('@rsb/testkit')
    const installed = (await fs.readdir(path.join(prefix, 'lib', 'node_modules', '@rsb'))).map((name) => `@rsb/${name}`).sort()
    expect(installed).toEqual([...published].sort())
  })

  it('puts rsb, rsync-system-backup and rsb-rotate on PATH, and they run', async () => {
    for (const program of ['rsb', 'rsync-system-backup', 'rsb-rotate']) {
      expect((await run('sh', ['-c', `command -v ${program}`], { env })).stdout).toBe(`${path.join(prefix, 'bin', program)}\n`)
    }
    const { version } = JSON.parse(await fs.readFile(path.join(REPO, 'packages', 'cli', 'package.json'), 'utf8')) as { version: string }
    expect(await run('rsb', ['--version'], { env })).toMatchObject({ stdout: `rsb ${version}\n`, stderr: '' })
    expect(await run('rsync-system-backup', ['--version'], { env })).toMatchObject({
      stdout: `rsync-system-backup ${version}\n`,
      stderr: '',
    })
    const help = await run('rsb', ['--help'], { env })
    expect(help.stdout).toContain('Usage: rsb [OPTIONS] [SOURCE] DESTINATION')
    expect(help.stdout).toContain('Commands:')
    expect((await run('rsb-rotate', ['--help'], { env })).stdout).toContain('Usage: rsb-rotate [OPTIONS]')
    expect((await run('rsb', ['completion', 'bash'], { env })).stdout).toContain('complete -F _rsb rsb rsync-system-backup rsb-rotate')
  })

  it('links rsb(1) into PREFIX/share/man/man1, and man renders it with its sections', async () => {
    const page = path.join(prefix, 'share', 'man', 'man1', 'rsb.1')
    const { stdout } = await run('man', ['-l', page], { env: { ...env, MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat' } })
    const headings = stdout.split('\n').filter((line) => /^[A-Z][A-Z ]+$/.test(line))
    expect(headings).toEqual([
      'NAME',
      'SYNOPSIS',
      'DESCRIPTION',
      'COMMANDS',
      'OPTIONS',
      'EXIT STATUS',
      'FILES',
      'ENVIRONMENT',
      'EXAMPLES',
      'SEE ALSO',
    ])
    expect(stdout).toMatch(/^NAME\n {7}rsb - /m)
    expect(stdout).toMatch(/^ {7}rsb \[OPTIONS\] \[SOURCE\] DESTINATION$/m)
    expect(stdout).toMatch(/^ {3}restore$/m)
    expect(stdout).toMatch(/^ {7}-n, --dry-run$/m)
    expect(stdout).toMatch(/^ {7}--snapshot=NAME$/m)
    expect(stdout).toMatch(/^ {7}143 +stopped by SIGTERM/m)
    expect(stdout).toMatch(/^ {7}\/etc\/rsb\/rsb\.toml$/m)
    for (const name of ['RSB_CONFIG', 'RSYNC_MODULE_PATH', 'NODE_DEBUG=rsb:exec', 'TZ']) expect(stdout).toContain(name)
    expect(stdout).toMatch(/^SEE ALSO\n {7}rsync\(1\)/m)
  })

  it('man rsb-rotate and man rsync-system-backup (MANPATH the prefix’s) show rsb(1)', async () => {
    const manEnv = { ...env, MANPATH: path.join(prefix, 'share', 'man'), MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat' }
    for (const program of ['rsb', 'rsb-rotate', 'rsync-system-backup']) {
      const { stdout } = await run('man', [program], { env: manEnv })
      expect(stdout, program).toMatch(/^NAME\n {7}rsb - /m)
      expect(stdout, program).toContain('EXIT STATUS')
    }
  })

  it('the installed rsb makes a real backup: the mirror, and one snapshot beside it', async () => {
    const source = path.join(work, 'source')
    await createSource(source)
    const destination = path.join(work, 'backups', 'latest')
    const result = await run('rsb', ['--no-sudo', '--disable-notifications', source, destination], { env })
    expect(result.stderr).toContain('Creating system backup using rsync ..')
    await verifyDestination(destination)
    const snapshots = await snapshotsIn(path.dirname(destination))
    expect(snapshots).toHaveLength(1)
    await verifyDestination(path.join(path.dirname(destination), snapshots[0]!))
  })
})

describe('scripts/install.sh', () => {
  it('--prefix=DIR installs the programs, rsb(1) and the bash completion; --uninstall --prefix=DIR leaves DIR as it was', async () => {
    const target = path.join(work, 'target prefix')
    await fs.mkdir(path.join(target, 'share', 'man', 'man1'), { recursive: true })
    await fs.writeFile(path.join(target, 'share', 'man', 'man1', 'other.1'), 'someone else’s page\n')
    const before = await tree(target)
    const script = path.join(REPO, 'scripts', 'install.sh')
    const installed = await run('bash', [script, `--prefix=${target}`], { cwd: work, timeout: 300_000 })
    expect(installed.stderr).toContain(`install.sh: installed rsb `)
    const completions = path.join(target, 'share', 'bash-completion', 'completions')
    expect(await fs.readFile(path.join(completions, 'rsb'), 'utf8')).toContain('complete -F _rsb rsb rsync-system-backup rsb-rotate')
    expect(await fs.readlink(path.join(completions, 'rsync-system-backup'))).toBe('rsb')
    expect(await fs.readlink(path.join(completions, 'rsb-rotate'))).toBe('rsb')
    expect((await fs.stat(path.join(target, 'share', 'man', 'man1', 'rsb.1'))).isFile()).toBe(true)
    const inPrefix = { ...env, PATH: [path.join(target, 'bin'), '/usr/bin', '/bin', path.dirname(process.execPath)].join(':') }
    expect((await run('rsb', ['--version'], { env: inPrefix })).stdout).toMatch(/^rsb \d/)
    expect((await run('rsb-rotate', ['--version'], { env: inPrefix })).stdout).toMatch(/^rsb-rotate \d/)

    const removed = await run('bash', [script, '--uninstall', `--prefix=${target}`], { cwd: work, timeout: 120_000 })
    expect(removed.stderr).toContain(`install.sh: uninstalled rsb from ${target}`)
    expect(await tree(target)).toEqual(before)
    // nothing more to remove: an error, and still nothing changed
    const again = await run('bash', [script, '--uninstall', `--prefix=${target}`], { cwd: work }).catch((error: unknown) => error)
    expect(again).toMatchObject({ code: 1, stderr: expect.stringContaining('rsb is not installed in') })
    expect(await tree(target)).toEqual(before)
  }, 400_000)

  it('refuses an unknown argument (exit 2) and prints its usage with --help', async () => {
    const script = path.join(REPO, 'scripts', 'install.sh')
    expect(await run('bash', [script, '--bogus']).catch((error: unknown) => error)).toMatchObject({ code: 2 })
    expect((await run('bash', [script, '--help'])).stdout).toContain('--uninstall [--prefix=DIR]')
  })
})

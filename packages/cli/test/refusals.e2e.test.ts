// Command-line refusals end to end: the built rsb on real directories. Each refusal exits 2 before
// anything runs, prints exactly one line on stderr with its code and a hint, and changes nothing on disk (full
// listings of SOURCE, DESTINATION and DESTINATION's parent before and after).
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { UNSAFE_RSYNC_OPTIONS } from '@rsb/rsync'
import { testdir } from '@rsb/testkit'
import { describe, expect, it } from 'vitest'
import { BIN, createSource, listing, runRsb, shellQuote, snapshotsIn, type RsbResult } from './helpers.ts'

interface Scene {
  root: string
  source: string
  parent: string
  destination: string
}

/** A source tree and a store with a mirror (`latest`) and one older snapshot that shares its file. */
async function scene(): Promise<Scene> {
  const root = await testdir({}, 'rsb-refusals-')
  const source = path.join(root, 'source')
  await createSource(source)
  const parent = path.join(root, 'backups')
  const destination = path.join(parent, 'latest')
  await fs.mkdir(destination, { recursive: true })
  await fs.writeFile(path.join(destination, 'notes.txt'), 'an older version\n')
  await fs.mkdir(path.join(parent, '2024-01-01 00:00:00'))
  await fs.link(path.join(destination, 'notes.txt'), path.join(parent, '2024-01-01 00:00:00', 'notes.txt'))
  return { root, source, parent, destination }
}

async function snapshot(s: Scene): Promise<string[][]> {
  return [await listing(s.source), await listing(s.destination), await listing(s.parent), await listing(s.root)]
}

/** Runs a command line through bash, so that it can hold bytes that are not UTF-8 (`printf '\377'`). */
function runThroughBash(script: string, env: Record<string, string | undefined> = {}): Promise<RsbResult> {
  const environment: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC', ...env }
  delete environment.RSYNC_MODULE_PATH
  if (env.RSYNC_MODULE_PATH !== undefined) environment.RSYNC_MODULE_PATH = env.RSYNC_MODULE_PATH
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { env: environment, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

const RSB = `${shellQuote(process.execPath)} ${shellQuote(BIN)}`

/** Exit 2, exactly one stderr line `rsb: error: … (CODE) Hint: …`, nothing on stdout (unless --json). */
function expectRefusal(result: RsbResult, code: string, message: string | RegExp): void {
  expect({ code: result.code, signal: result.signal }).toEqual({ code: 2, signal: null })
  const lines = result.stderr.split('\n')
  expect(lines).toHaveLength(2)
  expect(lines[1]).toBe('')
  expect(lines[0]).toMatch(new RegExp(`^rsb: error: \\S.* \\(${code}\\) Hint: \\S`))
  if (typeof message === 'string') expect(lines[0]).toContain(message)
  else expect(lines[0]).toMatch(message)
}

/** Runs rsb with `args(scene)` and checks the refusal and that nothing changed on disk. */
async function refused(args: (s: Scene) => string[], code: string, message: string | RegExp, env: Record<string, string | undefined> = {}) {
  const s = await scene()
  const before = await snapshot(s)
  const result = await runRsb(['--no-sudo', '--disable-notifications', ...args(s)], { env })
  expectRefusal(result, code, message)
  expect(result.stdout).toBe('')
  expect(await snapshot(s)).toEqual(before)
  return result
}

describe('rsync pass-through options that would break hard-link snapshots', () => {
  it.each(UNSAFE_RSYNC_OPTIONS.map((option) => [option.takesValue ? `--${option.name}=x` : `--${option.name}`, option.name] as const))(
    '--rsync-option=%s is refused',
    async (spelling, name) => {
      await refused((s) => [`--rsync-option=${spelling}`, s.source, s.destination], 'ERR_RSB_RSYNC_UNSAFE_OPTION', `--${name}`)
    },
  )

  it.each([
    ['-ab', "-b (--backup) in '-ab' keeps replaced and deleted files"],
    ['-M--inplace', "--inplace in '-M--inplace' (sent to the other side by -M) writes into existing files"],
  ])('--rsync-option=%s is refused (a short cluster, a value of -M)', async (spelling, message) => {
    await refused((s) => ['--rsync-option', spelling, s.source, s.destination], 'ERR_RSB_RSYNC_UNSAFE_OPTION', message)
  })

  it('--link-dest pointing at a snapshot of the store is refused, with the reason', async () => {
    await refused(
      (s) => [`--rsync-option=--link-dest=${path.join(s.parent, '2024-01-01 00:00:00')}`, s.source, s.destination],
      'ERR_RSB_RSYNC_UNSAFE_OPTION',
      'makes files in DESTINATION hard links to the files of another directory, so snapshots would share them with it.',
    )
  })

  it('--inplace: the message says why', async () => {
    await refused(
      (s) => ['--rsync-option=--inplace', s.source, s.destination],
      'ERR_RSB_RSYNC_UNSAFE_OPTION',
      'rsb: error: --inplace writes into existing files, which older snapshots share (hard links): it would change them. (ERR_RSB_RSYNC_UNSAFE_OPTION) Hint: Leave out --rsync-option=--inplace',
    )
  })

  it('a pass-through value that is not an option is refused before anything runs', async () => {
    await refused(
      (s) => ['--rsync-option=/etc', s.source, s.destination],
      'ERR_RSB_RSYNC_INVALID_OPTION',
      "The rsync option '/etc' is not an option.",
    )
  })
})

describe('values out of range and impossible schemes', () => {
  it.each([
    [
      ['--rotation=daily=99999999999999999999'],
      'ERR_RSB_ROTATION_BAD_RETENTION',
      'Invalid retention value "99999999999999999999": too large (daily in',
    ],
    [['--rotation=daily=x'], 'ERR_RSB_ROTATION_BAD_RETENTION', 'Invalid retention value "x": not a number (daily in --rotation=daily=x)'],
    [['--keep-latest=1e30'], 'ERR_RSB_CLI_USAGE', "Invalid value for --keep-latest: '1e30'."],
    [['--keep-latest=1000001'], 'ERR_RSB_CLI_USAGE', 'from 0 to 1000000'],
    [['--timeout=1h 30m'], 'ERR_RSB_CLI_USAGE', "Invalid duration for --timeout: '1h 30m'."],
    [['--rotation=daily=0'], 'ERR_RSB_CLI_USAGE', '--rotation=daily=0 keeps nothing but the newest snapshot'],
    [['--rotation=hourly=0,weekly=0'], 'ERR_RSB_CLI_USAGE', 'keeps nothing but the newest snapshot'],
    [['-x', ''], 'ERR_RSB_CLI_USAGE', 'option -x requires a non-empty argument'],
  ])('%j is a usage error before anything runs', async (options, code, message) => {
    await refused((s) => [...options, s.source, s.destination], code, message)
  })

  it('-s -r --rotation=daily=0 in a post-xfer exec is refused too, and the store keeps its snapshots', async () => {
    const s = await scene()
    const before = await snapshot(s)
    const result = await runRsb(['-s', '-r', '--rotation=daily=0'], { env: { RSYNC_MODULE_PATH: s.destination } })
    expectRefusal(result, 'ERR_RSB_CLI_USAGE', 'keeps nothing but the newest snapshot')
    expect(await snapshot(s)).toEqual(before)
    expect(await snapshotsIn(s.parent)).toEqual(['2024-01-01 00:00:00'])
  })
})

describe('no DESTINATION', () => {
  it.each([
    ['unset', undefined],
    ['empty', ''],
  ])('rsb -s -r with $RSYNC_MODULE_PATH %s is a usage error, not the help', async (state, value) => {
    const s = await scene()
    const before = await snapshot(s)
    const result = await runRsb(['-s', '-r'], { env: { RSYNC_MODULE_PATH: value }, cwd: s.destination })
    expectRefusal(result, 'ERR_RSB_CLI_USAGE', `No DESTINATION given and $RSYNC_MODULE_PATH is ${state}.`)
    expect(result.stdout).toBe('')
    expect(await snapshot(s)).toEqual(before)
  })

  it('plain rsb without any argument still prints the usage and exits 0 (the original)', async () => {
    const result = await runRsb([])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Usage: rsb /)
    expect(result.stderr).toBe('')
  })
})

describe('arguments that are not valid UTF-8', () => {
  it('a SOURCE with a byte that is not UTF-8 is refused (not silently replaced by U+FFFD)', async () => {
    const s = await scene()
    // the real directory, named with the byte 0xFF (beside the scene: listing() reads names as UTF-8)
    const elsewhere = await testdir({}, 'rsb-refusals-bytes-')
    const bad = Buffer.concat([Buffer.from(`${elsewhere}/src`), Buffer.from([0xff])])
    await fs.mkdir(bad)
    const file = Buffer.concat([bad, Buffer.from('/file')])
    await fs.writeFile(file, 'data\n')
    const stat = async () => [await fs.readdir(bad), (await fs.lstat(bad)).mtimeMs, (await fs.lstat(file)).mtimeMs]
    const [before, badBefore] = [await snapshot(s), await stat()]
    const result = await runThroughBash(`exec ${RSB} --no-sudo "${elsewhere}/src$(printf '\\377')" ${shellQuote(s.destination)}`)
    expectRefusal(result, 'ERR_RSB_CLI_USAGE', /Argument 2 \('.*\/src\uFFFD'\) is not valid UTF-8/)
    expect(await snapshot(s)).toEqual(before)
    expect(await stat()).toEqual(badBefore)
    expect(await fs.readdir(elsewhere)).toHaveLength(1)
  })

  it('a DESTINATION with a byte that is not UTF-8 is refused, and nothing is created', async () => {
    const s = await scene()
    const before = await snapshot(s)
    const result = await runThroughBash(`exec ${RSB} ${shellQuote(s.source)} "${s.parent}/latest$(printf '\\377')"`)
    expectRefusal(result, 'ERR_RSB_CLI_USAGE', /Argument 2 \('.*\/latest\uFFFD'\) is not valid UTF-8/)
    expect(await snapshot(s)).toEqual(before)
  })

  it('an exclude pattern with such a byte is refused too (it would exclude another name)', async () => {
    const s = await scene()
    const before = await snapshot(s)
    const result = await runThroughBash(`exec ${RSB} -x "a$(printf '\\377')" ${shellQuote(s.source)} ${shellQuote(s.destination)}`)
    expectRefusal(result, 'ERR_RSB_CLI_USAGE', 'Argument 2')
    expect(await snapshot(s)).toEqual(before)
  })

  it('$RSYNC_MODULE_PATH with such a byte is refused', async () => {
    const s = await scene()
    const before = await snapshot(s)
    const result = await runThroughBash(`RSYNC_MODULE_PATH="${s.parent}/latest$(printf '\\377')" exec ${RSB} -s -r`)
    expectRefusal(result, 'ERR_RSB_CLI_USAGE', /\$RSYNC_MODULE_PATH \('.*\/latest\uFFFD'\) is not valid UTF-8/)
    expect(await snapshot(s)).toEqual(before)
  })
})

describe('--json shows refusals too', () => {
  it.each([
    [['--json', '--rsync-option=--append'], 'ERR_RSB_RSYNC_UNSAFE_OPTION'],
    [['--js', '--keep-latest=1e30'], 'ERR_RSB_CLI_USAGE'],
    [['--json', '--bogus'], 'ERR_RSB_CLI_USAGE'],
  ])('%j: the document on stdout has the error and exit status 2', async (options, code) => {
    const s = await scene()
    const before = await snapshot(s)
    const result = await runRsb([...options, s.source, s.destination])
    expectRefusal(result, code, '')
    const document = JSON.parse(result.stdout) as {
      schemaVersion: number
      exitCode: number
      error: { code: string; message: string; hint: string }
    }
    expect(document).toEqual({
      schemaVersion: 1,
      exitCode: 2,
      error: { code, message: expect.any(String), hint: expect.any(String) },
    })
    expect(result.stderr).toBe(`rsb: error: ${document.error.message} (${code}) Hint: ${document.error.hint}\n`)
    expect(await snapshot(s)).toEqual(before)
  })
})

describe('exclude patterns are always excludes (an accepted run)', () => {
  it("-x '+ secret' and -x '!' exclude files of those names; nothing is included or cleared", async () => {
    const root = await testdir(
      { 'source/+ secret': 'a', 'source/secret': 'b', 'source/!': 'c', 'source/kept': 'd', 'source/cache/x': 'e' },
      'rsb-refusals-',
    )
    const destination = path.join(root, 'backups', 'latest')
    // -x cache/ first: were '!' still rsync's "clear the list", cache/ would be copied
    const result = await runRsb([
      '--no-sudo',
      '--disable-notifications',
      '-q',
      '-b',
      '-x',
      'cache/',
      '-x',
      '!',
      '-x',
      '+ secret',
      '-x',
      'secret',
      path.join(root, 'source'),
      destination,
    ])
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' })
    expect((await fs.readdir(destination)).sort()).toEqual(['kept'])
  })
})

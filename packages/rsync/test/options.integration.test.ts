// The refused pass-through options and the literal exclude forms, checked against the real rsync of this machine
// (tier 3): the spellings rsb refuses are exactly the ones rsync's option parser (popt) accepts for those options,
// the short-option table matches `rsync --help`, and the reasons are real effects on hard-linked files.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { LocalContext } from '@rsb/exec'
import { testdir } from '@rsb/testkit'
import { describe, expect, it } from 'vitest'
import { checkRsyncOptions, RSYNC_SHORT_OPTIONS_WITH_VALUE, runRsync, UNSAFE_RSYNC_OPTIONS } from '../src/index.ts'

const context = new LocalContext({ sudo: true, interactive: false })

/**
 * Whether rsync's option parser takes these arguments: `rsync ARGS --help` prints the help (or fails later, as
 * `--sender` without `--server` does) unless popt refuses an option ("unknown option", "option does not take an
 * argument"). `--help` last: nothing is transferred, no server waits for input.
 */
function rsyncAccepts(args: readonly string[]): boolean {
  const result = spawnSync('rsync', [...args, '--help'], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 10_000 })
  if (result.error) throw result.error
  return !/: (unknown option|option does not take an argument)/.test(result.stderr)
}

function refused(args: readonly string[]): boolean {
  try {
    checkRsyncOptions(args)
    return false
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_RSB_RSYNC_UNSAFE_OPTION') throw error
    return true
  }
}

const HELP = spawnSync('rsync', ['--help'], { encoding: 'utf8' }).stdout

describe('the refused spellings match what the real rsync accepts', () => {
  it('rsync is installed and prints its option list', () => {
    expect(HELP).toMatch(/--inplace\s/)
  })

  it.each(UNSAFE_RSYNC_OPTIONS.map((option) => [option.name, option] as const))(
    '--%s: every accepted spelling is refused',
    (_name, option) => {
      const spellings: string[][] = [[`--${option.name}`]]
      if (option.takesValue) spellings.push([`--${option.name}=x`], [`--${option.name}`, 'x'])
      if (option.short) spellings.push([`-${option.short}`], [`-a${option.short}`], [`-${option.short}v`])
      for (const spelling of spellings) {
        expect({ spelling, accepted: rsyncAccepts(spelling) }).toEqual({ spelling, accepted: true })
        expect({ spelling, refused: refused(spelling.slice(0, 1)) }).toEqual({ spelling, refused: true })
      }
    },
  )

  it.each(UNSAFE_RSYNC_OPTIONS.map((option) => [option.name, option] as const))(
    '--%s: rsync takes no abbreviation, other case or extra dash, so the exact names are enough',
    (_name, option) => {
      const nearMisses = [`--${option.name.toUpperCase()}`, `---${option.name}`]
      for (let length = 1; length < option.name.length; length++) nearMisses.push(`--${option.name.slice(0, length)}`)
      if (!option.takesValue) nearMisses.push(`--${option.name}=x`)
      for (const nearMiss of nearMisses) {
        // a near miss that is itself a refused option (--append of --append-verify, --backup of --backup-dir) is refused
        const accepted = rsyncAccepts(nearMiss.includes('=') ? [nearMiss] : [nearMiss, 'x'])
        expect({ nearMiss, acceptedButAllowed: accepted && !refused([nearMiss]) }).toEqual({ nearMiss, acceptedButAllowed: false })
      }
    },
  )

  it('the short options that take a value are the ones rsync --help lists with a value', () => {
    const withValue = [...HELP.matchAll(/^--[a-z0-9-]+=[^,\s]+, -(\S)\s/gm)].map((match) => match[1])
    expect(withValue.sort()).toEqual([...RSYNC_SHORT_OPTIONS_WITH_VALUE].sort())
  })

  it('the short letters of the refused options are the ones rsync --help gives them', () => {
    for (const option of UNSAFE_RSYNC_OPTIONS) {
      const line = HELP.split('\n').find(
        (l) => l.startsWith(`--${option.name} `) || l.startsWith(`--${option.name}=`) || l.startsWith(`--${option.name},`),
      )
      const short = line?.match(/^--[a-z-]+(?:=\S+)?, -(\w)\s/)?.[1]
      expect({ option: option.name, short }).toEqual({ option: option.name, short: option.short })
    }
  })
})

describe('why: the real effects on a mirror whose files a snapshot shares', () => {
  /** A mirror with file f hard-linked into a snapshot, and a source where f changed. */
  async function shared(): Promise<{ source: string; mirror: string; snapshot: string }> {
    const root = await testdir({ 'source/f': 'new content\n', 'mirror/f': 'old\n' }, 'rsb-rsync-options-')
    const mirror = path.join(root, 'mirror')
    await fs.utimes(path.join(mirror, 'f'), new Date('2000-01-01'), new Date('2000-01-01'))
    await fs.mkdir(path.join(root, 'snapshot'))
    await fs.link(path.join(mirror, 'f'), path.join(root, 'snapshot', 'f'))
    return { source: path.join(root, 'source'), mirror, snapshot: path.join(root, 'snapshot') }
  }

  const rsync = (args: string[]) => spawnSync('rsync', args, { encoding: 'utf8' })

  it('without pass-through options the snapshot keeps the old content (rsync writes a new file)', async () => {
    const { source, mirror, snapshot } = await shared()
    expect(rsync(['-a', `${source}/`, `${mirror}/`]).status).toBe(0)
    expect(await fs.readFile(path.join(mirror, 'f'), 'utf8')).toBe('new content\n')
    expect(await fs.readFile(path.join(snapshot, 'f'), 'utf8')).toBe('old\n')
  })

  it.each([['--inplace'], ['--append-verify'], ['-M--inplace']])('%s rewrites the snapshot too', async (option) => {
    const { source, mirror, snapshot } = await shared()
    expect(refused([option])).toBe(true)
    expect(rsync(['-a', option, `${source}/`, `${mirror}/`]).status).toBe(0)
    expect(await fs.readFile(path.join(snapshot, 'f'), 'utf8')).not.toBe('old\n')
  })

  it('-ab makes backup copies inside the mirror; -eb does not (the b is the value of -e)', async () => {
    const backup = await shared()
    expect(rsync(['-ab', `${backup.source}/`, `${backup.mirror}/`]).status).toBe(0)
    expect((await fs.readdir(backup.mirror)).sort()).toEqual(['f', 'f~'])
    expect(refused(['-ab'])).toBe(true)

    const value = await shared()
    expect(rsync(['-a', '-eb', `${value.source}/`, `${value.mirror}/`]).status).toBe(0)
    expect(await fs.readdir(value.mirror)).toEqual(['f'])
    expect(refused(['-eb'])).toBe(false)
  })
})

describe('exclude patterns stay excludes (real rsync through runRsync)', () => {
  it("-x '!' does not clear the system excludes, and excludes a file named '!'", async () => {
    const root = await testdir({ 'source/system/x': 'system', 'source/!': 'bang', 'source/kept': 'kept' }, 'rsb-rsync-excludes-')
    const source = path.join(root, 'source')
    const destination = path.join(root, 'destination')
    await runRsync({ source, destination, context, excludedRoots: [`${path.join(source, 'system')}/`], excludes: ['!'] })
    expect((await fs.readdir(destination)).sort()).toEqual(['kept'])
  })

  it("-x '+ secret' excludes a file named '+ secret' and includes nothing; '- x' excludes '- x', not x", async () => {
    const root = await testdir(
      { 'source/+ secret': '1', 'source/secret': '2', 'source/- x': '3', 'source/x': '4', 'source/kept': '5' },
      'rsb-rsync-excludes-',
    )
    const source = path.join(root, 'source')
    const destination = path.join(root, 'destination')
    // were '+ secret' an include, it would win over the later exclude of secret (first match wins)
    await runRsync({ source, destination, context, excludes: ['+ secret', 'secret', '- x'] })
    expect((await fs.readdir(destination)).sort()).toEqual(['kept', 'x'])
  })
})

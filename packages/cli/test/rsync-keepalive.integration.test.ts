// rsb's SSH keepalive for the ssh that rsync starts (so that a dead server ends the run), with the built rsb against a real sshd on
// 127.0.0.1: rsync's ssh gets `-o ServerAliveInterval=15 -o ServerAliveCountMax=4` (the values of rsb's own
// connection) only where the user's own ssh settings set none, so the user's settings always win. The remote rsync
// is slowed (--rsync-path to a script that sleeps first) so that rsync's ssh can be read from /proc. Needs root.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { isRoot, startSshd, testdir, type SshServer } from '@rsb/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSource, processes, snapshotsIn, startRsb, verifyDestination, writeProgram, type RsbResult } from './helpers.ts'

const QUIET = ['--no-sudo', '--disable-notifications']

describe.skipIf(!isRoot)('SSH keepalive for rsync’s own ssh (needs root: sshd on 127.0.0.1)', () => {
  let server: SshServer
  /** `sleep 2; exec rsync "$@"`: the server's rsync, started late so that rsync's ssh runs long enough to be read. */
  let slowRsync: string

  beforeAll(async () => {
    server = await startSshd()
    slowRsync = await writeProgram(path.join(server.dir, 'bin'), 'slow-rsync', 'sleep 2\nexec rsync "$@"')
  })
  afterAll(async () => {
    await server?.stop()
  })

  /** A copy of the testkit's ssh_config with more lines in its one Host block. */
  async function configWith(name: string, ...lines: string[]): Promise<string> {
    const file = path.join(server.dir, name)
    const base = await fs.readFile(server.sshConfigFile, 'utf8')
    await fs.writeFile(file, base + lines.map((line) => `    ${line}\n`).join(''))
    return file
  }

  /**
   * Backs up a fresh source to `ALIAS:T/backups/latest` with `$RSYNC_RSH` = `rsh` and returns the argv of the ssh
   * that rsync started (read from /proc while it ran), what `ssh -G` makes of that argv, and rsb's result.
   */
  async function backup(
    rsh: string,
  ): Promise<{ argv: string[]; effective: { interval: string; countMax: string }; result: RsbResult; t: string }> {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const directory = `${t}/backups/latest`
    const run = startRsb([...QUIET, `--rsync-option=--rsync-path=${slowRsync}`, path.join(t, 'source'), `${server.alias}:${directory}`], {
      env: { RSYNC_RSH: rsh },
    })
    let argv: string[] | undefined
    let finished = false
    void run.done.then(() => (finished = true))
    while (argv === undefined && !finished) {
      argv = (await processes()).find(
        (p) => p.argv[0] === 'ssh' && p.argv.includes('--server') && p.argv.some((word) => word.startsWith(directory)),
      )?.argv
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const result = await run.done
    expect(argv, `rsync's ssh was never seen; stderr:\n${result.stderr}`).toBeDefined()
    const words = argv as string[]
    // ssh OPTIONS… HOST COMMAND…: what ssh itself makes of those options
    const options = words.slice(1, words.indexOf(server.alias))
    const sshG = spawnSync('ssh', ['-G', ...options, server.alias], { encoding: 'utf8' })
    const setting = (key: string) => new RegExp(`^${key} (\\S+)$`, 'm').exec(sshG.stdout)?.[1] ?? ''
    return { argv: words, effective: { interval: setting('serveraliveinterval'), countMax: setting('serveralivecountmax') }, result, t }
  }

  async function succeeded({ result, t }: { result: RsbResult; t: string }): Promise<void> {
    expect(result.code, result.stderr).toBe(0)
    await verifyDestination(path.join(t, 'backups/latest'))
    expect(await snapshotsIn(path.join(t, 'backups'))).toHaveLength(1)
  }

  it('the testkit’s RSYNC_RSH=“ssh -F CONFIG” (no keepalive set): rsync’s ssh gets -o ServerAliveInterval=15 -o ServerAliveCountMax=4 after the user’s words; the backup succeeds', async () => {
    // the testkit's config has BatchMode yes, for which Debian's ssh -G reports ServerAliveInterval 300: a default, not the user's
    const run = await backup(server.rsyncRsh)
    expect(run.argv.slice(0, 7)).toEqual(['ssh', '-F', server.sshConfigFile, '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=4'])
    expect(run.effective).toEqual({ interval: '15', countMax: '4' })
    await succeeded(run)
  })

  it('ServerAliveInterval 5 in the -F file: rsync’s ssh gets none of rsb’s options and keeps 5; a ServerAliveCountMax 9 alone gets rsb’s interval and keeps the 9', async () => {
    const countOnly = await backup(`ssh -F ${await configWith('count-only', 'ServerAliveCountMax 9')}`)
    expect(countOnly.argv).toContain('ServerAliveInterval=15')
    expect(countOnly.argv.join(' ')).not.toContain('ServerAliveCountMax=')
    expect(countOnly.effective).toEqual({ interval: '15', countMax: '9' })
    await succeeded(countOnly)

    const own = await configWith('interval', 'ServerAliveInterval 5')
    const interval = await backup(`ssh -F ${own}`)
    expect(interval.argv.slice(0, 4)).toEqual(['ssh', '-F', own, server.alias])
    expect(interval.argv.join(' ')).not.toContain('ServerAlive')
    expect(interval.effective).toEqual({ interval: '5', countMax: '3' })
    await succeeded(interval)
  })

  it('-o ServerAliveInterval=7 in RSYNC_RSH: only the user’s option reaches rsync’s ssh; -o ServerAliveCountMax=2 alone gets rsb’s interval after it', async () => {
    const countOnly = await backup(`${server.rsyncRsh} -o ServerAliveCountMax=2`)
    expect(countOnly.argv.slice(0, 7)).toEqual([
      'ssh',
      '-F',
      server.sshConfigFile,
      '-o',
      'ServerAliveCountMax=2',
      '-o',
      'ServerAliveInterval=15',
    ])
    expect(countOnly.argv).not.toContain('ServerAliveCountMax=4')
    expect(countOnly.effective).toEqual({ interval: '15', countMax: '2' })
    await succeeded(countOnly)

    const interval = await backup(`${server.rsyncRsh} -o ServerAliveInterval=7`)
    expect(interval.argv.slice(0, 6)).toEqual(['ssh', '-F', server.sshConfigFile, '-o', 'ServerAliveInterval=7', server.alias])
    expect(interval.argv.filter((word) => word.startsWith('ServerAlive'))).toEqual(['ServerAliveInterval=7'])
    expect(interval.effective).toEqual({ interval: '7', countMax: '3' })
    await succeeded(interval)
  })
})

// $RSYNC_RSH and rsb's own SSH connection, with the built rsb against two real sshds on 127.0.0.1: the options
// of $RSYNC_RSH send rsync's transfer to server A, while the ssh_config alone would send the alias to server B.
// rsb's own commands (mkdir, snapshot, rotation) must reach A as the same user. Needs root.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createSudoUser, isRoot, startSshd, testdir, type SshServer, type TestUser } from '@rsb/testkit'
import { parseSshCommand } from '@rsb/exec'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sshSettings } from '../src/session/ssh.ts'
import { createSource, runRsb, snapshotsIn, verifyDestination } from './helpers.ts'

const QUIET = ['--no-sudo', '--disable-notifications']

/** The users of the logins a server accepted so far, from its log. */
async function logins(server: SshServer): Promise<string[]> {
  const log = await fs.readFile(server.logFile, 'utf8').catch(() => '')
  return [...log.matchAll(/Accepted publickey for (\S+) from/g)].map((match) => match[1] as string)
}

/** The logins a server accepted while `run` ran. */
async function loginsDuring(server: SshServer, run: () => Promise<void>): Promise<string[]> {
  const before = (await logins(server)).length
  await run()
  return (await logins(server)).slice(before)
}

describe.skipIf(!isRoot)('$RSYNC_RSH: rsb’s own SSH connection goes where rsync’s ssh goes (needs root: two sshds on 127.0.0.1)', () => {
  let a: SshServer
  let b: SshServer
  let user: TestUser
  /** Host `rsb-rsh` and `127.0.0.1` → B as root, with B's key; known_hosts with both servers' keys. */
  let config: string
  let dir: string

  beforeAll(async () => {
    a = await startSshd()
    b = await startSshd()
    user = await createSudoUser({ sudo: false, prefix: 'rsbrsh' })
    dir = path.join(a.dir, 'client')
    await fs.mkdir(dir)
    const known = path.join(dir, 'known_hosts')
    await fs.writeFile(known, (await fs.readFile(a.knownHostsFile, 'utf8')) + (await fs.readFile(b.knownHostsFile, 'utf8')))
    config = path.join(dir, 'ssh_config')
    await fs.writeFile(
      config,
      [
        'Host rsb-rsh 127.0.0.1',
        '    HostName 127.0.0.1',
        `    Port ${b.port}`,
        '    User root',
        `    IdentityFile ${b.clientKeyFile}`,
        '    IdentitiesOnly yes',
        `    UserKnownHostsFile ${known}`,
        '    GlobalKnownHostsFile /dev/null',
        '    StrictHostKeyChecking yes',
        '    BatchMode yes',
        '',
      ].join('\n'),
    )
  })
  afterAll(async () => {
    await a?.stop()
    await b?.stop()
    await user?.remove()
  })

  /** A copy of A's client key (the only key A accepts; B does not know it) under a quote-hostile name. */
  async function keyOfA(name: string): Promise<string> {
    const key = path.join(dir, name)
    await fs.copyFile(a.clientKeyFile, key)
    await fs.chmod(key, 0o600)
    return key
  }

  it('-F FILE -p PORT -i KEY -l USER: the mirror, the snapshot and every login are on server A as USER; -l beats the destination’s root@', async () => {
    const key = await keyOfA("a's key")
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const store = path.join(user.home, 'backups')
    const rsh = `ssh -F ${config} -p ${a.port} -i "${key}" -l ${user.name}`
    let result: Awaited<ReturnType<typeof runRsb>> | undefined
    const onB = await loginsDuring(b, async () => {
      const onA = await loginsDuring(a, async () => {
        result = await runRsb(['--json', ...QUIET, path.join(t, 'source'), `root@rsb-rsh:${store}/latest`], { env: { RSYNC_RSH: rsh } })
      })
      // one login for rsync's ssh, one for all of rsb's own commands: both as USER
      expect(onA).toEqual([user.name, user.name])
    })
    expect(result?.code, result?.stderr).toBe(0)
    expect(onB).toEqual([])
    await verifyDestination(path.join(store, 'latest'))
    const snapshots = await snapshotsIn(store)
    expect(snapshots).toHaveLength(1)
    // made by USER's commands (root's would be root's)
    expect((await fs.stat(path.join(store, snapshots[0] as string))).uid).toBe(user.uid)
    expect((await fs.stat(path.join(store, 'latest', 'notes.txt'))).uid).toBe(user.uid)
    expect(JSON.parse(result?.stdout ?? '{}').snapshot).toBeTruthy()
  })

  it('-oPort=… and -o \'IdentityFile "FILE WITH SPACES"\' with 127.0.0.1 as the destination host: all on server A', async () => {
    const key = await keyOfA('the key of a')
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const rsh = `ssh -F ${config} -oPort=${a.port} -o 'IdentityFile "${key}"' -o User=root -qC`
    let code: number | null = null
    const onB = await loginsDuring(b, async () => {
      const onA = await loginsDuring(a, async () => {
        const result = await runRsb([...QUIET, path.join(t, 'source'), `127.0.0.1:${t}/backups/latest`], { env: { RSYNC_RSH: rsh } })
        code = result.code
        expect(result.code, result.stderr).toBe(0)
      })
      expect(onA).toEqual(['root', 'root'])
    })
    expect(code).toBe(0)
    expect(onB).toEqual([])
    await verifyDestination(path.join(t, 'backups/latest'))
    expect(await snapshotsIn(path.join(t, 'backups'))).toHaveLength(1)
  })

  it.each([
    ['a jump host', () => `ssh -F ${config} -J root@127.0.0.1:${a.port}`, 'it uses a jump host (-J)'],
    ['another program', () => `sshpass -p hunter2 ssh -F ${config}`, "its program is 'sshpass', not ssh"],
    ['a ProxyCommand', () => `ssh -F ${config} -o "ProxyCommand nc 127.0.0.1 ${a.port}"`, 'it uses a proxy command (ProxyCommand)'],
    ['shell syntax', () => `ssh -F ${config} -i $HOME/.ssh/key`, "it holds '$', which rsync reads differently from a shell"],
  ])(
    '%s in $RSYNC_RSH is refused before anything runs: exit 1, one error line with ERR_RSB_CLI_RSH_UNSUPPORTED, nothing written',
    async (_, rsh, reason) => {
      const t = await testdir()
      await createSource(path.join(t, 'source'))
      let result: Awaited<ReturnType<typeof runRsb>> | undefined
      const onB = await loginsDuring(b, async () => {
        const onA = await loginsDuring(a, async () => {
          result = await runRsb(['--json', ...QUIET, path.join(t, 'source'), `rsb-rsh:${t}/backups/latest`], { env: { RSYNC_RSH: rsh() } })
        })
        expect(onA).toEqual([])
      })
      expect(onB).toEqual([])
      expect(result?.code).toBe(1)
      const stderr = result?.stderr ?? ''
      const lines = stderr.split('\n').filter((line) => line.includes('ERR_RSB_CLI_RSH_UNSUPPORTED'))
      expect(lines, stderr).toHaveLength(1)
      expect(lines[0]).toContain(`rsb's own SSH connection cannot follow $RSYNC_RSH: ${reason}. (ERR_RSB_CLI_RSH_UNSUPPORTED) Hint: `)
      expect(stderr).not.toContain('hunter2')
      expect(stderr).not.toMatch(/Creating|rsync:/)
      expect(JSON.parse(result?.stdout ?? '{}')).toMatchObject({ exitCode: 1, error: { code: 'ERR_RSB_CLI_RSH_UNSUPPORTED' } })
      await expect(fs.stat(path.join(t, 'backups'))).rejects.toThrow()
    },
  )

  /** Runs rsb to `rsb-rsh:T/backups/latest` (server B by the config) and returns its result and the logins on A and B. */
  async function runToAlias(
    args: readonly string[],
    rsh: string | undefined,
  ): Promise<{ t: string; result: Awaited<ReturnType<typeof runRsb>>; onA: string[]; onB: string[] }> {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    let result: Awaited<ReturnType<typeof runRsb>> | undefined
    let onA: string[] = []
    const onB = await loginsDuring(b, async () => {
      onA = await loginsDuring(a, async () => {
        result = await runRsb(['--json', ...QUIET, ...args, path.join(t, 'source'), `rsb-rsh:${t}/backups/latest`], {
          env: { RSYNC_RSH: rsh },
        })
      })
    })
    return { t, result: result as Awaited<ReturnType<typeof runRsb>>, onA, onB }
  }

  /** A refusal before anything runs: exit 1, one ERR_RSB_CLI_RSH_UNSUPPORTED line, no login anywhere, nothing written. */
  async function expectRefused(run: Awaited<ReturnType<typeof runToAlias>>, text: string, secret?: string): Promise<void> {
    const { t, result, onA, onB } = run
    expect(onA).toEqual([])
    expect(onB).toEqual([])
    expect(result.code, result.stderr).toBe(1)
    const lines = result.stderr.split('\n').filter((line) => line.includes('ERR_RSB_CLI_RSH_UNSUPPORTED'))
    expect(lines, result.stderr).toHaveLength(1)
    expect(lines[0]).toContain(text)
    if (secret !== undefined) expect(result.stderr + result.stdout).not.toContain(secret)
    expect(result.stderr).not.toMatch(/Creating|rsync:/)
    expect(JSON.parse(result.stdout || '{}')).toMatchObject({ exitCode: 1, error: { code: 'ERR_RSB_CLI_RSH_UNSUPPORTED' } })
    await expect(fs.stat(path.join(t, 'backups'))).rejects.toThrow()
  }

  it('a wrapper named ssh on an absolute path (it adds -p A) is refused: rsync would go to A, rsb’s ssh -G to B', async () => {
    const key = await keyOfA('wrapper key')
    const bin = path.join(dir, 'wrapper-bin')
    await fs.mkdir(bin, { recursive: true })
    const wrapper = path.join(bin, 'ssh')
    await fs.writeFile(wrapper, `#!/bin/sh\nexec ssh -p ${a.port} -i '${key}' "$@"\n`, { mode: 0o755 })
    const run = await runToAlias([], `${wrapper} -F ${config}`)
    await expectRefused(run, `rsb's own SSH connection cannot follow $RSYNC_RSH: its program '${wrapper}' is not the ssh on PATH (`)
  })

  it('the real ssh by its absolute path (-F FILE) is accepted: the mirror, the snapshot and every login are on server B', async () => {
    const real = spawnSync('sh', ['-c', 'command -v ssh'], { encoding: 'utf8' }).stdout.trim()
    expect(real).toMatch(/^\//)
    const { t, result, onA, onB } = await runToAlias([], `${real} -F ${config}`)
    expect(result.code, result.stderr).toBe(0)
    expect(onA).toEqual([])
    expect(onB).toEqual(['root', 'root'])
    await verifyDestination(path.join(t, 'backups/latest'))
    expect(await snapshotsIn(path.join(t, 'backups'))).toHaveLength(1)
  })

  it.each([
    ['--rsh=CMD', ['--rsync-option=--rsh=ssh -p 1'], '--rsh'],
    ['-eCMD', ['--rsync-option=-essh -p 1'], '-e'],
    ['-e in a cluster', ['--rsync-option=-avessh -p 1'], '-e'],
    ['-ae, its value the next option', ['--rsync-option=-ae', '--rsync-option=-p1'], '-e'],
    ['--rsh, its value the next option', ['--rsync-option=--rsh', '--rsync-option=-p1'], '--rsh'],
  ])('a remote shell in the rsync options (%s) is refused for an SSH destination before anything runs', async (_, args, spelling) => {
    const run = await runToAlias(args, `ssh -F ${config}`)
    await expectRefused(
      run,
      `rsb's own SSH connection cannot follow a remote shell given in the rsync options (${spelling} in --rsync-option): ` +
        `rsync would connect with it, rsb with $RSYNC_RSH. (ERR_RSB_CLI_RSH_UNSUPPORTED) Hint: Leave ${spelling} out of ` +
        "--rsync-option and set $RSYNC_RSH instead; rsb's own connection follows it.",
      'ssh -p 1',
    )
  })

  it('$RSB_SSH_CONFIG replaces $RSYNC_RSH for rsb’s own connection: a ProxyCommand that rsync’s ssh follows no longer stops the run', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    // rsync's ssh reaches A through a real ProxyCommand (ssh -W over A itself); rsb's own connection uses A's config directly
    const rsh = `ssh -F ${a.sshConfigFile} -o "ProxyCommand ssh -F ${a.sshConfigFile} -W %h:%p ${a.alias}"`
    const refused = await runRsb([...QUIET, path.join(t, 'source'), `${a.alias}:${t}/backups/latest`], { env: { RSYNC_RSH: rsh } })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('(ERR_RSB_CLI_RSH_UNSUPPORTED)')
    const result = await runRsb([...QUIET, path.join(t, 'source'), `${a.alias}:${t}/backups/latest`], {
      env: { RSYNC_RSH: rsh, RSB_SSH_CONFIG: a.sshConfigFile },
    })
    expect(result.code, result.stderr).toBe(0)
    await verifyDestination(path.join(t, 'backups/latest'))
    expect(await snapshotsIn(path.join(t, 'backups'))).toHaveLength(1)
  })
})

describe('a remote shell in the rsync options (--rsh, -e)', () => {
  it.each([
    [['--rsh=ssh -p 1'], '--rsh'],
    [['--rsh', 'ssh -p 1'], '--rsh'],
    [['-essh'], '-e'],
    [['-e', 'ssh -p 1'], '-e'],
    [['-ae', 'ssh'], '-e'],
    [['-vaessh -p 1'], '-e'],
    [['--bwlimit=1M', '-zPe', 'ssh'], '-e'],
  ])('%j makes sshSettings refuse (an SSH destination)', (rsyncOptions, spelling) => {
    expect(() => sshSettings({ RSYNC_RSH: 'ssh -p 22' }, rsyncOptions)).toThrow(
      expect.objectContaining({
        code: 'ERR_RSB_CLI_RSH_UNSUPPORTED',
        message: expect.stringContaining(`(${spelling} in --rsync-option)`),
        hint: expect.stringContaining('set $RSYNC_RSH instead'),
      }),
    )
    // $RSB_SSH_CONFIG does not change that: rsync's ssh would still not be $RSYNC_RSH's
    expect(() => sshSettings({ RSB_SSH_CONFIG: '/etc/rsb/ssh_config' }, rsyncOptions)).toThrow(
      expect.objectContaining({ code: 'ERR_RSB_CLI_RSH_UNSUPPORTED' }),
    )
  })

  it.each([[['-avz', '--bwlimit=1M']], [['-Tessh']], [['-Be']], [['-M-essh']], [['--remote-option=--rsh=x']]])(
    '%j chooses no remote shell (an e that is a value)',
    (rsyncOptions) => {
      expect(sshSettings({ RSYNC_RSH: 'ssh -p 22' }, rsyncOptions)).toEqual({ sshArgs: ['-p', '22'] })
    },
  )

  it('--rsync-option=-essh with a local destination still runs: rsync has no remote shell there', async () => {
    const t = await testdir()
    await createSource(path.join(t, 'source'))
    const result = await runRsb([...QUIET, '--rsync-option=-essh', path.join(t, 'source'), path.join(t, 'backups/latest')])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).not.toContain('ERR_RSB_CLI_RSH_UNSUPPORTED')
    await verifyDestination(path.join(t, 'backups/latest'))
    expect(await snapshotsIn(path.join(t, 'backups'))).toHaveLength(1)
  })
})

describe('$RSYNC_RSH is split as rsync splits it (a stand-in ssh records the argv the real rsync gives it)', () => {
  it('every accepted $RSYNC_RSH gives the words rsync passes, followed by rsync’s -l USER HOST', async () => {
    const t = await testdir()
    await fs.mkdir(path.join(t, 'bin'))
    await fs.mkdir(path.join(t, 'source'))
    const fake = path.join(t, 'bin', 'ssh')
    await fs.writeFile(fake, '#!/bin/sh\nprintf \'%s\\0\' "$@" > "$RSB_TEST_ARGV"\nexit 255\n', { mode: 0o755 })
    const options = [
      '-p2222 -l bob',
      `-o 'User=a b'   -o "Port 22"`,
      '-i a"b c"d -i \'x\'"y"',
      `-i "it's" -i '"q"' -i {a,b} -i ~/k -i %h@%p`,
      "-vCqp 2200 -oPort=3 -F '/etc/my config' -4 -b 127.0.0.2",
      `-o 'IdentityFile "/root/the key"' -o ProxyUseFdpass=no`,
    ]
    for (const [index, option] of options.entries()) {
      // rsb reads `ssh OPTIONS`; rsync runs the stand-in (first on PATH, so `ssh` is the stand-in for rsync)
      const command = parseSshCommand(`ssh ${option}`)
      expect(command.unsupported, option).toBeUndefined()
      const rsh = `ssh ${option}`
      const out = path.join(t, `argv.${index}`)
      spawnSync('rsync', ['-a', `${t}/source/`, 'alice@rsb-host:dir'], {
        env: { ...process.env, PATH: `${path.dirname(fake)}:${process.env.PATH ?? ''}`, RSYNC_RSH: rsh, RSB_TEST_ARGV: out },
        stdio: 'ignore',
      })
      const argv = (await fs.readFile(out, 'utf8')).split('\0').slice(0, -1)
      expect(argv.slice(0, command.words.length + 2), rsh).toEqual([...command.words.slice(1), '-l', 'alice', 'rsb-host'])
    }
  })
})

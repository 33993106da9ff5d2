// $RSYNC_RSH and rsb's own SSH connection, with the built rsb against two real sshds on 127.0.0.1: the options
// of $RSYNC_RSH send rsync's transfer to server A, while the ssh_config alone would send the alias to server B.
// rsb's own commands (mkdir, snapshot, rotation) must reach A as the same user. Issue 16 point 7. Needs root.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createSudoUser, isRoot, startSshd, testdir, type SshServer, type TestUser } from '@rsb/testkit'
import { parseSshCommand } from '@rsb/exec'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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
      const rsh = `${fake} ${option}`
      const command = parseSshCommand(rsh)
      expect(command.unsupported, rsh).toBeUndefined()
      const out = path.join(t, `argv.${index}`)
      spawnSync('rsync', ['-a', `${t}/source/`, 'alice@rsb-host:dir'], {
        env: { ...process.env, RSYNC_RSH: rsh, RSB_TEST_ARGV: out },
        stdio: 'ignore',
      })
      const argv = (await fs.readFile(out, 'utf8')).split('\0').slice(0, -1)
      expect(argv.slice(0, command.words.length + 2), rsh).toEqual([...command.words.slice(1), '-l', 'alice', 'rsb-host'])
    }
  })
})

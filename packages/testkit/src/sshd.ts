import type { ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { freePort, runChecked, startServer, stopProcess, waitForPort } from './process.js'
import { makeTempDir } from './tmp.js'

/** A running sshd on 127.0.0.1 with throwaway keys, and the client files that reach it. */
export interface SshServer {
  /** Always 127.0.0.1. */
  readonly hostname: '127.0.0.1'
  readonly port: number
  /** The Host alias written in {@link SshServer.sshConfigFile}. */
  readonly alias: string
  /** The user the alias logs in as. */
  readonly user: string
  /** The helper's private directory (keys, configs, log). */
  readonly dir: string
  /** An ssh_config with the alias (HostName, Port, User, IdentityFile, UserKnownHostsFile, StrictHostKeyChecking yes). */
  readonly sshConfigFile: string
  /** known_hosts holding the server's key as `[127.0.0.1]:PORT ssh-ed25519 …`. */
  readonly knownHostsFile: string
  /** The client's private key (authorized on the server). */
  readonly clientKeyFile: string
  /** The server's public host key line (`ssh-ed25519 AAAA…`). */
  readonly hostKeyLine: string
  /** sshd's log (LogLevel VERBOSE). */
  readonly logFile: string
  /** `ssh -F CONFIG`, for rsync's `RSYNC_RSH`. */
  readonly rsyncRsh: string
  /** How many logins sshd accepted so far. */
  connectionCount(): Promise<number>
  /** Writes another ssh_config file for the same server (another user, other known_hosts…) and returns its path. */
  writeSshConfig(options: { alias?: string; user?: string; knownHostsFile?: string; identityFile?: string }): Promise<string>
  /** Stops sshd (by PID) and removes its directory. */
  stop(): Promise<void>
}

/** Options of {@link startSshd}. */
export interface StartSshdOptions {
  /** The user the alias logs in as. Default: root. */
  user?: string
}

/**
 * Starts a real sshd on 127.0.0.1 on a free port with a throwaway host key and an authorized client key.
 * Needs root and openssh-server. Stop it with `stop()`.
 */
export async function startSshd(options: StartSshdOptions = {}): Promise<SshServer> {
  const temp = await makeTempDir('rsb-sshd-')
  const dir = temp.path
  const user = options.user ?? 'root'
  const port = await freePort()
  const alias = `rsb-test-${port}`
  const file = (name: string) => path.join(dir, name)
  let child: ChildProcess | undefined
  try {
    await runChecked('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', file('host_key')])
    await runChecked('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'rsb-test-client', '-f', file('client_key')])
    await fs.copyFile(file('client_key.pub'), file('authorized_keys'))
    // sshd reads authorized_keys as the logging-in user: let non-root test users reach it (keys stay 0600).
    await fs.chmod(dir, 0o755)
    await fs.chmod(file('authorized_keys'), 0o644)
    const hostKeyLine = (await fs.readFile(file('host_key.pub'), 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ')
    await fs.writeFile(file('known_hosts'), `[127.0.0.1]:${port} ${hostKeyLine}\n`)
    await fs.writeFile(
      file('sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${file('host_key')}`,
        `AuthorizedKeysFile ${file('authorized_keys')}`,
        `PidFile ${file('sshd.pid')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'StrictModes no',
        'UsePAM no',
        'AllowTcpForwarding yes',
        'MaxSessions 20',
        'MaxStartups 100',
        process.env.RSB_SSHD_LOGLEVEL ? 'LogLevel ' + process.env.RSB_SSHD_LOGLEVEL : 'LogLevel VERBOSE',
        '',
      ].join('\n'),
    )
    await fs.mkdir('/run/sshd', { recursive: true, mode: 0o755 })
    await runChecked('/usr/sbin/sshd', ['-t', '-f', file('sshd_config')])
    child = startServer('/usr/sbin/sshd', ['-D', '-f', file('sshd_config'), '-E', file('sshd.log')])
    await waitForPort(port, child)
  } catch (error) {
    if (child) await stopProcess(child)
    await temp.remove()
    throw error
  }
  const server = child
  const writeSshConfig: SshServer['writeSshConfig'] = async (config) => {
    const name = config.alias ?? alias
    const target = file(`ssh_config.${name}.${config.user ?? user}`)
    await fs.writeFile(
      target,
      [
        `Host ${name}`,
        '    HostName 127.0.0.1',
        `    Port ${port}`,
        `    User ${config.user ?? user}`,
        `    IdentityFile ${config.identityFile ?? file('client_key')}`,
        '    IdentitiesOnly yes',
        `    UserKnownHostsFile ${config.knownHostsFile ?? file('known_hosts')}`,
        '    GlobalKnownHostsFile /dev/null',
        '    StrictHostKeyChecking yes',
        '    BatchMode yes',
        '',
      ].join('\n'),
    )
    return target
  }
  const sshConfigFile = await writeSshConfig({})
  await fs.copyFile(sshConfigFile, file('ssh_config'))
  return {
    hostname: '127.0.0.1',
    port,
    alias,
    user,
    dir,
    sshConfigFile: file('ssh_config'),
    knownHostsFile: file('known_hosts'),
    clientKeyFile: file('client_key'),
    hostKeyLine: (await fs.readFile(file('known_hosts'), 'utf8')).trim().split(' ').slice(1).join(' '),
    logFile: file('sshd.log'),
    rsyncRsh: `ssh -F ${file('ssh_config')}`,
    async connectionCount() {
      const log = await fs.readFile(file('sshd.log'), 'utf8').catch(() => '')
      return log.split('\n').filter((line) => line.includes('Accepted publickey')).length
    },
    writeSshConfig,
    async stop() {
      await stopProcess(server)
      await temp.remove()
    },
  }
}

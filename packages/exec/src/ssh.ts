import fs from 'node:fs/promises'
import type { AuthenticationType, Client, ClientChannel, ConnectConfig } from 'ssh2'
import { BaseContext, type ContextDefaults, type SpawnOutcome, type SpawnRequest } from './context.js'
import { ExecError } from './errors.js'
import {
  knownHostKeyAlgorithms,
  knownHostName,
  parseKnownHosts,
  verifyHostKey,
  type HostKeyVerdict,
  type KnownHostEntry,
} from './known-hosts.js'
import { loadSsh2 } from './internal/lazy.js'
import { quoteCommandLine } from './quote.js'
import { resolveSshHost, SSH_KEEPALIVE, type SshHostConfig } from './ssh-config.js'

/** Options of an {@link SshContext}. */
export interface SshContextOptions extends ContextDefaults {
  /** `[user@]host`: a host name, an address or an alias of the SSH config. */
  host: string
  /** Login user (overrides the config, `sshArgs` and `user@`). */
  user?: string | undefined
  /** Port (overrides the config and `sshArgs`). */
  port?: number | undefined
  /** An ssh_config file to use instead of `~/.ssh/config` (like `ssh -F`; overrides a `-F` in `sshArgs`). */
  sshConfigFile?: string | undefined
  /**
   * ssh command-line options that select where and how to connect, as `ssh` would get them (`-p 2222 -l backup -i
   * KEY -o Key=Value -F FILE`; {@link parseSshCommand} reads them from `$RSYNC_RSH`): given to `ssh -G`, so OpenSSH
   * itself computes the effective settings. A `-l` here beats the `user@` of `host`, as with ssh.
   */
  sshArgs?: readonly string[] | undefined
  /** Identity files to try (default: the config's IdentityFile entries, else OpenSSH's defaults). */
  identityFiles?: readonly string[] | undefined
  /** known_hosts files to check the host key against (default: the config's user and global files). */
  knownHostsFiles?: readonly string[] | undefined
  /** ssh-agent socket (default: `SSH_AUTH_SOCK`); false disables the agent. */
  agent?: string | false | undefined
  /** Connect timeout in milliseconds (default: the config's ConnectTimeout, else 10 s). */
  connectTimeoutMs?: number | undefined
  /** At most this many commands at once on the connection (sshd allows 10 sessions by default). Default: 8. */
  maxChannels?: number | undefined
}

/**
 * Sends a signal request on a session channel. ssh2's `channel.signal()` stays silent once our side of the
 * channel is closed for writing (after stdin's EOF, which every command gets), so the request goes to the
 * channel's protocol directly (sshd delivers it with killpg to the command's process group).
 */
function sendSignal(channel: ClientChannel, name: 'TERM' | 'KILL'): void {
  const internal = channel as unknown as {
    outgoing?: { id?: number; state?: string }
    _client?: { _protocol?: { signal?: (id: number, signal: string) => void } }
  }
  const id = internal.outgoing?.id
  const protocol = internal._client?._protocol
  if (internal.outgoing?.state === 'open' && id !== undefined && typeof protocol?.signal === 'function') protocol.signal(id, name)
  else channel.signal(name)
}

const PID_MARK = 'rsb-remote-pid:'

/** The agent socket of IdentityAgent (`none`, `SSH_AUTH_SOCK`, `$VARIABLE`, a path), else `SSH_AUTH_SOCK`. */
function identityAgent(config: SshHostConfig): string | false | undefined {
  const value = config.identityAgent
  if (value === undefined || value === 'SSH_AUTH_SOCK') return process.env.SSH_AUTH_SOCK
  if (value.toLowerCase() === 'none') return false
  if (value.startsWith('$')) return process.env[value.slice(1).replace(/^\{(.*)\}$/, '$1')]
  return value
}

const STRICT_REFUSING = new Set(['yes', 'ask', 'true'])

/**
 * Runs commands on one SSH host over ONE ssh2 connection, opened on first use and reused by every
 * command until {@link SshContext.close}. Honours the SSH config of the host alias and the ssh options of
 * `sshArgs` (both through `ssh -G`: HostName, User, Port, IdentityFile, IdentitiesOnly, IdentityAgent, known_hosts
 * files, StrictHostKeyChecking, HostKeyAlias, ConnectTimeout, AddressFamily, BindAddress), refuses a host reached
 * through ProxyJump or ProxyCommand rather than going around the proxy, authenticates with the ssh-agent or
 * identity files, and verifies the server's host key against known_hosts (hashed entries too): an unknown or
 * changed key is refused. Every argument is quoted for the remote shell.
 *
 * @example
 * ```ts
 * const context = new SshContext({ host: 'backup@nas', sudo: true })
 * try { console.log(await context.listEntries('/backups')) } finally { await context.close() }
 * ```
 */
export class SshContext extends BaseContext {
  readonly kind = 'ssh' as const
  readonly host: string
  readonly #options: SshContextOptions
  #client: Promise<Client> | undefined
  #config: SshHostConfig | undefined
  #privileged: Promise<boolean> | undefined
  #closed = false
  #active = 0
  readonly #waiting: Array<() => void> = []
  readonly #maxChannels: number

  constructor(options: SshContextOptions) {
    super({ ...options, interactive: options.interactive ?? false })
    this.#options = options
    this.host = options.user ? `${options.user}@${options.host.replace(/^.*@/, '')}` : options.host
    this.#maxChannels = options.maxChannels ?? 8
  }

  /** The resolved settings of the host (after the first connection). */
  get config(): SshHostConfig | undefined {
    return this.#config
  }

  /**
   * Opens the connection now (it is otherwise opened by the first command).
   *
   * @throws {ExecError} ERR_RSB_EXEC_SSH_CONNECT, ERR_RSB_EXEC_SSH_AUTH, ERR_RSB_EXEC_HOST_KEY_UNKNOWN,
   * ERR_RSB_EXEC_HOST_KEY_MISMATCH, ERR_RSB_EXEC_SSH_CONFIG
   */
  async connect(): Promise<Client> {
    if (this.#closed) throw new ExecError('ERR_RSB_EXEC_SSH_CONNECT', `The SSH connection to ${this.host} was closed.`, { host: this.host })
    this.#client ??= this.#open()
    try {
      return await this.#client
    } catch (error) {
      this.#client = undefined
      throw error
    }
  }

  async #open(): Promise<Client> {
    const options = this.#options
    const config = await resolveSshHost(options.host, {
      configFile: options.sshConfigFile,
      user: options.user,
      port: options.port,
      sshArgs: options.sshArgs,
    })
    this.#config = config
    const proxy =
      config.proxyJump !== undefined ? `ProxyJump ${config.proxyJump}` : config.proxyCommand !== undefined ? 'ProxyCommand' : undefined
    if (proxy !== undefined) {
      throw new ExecError(
        'ERR_RSB_EXEC_SSH_CONFIG',
        `The SSH settings of ${this.host} go through a proxy (${proxy}), which rsb's own connection cannot follow; refusing to connect to ${config.hostname} directly.`,
        {
          host: this.host,
          hint: 'Give rsb an SSH config whose entry for the host reaches it directly, without ProxyJump or ProxyCommand.',
        },
      )
    }
    const knownFiles = options.knownHostsFiles ?? [...config.userKnownHostsFiles, ...config.globalKnownHostsFiles]
    const entries: KnownHostEntry[] = []
    for (const file of knownFiles) {
      const text = await fs.readFile(file, 'utf8').catch(() => '')
      entries.push(...parseKnownHosts(text, file))
    }
    const lookupName = knownHostName(config.hostKeyAlias ?? config.hostname, config.hostKeyAlias ? 22 : config.port)
    const target = `${config.user}@${config.hostname}${config.port === 22 ? '' : `:${config.port}`}`
    const auth = await this.#authMethods(config)
    let verdict: HostKeyVerdict | undefined
    const strict = STRICT_REFUSING.has(config.strictHostKeyChecking) || options.knownHostsFiles !== undefined

    const preferred = knownHostKeyAlgorithms(entries, lookupName)
    const all = [
      'ssh-ed25519',
      'ecdsa-sha2-nistp256',
      'ecdsa-sha2-nistp384',
      'ecdsa-sha2-nistp521',
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
    ]
    const connectConfig: ConnectConfig = {
      host: config.hostname,
      port: config.port,
      username: config.user,
      ...(config.addressFamily === 'inet' ? { forceIPv4: true } : config.addressFamily === 'inet6' ? { forceIPv6: true } : {}),
      ...(config.bindAddress !== undefined ? { localAddress: config.bindAddress } : {}),
      readyTimeout: options.connectTimeoutMs ?? (config.connectTimeout ? config.connectTimeout * 1000 : 10_000),
      keepaliveInterval: SSH_KEEPALIVE.interval * 1000,
      keepaliveCountMax: SSH_KEEPALIVE.countMax,
      algorithms: { serverHostKey: [...preferred.filter((a) => all.includes(a)), ...all.filter((a) => !preferred.includes(a))] as never },
      hostVerifier: (key: Buffer) => {
        verdict = verifyHostKey(entries, lookupName, key)
        if (verdict.status === 'known') return true
        if (verdict.status === 'unknown' && !strict) return true
        return false
      },
      authHandler: auth as never,
    }
    const client = new (await loadSsh2()).Client()
    return new Promise<Client>((resolve, reject) => {
      let ready = false
      client.once('ready', () => {
        ready = true
        // Small request/response packets: without TCP_NODELAY, Nagle and the server's delayed ACKs cost ~40 ms twice per command.
        client.setNoDelay(true)
        client.on('error', () => undefined)
        resolve(client)
      })
      client.once('error', (error: Error & { level?: string; code?: string }) => {
        if (ready) return
        client.end()
        reject(this.#connectError(error, verdict, target, lookupName, knownFiles))
      })
      client.once('close', () => {
        if (!ready) reject(this.#connectError(new Error('connection closed'), verdict, target, lookupName, knownFiles))
        this.#client = undefined
      })
      client.connect(connectConfig)
    })
  }

  #connectError(
    error: Error & { level?: string; code?: string },
    verdict: HostKeyVerdict | undefined,
    target: string,
    lookupName: string,
    knownFiles: readonly string[],
  ): ExecError {
    const host = this.host
    if (verdict?.status === 'unknown') {
      return new ExecError(
        'ERR_RSB_EXEC_HOST_KEY_UNKNOWN',
        `The host key of ${target} is not known (looked for ${lookupName} in ${knownFiles.join(', ') || 'no known_hosts file'}).`,
        {
          host,
          cause: error,
          hint: `Connect once with 'ssh ${this.#options.host}' and check the fingerprint, or add the key with ssh-keyscan after checking it.`,
        },
      )
    }
    if (verdict?.status === 'mismatch' || verdict?.status === 'revoked') {
      const where =
        verdict.status === 'revoked'
          ? `${verdict.entry.file}:${verdict.entry.line}`
          : verdict.entries.map((e) => `${e.file}:${e.line}`).join(', ')
      return new ExecError(
        'ERR_RSB_EXEC_HOST_KEY_MISMATCH',
        verdict.status === 'revoked'
          ? `The host key of ${target} is revoked (${where}); refusing to connect.`
          : `The host key of ${target} has CHANGED (known key at ${where}); refusing to connect: someone may be impersonating the server.`,
        {
          host,
          cause: error,
          hint: 'If the server was really reinstalled, check its new fingerprint and update known_hosts (ssh-keygen -R).',
        },
      )
    }
    if (error.level === 'client-authentication') {
      return new ExecError('ERR_RSB_EXEC_SSH_AUTH', `SSH authentication to ${target} failed: the server accepted none of our keys.`, {
        host,
        cause: error,
        hint: 'Check the IdentityFile of the host in the SSH config, load the key into ssh-agent, or authorize the key on the server.',
      })
    }
    const reason = error.level === 'client-timeout' ? 'timed out' : error.message
    return new ExecError('ERR_RSB_EXEC_SSH_CONNECT', `Could not connect to ${target} over SSH: ${reason}.`, {
      host,
      cause: error,
      hint: 'Check that the host is up, that sshd listens on that port, and the host name in the SSH config.',
    })
  }

  async #authMethods(config: SshHostConfig): Promise<unknown[]> {
    const methods: unknown[] = []
    const ssh2 = await loadSsh2()
    const files = this.#options.identityFiles ?? config.identityFiles
    for (const file of files) {
      const key = await fs.readFile(file).catch(() => undefined)
      if (!key) continue
      const parsed = ssh2.utils.parseKey(key)
      if (parsed instanceof Error) continue
      methods.push({ type: 'publickey' satisfies AuthenticationType, username: config.user, key })
    }
    const agent = this.#options.agent === undefined ? identityAgent(config) : this.#options.agent
    if (agent && !config.identitiesOnly) methods.push({ type: 'agent' satisfies AuthenticationType, username: config.user, agent })
    if (methods.length === 0) methods.push({ type: 'none', username: config.user })
    return methods
  }

  isPrivileged(): Promise<boolean> {
    this.#privileged ??= this.capture(['id', '-u'], { sudo: false, ionice: undefined }).then(
      (uid) => uid === '0',
      (error: unknown) => {
        this.#privileged = undefined
        throw error
      },
    )
    return this.#privileged
  }

  async #acquire(): Promise<void> {
    if (this.#active < this.#maxChannels) {
      this.#active++
      return
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve))
  }

  #release(): void {
    const next = this.#waiting.shift()
    if (next) next()
    else this.#active--
  }

  protected async spawn(request: SpawnRequest): Promise<SpawnOutcome> {
    const client = await this.connect()
    const envPrefix = Object.entries(request.env).map(([k, v]) => `${k}=${v}`)
    const argv = envPrefix.length > 0 ? ['env', ...envPrefix, ...request.argv] : request.argv
    // A command that may be cancelled reports its PID first (on stderr, stripped here): sshd refuses signal
    // requests on root logins (no privilege separation there), so cancelling kills the process group by PID.
    const killable = request.signal !== undefined
    const command = killable
      ? `exec ${quoteCommandLine(['sh', '-c', `echo "${PID_MARK}$$" >&2; exec "$@"`, 'rsb', ...argv])}`
      : quoteCommandLine(argv)
    const useSudo = request.argv[0] === 'sudo'
    await this.#acquire()
    try {
      return await new Promise<SpawnOutcome>((resolve, reject) => {
        client.exec(command, (error: Error | undefined, channel: ClientChannel) => {
          if (error) {
            reject(
              new ExecError('ERR_RSB_EXEC_SSH_CONNECT', `Could not start a command on ${this.host}: ${error.message}`, {
                host: this.host,
                argv: request.argv,
                cause: error,
              }),
            )
            return
          }
          let exitCode: number | undefined
          let signal: string | undefined
          let aborted = false
          let killTimer: NodeJS.Timeout | undefined
          let pid: number | undefined
          let pending: Buffer | undefined = killable ? Buffer.alloc(0) : undefined
          const kill = (name: 'TERM' | 'KILL') => {
            sendSignal(channel, name)
            if (pid === undefined) return
            const killArgv = [...(useSudo ? ['sudo', '-n'] : []), 'kill', `-${name}`, '--', `-${pid}`]
            client.exec(quoteCommandLine(killArgv), (killError: Error | undefined, killChannel: ClientChannel) => {
              if (!killError) {
                killChannel.resume()
                killChannel.stderr.resume()
                killChannel.end()
              }
            })
          }
          const onAbort = () => {
            if (aborted) return
            aborted = true
            kill('TERM')
            killTimer = setTimeout(() => {
              kill('KILL')
              channel.close()
            }, request.killAfterMs)
          }
          request.signal?.addEventListener('abort', onAbort, { once: true })
          channel.on('data', (chunk: Buffer) => request.onStdout(chunk))
          channel.stderr.on('data', (chunk: Buffer) => {
            if (pending === undefined) {
              request.onStderr(chunk)
              return
            }
            pending = Buffer.concat([pending, chunk])
            const newline = pending.indexOf(10)
            if (newline < 0) return
            const first = pending.subarray(0, newline).toString('latin1')
            const rest = pending.subarray(newline + 1)
            pending = undefined
            if (first.startsWith(PID_MARK)) pid = Number(first.slice(PID_MARK.length))
            else request.onStderr(Buffer.from(`${first}\n`, 'latin1'))
            if (rest.length > 0) request.onStderr(rest)
            if (request.signal?.aborted && pid !== undefined) kill('TERM')
          })
          channel.on('exit', (code: number | null, signalName?: string) => {
            if (typeof code === 'number') exitCode = code
            else if (signalName) signal = `SIG${signalName}`
          })
          channel.on('close', () => {
            request.signal?.removeEventListener('abort', onAbort)
            if (killTimer) clearTimeout(killTimer)
            if (pending !== undefined && pending.length > 0) request.onStderr(pending)
            if (exitCode === undefined && signal === undefined && !aborted) {
              reject(
                new ExecError(
                  'ERR_RSB_EXEC_SSH_CONNECT',
                  `The SSH connection to ${this.host} was lost while running: ${quoteCommandLine(argv)}`,
                  { host: this.host, argv: request.argv },
                ),
              )
              return
            }
            resolve({ exitCode, signal, aborted })
          })
          if (request.input !== undefined) channel.end(request.input)
          else channel.end()
          if (request.signal?.aborted) onAbort()
        })
      })
    } finally {
      this.#release()
    }
  }

  /** Closes the connection (safe to call twice; later commands fail). */
  async close(): Promise<void> {
    this.#closed = true
    const pending = this.#client
    this.#client = undefined
    if (!pending) return
    const client = await pending.catch(() => undefined)
    if (!client) return
    await new Promise<void>((resolve) => {
      client.once('close', () => resolve())
      client.end()
    })
  }
}

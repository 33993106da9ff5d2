import os from 'node:os'
import { loadExeca } from './internal/lazy.js'
import { ExecError } from './errors.js'

/** The effective SSH settings of a host, as `ssh -G` reports them. */
export interface SshHostConfig {
  /** What the user wrote (an alias or a host name). */
  alias: string
  hostname: string
  user: string
  port: number
  identityFiles: string[]
  userKnownHostsFiles: string[]
  globalKnownHostsFiles: string[]
  /** `yes` (refuse unknown keys), `accept-new`, `no`, `ask` (treated as `yes`). */
  strictHostKeyChecking: string
  /** Connect timeout in seconds, when set. */
  connectTimeout: number | undefined
  /** IdentitiesOnly: only the configured identity files, no agent keys. */
  identitiesOnly: boolean
  /** HostKeyAlias: the name to look up in known_hosts instead of the host name. */
  hostKeyAlias: string | undefined
}

function localUser(): string {
  try {
    return os.userInfo().username
  } catch {
    return process.env.USER ?? 'root'
  }
}

/** Expands `~` and ssh's `%d %u %h %r %p %%` tokens in a path. */
export function expandSshPath(value: string, config: { hostname: string; user: string; port: number }): string {
  const home = os.homedir()
  const tokens: Record<string, string> = { d: home, u: localUser(), h: config.hostname, r: config.user, p: String(config.port), '%': '%' }
  const expanded = value.replace(/%([duhrp%])/g, (_, t: string) => tokens[t] ?? '')
  return expanded === '~' ? home : expanded.startsWith('~/') ? home + expanded.slice(1) : expanded
}

/**
 * Parses `ssh -G` output (`key value` lines, keys lower-case).
 */
export function parseSshG(alias: string, output: string): SshHostConfig {
  const single = new Map<string, string>()
  const identityFiles: string[] = []
  for (const line of output.split('\n')) {
    const space = line.indexOf(' ')
    if (space <= 0) continue
    const key = line.slice(0, space).toLowerCase()
    const value = line.slice(space + 1).trim()
    if (key === 'identityfile') identityFiles.push(value)
    else if (!single.has(key)) single.set(key, value)
  }
  const hostname = single.get('hostname') ?? alias
  const user = single.get('user') ?? localUser()
  const port = Number(single.get('port') ?? 22)
  const base = { hostname, user, port }
  const list = (key: string, fallback: string) =>
    (single.get(key) ?? fallback)
      .split(/\s+/)
      .filter((p) => p !== '' && p !== 'none')
      .map((p) => expandSshPath(p, base))
  const timeout = single.get('connecttimeout')
  return {
    alias,
    hostname,
    user,
    port,
    identityFiles: identityFiles.map((p) => expandSshPath(p, base)),
    userKnownHostsFiles: list('userknownhostsfile', '~/.ssh/known_hosts ~/.ssh/known_hosts2'),
    globalKnownHostsFiles: list('globalknownhostsfile', '/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2'),
    strictHostKeyChecking: (single.get('stricthostkeychecking') ?? 'ask').toLowerCase(),
    connectTimeout: timeout && timeout !== 'none' ? Number(timeout) : undefined,
    identitiesOnly: single.get('identitiesonly') === 'yes',
    hostKeyAlias: single.get('hostkeyalias'),
  }
}

/** Splits `user@host` (the last `@` separates; `[v6]` brackets removed). */
export function splitUserHost(target: string): { user: string | undefined; host: string } {
  const at = target.lastIndexOf('@')
  const user = at >= 0 ? target.slice(0, at) : undefined
  let host = at >= 0 ? target.slice(at + 1) : target
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1)
  return { user: user || undefined, host }
}

/**
 * Resolves a host the way OpenSSH would (`~/.ssh/config`, or `configFile`), by asking `ssh -G`.
 * Without an `ssh` binary, falls back to OpenSSH's defaults.
 *
 * @throws {ExecError} ERR_RSB_EXEC_SSH_CONFIG when ssh rejects the host or the config
 */
export async function resolveSshHost(
  target: string,
  options: { configFile?: string | undefined; user?: string | undefined; port?: number | undefined } = {},
): Promise<SshHostConfig> {
  const { user, host } = splitUserHost(target)
  if (host === '' || host.startsWith('-') || /[\s\0]/.test(host)) {
    throw new ExecError('ERR_RSB_EXEC_SSH_CONFIG', `Invalid SSH host '${target}'.`, { host: target })
  }
  const args = ['-G']
  if (options.configFile) args.push('-F', options.configFile)
  const loginUser = options.user ?? user
  if (loginUser) args.push('-l', loginUser)
  if (options.port) args.push('-p', String(options.port))
  args.push('--', host)
  const execa = await loadExeca()
  const result = await execa('ssh', args, { reject: false, stdin: 'ignore' })
  if ((result.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    return parseSshG(
      host,
      [
        `hostname ${host}`,
        `port ${options.port ?? 22}`,
        ...(loginUser ? [`user ${loginUser}`] : []),
        ...['id_rsa', 'id_ecdsa', 'id_ed25519'].map((k) => `identityfile ~/.ssh/${k}`),
      ].join('\n'),
    )
  }
  if (result.exitCode !== 0) {
    throw new ExecError('ERR_RSB_EXEC_SSH_CONFIG', `Could not resolve the SSH settings of '${target}': ${String(result.stderr).trim()}`, {
      host: target,
      exitCode: result.exitCode,
      hint: options.configFile ? `Check ${options.configFile}.` : 'Check ~/.ssh/config.',
    })
  }
  return parseSshG(host, String(result.stdout))
}

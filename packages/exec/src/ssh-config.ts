import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parse as parseShellWords } from 'shell-quote'
import { loadExeca } from './internal/lazy.js'
import { ExecError } from './errors.js'
import type { Context } from './context.js'

/**
 * The keepalive of rsb's SSH connections, in ssh_config's terms: a keepalive after `interval` seconds without data
 * from the server, and the connection given up after `countMax` unanswered ones (60 s). They are the values of
 * `SshContext`'s connection (ssh2's `keepaliveInterval: 15_000`, `keepaliveCountMax: 4`), for the ssh that rsync
 * starts (`@rsb/rsync`'s `sshKeepalive`).
 *
 * @example
 * ```ts
 * console.log(SSH_KEEPALIVE) // { interval: 15, countMax: 4 }
 * ```
 */
export const SSH_KEEPALIVE: { readonly interval: number; readonly countMax: number } = Object.freeze({ interval: 15, countMax: 4 })

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
  /** AddressFamily (`-4`, `-6`): `any`, `inet` or `inet6`. */
  addressFamily: 'any' | 'inet' | 'inet6'
  /** BindAddress (`-b`): the local address to connect from, when set. */
  bindAddress: string | undefined
  /** IdentityAgent: `none`, `SSH_AUTH_SOCK`, `$VARIABLE` or a socket path, when set. */
  identityAgent: string | undefined
  /** ProxyJump (`-J`), when set: rsb's own connection cannot follow it. */
  proxyJump: string | undefined
  /** ProxyCommand, when set: rsb's own connection cannot follow it. */
  proxyCommand: string | undefined
  /** ServerAliveInterval in seconds; 0 (ssh's default) sends no keepalive. */
  serverAliveInterval: number
  /** ServerAliveCountMax: unanswered keepalives before ssh gives up (ssh's default 3). */
  serverAliveCountMax: number
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
  const family = single.get('addressfamily')
  const unlessNone = (key: string) => {
    const value = single.get(key)
    return value === undefined || value.toLowerCase() === 'none' ? undefined : value
  }
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
    addressFamily: family === 'inet' || family === 'inet6' ? family : 'any',
    bindAddress: single.get('bindaddress'),
    identityAgent: single.get('identityagent'),
    proxyJump: unlessNone('proxyjump'),
    proxyCommand: unlessNone('proxycommand'),
    serverAliveInterval: Number(single.get('serveraliveinterval') ?? 0) || 0,
    serverAliveCountMax: Number(single.get('serveralivecountmax') ?? 3) || 0,
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

/** Options of {@link resolveSshHost}. */
export interface ResolveSshHostOptions {
  /** An ssh_config file (`ssh -F`); given after `sshArgs`, so it beats a `-F` there (ssh's last `-F` wins). */
  configFile?: string | undefined
  /** Login user; given before `sshArgs`, so it beats a `-l` there and the `user@` of the target. */
  user?: string | undefined
  /** Port; given before `sshArgs`, so it beats a `-p` there. */
  port?: number | undefined
  /**
   * More ssh options (`-p 2222 -l backup -i KEY -o Key=Value -F FILE`, as {@link parseSshCommand} returns them). ssh
   * takes the first value of an option and the last `-F`; the `user@` of the target comes after these, as rsync
   * passes it (`-l USER` after `$RSYNC_RSH`'s words), so a `-l` here beats it, as `ssh -l bob alice@host` logs in
   * as bob.
   */
  sshArgs?: readonly string[] | undefined
  /**
   * Where to run `ssh -G` (`context.run`, without sudo or ionice), so that it reads the ssh_config files of the
   * machine and user a command of that context runs as. Default: directly, on this machine.
   */
  context?: Context | undefined
}

/** `ssh ARGS` directly or in a context: whether ssh was missing, its status and output. */
async function runSsh(
  args: readonly string[],
  context: Context | undefined,
): Promise<{ missing: boolean; exitCode: number | undefined; stdout: string; stderr: string }> {
  if (context !== undefined) {
    const result = await context.run(['ssh', ...args], { check: false, sudo: false, ionice: undefined })
    return { missing: result.exitCode === 127, exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr }
  }
  const execa = await loadExeca()
  const result = await execa('ssh', args, { reject: false, stdin: 'ignore' })
  return {
    missing: (result.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT',
    exitCode: result.exitCode,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
  }
}

/**
 * Resolves a host the way OpenSSH would (`~/.ssh/config`, or `configFile`, and the command-line options of
 * `sshArgs`), by asking `ssh -G -l USER -p PORT SSHARGS… -l TARGET-USER -F FILE -- HOST`. Without an `ssh` binary
 * (and no `sshArgs`), falls back to OpenSSH's defaults.
 *
 * @throws {ExecError} ERR_RSB_EXEC_SSH_CONFIG when ssh rejects the host, the options or the config
 * @example
 * ```ts
 * const config = await resolveSshHost('backup@nas', { sshArgs: ['-p', '2222', '-i', '/root/.ssh/backup'] })
 * console.log(config.user, config.hostname, config.port, config.identityFiles) // backup nas 2222 [ '/root/.ssh/backup' ]
 * ```
 */
export async function resolveSshHost(target: string, options: ResolveSshHostOptions = {}): Promise<SshHostConfig> {
  const { user, host } = splitUserHost(target)
  if (host === '' || host.startsWith('-') || /[\s\0]/.test(host)) {
    throw new ExecError('ERR_RSB_EXEC_SSH_CONFIG', `Invalid SSH host '${target}'.`, { host: target })
  }
  const sshArgs = options.sshArgs ?? []
  const args = ['-G']
  if (options.user) args.push('-l', options.user)
  if (options.port) args.push('-p', String(options.port))
  args.push(...sshArgs)
  if (user) args.push('-l', user)
  if (options.configFile) args.push('-F', options.configFile)
  args.push('--', host)
  const result = await runSsh(args, options.context)
  if (result.missing) {
    if (sshArgs.length > 0) {
      throw new ExecError(
        'ERR_RSB_EXEC_SSH_CONFIG',
        `Could not resolve the SSH settings of '${target}': there is no ssh program to read ${sshArgs.join(' ')} with.`,
        {
          host: target,
          hint: 'Install the OpenSSH client (rsync needs it for SSH destinations too).',
        },
      )
    }
    const loginUser = options.user ?? user
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
    throw new ExecError('ERR_RSB_EXEC_SSH_CONFIG', `Could not resolve the SSH settings of '${target}': ${result.stderr.trim()}`, {
      host: target,
      exitCode: result.exitCode,
      hint: options.configFile
        ? `Check ${options.configFile}.`
        : sshArgs.length > 0
          ? `Check the ssh options ${sshArgs.join(' ')}.`
          : 'Check ~/.ssh/config.',
    })
  }
  return parseSshG(host, result.stdout)
}

/** What rsb makes of an ssh command line such as `$RSYNC_RSH`, for its own SSH connection. */
export interface SshCommand {
  /** The words of the command line, as rsync splits `$RSYNC_RSH` (at spaces, honouring `'…'` and `"…"`). */
  readonly words: readonly string[]
  /**
   * The options that select where and how to connect (`-F -p -l -i -o -4 -6 -b -P`), in their order, each option
   * and its value as separate words: give them to {@link resolveSshHost} (`sshArgs`), which passes them to `ssh -G`.
   */
  readonly sshArgs: readonly string[]
  /** The options that change nothing for rsb's own connection (`-v`, `-q`, `-C`, `-T`, `-x`, forwardings, ciphers…). */
  readonly ignored: readonly string[]
  /** Why rsb's own connection cannot follow the command line (`it uses a jump host (-J)`), or undefined when it can. */
  readonly unsupported: string | undefined
}

/** Options of {@link parseSshCommand}. */
export interface ParseSshCommandOptions {
  /**
   * The `PATH` on which rsb's `ssh -G` and its own connection find `ssh` (default: `process.env.PATH`, the one they
   * run with): a program given as an absolute path must be that same file.
   */
  readonly path?: string | undefined
}

/** The `ssh` that `execvp` finds on `searchPath` (relative entries from the working directory), or undefined. */
function sshOnPath(searchPath: string): string | undefined {
  for (const directory of searchPath.split(':')) {
    const candidate = path.resolve(directory === '' ? '.' : directory, 'ssh')
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      if (fs.statSync(candidate).isFile()) return candidate
    } catch {
      // not here: the next directory
    }
  }
  return undefined
}

/**
 * Why rsb's own connection cannot take `program` for the ssh that its `ssh -G` runs (to finish "… cannot follow
 * $RSYNC_RSH: REASON"), or undefined when it is that ssh: `ssh` itself, or an absolute path that resolves (symbolic
 * links followed) to the same file as the `ssh` on `searchPath`. Anything else, a wrapper named ssh included, could
 * add options (`-p 2423`) that send rsync's transfer to another server than rsb's connection.
 */
function programReason(program: string, searchPath: string): string | undefined {
  if (program === 'ssh') return undefined
  if (!program.includes('/')) return `its program is '${program}', not ssh`
  if (!path.isAbsolute(program)) return `its program '${program}' is a relative path, neither ssh nor the absolute path of the ssh on PATH`
  const found = sshOnPath(searchPath)
  if (found === undefined)
    return `its program '${program}' cannot be told to be the ssh that rsb's own connection runs: there is no ssh on PATH`
  let same = false
  try {
    same = fs.realpathSync(program) === fs.realpathSync(found)
  } catch {
    // missing or unreadable: not the same file
  }
  return same ? undefined : `its program '${program}' is not the ssh on PATH (${found}), which rsb's own connection runs`
}

/** OpenSSH 9's options that take a value (`ssh`'s getopt string: `1246ab:c:e:fgi:kl:m:no:p:qstvxAB:CD:E:F:GI:J:KL:MNO:P:Q:R:S:TVw:W:XYy`). */
const WITH_VALUE = new Set('bceilmopBDEFIJLOPQRSWw')
/** Passed to `ssh -G`: where, as whom, with which key and host-key checks, from which address. */
const HONOURED = new Set('Filop46bP')
/** No effect on where rsb's commands run or on how the server is authenticated. */
const IGNORED = new Set('12AaCcDeEfgKkLMmnqRStTvwXxYy')
/** Options rsb's own connection cannot follow, and why (to finish "… cannot follow $RSYNC_RSH: REASON."). */
const REFUSED = new Map<string, string>(
  Object.entries({
    J: 'it uses a jump host (-J)',
    W: 'it uses stdio forwarding (-W)',
    B: 'it binds to a network interface (-B)',
    I: 'it uses a PKCS#11 provider (-I)',
    G: 'it holds -G, which does not make ssh a remote shell',
    N: 'it holds -N, which does not make ssh a remote shell',
    O: 'it holds -O, which does not make ssh a remote shell',
    Q: 'it holds -Q, which does not make ssh a remote shell',
    s: 'it holds -s, which does not make ssh a remote shell',
    V: 'it holds -V, which does not make ssh a remote shell',
  }),
)
/** `-o` keywords (lower case) that rsb's own connection cannot follow, and why. */
const REFUSED_KEYWORDS = new Map<string, string>(
  Object.entries({
    proxyjump: 'it uses a jump host (ProxyJump)',
    proxycommand: 'it uses a proxy command (ProxyCommand)',
    bindinterface: 'it binds to a network interface (BindInterface)',
    pkcs11provider: 'it uses a PKCS#11 provider (PKCS11Provider)',
    securitykeyprovider: 'it uses a security key provider (SecurityKeyProvider)',
    certificatefile: 'it uses a user certificate (CertificateFile)',
    knownhostscommand: 'it uses a command for known host keys (KnownHostsCommand)',
    remotecommand: 'it uses a remote command (RemoteCommand)',
    sessiontype: 'it uses a session type (SessionType)',
  }),
)

/**
 * Reads an ssh command line (`$RSYNC_RSH`, `rsync -e`) for rsb's own SSH connection. The words are split as rsync
 * splits it (at spaces, `'…'` and `"…"` quote, no shell runs), with shell-quote; whatever rsync and a shell read
 * differently (`\`, `$`, `` ` ``, tabs, newlines, `''` or `""` inside a word, operators, globs, `#`) and unbalanced
 * quotes make it unsupported rather than guessed at. The program must be the ssh that rsb's own `ssh -G` runs:
 * `ssh`, or an absolute path that resolves to the same file as the `ssh` on `options.path` (`/usr/bin/ssh`); any
 * other program, a wrapper script named ssh included, could send rsync elsewhere (`-p 2423` of its own), and is
 * unsupported. Its options are sorted into those `ssh -G` needs to compute the effective settings (`sshArgs`),
 * those without effect on rsb's connection (`ignored`), and those rsb cannot follow (ProxyJump, ProxyCommand,
 * `-W`, `-B`, PKCS#11, certificates, KnownHostsCommand…: `unsupported`). Nothing runs; only an absolute program
 * is looked up in the file system.
 *
 * @param text - the command line, for example `ssh -F /etc/rsb/ssh_config -p 2222 -i '/root/backup key'`
 * @param options - `path`: the PATH on which `ssh -G` finds ssh (default `process.env.PATH`)
 * @returns the words, the options for `ssh -G`, the ignored options and the reason it is unsupported, if it is
 * @example
 * ```ts
 * const rsh = parseSshCommand(`ssh -p2222 -l backup -o 'IdentityFile "/root/backup key"' -v`)
 * console.log(rsh.sshArgs, rsh.ignored, rsh.unsupported)
 * // [ '-p', '2222', '-l', 'backup', '-o', 'IdentityFile "/root/backup key"' ] [ '-v' ] undefined
 * ```
 */
export function parseSshCommand(text: string, options: ParseSshCommandOptions = {}): SshCommand {
  const sshArgs: string[] = []
  const ignored: string[] = []
  const result = (words: readonly string[], unsupported: string | undefined): SshCommand => ({ words, sshArgs, ignored, unsupported })
  const shellOnly = /[\\$`\t\n\r\v\f]|''|""/.exec(text)
  if (shellOnly) {
    const shown = JSON.stringify(shellOnly[0]).slice(1, -1)
    return result([], `it holds '${shown}', which rsync reads differently from a shell`)
  }
  let open = ''
  for (const c of text) {
    if (open !== '') {
      if (c === open) open = ''
    } else if (c === "'" || c === '"') open = c
  }
  if (open !== '') return result([], `it has an unbalanced ${open}, which rsync refuses too`)
  const words: string[] = []
  for (const token of parseShellWords(text)) {
    if (typeof token !== 'string') {
      const shown = 'comment' in token ? '#' : 'pattern' in token ? token.pattern : token.op
      return result(words, `it holds '${shown}', which rsync reads differently from a shell`)
    }
    words.push(token)
  }
  const program = words[0]
  if (program === undefined) return result(words, 'it names no program')
  const programRefused = programReason(program, options.path ?? process.env.PATH ?? '')
  if (programRefused !== undefined) return result(words, programRefused)
  for (let index = 1; index < words.length; index++) {
    const word = words[index] as string
    if (word === '--' || !word.startsWith('-') || word === '-') {
      return result(words, `it holds '${word}', which is not an ssh option (rsync adds the host and the command)`)
    }
    for (let at = 1; at < word.length; at++) {
      const letter = word[at] as string
      const refused = REFUSED.get(letter)
      if (refused !== undefined) return result(words, refused)
      if (!HONOURED.has(letter) && !IGNORED.has(letter)) return result(words, `it holds -${letter}, which is not an ssh option`)
      if (!WITH_VALUE.has(letter)) {
        ;(HONOURED.has(letter) ? sshArgs : ignored).push(`-${letter}`)
        continue
      }
      let value: string | undefined = word.slice(at + 1)
      if (value === '') value = words[++index]
      if (value === undefined) return result(words, `its -${letter} has no value`)
      if (letter === 'o') {
        const keyword = /^\s*([A-Za-z0-9]+)/.exec(value)?.[1]?.toLowerCase() ?? ''
        const refusedKeyword = REFUSED_KEYWORDS.get(keyword)
        if (refusedKeyword !== undefined) return result(words, refusedKeyword)
      }
      ;(HONOURED.has(letter) ? sshArgs : ignored).push(`-${letter}`, value)
      break
    }
  }
  return result(words, undefined)
}

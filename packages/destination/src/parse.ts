import { DEFAULT_DAEMON_PORT, type DaemonDestination, type Destination } from './destination.js'
import { DestinationError, type DestinationErrorCode } from './errors.js'
import { scanHostSpec, type HostSpec } from './internal/host-spec.js'
import { showExpression } from './internal/show.js'

/** Options of {@link parseDestination}. */
export interface ParseDestinationOptions {
  /**
   * The port of a daemon destination whose expression names none (`host::module`, `rsync://host/module`).
   * Default 873. With an SSH tunnel, pass the tunnel's local port: a port written in the URL still wins.
   */
  readonly defaultPort?: number | undefined
}

const URL_PREFIX = 'rsync://'
const SYNTAX = 'Use a local directory, [user@]host:dir, [user@]host::module[/dir] or rsync://[user@]host[:port]/module[/dir].'
const LOCAL_COLON = "For a local path with ':' before any '/', write it as ./path."

/**
 * Parses a destination expression in any of rsync's location syntaxes.
 *
 * - `/local/dir`, `relative/dir`: local (also anything with a `/` before its first `:`, as rsync decides);
 * - `[user@]host:dir`: SSH (`dir` may be empty: the remote home directory);
 * - `[user@]host::module[/dir]` and `rsync://[user@]host[:port]/module[/dir]`: rsync daemon.
 *
 * Hosts may be bracketed IPv6 literals in every remote form (`[::1]:dir`, `user@[fe80::1]::mod`,
 * `rsync://[::1]:8873/mod`). The user ends at the first `@`. The `rsync://` prefix is case-insensitive.
 * Pure: no I/O, and it throws nothing but {@link DestinationError}.
 *
 * @param text - the destination expression
 * @param options - `defaultPort`: a daemon destination's port when the expression names none (default 873)
 * @returns the destination; `parseDestination(formatDestination(d))` equals `d`
 * @throws {DestinationError} `ERR_RSB_DESTINATION_INVALID` (empty or missing expression, unpaired surrogate),
 *   `ERR_RSB_DESTINATION_CONTROL_CHARACTER`, `ERR_RSB_DESTINATION_NO_HOST`, `ERR_RSB_DESTINATION_BAD_HOST`,
 *   `ERR_RSB_DESTINATION_EMPTY_USER`, `ERR_RSB_DESTINATION_PASSWORD`, `ERR_RSB_DESTINATION_NO_MODULE`,
 *   `ERR_RSB_DESTINATION_BAD_PORT`, `ERR_RSB_DESTINATION_PORT_RANGE`
 * @example
 * ```ts
 * parseDestination('backup@nas::laptop/latest')
 * // { kind: 'daemon', username: 'backup', hostname: 'nas', port: 873, module: 'laptop', directory: 'latest' }
 * parseDestination('localhost::laptop', { defaultPort: tunnel.localPort }).port // the tunnel's port
 * ```
 */
export function parseDestination(text: string, options: ParseDestinationOptions = {}): Destination {
  if (typeof text !== 'string' || text === '') {
    throw new DestinationError('ERR_RSB_DESTINATION_INVALID', '', 'Failed to parse expression! ()', { hint: SYNTAX })
  }
  const password = findPassword(text)
  const shown = password ? `${text.slice(0, password.start)}***${text.slice(password.end)}` : text
  const fail = (code: DestinationErrorCode, reason: string, hint: string = SYNTAX): DestinationError =>
    new DestinationError(code, shown, `Failed to parse expression! (${showExpression(shown)}): ${reason}.`, { hint })

  const control = /\p{Cc}/u.exec(text)
  if (control) {
    throw fail(
      'ERR_RSB_DESTINATION_CONTROL_CHARACTER',
      `it contains a control character (${showExpression(control[0])})`,
      'Remove newlines, tabs and other control characters from the destination.',
    )
  }
  if (/\p{Cs}/u.test(text)) {
    throw fail(
      'ERR_RSB_DESTINATION_INVALID',
      'it is not valid Unicode (an unpaired surrogate)',
      'Pass the destination as valid UTF-8 text.',
    )
  }
  if (password) {
    throw fail(
      'ERR_RSB_DESTINATION_PASSWORD',
      'an rsync:// URL cannot carry a password',
      "Remove the password from the URL; rsync reads a daemon's password from $RSYNC_PASSWORD.",
    )
  }
  const defaultPort = options.defaultPort ?? DEFAULT_DAEMON_PORT
  if (!isPortNumber(defaultPort)) {
    throw fail(
      'ERR_RSB_DESTINATION_PORT_RANGE',
      `the default port ${String(defaultPort)} is not an integer from 1 to 65535`,
      'Pass a valid TCP port.',
    )
  }

  const checked = (spec: HostSpec): HostSpec => {
    if (spec.user === '') {
      throw fail(
        'ERR_RSB_DESTINATION_EMPTY_USER',
        "the user name before '@' is empty",
        "Write user@host, or leave out the '@' for the default user.",
      )
    }
    if (spec.host === '') throw fail('ERR_RSB_DESTINATION_NO_HOST', 'the host name is empty', `${SYNTAX} ${LOCAL_COLON}`)
    if (spec.bracketed ? /[[\]@\s]/u.test(spec.host) : /[[\]\s]/u.test(spec.host)) {
      throw fail(
        'ERR_RSB_DESTINATION_BAD_HOST',
        `the host name '${spec.bracketed ? `[${spec.host}]` : spec.host}' is not valid (brackets or whitespace)`,
        `Write an IPv6 address in brackets, as in [fe80::1]:dir. ${LOCAL_COLON}`,
      )
    }
    return spec
  }
  const daemon = (spec: HostSpec, port: number, rest: string, form: string): DaemonDestination => {
    const slash = rest.indexOf('/')
    const module = slash < 0 ? rest : rest.slice(0, slash)
    if (module === '') throw fail('ERR_RSB_DESTINATION_NO_MODULE', `${form} needs a module name`)
    return { kind: 'daemon', username: spec.user, hostname: spec.host, port, module, directory: slash < 0 ? '' : rest.slice(slash + 1) }
  }

  if (isUrl(text)) {
    const spec = checked(scanHostSpec(text, URL_PREFIX.length, true))
    let port = defaultPort
    let slash = spec.end
    if (text[spec.end] === ':') {
      slash = text.indexOf('/', spec.end + 1)
      if (slash < 0) slash = text.length
      const digits = text.slice(spec.end + 1, slash)
      if (!/^[0-9]+$/.test(digits)) {
        throw fail(
          'ERR_RSB_DESTINATION_BAD_PORT',
          digits === '' ? "the port after ':' is empty" : `the port '${digits}' is not a number`,
          'Write the port in decimal (rsync://host:873/module), or leave it out for 873.',
        )
      }
      port = Number(digits)
      if (!isPortNumber(port)) {
        throw fail('ERR_RSB_DESTINATION_PORT_RANGE', `the port ${digits} is not from 1 to 65535`, 'Use a TCP port from 1 to 65535.')
      }
    }
    if (slash >= text.length) throw fail('ERR_RSB_DESTINATION_NO_MODULE', 'an rsync:// URL needs a module name')
    return daemon(spec, port, text.slice(slash + 1), 'an rsync:// URL')
  }

  const spec = scanHostSpec(text, 0, false)
  if (text[spec.end] !== ':') return { kind: 'local', directory: text }
  checked(spec)
  if (text[spec.end + 1] === ':') return daemon(spec, defaultPort, text.slice(spec.end + 2), 'a daemon destination (host::module)')
  return { kind: 'ssh', username: spec.user, hostname: spec.host, directory: text.slice(spec.end + 1) }
}

/** rsync's test for a daemon URL: the `rsync://` prefix in any letter case. */
function isUrl(text: string): boolean {
  return text.slice(0, URL_PREFIX.length).toLowerCase() === URL_PREFIX
}

function isPortNumber(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535
}

/** Where the password of `rsync://user:password@host/…` is (to redact it), if the URL has one. */
function findPassword(text: string): { start: number; end: number } | undefined {
  if (!isUrl(text)) return undefined
  const slash = text.indexOf('/', URL_PREFIX.length)
  const authority = text.slice(URL_PREFIX.length, slash < 0 ? text.length : slash)
  const at = authority.lastIndexOf('@')
  const colon = authority.indexOf(':')
  if (at < 0 || colon < 0 || colon > at || authority.startsWith('[')) return undefined
  return { start: URL_PREFIX.length + colon + 1, end: URL_PREFIX.length + at }
}

import { describe, expect, it } from 'vitest'
import {
  DestinationError,
  ensureTrailingSlash,
  formatDestination,
  parentDirectory,
  parseDestination,
  type Destination,
  type DestinationErrorCode,
} from '../src/index.ts'

interface Row {
  input: string
  /** the parsed value */
  parsed: Destination
  /** parentDirectory, or undefined when it is unavailable */
  parent: string | undefined
  /** formatDestination; `same` means the input itself */
  expression: string
  /** ensureTrailingSlash(expression), where the row names it */
  rsyncArgument?: string
}

const local = (directory: string): Destination => ({ kind: 'local', directory })
const ssh = (username: string | undefined, hostname: string, directory: string): Destination => ({
  kind: 'ssh',
  username,
  hostname,
  directory,
})
const daemon = (username: string | undefined, hostname: string, port: number, module: string, directory: string): Destination => ({
  kind: 'daemon',
  username,
  hostname,
  port,
  module,
  directory,
})

// The destinations the original accepts, row by row, as rsb parses them (the two it leaves open are below
// and, for rsync://host, among the malformed expressions).
const referenceTable: Row[] = [
  { input: '/mnt/backups/laptop', parsed: local('/mnt/backups/laptop'), parent: '/mnt/backups', expression: '/mnt/backups/laptop' },
  {
    input: 'backup-server:/backups/laptop',
    parsed: ssh(undefined, 'backup-server', '/backups/laptop'),
    parent: '/backups',
    expression: 'backup-server:/backups/laptop',
  },
  {
    input: 'backup-user@backup-server:/backups/laptop',
    parsed: ssh('backup-user', 'backup-server', '/backups/laptop'),
    parent: '/backups',
    expression: 'backup-user@backup-server:/backups/laptop',
  },
  {
    input: 'backup-user@backup-server::laptop_backups',
    parsed: daemon('backup-user', 'backup-server', 873, 'laptop_backups', ''),
    parent: undefined,
    expression: 'rsync://backup-user@backup-server:873/laptop_backups',
  },
  {
    input: 'rsync://backup-user@backup-server:12345/laptop_backups/some-directory',
    parsed: daemon('backup-user', 'backup-server', 12345, 'laptop_backups', 'some-directory'),
    parent: undefined,
    expression: 'rsync://backup-user@backup-server:12345/laptop_backups/some-directory',
  },
  {
    input: 'server::backups/system',
    parsed: daemon(undefined, 'server', 873, 'backups', 'system'),
    parent: undefined,
    expression: 'rsync://server:873/backups/system',
    rsyncArgument: 'rsync://server:873/backups/system/',
  },
  {
    input: 'backup-user@backup-server:backups/system',
    parsed: ssh('backup-user', 'backup-server', 'backups/system'),
    parent: 'backups',
    expression: 'backup-user@backup-server:backups/system',
  },
  {
    input: '0.0.0.0::module/directory',
    parsed: daemon(undefined, '0.0.0.0', 873, 'module', 'directory'),
    parent: undefined,
    expression: 'rsync://0.0.0.0:873/module/directory',
  },
  {
    input: 'rsync://host/module',
    parsed: daemon(undefined, 'host', 873, 'module', ''),
    parent: undefined,
    expression: 'rsync://host:873/module',
  },
  {
    input: 'rsync://host/module/',
    parsed: daemon(undefined, 'host', 873, 'module', ''),
    parent: undefined,
    expression: 'rsync://host:873/module',
  },
  {
    input: 'rsync://host/module/a/b',
    parsed: daemon(undefined, 'host', 873, 'module', 'a/b'),
    parent: 'a',
    expression: 'rsync://host:873/module/a/b',
    rsyncArgument: 'rsync://host:873/module/a/b/',
  },
  {
    input: 'host::module/',
    parsed: daemon(undefined, 'host', 873, 'module', ''),
    parent: undefined,
    expression: 'rsync://host:873/module',
  },
  { input: 'host:', parsed: ssh(undefined, 'host', ''), parent: undefined, expression: 'host:', rsyncArgument: 'host:/' },
  { input: 'host:relative/dir', parsed: ssh(undefined, 'host', 'relative/dir'), parent: 'relative', expression: 'host:relative/dir' },
  { input: 'relative/dir', parsed: local('relative/dir'), parent: 'relative', expression: 'relative/dir' },
  { input: 'latest', parsed: local('latest'), parent: undefined, expression: 'latest' },
  { input: '/', parsed: local('/'), parent: undefined, expression: '/', rsyncArgument: '/' },
  {
    input: '/mnt/backups/latest///',
    parsed: local('/mnt/backups/latest///'),
    parent: '/mnt/backups',
    expression: '/mnt/backups/latest///',
    rsyncArgument: '/mnt/backups/latest/',
  },
  { input: 'a@b@c:/x', parsed: ssh('a', 'b@c', '/x'), parent: '/', expression: 'a@b@c:/x' },
]

// A case the original leaves open, decided: a '/' before the first ':' makes a path local (as rsync does).
const openRows: Row[] = [
  { input: '/mnt/backup:weird', parsed: local('/mnt/backup:weird'), parent: '/mnt', expression: '/mnt/backup:weird' },
]

// rsb's own decisions: bracketed IPv6 literals in every remote form, case-insensitive rsync://.
const rsbRows: Row[] = [
  { input: '[::1]:dir', parsed: ssh(undefined, '::1', 'dir'), parent: undefined, expression: '[::1]:dir' },
  {
    input: 'root@[::1]:/srv/backups/latest',
    parsed: ssh('root', '::1', '/srv/backups/latest'),
    parent: '/srv/backups',
    expression: 'root@[::1]:/srv/backups/latest',
  },
  { input: '[::1]:', parsed: ssh(undefined, '::1', ''), parent: undefined, expression: '[::1]:', rsyncArgument: '[::1]:/' },
  {
    input: 'user@[fe80::1]::mod',
    parsed: daemon('user', 'fe80::1', 873, 'mod', ''),
    parent: undefined,
    expression: 'rsync://user@[fe80::1]:873/mod',
  },
  {
    input: '[fe80::1%eth0]::mod/a/b',
    parsed: daemon(undefined, 'fe80::1%eth0', 873, 'mod', 'a/b'),
    parent: 'a',
    expression: 'rsync://[fe80::1%eth0]:873/mod/a/b',
  },
  {
    input: 'rsync://[::1]:8873/mod',
    parsed: daemon(undefined, '::1', 8873, 'mod', ''),
    parent: undefined,
    expression: 'rsync://[::1]:8873/mod',
  },
  {
    input: 'rsync://u@[::1]/mod/dir',
    parsed: daemon('u', '::1', 873, 'mod', 'dir'),
    parent: undefined,
    expression: 'rsync://u@[::1]:873/mod/dir',
  },
  { input: '[127.0.0.1]:dir', parsed: ssh(undefined, '127.0.0.1', 'dir'), parent: undefined, expression: '127.0.0.1:dir' },
  { input: 'RSYNC://Host/Mod', parsed: daemon(undefined, 'Host', 873, 'Mod', ''), parent: undefined, expression: 'rsync://Host:873/Mod' },
  {
    input: 'rsync://host:0873/mod',
    parsed: daemon(undefined, 'host', 873, 'mod', ''),
    parent: undefined,
    expression: 'rsync://host:873/mod',
  },
  {
    input: 'rsync://host:65535/mod',
    parsed: daemon(undefined, 'host', 65535, 'mod', ''),
    parent: undefined,
    expression: 'rsync://host:65535/mod',
  },
  { input: 'rsync://host:1/mod', parsed: daemon(undefined, 'host', 1, 'mod', ''), parent: undefined, expression: 'rsync://host:1/mod' },
  { input: 'host::mod//abs', parsed: daemon(undefined, 'host', 873, 'mod', '/abs'), parent: '/', expression: 'rsync://host:873/mod//abs' },
  {
    input: 'host::my module/dir',
    parsed: daemon(undefined, 'host', 873, 'my module', 'dir'),
    parent: undefined,
    expression: 'rsync://host:873/my module/dir',
  },
  { input: 'host:a::b', parsed: ssh(undefined, 'host', 'a::b'), parent: undefined, expression: 'host:a::b' },
  // local: no ':' at all, or a '/' first; brackets and '@' are ordinary characters there
  { input: './backup:2024', parsed: local('./backup:2024'), parent: '.', expression: './backup:2024' },
  { input: '/home/a@b/backups', parsed: local('/home/a@b/backups'), parent: '/home/a@b', expression: '/home/a@b/backups' },
  { input: 'me@home', parsed: local('me@home'), parent: undefined, expression: 'me@home' },
  { input: '[::1]', parsed: local('[::1]'), parent: undefined, expression: '[::1]' },
  { input: '[2024]/x:y', parsed: local('[2024]/x:y'), parent: '[2024]', expression: '[2024]/x:y' },
  { input: '[a/b]:c', parsed: local('[a/b]:c'), parent: '[a', expression: '[a/b]:c' },
  { input: 'rsync:/x', parsed: ssh(undefined, 'rsync', '/x'), parent: '/', expression: 'rsync:/x' },
  {
    input: 'dir with spaces/and \'quotes\' "$(x)"',
    parsed: local('dir with spaces/and \'quotes\' "$(x)"'),
    parent: 'dir with spaces',
    expression: 'dir with spaces/and \'quotes\' "$(x)"',
  },
  {
    input: 'host:dir with spaces/ünïcødé',
    parsed: ssh(undefined, 'host', 'dir with spaces/ünïcødé'),
    parent: 'dir with spaces',
    expression: 'host:dir with spaces/ünïcødé',
  },
  { input: '//', parsed: local('//'), parent: undefined, expression: '//', rsyncArgument: '/' },
  { input: '/latest', parsed: local('/latest'), parent: '/', expression: '/latest' },
]

describe.each([
  ["the original's destinations", referenceTable],
  ['the cases the original leaves open, decided', openRows],
  ["rsb's decisions", rsbRows],
])('%s', (_, rows) => {
  describe.each(rows)('$input', (row) => {
    it('parses into the expected fields', () => {
      expect(parseDestination(row.input)).toStrictEqual(row.parsed)
    })

    it('formats the expected expression, which parses back to the same value', () => {
      const destination = parseDestination(row.input)
      expect(formatDestination(destination)).toBe(row.expression)
      expect(parseDestination(row.expression)).toStrictEqual(destination)
      if (row.rsyncArgument !== undefined) expect(ensureTrailingSlash(formatDestination(destination))).toBe(row.rsyncArgument)
    })

    it(row.parent === undefined ? 'has no parent directory' : `has parent directory ${row.parent}`, () => {
      const destination = parseDestination(row.input)
      if (row.parent === undefined) {
        expect(() => parentDirectory(destination)).toThrow(expect.objectContaining({ code: 'ERR_RSB_DESTINATION_NO_PARENT' }))
      } else {
        expect(parentDirectory(destination)).toBe(row.parent)
      }
    })
  })
})

function parseError(input: unknown, options?: { defaultPort?: number }): DestinationError {
  try {
    parseDestination(input as string, options)
  } catch (error) {
    expect(error).toBeInstanceOf(DestinationError)
    return error as DestinationError
  }
  throw new Error(`parsed: ${String(input)}`)
}

describe('malformed expressions', () => {
  const cases: [input: string, code: DestinationErrorCode, message: string][] = [
    ['', 'ERR_RSB_DESTINATION_INVALID', 'Failed to parse expression! ()'],
    // rsync://host falls through to SSH host "rsync" in the original (left open there): rsb refuses it
    ['rsync://host', 'ERR_RSB_DESTINATION_NO_MODULE', 'Failed to parse expression! (rsync://host): an rsync:// URL needs a module name.'],
    ['rsync://host/', 'ERR_RSB_DESTINATION_NO_MODULE', 'Failed to parse expression! (rsync://host/): an rsync:// URL needs a module name.'],
    [
      'rsync://host:873',
      'ERR_RSB_DESTINATION_NO_MODULE',
      'Failed to parse expression! (rsync://host:873): an rsync:// URL needs a module name.',
    ],
    [
      'rsync://host//dir',
      'ERR_RSB_DESTINATION_NO_MODULE',
      'Failed to parse expression! (rsync://host//dir): an rsync:// URL needs a module name.',
    ],
    ['rsync://[::1]', 'ERR_RSB_DESTINATION_NO_MODULE', 'Failed to parse expression! (rsync://[::1]): an rsync:// URL needs a module name.'],
    [
      'host::',
      'ERR_RSB_DESTINATION_NO_MODULE',
      'Failed to parse expression! (host::): a daemon destination (host::module) needs a module name.',
    ],
    [
      'host::/dir',
      'ERR_RSB_DESTINATION_NO_MODULE',
      'Failed to parse expression! (host::/dir): a daemon destination (host::module) needs a module name.',
    ],
    [
      'rsync://host:abc/mod',
      'ERR_RSB_DESTINATION_BAD_PORT',
      "Failed to parse expression! (rsync://host:abc/mod): the port 'abc' is not a number.",
    ],
    ['rsync://host:/mod', 'ERR_RSB_DESTINATION_BAD_PORT', "Failed to parse expression! (rsync://host:/mod): the port after ':' is empty."],
    [
      'rsync://host:-1/mod',
      'ERR_RSB_DESTINATION_BAD_PORT',
      "Failed to parse expression! (rsync://host:-1/mod): the port '-1' is not a number.",
    ],
    [
      'rsync://host:８７３/mod',
      'ERR_RSB_DESTINATION_BAD_PORT',
      "Failed to parse expression! (rsync://host:８７３/mod): the port '８７３' is not a number.",
    ],
    [
      'rsync://host:0/mod',
      'ERR_RSB_DESTINATION_PORT_RANGE',
      'Failed to parse expression! (rsync://host:0/mod): the port 0 is not from 1 to 65535.',
    ],
    [
      'rsync://host:65536/mod',
      'ERR_RSB_DESTINATION_PORT_RANGE',
      'Failed to parse expression! (rsync://host:65536/mod): the port 65536 is not from 1 to 65535.',
    ],
    [
      `rsync://host:${'9'.repeat(400)}/mod`,
      'ERR_RSB_DESTINATION_PORT_RANGE',
      `Failed to parse expression! (rsync://host:${'9'.repeat(400)}/mod): the port ${'9'.repeat(400)} is not from 1 to 65535.`,
    ],
    ['::', 'ERR_RSB_DESTINATION_NO_HOST', 'Failed to parse expression! (::): the host name is empty.'],
    ['::module/dir', 'ERR_RSB_DESTINATION_NO_HOST', 'Failed to parse expression! (::module/dir): the host name is empty.'],
    [':dir', 'ERR_RSB_DESTINATION_NO_HOST', 'Failed to parse expression! (:dir): the host name is empty.'],
    ['user@:dir', 'ERR_RSB_DESTINATION_NO_HOST', 'Failed to parse expression! (user@:dir): the host name is empty.'],
    ['[]:dir', 'ERR_RSB_DESTINATION_NO_HOST', 'Failed to parse expression! ([]:dir): the host name is empty.'],
    ['rsync://', 'ERR_RSB_DESTINATION_NO_HOST', 'Failed to parse expression! (rsync://): the host name is empty.'],
    ['rsync:///mod', 'ERR_RSB_DESTINATION_NO_HOST', 'Failed to parse expression! (rsync:///mod): the host name is empty.'],
    ['rsync://:873/mod', 'ERR_RSB_DESTINATION_NO_HOST', 'Failed to parse expression! (rsync://:873/mod): the host name is empty.'],
    ['@host:dir', 'ERR_RSB_DESTINATION_EMPTY_USER', "Failed to parse expression! (@host:dir): the user name before '@' is empty."],
    [
      'rsync://@host/mod',
      'ERR_RSB_DESTINATION_EMPTY_USER',
      "Failed to parse expression! (rsync://@host/mod): the user name before '@' is empty.",
    ],
    [
      '[::1:dir',
      'ERR_RSB_DESTINATION_BAD_HOST',
      "Failed to parse expression! ([::1:dir): the host name '[' is not valid (brackets or whitespace).",
    ],
    [
      '[a]b:dir',
      'ERR_RSB_DESTINATION_BAD_HOST',
      "Failed to parse expression! ([a]b:dir): the host name '[a]b' is not valid (brackets or whitespace).",
    ],
    [
      '[a@b]:dir',
      'ERR_RSB_DESTINATION_BAD_HOST',
      "Failed to parse expression! ([a@b]:dir): the host name '[a@b]' is not valid (brackets or whitespace).",
    ],
    [
      'a@b@[::1]:dir',
      'ERR_RSB_DESTINATION_BAD_HOST',
      "Failed to parse expression! (a@b@[::1]:dir): the host name 'b@[' is not valid (brackets or whitespace).",
    ],
    [
      'my backup:2024',
      'ERR_RSB_DESTINATION_BAD_HOST',
      "Failed to parse expression! (my backup:2024): the host name 'my backup' is not valid (brackets or whitespace).",
    ],
    [
      'rsync://[::1]x/mod',
      'ERR_RSB_DESTINATION_BAD_HOST',
      "Failed to parse expression! (rsync://[::1]x/mod): the host name '[::1]x' is not valid (brackets or whitespace).",
    ],
    [
      '[::1]x:dir',
      'ERR_RSB_DESTINATION_BAD_HOST',
      "Failed to parse expression! ([::1]x:dir): the host name '[::1]x' is not valid (brackets or whitespace).",
    ],
    [
      '/mnt/backups\nlatest',
      'ERR_RSB_DESTINATION_CONTROL_CHARACTER',
      'Failed to parse expression! (/mnt/backups\\nlatest): it contains a control character (\\n).',
    ],
    // the original's SSH pattern stopped silently at the end of the first line: refused
    [
      'host:dir\nrest',
      'ERR_RSB_DESTINATION_CONTROL_CHARACTER',
      'Failed to parse expression! (host:dir\\nrest): it contains a control character (\\n).',
    ],
    [
      'host:a\tb',
      'ERR_RSB_DESTINATION_CONTROL_CHARACTER',
      'Failed to parse expression! (host:a\\tb): it contains a control character (\\t).',
    ],
    ['a\0b', 'ERR_RSB_DESTINATION_CONTROL_CHARACTER', 'Failed to parse expression! (a\\0b): it contains a control character (\\0).'],
    [
      'a\x7fb',
      'ERR_RSB_DESTINATION_CONTROL_CHARACTER',
      'Failed to parse expression! (a\\u007fb): it contains a control character (\\u007f).',
    ],
    [
      'a\u0085b',
      'ERR_RSB_DESTINATION_CONTROL_CHARACTER',
      'Failed to parse expression! (a\\u0085b): it contains a control character (\\u0085).',
    ],
    [
      'a\x1b[31mb',
      'ERR_RSB_DESTINATION_CONTROL_CHARACTER',
      'Failed to parse expression! (a\\u001b[31mb): it contains a control character (\\u001b).',
    ],
    [
      'a\uD800b',
      'ERR_RSB_DESTINATION_INVALID',
      'Failed to parse expression! (a\\ud800b): it is not valid Unicode (an unpaired surrogate).',
    ],
  ]

  it.each(cases)('%j → %s', (input, code, message) => {
    const error = parseError(input)
    expect(error).toMatchObject({ name: 'DestinationError', code, message, expression: input })
    expect(error.hint).toEqual(expect.any(String))
  })

  it('redacts the password of an rsync:// URL in the message and the expression', () => {
    for (const input of [
      'rsync://user:s3cret@host/mod',
      'rsync://user:s3cret@host:873/mod/dir',
      'RSYNC://:s3cret@host',
      'rsync://u:s3cret\n@h/m',
    ]) {
      const error = parseError(input)
      expect(error.message).not.toContain('s3cret')
      expect(error.expression).not.toContain('s3cret')
      expect(error.expression).toContain(':***@')
    }
    expect(parseError('rsync://user:s3cret@host/mod')).toMatchObject({
      code: 'ERR_RSB_DESTINATION_PASSWORD',
      message: 'Failed to parse expression! (rsync://user:***@host/mod): an rsync:// URL cannot carry a password.',
    })
  })

  it('refuses a missing expression (JavaScript callers)', () => {
    for (const input of [undefined, null, 42, {}]) {
      expect(parseError(input)).toMatchObject({
        code: 'ERR_RSB_DESTINATION_INVALID',
        message: 'Failed to parse expression! ()',
        expression: '',
      })
    }
  })
})

describe('the default port', () => {
  it('is 873', () => {
    expect(parseDestination('host::mod')).toMatchObject({ port: 873 })
  })

  it("is the tunnel's local port when given, and a port in the URL still wins", () => {
    expect(formatDestination(parseDestination('localhost::module/dir', { defaultPort: 40123 }))).toBe('rsync://localhost:40123/module/dir')
    expect(parseDestination('rsync://localhost/module', { defaultPort: 40123 })).toMatchObject({ port: 40123 })
    expect(parseDestination('rsync://localhost:8873/module', { defaultPort: 40123 })).toMatchObject({ port: 8873 })
  })

  it('does not concern local and SSH destinations', () => {
    expect(parseDestination('host:dir', { defaultPort: 40123 })).toStrictEqual({
      kind: 'ssh',
      username: undefined,
      hostname: 'host',
      directory: 'dir',
    })
  })

  it.each([0, 65536, 1.5, Number.NaN, -1])('refuses %s', (defaultPort) => {
    expect(parseError('host::mod', { defaultPort })).toMatchObject({ code: 'ERR_RSB_DESTINATION_PORT_RANGE' })
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DestinationError,
  ensureTrailingSlash,
  formatDestination,
  parentDirectory,
  parseDestination,
  type Destination,
  type ParseDestinationOptions,
} from '../src/index.ts'
import { showExpression } from '../src/internal/show.ts'

// Pieces that steer generated strings into every branch of the parser.
const piece = fc.oneof(
  fc.constantFrom(
    ':',
    '::',
    '@',
    '[',
    ']',
    '/',
    '//',
    'rsync://',
    'RSYNC://',
    'rsync:',
    'rsync:/',
    '\n',
    '\r',
    '\0',
    '\t',
    '\x7f',
    '\u0085',
    '\x1b',
    '\uD800',
    '\uDC00',
    '😀',
    ' ',
    '.',
    '..',
    '-',
    '~',
    '%',
    '*',
    '***',
    'é',
    '$(x)',
    "'",
    '"',
    '`',
    ';',
    '::1',
    '[::1]',
    'fe80::1%eth0',
    '127.0.0.1',
    'host',
    'user',
    'mod',
    'dir',
    'a',
    '873',
    '0',
    '00',
    '65535',
    '65536',
    '99999',
    '-1',
  ),
  fc.string({ unit: 'binary', maxLength: 3 }),
  fc.nat(70_000).map(String),
)
const stitched = fc.array(piece, { maxLength: 14 }).map((pieces) => pieces.join(''))
const anyText = fc.oneof(stitched, fc.string({ unit: 'binary' }), fc.string(), fc.string({ unit: 'grapheme' }))

/** Parses, or returns the error: anything else than a Destination or a DestinationError fails the test. */
function attempt(text: string, options?: ParseDestinationOptions): Destination | DestinationError {
  try {
    return parseDestination(text, options)
  } catch (error) {
    if (error instanceof DestinationError) return error
    throw new Error(`parseDestination(${JSON.stringify(text)}) threw something else than a DestinationError`, { cause: error })
  }
}

describe('properties', () => {
  it('a password is redacted even when the text fails for another reason first (rsync://\\n:@, a control character)', () => {
    const error = attempt('rsync://\n:@')
    expect(error).toBeInstanceOf(DestinationError)
    expect(error).toMatchObject({ code: 'ERR_RSB_DESTINATION_CONTROL_CHARACTER', expression: 'rsync://\n:***@' })
  })

  it('every string parses or fails with a DestinationError that quotes it', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const result = attempt(text)
        if (!(result instanceof DestinationError)) return
        expect(result.code).toMatch(/^ERR_RSB_DESTINATION_[A-Z_]+$/)
        expect(result.hint).toEqual(expect.any(String))
        if (result.code === 'ERR_RSB_DESTINATION_PASSWORD' || result.expression !== text) {
          // a password in the text is redacted whatever else is wrong with it (rsync://\n:@ is also a control character)
          const at = result.expression.indexOf(':***@')
          expect(at).toBeGreaterThanOrEqual(0)
          expect(text.startsWith(result.expression.slice(0, at + 1))).toBe(true)
          expect(text.endsWith(result.expression.slice(at + 4))).toBe(true)
        }
        expect(result.message.startsWith(`Failed to parse expression! (${showExpression(result.expression)})`)).toBe(true)
        expect(result.message).not.toMatch(/\p{Cc}/u)
      }),
      { numRuns: 5_000 },
    )
  })

  it('every parsed value is well formed and round-trips through formatDestination', () => {
    fc.assert(
      fc.property(anyText, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), (text, defaultPort) => {
        const destination = attempt(text, { defaultPort })
        if (destination instanceof DestinationError) return
        if (destination.kind === 'local') {
          expect(destination.directory).toBe(text)
        } else {
          expect(destination.hostname).not.toBe('')
          expect(destination.username).not.toBe('')
        }
        if (destination.kind === 'daemon') {
          expect(destination.module).not.toBe('')
          expect(destination.module).not.toContain('/')
          expect(Number.isInteger(destination.port) && destination.port >= 1 && destination.port <= 65535).toBe(true)
        }
        const expression = formatDestination(destination)
        expect(parseDestination(expression)).toStrictEqual(destination)
        expect(formatDestination(parseDestination(expression))).toBe(expression)
        const argument = ensureTrailingSlash(expression)
        expect(argument.endsWith('/')).toBe(true)
        expect(ensureTrailingSlash(argument)).toBe(argument)
      }),
      { numRuns: 5_000 },
    )
  })

  it('parentDirectory gives a non-empty directory or ERR_RSB_DESTINATION_NO_PARENT', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const destination = attempt(text)
        if (destination instanceof DestinationError) return
        try {
          const parent = parentDirectory(destination)
          expect(parent).not.toBe('')
          expect(destination.directory.startsWith(parent)).toBe(true)
        } catch (error) {
          expect(error).toBeInstanceOf(DestinationError)
          expect(error).toMatchObject({ code: 'ERR_RSB_DESTINATION_NO_PARENT' })
        }
      }),
      { numRuns: 2_000 },
    )
  })

  // Values built from fields, in all four syntaxes: they parse to those fields.
  const word = fc.stringMatching(/^[A-Za-z0-9._-][A-Za-z0-9._~ -]{0,10}$/)
  const hostName = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9.-]{0,15}$/),
    fc.constantFrom('::1', 'fe80::1%eth0', '2001:db8::42', '127.0.0.1'),
  )
  const user = fc.option(fc.stringMatching(/^[a-z_][a-z0-9_.-]{0,8}$/), { nil: undefined })
  const directory = fc
    .array(fc.oneof(word, fc.constantFrom('', 'é', "it's", '$(x)', 'a:b', '@', '[x]')), { maxLength: 4 })
    .map((parts) => parts.join('/'))
  const bracket = (host: string): string => (host.includes(':') ? `[${host}]` : host)
  const at = (name: string | undefined): string => (name === undefined ? '' : `${name}@`)

  it('field-built expressions of every syntax parse to their fields', () => {
    fc.assert(
      fc.property(
        user,
        hostName,
        fc.integer({ min: 1, max: 65535 }),
        word.filter((m) => m.trim() !== ''),
        directory,
        (u, host, port, module, dir) => {
          expect(parseDestination(`${at(u)}${bracket(host)}:${dir}`)).toStrictEqual({
            kind: 'ssh',
            username: u,
            hostname: host,
            directory: dir,
          })
          const daemon = { kind: 'daemon', username: u, hostname: host, module, directory: dir }
          expect(parseDestination(`${at(u)}${bracket(host)}::${module}${dir === '' ? '' : `/${dir}`}`)).toStrictEqual({
            ...daemon,
            port: 873,
          })
          expect(parseDestination(`rsync://${at(u)}${bracket(host)}:${port}/${module}/${dir}`)).toStrictEqual({ ...daemon, port })
          expect(parseDestination(`rsync://${at(u)}${bracket(host)}/${module}/${dir}`, { defaultPort: port })).toStrictEqual({
            ...daemon,
            port,
          })
          expect(parseDestination(`/${dir}`)).toStrictEqual({ kind: 'local', directory: `/${dir}` })
        },
      ),
      { numRuns: 1_000 },
    )
  })

  it('formatDestination of any value either refuses it with a DestinationError or reads back as it', () => {
    const text = fc.oneof(piece, stitched)
    const value = fc.oneof(
      fc.record({ kind: fc.constant('local' as const), directory: text }),
      fc.record({ kind: fc.constant('ssh' as const), username: fc.option(text, { nil: undefined }), hostname: text, directory: text }),
      fc.record({
        kind: fc.constant('daemon' as const),
        username: fc.option(text, { nil: undefined }),
        hostname: text,
        port: fc.oneof(fc.integer({ min: -1, max: 70_000 }), fc.double()),
        module: text,
        directory: text,
      }),
    )
    fc.assert(
      fc.property(value, (destination) => {
        let expression: string
        try {
          expression = formatDestination(destination)
        } catch (error) {
          expect(error).toBeInstanceOf(DestinationError)
          expect(error).toMatchObject({ code: 'ERR_RSB_DESTINATION_INVALID' })
          return
        }
        expect(parseDestination(expression)).toStrictEqual({ ...destination }) // fc.record's objects have no prototype
      }),
      { numRuns: 5_000 },
    )
  })
})

import { describe, expect, it } from 'vitest'
import { assertCommandContext, DestinationError, ensureTrailingSlash, parentDirectory, parseDestination } from '../src/index.ts'

describe('ensureTrailingSlash', () => {
  it.each([
    ['', ''],
    ['/', '/'],
    ['//', '/'],
    ['a', 'a/'],
    ['a//', 'a/'],
    ['/mnt/backups/latest///', '/mnt/backups/latest/'],
    ['host:dir', 'host:dir/'],
    ['host:', 'host:/'],
    ['rsync://server:873/backups/system', 'rsync://server:873/backups/system/'],
  ])('%j → %j', (input, output) => {
    expect(ensureTrailingSlash(input)).toBe(output)
  })

  it('passes undefined through', () => {
    expect(ensureTrailingSlash(undefined)).toBeUndefined()
  })
})

describe('parentDirectory', () => {
  it.each([
    ['/mnt/backups/latest///', '/mnt/backups'],
    ['backups/system', 'backups'],
    ['/latest', '/'],
    ['//latest', '//'],
    ['/a//b', '/a'],
    ['host:/backups/laptop', '/backups'],
  ])('%j → %j', (input, parent) => {
    expect(parentDirectory(parseDestination(input))).toBe(parent)
  })

  it.each(['latest', '/', '///', 'host:', 'host:latest', 'server::module', 'rsync://server/backups/system'])('%j has none', (input) => {
    const error = (() => {
      try {
        parentDirectory(parseDestination(input))
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(DestinationError)
    expect(error).toMatchObject({ code: 'ERR_RSB_DESTINATION_NO_PARENT', hint: expect.any(String) })
    expect((error as Error).message).toMatch(
      /^Cannot determine the parent directory of the destination, so snapshots cannot be created or rotated for /,
    )
  })

  it('names the formatted expression and points daemon users at the server', () => {
    expect(() => parentDirectory(parseDestination('server::module'))).toThrow(
      expect.objectContaining({
        message:
          'Cannot determine the parent directory of the destination, so snapshots cannot be created or rotated for rsync://server:873/module.',
        expression: 'rsync://server:873/module',
        hint: expect.stringContaining('post-xfer exec'),
      }),
    )
  })
})

describe("assertCommandContext (the original's destination_context)", () => {
  it('accepts local and SSH destinations', () => {
    for (const input of ['/mnt/backups/latest', 'backup-user@backup-server:backups/system']) {
      const destination = parseDestination(input)
      expect(() => assertCommandContext(destination)).not.toThrow()
    }
    const destination = parseDestination('backup-user@backup-server:backups/system')
    assertCommandContext(destination)
    // narrowed: no daemon here
    expect(destination.kind === 'ssh' ? [destination.username, destination.hostname] : []).toEqual(['backup-user', 'backup-server'])
  })

  it('refuses a daemon destination', () => {
    expect(() => assertCommandContext(parseDestination('server::backups/system'))).toThrow(
      expect.objectContaining({
        name: 'DestinationError',
        code: 'ERR_RSB_DESTINATION_NO_CONTEXT',
        message: 'Commands cannot run on an rsync daemon destination (rsync://server:873/backups/system).',
      }),
    )
  })
})

import { describe, expect, it } from 'vitest'
import { DestinationError, formatDestination, type Destination } from '../src/index.ts'

describe('formatDestination', () => {
  it.each<[Destination, string]>([
    [{ kind: 'local', directory: '/mnt/backups/latest' }, '/mnt/backups/latest'],
    [{ kind: 'ssh', username: undefined, hostname: 'nas', directory: '' }, 'nas:'],
    [{ kind: 'ssh', username: 'root', hostname: 'fe80::1%eth0', directory: '/srv' }, 'root@[fe80::1%eth0]:/srv'],
    [{ kind: 'daemon', username: undefined, hostname: 'nas', port: 873, module: 'laptop', directory: '' }, 'rsync://nas:873/laptop'],
    [
      { kind: 'daemon', username: 'backup', hostname: '::1', port: 8873, module: 'laptop', directory: 'latest' },
      'rsync://backup@[::1]:8873/laptop/latest',
    ],
  ])('formats %j', (destination, expression) => {
    expect(formatDestination(destination)).toBe(expression)
  })

  it.each<[string, unknown]>([
    ['a local directory rsync would take for a host', { kind: 'local', directory: 'host:dir' }],
    ['an empty local directory', { kind: 'local', directory: '' }],
    ['an empty host', { kind: 'ssh', username: undefined, hostname: '', directory: 'x' }],
    ['an empty user', { kind: 'ssh', username: '', hostname: 'h', directory: 'x' }],
    ['a user with an @ and no host @', { kind: 'ssh', username: undefined, hostname: 'a@b', directory: 'x' }],
    ['a host with a slash', { kind: 'ssh', username: undefined, hostname: 'a/b', directory: 'x' }],
    ['a control character', { kind: 'ssh', username: undefined, hostname: 'h', directory: 'a\nb' }],
    ['port 0', { kind: 'daemon', username: undefined, hostname: 'h', port: 0, module: 'm', directory: '' }],
    ['a fractional port', { kind: 'daemon', username: undefined, hostname: 'h', port: 87.3, module: 'm', directory: '' }],
    ['a port given as text', { kind: 'daemon', username: undefined, hostname: 'h', port: '873', module: 'm', directory: '' }],
    ['an empty module', { kind: 'daemon', username: undefined, hostname: 'h', port: 873, module: '', directory: 'x' }],
    ['a module with a slash', { kind: 'daemon', username: undefined, hostname: 'h', port: 873, module: 'a/b', directory: '' }],
    ['an unknown kind', { kind: 'ftp', directory: 'x' }],
    ['null', null],
    ['a string', '/mnt'],
  ])('refuses %s', (_, value) => {
    let error: unknown
    try {
      formatDestination(value as Destination)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(DestinationError)
    expect(error).toMatchObject({ code: 'ERR_RSB_DESTINATION_INVALID', hint: expect.any(String) })
    expect((error as Error).message).toMatch(/^Failed to format destination! \(.*\): it would not be read back as the same destination\.$/s)
  })
})

import { describe, expect, it } from 'vitest'
import { assertInside, isInside, MountError } from '../src/index.ts'

describe('isInside (whole path segments)', () => {
  it.each([
    ['/mnt/backups', '/mnt/backups', true],
    ['/mnt/backups/latest', '/mnt/backups', true],
    ['/mnt/backups/latest/', '/mnt/backups/', true],
    ['/mnt/backups//a/./b', '/mnt//backups', true],
    ['/mnt/backups/latest', '/mnt/backup', false],
    ['/mnt/backup', '/mnt/backups', false],
    ['/mnt/backups/../other', '/mnt/backups', false],
    ['/mnt/backups/x/..', '/mnt/backups', true],
    ['/mnt/backups/..', '/mnt/backups', false],
    ['/anything', '/', true],
    ['/', '/mnt', false],
    ['/some/random/directory', '/mnt/backups', false],
    ['/mnt/it\'s a "$(x)"/latest', '/mnt/it\'s a "$(x)"', true],
    ['/mnt/new\nline/x', '/mnt/new', false],
  ])('%j inside %j: %s', (directory, mountPoint, expected) => {
    expect(isInside(directory, mountPoint)).toBe(expected)
  })

  it('resolves relative paths against cwd', () => {
    expect(isInside('latest', '/mnt/backups', '/mnt/backups')).toBe(true)
    expect(isInside('../backups2/latest', '.', '/mnt/backups')).toBe(false)
    expect(isInside('b/c', 'b', '/a')).toBe(true)
  })

  it('assertInside throws ERR_RSB_MOUNT_NOT_CONTAINED with both absolute paths', () => {
    expect(() => assertInside('/mnt/backups/latest', '/mnt/backups')).not.toThrow()
    let error: unknown
    try {
      assertInside('backups/latest', 'backup/', '/mnt')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(MountError)
    expect(error).toMatchObject({
      code: 'ERR_RSB_MOUNT_NOT_CONTAINED',
      mountPoint: '/mnt/backup',
      path: '/mnt/backups/latest',
      message: 'Destination directory (/mnt/backups/latest) not located under mount point (/mnt/backup)!',
    })
  })
})

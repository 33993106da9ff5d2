import { describe, expect, it } from 'vitest'
import { CrypttabError, encodeUdevLabel, resolveSourceDevice, sourceDeviceCandidates } from '../src/index.ts'

describe('resolveSourceDevice', () => {
  it.each([
    ['/dev/mapper/backups', '/dev/mapper/backups'],
    ['/srv/x=y.img', '/srv/x=y.img'],
    ['relative.img', 'relative.img'],
    ['LABEL="Linux Boot"', '/dev/disk/by-label/Linux\\x20Boot'],
    ["LABEL='a b'", '/dev/disk/by-label/a\\x20b'],
    ['LABEL=backup', '/dev/disk/by-label/backup'],
    ['label=backup', '/dev/disk/by-label/backup'],
    ['LABEL=My Disk', '/dev/disk/by-label/My\\x20Disk'],
    ['LABEL=a/b\\c', '/dev/disk/by-label/a\\x2fb\\x5cc'],
    ['LABEL=été#+-.:=@_', '/dev/disk/by-label/été#+-.:=@_'],
    ['UUID=1012dd1a-a455-40c4-914f-f3b1b2cf5b86', '/dev/disk/by-uuid/1012dd1a-a455-40c4-914f-f3b1b2cf5b86'],
    ['uuid=abc', '/dev/disk/by-uuid/abc'],
    ['UUID=A40D-85E7', '/dev/disk/by-uuid/A40D-85E7'],
    ['PARTUUID=e6c021cc-d0d8-400c-8f5c-b10adeff65fe', '/dev/disk/by-partuuid/e6c021cc-d0d8-400c-8f5c-b10adeff65fe'],
    ['PARTLABEL=x y', '/dev/disk/by-partlabel/x\\x20y'],
  ])('%s → %s', (source, path) => {
    expect(resolveSourceDevice(source)).toBe(path)
  })

  it('tries an upper-case UUID as written first, then lower-cased', () => {
    expect(sourceDeviceCandidates('UUID=A40D-85E7')).toEqual(['/dev/disk/by-uuid/A40D-85E7', '/dev/disk/by-uuid/a40d-85e7'])
    expect(sourceDeviceCandidates('UUID=abc')).toEqual(['/dev/disk/by-uuid/abc'])
  })

  it.each(['LABEL=', 'UUID=""', 'SERIAL=123', 'x=y'])('rejects %s with ERR_RSB_CRYPTTAB_UNSUPPORTED_SOURCE', (source) => {
    const error = (() => {
      try {
        sourceDeviceCandidates(source, 'disk')
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(CrypttabError)
    expect(error).toMatchObject({ code: 'ERR_RSB_CRYPTTAB_UNSUPPORTED_SOURCE', target: 'disk' })
  })

  it('encodes labels like udev', () => {
    expect(encodeUdevLabel('My Disk')).toBe('My\\x20Disk')
    expect(encodeUdevLabel('tab\there')).toBe('tab\\x09here')
    expect(encodeUdevLabel("it's")).toBe('it\\x27s')
  })
})

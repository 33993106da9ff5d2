import { describe, expect, it } from 'vitest'
import { decodeFstabField, encodeFstabField, parseFstab } from '../src/index.ts'

describe('parseFstab (util-linux 2.38)', () => {
  it('parses the observed findmnt table', () => {
    const text = [
      '/dev/sda1 /mnt/a\\040b ext4',
      'tmpfs /mnt/c#d tmpfs defaults 0 0',
      '/dev/x /mnt/t\\011ab\\134z ext4 noauto 1',
      'LABEL=My\\040Disk /mnt/l ext4 ro 0 2',
      'srv:/exp /mnt/nfs nfs',
      '/dev/sda1 /mnt/a',
    ].join('\n')
    const { entries, warnings } = parseFstab(text)
    expect(entries.map((e) => [e.spec, e.mountPoint, e.type, e.optionsText, e.freq, e.passno])).toEqual([
      ['/dev/sda1', '/mnt/a b', 'ext4', '', 0, 0],
      ['tmpfs', '/mnt/c#d', 'tmpfs', 'defaults', 0, 0],
      ['/dev/x', '/mnt/t\tab\\z', 'ext4', 'noauto', 1, 0],
      ['LABEL=My Disk', '/mnt/l', 'ext4', 'ro', 0, 2],
      ['srv:/exp', '/mnt/nfs', 'nfs', '', 0, 0],
    ])
    expect(warnings).toEqual([{ line: 6, message: 'Parse error: fewer than three fields (spec, mount point, type); skipped.' }])
  })

  it('the linux-utils fstab test', () => {
    const { entries, warnings } = parseFstab(
      [
        '/dev/mapper/backups /mnt/backups ext4 noauto,errors=remount-ro 1 0',
        '/dev/mapper/backups /mnt/backups ext4 noauto,errors=remount-ro',
        '1.2.3.4:/exported/directory /mnt/share nfs noauto',
        'oops!',
      ].join('\n'),
    )
    expect(entries).toHaveLength(3)
    expect(warnings.map((w) => w.line)).toEqual([4])
    expect(entries[0]).toMatchObject({
      spec: '/dev/mapper/backups',
      mountPoint: '/mnt/backups',
      type: 'ext4',
      options: ['noauto', 'errors=remount-ro'],
      freq: 1,
      passno: 0,
      nfs: undefined,
    })
    expect(entries[1]).toMatchObject({ freq: 0, passno: 0, nfs: undefined })
    expect(entries[2]).toMatchObject({
      spec: '1.2.3.4:/exported/directory',
      mountPoint: '/mnt/share',
      type: 'nfs',
      options: ['noauto'],
      nfs: { server: '1.2.3.4', directory: '/exported/directory' },
    })
  })

  it('comments only at the start of a line; blank lines; extra fields ignored; empty options dropped', () => {
    const { entries, warnings } = parseFstab('# c\n   # indented\n\n\t\n/dev/a /a ext4 ro,,x=1, 0 0 extra\n/dev/b /b#c ext4 #x\n')
    expect(warnings).toEqual([])
    expect(entries.map((e) => [e.line, e.mountPoint, e.options])).toEqual([
      [5, '/a', ['ro', 'x=1']],
      [6, '/b#c', ['#x']],
    ])
  })

  it('skips lines with a non-numeric freq or passno, like util-linux', () => {
    const { entries, warnings } = parseFstab(
      '/dev/a /a ext4 defaults x 0\n/dev/b /b ext4 defaults 1 y\n/dev/c /c ext4 defaults -1 0\n/dev/d /d ext4 defaults 1 2\n',
    )
    expect(entries.map((e) => e.spec)).toEqual(['/dev/d'])
    expect(warnings.map((w) => w.line)).toEqual([1, 2, 3])
  })

  it('nfs server and directory only for nfs/nfs4 with both parts', () => {
    const nfs = (line: string) => parseFstab(line).entries[0]?.nfs
    expect(nfs('srv:/x /m nfs4')).toEqual({ server: 'srv', directory: '/x' })
    expect(nfs(':/x /m nfs')).toBeUndefined()
    expect(nfs('srv: /m nfs')).toBeUndefined()
    expect(nfs('srv:/x /m ext4')).toBeUndefined()
  })

  it('decodes and encodes octal escapes (three digits only), as UTF-8', () => {
    expect(decodeFstabField('/mnt/a\\040b\\011c\\012d\\134e')).toBe('/mnt/a b\tc\nd\\e')
    expect(decodeFstabField('\\303\\251t\\303\\251')).toBe('été')
    expect(decodeFstabField('\\40 \\x41 \\q \\')).toBe('\\40 \\x41 \\q \\')
    for (const value of ['/mnt/it\'s a "$(x)"', 'tab\there', 'new\nline', 'back\\slash', '#hash', 'ünïcødé']) {
      expect(decodeFstabField(encodeFstabField(value))).toBe(value)
      expect(encodeFstabField(value)).not.toMatch(/[ \t\n]/)
    }
  })

  it('parses /proc/mounts-style text', () => {
    const { entries } = parseFstab('/dev/loop1 /tmp/rsb\\040x ext4 rw,relatime 0 0\nproc /proc proc rw,nosuid 0 0\n')
    expect(entries.map((e) => [e.spec, e.mountPoint])).toEqual([
      ['/dev/loop1', '/tmp/rsb x'],
      ['proc', '/proc'],
    ])
  })

  it('survives garbage', () => {
    const { entries, warnings } = parseFstab('\u0000\u0001\n\uFFFD \uFFFD\n\r\n' + 'x '.repeat(50_000) + '\nok /ok ext4\r\n')
    expect(entries.map((e) => e.spec)).toEqual(['ok'])
    expect(warnings.map((w) => w.line)).toEqual([1, 2, 4])
    expect(warnings[2]?.message.length).toBeLessThan(200)
    for (let seed = 0; seed < 200; seed++) {
      let text = ''
      for (let i = 0; i < 200; i++) text += String.fromCharCode((seed * 7919 + i * 104729) % 128)
      expect(() => parseFstab(text)).not.toThrow()
    }
    expect(parseFstab('')).toEqual({ entries: [], warnings: [] })
  })
})

import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { hostFieldMatches, knownHostName, parseKnownHosts, parseSshG, splitUserHost, verifyHostKey } from '../src/index.ts'

const blob = (type: string, body: string) => {
  const t = Buffer.from(type)
  const len = Buffer.alloc(4)
  len.writeUInt32BE(t.length)
  return Buffer.concat([len, t, Buffer.from(body)])
}
const KEY_A = blob('ssh-ed25519', 'key-a')
const KEY_B = blob('ssh-ed25519', 'key-b')
const RSA = blob('ssh-rsa', 'rsa-key')

describe('known_hosts', () => {
  it('parses entries, markers and skips comments and garbage', () => {
    const text = [
      '# comment',
      '',
      `server,10.0.0.1 ssh-ed25519 ${KEY_A.toString('base64')} a comment`,
      `@revoked * ssh-ed25519 ${KEY_B.toString('base64')}`,
      'garbage line',
      `@unknown-marker host ssh-ed25519 ${KEY_A.toString('base64')}`,
    ].join('\n')
    const entries = parseKnownHosts(text, 'kh')
    expect(entries).toHaveLength(2)
    expect(entries[0]).toMatchObject({ marker: undefined, hosts: 'server,10.0.0.1', keyType: 'ssh-ed25519', line: 3, file: 'kh' })
    expect(entries[1]).toMatchObject({ marker: 'revoked', line: 4 })
  })

  it('matches patterns with wildcards, negation and ports', () => {
    expect(hostFieldMatches('server,10.0.0.1', 'server')).toBe(true)
    expect(hostFieldMatches('*.example.org,!bad.example.org', 'a.example.org')).toBe(true)
    expect(hostFieldMatches('*.example.org,!bad.example.org', 'bad.example.org')).toBe(false)
    expect(hostFieldMatches('host?', 'host1')).toBe(true)
    expect(hostFieldMatches('[127.0.0.1]:2222', knownHostName('127.0.0.1', 2222))).toBe(true)
    expect(hostFieldMatches('127.0.0.1', knownHostName('127.0.0.1', 2222))).toBe(false)
    expect(knownHostName('nas', 22)).toBe('nas')
  })

  it('matches hashed entries', () => {
    const salt = Buffer.from('0123456789abcdef0123')
    const hash = createHmac('sha1', salt).update('[nas]:2200').digest('base64')
    expect(hostFieldMatches(`|1|${salt.toString('base64')}|${hash}`, '[nas]:2200')).toBe(true)
    expect(hostFieldMatches(`|1|${salt.toString('base64')}|${hash}`, 'nas')).toBe(false)
  })

  it('tells known, unknown, mismatch and revoked apart', () => {
    const entries = parseKnownHosts(`nas ssh-ed25519 ${KEY_A.toString('base64')}\n@revoked * ssh-ed25519 ${KEY_B.toString('base64')}\n`)
    expect(verifyHostKey(entries, 'nas', KEY_A).status).toBe('known')
    expect(verifyHostKey(entries, 'other', KEY_A).status).toBe('unknown')
    expect(verifyHostKey(entries, 'nas', blob('ssh-ed25519', 'key-c')).status).toBe('mismatch')
    expect(verifyHostKey(entries, 'nas', KEY_B).status).toBe('revoked')
    // only a key of another type is known: a changed key (never accepted as new, as OpenSSH does)
    expect(verifyHostKey(entries, 'nas', RSA)).toMatchObject({
      status: 'mismatch',
      entries: [expect.objectContaining({ keyType: 'ssh-ed25519' })],
    })
    expect(verifyHostKey(entries, 'unknown-host', RSA).status).toBe('unknown')
  })
})

describe('ssh -G output and user@host', () => {
  it('extracts the effective settings', () => {
    const config = parseSshG(
      'backup-server',
      [
        'hostname 127.0.0.1',
        'user backup',
        'port 2222',
        'identityfile ~/.ssh/id_ed25519',
        'identityfile /keys/b',
        'userknownhostsfile /kh ~/.ssh/kh2',
        'globalknownhostsfile /etc/ssh/ssh_known_hosts',
        'stricthostkeychecking yes',
        'connecttimeout 5',
      ].join('\n'),
    )
    expect(config).toMatchObject({ hostname: '127.0.0.1', user: 'backup', port: 2222, strictHostKeyChecking: 'yes', connectTimeout: 5 })
    expect(config.identityFiles[1]).toBe('/keys/b')
    expect(config.identityFiles[0]).toMatch(/\/\.ssh\/id_ed25519$/)
    expect(config.identityFiles[0]?.startsWith('~')).toBe(false)
    expect(config.userKnownHostsFiles[0]).toBe('/kh')
  })

  it('splits user@host and brackets', () => {
    expect(splitUserHost('backup@nas')).toEqual({ user: 'backup', host: 'nas' })
    expect(splitUserHost('[::1]')).toEqual({ user: undefined, host: '::1' })
    expect(splitUserHost('nas')).toEqual({ user: undefined, host: 'nas' })
  })
})

import { createHmac } from 'node:crypto'

/** One line of a known_hosts file. */
export interface KnownHostEntry {
  marker: 'revoked' | 'cert-authority' | undefined
  /** Comma-separated patterns, or a hashed `|1|salt|hash` entry. */
  hosts: string
  keyType: string
  /** The base64-decoded key blob. */
  key: Buffer
  file: string
  line: number
}

/**
 * Parses a known_hosts text (OpenSSH sshd(8) format): `[@marker] patterns keytype base64 [comment]`.
 * Comments, blank and malformed lines are skipped.
 */
export function parseKnownHosts(text: string, file = 'known_hosts'): KnownHostEntry[] {
  const entries: KnownHostEntry[] = []
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const fields = line.split(/\s+/)
    let marker: KnownHostEntry['marker']
    if (fields[0]?.startsWith('@')) {
      const name = fields.shift()
      if (name === '@revoked') marker = 'revoked'
      else if (name === '@cert-authority') marker = 'cert-authority'
      else return
    }
    const [hosts, keyType, base64] = fields
    if (!hosts || !keyType || !base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return
    entries.push({ marker, hosts, keyType, key: Buffer.from(base64, 'base64'), file, line: index + 1 })
  })
  return entries
}

function wildcardToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${body}$`, 'i')
}

/** Whether a host field (patterns or a hashed name) matches a host name (`host` or `[host]:port`). */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|')
    if (!salt || !hash) return false
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64')
    return digest === hash
  }
  let matched = false
  for (const pattern of field.split(',')) {
    const negated = pattern.startsWith('!')
    const body = negated ? pattern.slice(1) : pattern
    if (wildcardToRegExp(body).test(name)) {
      if (negated) return false
      matched = true
    }
  }
  return matched
}

/** The name a host is written under in known_hosts: `host` on port 22, else `[host]:port`. */
export function knownHostName(hostname: string, port: number): string {
  return port === 22 ? hostname : `[${hostname}]:${port}`
}

/** The key type written inside an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, …). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return ''
  const length = blob.readUInt32BE(0)
  return blob.subarray(4, 4 + length).toString('latin1')
}

/** The verdict on a server's host key. */
export type HostKeyVerdict =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'unknown' }
  | { status: 'mismatch'; entries: KnownHostEntry[] }
  | { status: 'revoked'; entry: KnownHostEntry }

/** Checks a host key blob against known_hosts entries for `name` (see {@link knownHostName}). */
export function verifyHostKey(entries: readonly KnownHostEntry[], name: string, blob: Buffer): HostKeyVerdict {
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(blob))
  if (revoked) return { status: 'revoked', entry: revoked }
  const forHost = entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, name))
  const match = forHost.find((e) => e.key.equals(blob))
  if (match) return { status: 'known', entry: match }
  // A host with keys on record presents one that is not among them: a changed key, also when the known keys are of
  // another type (OpenSSH refuses that too, even with StrictHostKeyChecking accept-new).
  const type = keyTypeOf(blob)
  const sameType = forHost.filter((e) => e.keyType === type)
  if (forHost.length === 0) return { status: 'unknown' }
  return { status: 'mismatch', entries: sameType.length > 0 ? sameType : forHost }
}

/** The key types known for `name`, as ssh2 host key algorithm names, in file order. */
export function knownHostKeyAlgorithms(entries: readonly KnownHostEntry[], name: string): string[] {
  const algorithms: string[] = []
  for (const entry of entries) {
    if (entry.marker !== undefined || !hostFieldMatches(entry.hosts, name)) continue
    const names = entry.keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [entry.keyType]
    for (const n of names) if (!algorithms.includes(n)) algorithms.push(n)
  }
  return algorithms
}

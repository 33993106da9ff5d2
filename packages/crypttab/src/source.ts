import { CrypttabError } from './errors.js'

const TAG_DIRECTORIES: Readonly<Record<string, { directory: string; encode: boolean }>> = {
  UUID: { directory: '/dev/disk/by-uuid', encode: false },
  LABEL: { directory: '/dev/disk/by-label', encode: true },
  PARTUUID: { directory: '/dev/disk/by-partuuid', encode: false },
  PARTLABEL: { directory: '/dev/disk/by-partlabel', encode: true },
}

const UDEV_SAFE = /^[A-Za-z0-9#+\-.:=@_]$/

/**
 * Encodes a label the way udev names its `/dev/disk/by-label/…` links: ASCII letters, digits, `# + - . : = @ _`
 * and non-ASCII characters (valid UTF-8) are kept; every other byte (space, `/`, `\`, control characters…) becomes
 * `\x` and two lower-case hex digits.
 *
 * @example
 * ```ts
 * encodeUdevLabel('My Disk') // 'My\\x20Disk'
 * ```
 */
export function encodeUdevLabel(label: string): string {
  let out = ''
  for (const char of label) {
    const code = char.codePointAt(0) as number
    if (code >= 0x80 || UDEV_SAFE.test(char)) out += char
    else out += `\\x${code.toString(16).padStart(2, '0')}`
  }
  return out
}

function unquote(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) return value.slice(1, -1)
  return value
}

/**
 * All the paths under which a crypttab source may exist, best first: the path itself, or the `/dev/disk/by-*`
 * link of a `UUID=`, `LABEL=`, `PARTUUID=`, `PARTLABEL=` tag. For `UUID=`/`PARTUUID=` written with upper-case
 * letters the lower-cased link follows the link as written (udev links FAT/NTFS volume IDs in upper case, most
 * others in lower case).
 *
 * @throws {CrypttabError} ERR_RSB_CRYPTTAB_UNSUPPORTED_SOURCE for another `NAME=` form or an empty value
 */
export function sourceDeviceCandidates(source: string, target = ''): string[] {
  const equals = source.indexOf('=')
  if (equals === -1 || source.startsWith('/')) return [source]
  const tag = source.slice(0, equals).toUpperCase()
  const value = unquote(source.slice(equals + 1))
  const known = TAG_DIRECTORIES[tag]
  if (known === undefined || value === '') {
    throw new CrypttabError(
      'ERR_RSB_CRYPTTAB_UNSUPPORTED_SOURCE',
      target,
      `Unsupported device identifier '${source}'${target ? ` for encrypted filesystem ${target}` : ''}.`,
      { hint: 'Write the source as a device path or as UUID=…, LABEL=…, PARTUUID=… or PARTLABEL=… with a value.' },
    )
  }
  if (known.encode) return [`${known.directory}/${encodeUdevLabel(value)}`]
  const written = `${known.directory}/${value}`
  const lower = `${known.directory}/${value.toLowerCase()}`
  return written === lower ? [written] : [written, lower]
}

/**
 * Resolves a crypttab source to the path that `test -e` checks: a path stays as it is (also one that contains `=`
 * but starts with `/`); `UUID=u` → `/dev/disk/by-uuid/u`, `LABEL=l` → `/dev/disk/by-label/<udev-encoded l>`,
 * `PARTUUID=u` → `/dev/disk/by-partuuid/u`, `PARTLABEL=l` → `/dev/disk/by-partlabel/<udev-encoded l>`. The tag is
 * case-insensitive; quotes around the value are removed.
 *
 * @param source - the decoded second field of a crypttab line
 * @returns the device path (for upper-case UUIDs, the link as written; see {@link sourceDeviceCandidates})
 * @throws {CrypttabError} ERR_RSB_CRYPTTAB_UNSUPPORTED_SOURCE for another `NAME=` form or an empty value
 * @example
 * ```ts
 * resolveSourceDevice('LABEL="Linux Boot"') // '/dev/disk/by-label/Linux\\x20Boot'
 * ```
 */
export function resolveSourceDevice(source: string): string {
  return sourceDeviceCandidates(source)[0] as string
}

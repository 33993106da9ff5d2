/** One usable line of an fstab file (or of `/proc/mounts`). Every field is decoded (`\040` → space). */
export interface FstabEntry {
  /** 1-based line number in the file. */
  readonly line: number
  /** What is mounted (first field): a device path, `UUID=…`, `LABEL=…`, `host:/dir`, `tmpfs`, … */
  readonly spec: string
  /** Where it is mounted (second field). */
  readonly mountPoint: string
  /** The filesystem type (third field). */
  readonly type: string
  /** The mount options (fourth field) split at commas, empty ones dropped; empty when the field is absent. */
  readonly options: readonly string[]
  /** The fourth field as decoded text (`''` when absent). */
  readonly optionsText: string
  /** The dump frequency (fifth field); 0 when absent. */
  readonly freq: number
  /** The fsck pass number (sixth field); 0 when absent. */
  readonly passno: number
  /** For `nfs`/`nfs4` entries written `server:/directory`: both parts; otherwise undefined. */
  readonly nfs: { readonly server: string; readonly directory: string } | undefined
}

/** A line that was skipped, with its line number. */
export interface FstabWarning {
  /** 1-based line number. */
  readonly line: number
  /** One sentence (without the file name or line number). */
  readonly message: string
}

/** The result of {@link parseFstab}. */
export interface ParsedFstab {
  /** The usable entries, in file order. */
  readonly entries: readonly FstabEntry[]
  /** The skipped lines, in file order. */
  readonly warnings: readonly FstabWarning[]
}

const OCTAL_ESCAPE = /\\([0-7]{3})/g

/**
 * Decodes one fstab field: a backslash followed by three octal digits is that byte (`\040` space, `\011` tab,
 * `\012` newline, `\134` backslash); any other backslash is literal. Decoded bytes are read as UTF-8.
 *
 * @example
 * ```ts
 * decodeFstabField('/mnt/a\\040b') // '/mnt/a b'
 * ```
 */
export function decodeFstabField(field: string): string {
  if (!field.includes('\\')) return field
  const parts = field.split(OCTAL_ESCAPE)
  const bytes: number[] = []
  const encoder = new TextEncoder()
  parts.forEach((part, index) => {
    if (index % 2 === 1) bytes.push(Number.parseInt(part, 8) & 0xff)
    else bytes.push(...encoder.encode(part))
  })
  return new TextDecoder('utf-8').decode(new Uint8Array(bytes))
}

/**
 * Encodes a value for an fstab field (the inverse of {@link decodeFstabField}): space, tab, newline, backslash
 * and a leading `#` are written as octal escapes.
 *
 * @example
 * ```ts
 * encodeFstabField('/mnt/my disk') // '/mnt/my\\040disk'
 * ```
 */
export function encodeFstabField(value: string): string {
  return value.replace(/[ \t\n\\]|^#/g, (char) => `\\${(char.codePointAt(0) as number).toString(8).padStart(3, '0')}`)
}

const NUMBER = /^[0-9]+$/

/**
 * Parses fstab text as util-linux 2.38 does (`fstab(5)`; also the layout of `/proc/mounts`): fields separated by
 * spaces and tabs; `fs_spec fs_file fs_vfstype [fs_mntops [fs_freq [fs_passno]]]`, the first three required,
 * further fields ignored; a line whose first non-blank character is `#` is a comment (a `#` later is literal);
 * octal escapes decoded in every field. Lines with fewer than three fields, or a non-numeric freq or passno, are
 * skipped with a warning carrying their line number; the parser never throws.
 *
 * Pure: text in, entries and warnings out.
 *
 * @param text - the whole file
 * @returns the entries in file order and the warnings
 * @example
 * ```ts
 * const { entries } = parseFstab('/dev/mapper/backups /mnt/backups ext4 noauto,errors=remount-ro 1 0\n')
 * entries[0]?.options // ['noauto', 'errors=remount-ro']
 * ```
 */
export function parseFstab(text: string): ParsedFstab {
  const entries: FstabEntry[] = []
  const warnings: FstabWarning[] = []
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  lines.forEach((raw, index) => {
    const line = index + 1
    const content = raw.replace(/\r$/, '').trim()
    if (content === '' || content.startsWith('#')) return
    const fields = content.split(/[ \t]+/)
    const [spec, file, type, options, freq = '0', passno = '0'] = fields
    if (spec === undefined || file === undefined || type === undefined) {
      warnings.push({ line, message: 'Parse error: fewer than three fields (spec, mount point, type); skipped.' })
      return
    }
    if (!NUMBER.test(freq) || !NUMBER.test(passno)) {
      warnings.push({ line, message: `Parse error: the dump frequency and pass number must be numbers ('${freq}', '${passno}'); skipped.` })
      return
    }
    const decodedSpec = decodeFstabField(spec)
    const decodedType = decodeFstabField(type)
    const optionsText = options === undefined ? '' : decodeFstabField(options)
    let nfs: FstabEntry['nfs']
    if (decodedType === 'nfs' || decodedType === 'nfs4') {
      const colon = decodedSpec.indexOf(':')
      const server = decodedSpec.slice(0, colon)
      const directory = decodedSpec.slice(colon + 1)
      if (colon > 0 && directory !== '') nfs = { server, directory }
    }
    entries.push({
      line,
      spec: decodedSpec,
      mountPoint: decodeFstabField(file),
      type: decodedType,
      options: optionsText.split(',').filter((option) => option !== ''),
      optionsText,
      freq: Number.parseInt(freq, 10),
      passno: Number.parseInt(passno, 10),
      nfs,
    })
  })
  return { entries, warnings }
}

const BACKSLASH = 0x5c
const SIMPLE_ESCAPES: Readonly<Record<number, number>> = {
  0x5c: 0x5c, // \\
  0x61: 0x07, // \a
  0x62: 0x08, // \b
  0x66: 0x0c, // \f
  0x6e: 0x0a, // \n
  0x72: 0x0d, // \r
  0x74: 0x09, // \t
  0x76: 0x0b, // \v
}

const isOctal = (byte: number | undefined): byte is number => byte !== undefined && byte >= 0x30 && byte <= 0x37

/**
 * Decodes the escapes of one crypttab field the way Debian's scripts do (dash's `printf '%b'`): `\0` followed by
 * up to three octal digits, a backslash followed by one to three octal digits starting with 1–7, `\\`, and the C
 * escapes `\a \b \f \n \r \t \v`. Any other backslash is left as is (`\x41`, `\q`). Decoded bytes are read as
 * UTF-8.
 *
 * @param field - one raw field of a crypttab line
 * @returns the decoded text
 * @example
 * ```ts
 * decodeCrypttabField('My\\040Disk') // 'My Disk'
 * ```
 */
export function decodeCrypttabField(field: string): string {
  if (!field.includes('\\')) return field
  const input = new TextEncoder().encode(field)
  const output: number[] = []
  for (let i = 0; i < input.length; i++) {
    const byte = input[i] as number
    const next = input[i + 1]
    if (byte !== BACKSLASH || next === undefined) {
      output.push(byte)
      continue
    }
    if (isOctal(next)) {
      // `\0NNN` (the 0 is a prefix) or `\NNN` (first digit 1-7); at most three digits after the prefix.
      let j = next === 0x30 ? i + 2 : i + 1
      let value = 0
      for (let digits = 0; digits < 3 && isOctal(input[j]); digits++, j++) value = value * 8 + ((input[j] as number) - 0x30)
      output.push(value & 0xff)
      i = j - 1
      continue
    }
    const simple = SIMPLE_ESCAPES[next]
    if (simple !== undefined) {
      output.push(simple)
      i++
      continue
    }
    output.push(byte)
  }
  return new TextDecoder('utf-8').decode(new Uint8Array(output))
}

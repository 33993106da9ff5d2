const SUFFIXES = 'KMGTPE'

/**
 * Reads a decimal number as rsync prints it (`211,658,203.33`, `0.001`, `62,588.70`): ',' separates
 * thousands and '.' is the decimal point (or the other way round in locales with a decimal comma: the last
 * separator followed by digits to the end is taken as the decimal point only when the other one also occurs).
 *
 * @internal
 */
export function parseRsyncDecimal(text: string): number | undefined {
  if (!/^\d[\d,.]*$/.test(text)) return undefined
  const comma = text.lastIndexOf(',')
  const dot = text.lastIndexOf('.')
  const decimalComma = comma > dot && dot >= 0
  const normalised = decimalComma ? text.replaceAll('.', '').replace(',', '.') : text.replaceAll(',', '')
  const value = Number(normalised)
  return Number.isFinite(value) ? value : undefined
}

/**
 * Reads a count of bytes or files as rsync prints it: `12,345` (thousands separators, rsync's default),
 * `12345` (`--no-human-readable`), or `316.69M` (`-h`: units of 1000; with `-hh` pass `unitBase` 1024, the
 * value is then approximate). Returns undefined for anything else.
 *
 * @internal
 */
export function parseRsyncInteger(text: string, unitBase = 1000): number | undefined {
  const last = text.at(-1)?.toUpperCase() ?? ''
  const power = last === '' ? -1 : SUFFIXES.indexOf(last)
  if (power >= 0) {
    const value = parseRsyncDecimal(text.slice(0, -1))
    return value === undefined ? undefined : Math.round(value * unitBase ** (power + 1))
  }
  if (!/^\d[\d,.]*$/.test(text)) return undefined
  return Number(text.replace(/[,.]/g, ''))
}

/**
 * Compares two strings by Unicode code points (Python's string order). JavaScript's `<` compares UTF-16 code
 * units, which differs only for characters above U+FFFF against U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return adjust(x) - adjust(y)
  }
  return a.length - b.length
}

// Surrogates (U+D800–U+DFFF, only found in pairs for characters above U+FFFF) sort after U+E000–U+FFFF.
function adjust(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000
  if (unit >= 0xe000) return unit - 0x800
  return unit
}

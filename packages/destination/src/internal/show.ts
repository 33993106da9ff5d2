const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' }

/**
 * An expression as it appears in a message: control characters and unpaired surrogates are written as escapes,
 * so a message stays one readable line whatever the input held.
 */
export function showExpression(text: string): string {
  return text.replace(/\p{Cc}|\p{Cs}/gu, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

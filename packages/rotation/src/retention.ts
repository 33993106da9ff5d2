import { RotationError } from './errors.js'

/** The rotation frequencies, in the fixed order used for periods and reasons. */
export const FREQUENCIES = ['minutely', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const

/** A rotation frequency. */
export type Frequency = (typeof FREQUENCIES)[number]

/** How many buckets of a frequency to keep: a count (≥ 0) or every bucket. */
export type Retention = number | 'always'

/** Retention per frequency. A frequency absent from the scheme keeps nothing. */
export type RotationScheme = Partial<Record<Frequency, Retention>>

function bad(value: string, reason: string): never {
  throw new RotationError('ERR_RSB_ROTATION_BAD_RETENTION', `Invalid retention value ${JSON.stringify(value)}: ${reason}.`, {
    target: value,
    hint: "Use a whole number of 0 or more (arithmetic such as '7 * 2' is allowed) or 'always'.",
  })
}

type Token = { kind: 'number'; value: number } | { kind: 'op'; value: string }

function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  const re = /\s*(?:([0-9]+)|(\*\*|\/\/|[-+*/%()]))/y
  let at = 0
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break
    re.lastIndex = at
    const match = re.exec(text)
    if (!match) bad(text, 'not a number')
    at = re.lastIndex
    if (match[1] !== undefined) tokens.push({ kind: 'number', value: Number(match[1]) })
    else tokens.push({ kind: 'op', value: match[2]! })
  }
  return tokens
}

/**
 * Evaluates Python-style integer arithmetic: `+ - * / // % **`, unary signs and parentheses
 * (`**` binds tighter than a unary minus on its left and is right-associative; `/` is true division;
 * `//` and `%` floor like Python).
 */
function evaluate(text: string): number {
  const tokens = tokenize(text)
  if (tokens.length === 0) bad(text, 'empty')
  let pos = 0
  const peek = () => tokens[pos]
  const isOp = (value: string) => {
    const token = peek()
    return token?.kind === 'op' && token.value === value
  }
  const expression = (): number => {
    let left = term()
    while (isOp('+') || isOp('-')) {
      const op = (tokens[pos++] as Token).value
      const right = term()
      left = op === '+' ? left + right : left - right
    }
    return left
  }
  const term = (): number => {
    let left = unary()
    while (isOp('*') || isOp('/') || isOp('//') || isOp('%')) {
      const op = (tokens[pos++] as Token).value
      const right = unary()
      if ((op === '/' || op === '//' || op === '%') && right === 0) bad(text, 'division by zero')
      if (op === '*') left *= right
      else if (op === '/') left /= right
      else if (op === '//') left = Math.floor(left / right)
      else left = left - right * Math.floor(left / right)
    }
    return left
  }
  const unary = (): number => {
    if (isOp('-')) {
      pos++
      return -unary()
    }
    if (isOp('+')) {
      pos++
      return unary()
    }
    return power()
  }
  const power = (): number => {
    const base = atom()
    if (isOp('**')) {
      pos++
      const exponent = unary()
      return base ** exponent
    }
    return base
  }
  const atom = (): number => {
    const token = tokens[pos++]
    if (token?.kind === 'number') return token.value
    if (token?.kind === 'op' && token.value === '(') {
      const value = expression()
      if (!isOp(')')) bad(text, 'unbalanced parentheses')
      pos++
      return value
    }
    return bad(text, 'not a number')
  }
  const value = expression()
  if (pos !== tokens.length) bad(text, 'not a number')
  return value
}

/**
 * Parses a retention value as rotate-backups accepts it: `always` (any case, surrounding whitespace ignored),
 * a non-negative integer, or integer arithmetic (`7 * 2`, `21 * 2`, `8/2`). A number passes through the same
 * checks.
 *
 * @param value - the text (command line or configuration file) or a number
 * @returns the count, or `'always'`
 * @throws {RotationError} ERR_RSB_ROTATION_BAD_RETENTION for negative, fractional, non-numeric or unsafe values
 * @example
 * ```ts
 * parseRetention(' Always ') // 'always'
 * parseRetention('7 * 2')    // 14
 * ```
 */
export function parseRetention(value: string | number): Retention {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) bad(String(value), 'must be a whole number of 0 or more')
    return value
  }
  if (typeof value !== 'string') bad(String(value), 'must be text or a number')
  const text = value.trim()
  if (text.toLowerCase() === 'always') return 'always'
  const result = evaluate(text)
  if (!Number.isFinite(result) || !Number.isInteger(result)) bad(value, 'not a whole number')
  if (result < 0) bad(value, 'negative')
  if (!Number.isSafeInteger(result)) bad(value, 'too large')
  return result
}

/**
 * Checks a scheme: every value a valid retention, at least one frequency.
 *
 * @throws {RotationError} ERR_RSB_ROTATION_EMPTY_SCHEME, ERR_RSB_ROTATION_BAD_RETENTION
 */
export function validateScheme(scheme: RotationScheme): void {
  const keys = Object.keys(scheme)
  for (const key of keys) {
    if (!(FREQUENCIES as readonly string[]).includes(key)) {
      throw new RotationError('ERR_RSB_ROTATION_BAD_RETENTION', `Unknown rotation frequency ${JSON.stringify(key)}.`, {
        target: key,
        hint: `Use ${FREQUENCIES.join(', ')}.`,
      })
    }
    const value = scheme[key as Frequency]
    if (value !== undefined && value !== 'always') parseRetention(value)
  }
  if (!FREQUENCIES.some((frequency) => scheme[frequency] !== undefined)) {
    throw new RotationError('ERR_RSB_ROTATION_EMPTY_SCHEME', 'Refusing to use empty rotation scheme! (all backups would be deleted)', {
      hint: 'Give at least one of --minutely, --hourly, --daily, --weekly, --monthly or --yearly.',
    })
  }
}

/** Formats a scheme like rotate-backups logs it: `{'daily': 7, 'monthly': 'always'}`. */
export function formatScheme(scheme: RotationScheme): string {
  const parts = FREQUENCIES.filter((f) => scheme[f] !== undefined).map((f) => {
    const value = scheme[f]!
    return `'${f}': ${value === 'always' ? "'always'" : value}`
  })
  return `{${parts.join(', ')}}`
}

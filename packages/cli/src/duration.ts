const UNITS: readonly [string, number][] = [
  ['year', 52 * 7 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
]

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`
}

function roundSeconds(seconds: number): number {
  return Math.round(seconds * 100) / 100
}

/**
 * Formats a duration as the original's timer text: under a minute `0.06 seconds`, `1 second`; from a
 * minute up to the three largest non-zero units of years (52 weeks), weeks, days, hours, minutes and
 * seconds, joined as `a, b and c`.
 *
 * @param milliseconds - the duration
 * @example
 * ```ts
 * formatDuration(3723_000) // '1 hour, 2 minutes and 3 seconds'
 * ```
 */
export function formatDuration(milliseconds: number): string {
  const seconds = Math.max(0, milliseconds) / 1000
  if (seconds < 60) return plural(roundSeconds(seconds), 'second')
  let rest = seconds
  const parts: string[] = []
  for (const [unit, size] of UNITS) {
    const count = Math.floor(rest / size)
    if (count > 0) parts.push(plural(count, unit))
    rest -= count * size
  }
  const secondsLeft = roundSeconds(rest)
  if (secondsLeft > 0) parts.push(plural(secondsLeft, 'second'))
  return joinWords(parts.slice(0, 3))
}

/**
 * Joins words as `a`, `a and b`, `a, b and c`.
 *
 * @example
 * ```ts
 * joinWords(['create backup', 'create snapshot', 'rotate old snapshots'])
 * // 'create backup, create snapshot and rotate old snapshots'
 * ```
 */
export function joinWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join('')
  return `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`
}

const UNITS: readonly [string, number][] = [
  ['year', 52 * 7 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
]

const plural = (count: number, unit: string): string => `${count} ${unit}${count === 1 ? '' : 's'}`
const round = (seconds: number): number => Math.round(seconds * 100) / 100

/**
 * Joins words as `a`, `a and b`, `a, b and c` (no serial comma).
 *
 * @example
 * ```ts
 * joinWords(['create backup', 'create snapshot', 'rotate old snapshots']) // 'create backup, create snapshot and rotate old snapshots'
 * ```
 */
export function joinWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join('')
  return `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`
}

/**
 * rotate-backups' timer text: `0.06 seconds`, `1 second`; from a minute the three largest non-zero units of
 * years (52 weeks), weeks, days, hours, minutes, seconds: `1 hour, 2 minutes and 3 seconds`.
 */
export function formatDuration(milliseconds: number): string {
  const seconds = Math.max(0, milliseconds) / 1000
  if (seconds < 60) return plural(round(seconds), 'second')
  let rest = seconds
  const parts: string[] = []
  for (const [unit, size] of UNITS) {
    const count = Math.floor(rest / size)
    if (count > 0) parts.push(plural(count, unit))
    rest -= count * size
  }
  if (round(rest) > 0) parts.push(plural(round(rest), 'second'))
  return joinWords(parts.slice(0, 3))
}

// The value parsers of every rsb command and program (retention, rotation schemes, ionice classes, counts,
// durations, sizes): each calls the owning library's own validator (or a maintained library: ms for durations,
// bytes for sizes), so `rsb --rotation=daily=7*2` and `rsb rotate --daily='7*2'` agree.
import bytes from 'bytes'
import ms from 'ms'
import { parseIoniceClass, type IoniceClass } from '@rsb/exec'
import { FREQUENCIES, parseRetention, RotationError, type Frequency, type Retention, type RotationScheme } from '@rsb/rotation'
import { UsageError } from '../errors.js'

export type { Frequency, IoniceClass, Retention, RotationScheme }
export { FREQUENCIES }

/**
 * An I/O scheduling class: lower-cased and stripped, then checked by `@rsb/exec`'s `parseIoniceClass`.
 *
 * @throws {UsageError} ERR_RSB_CLI_USAGE with the originals' message
 * @example
 * ```ts
 * parseIonice(' Idle ') // 'idle'
 * ```
 */
export function parseIonice(value: string): IoniceClass {
  try {
    return parseIoniceClass(value.trim().toLowerCase())
  } catch (error) {
    throw new UsageError(`Invalid I/O scheduling class! (got '${value}' while valid options are idle, best-effort, realtime, 1, 2 and 3)`, {
      hint: 'Use one of: idle, best-effort, realtime, 1, 2, 3.',
      cause: error,
    })
  }
}

/**
 * A count written as plain digits (surrounding whitespace ignored), from 0 to `max`.
 *
 * @param what - what it counts, for the message (`--keep-latest`, `keep-latest count`)
 * @throws {UsageError} ERR_RSB_CLI_USAGE
 * @example
 * ```ts
 * parseCount(' 3 ', '--keep-latest') // 3
 * ```
 */
export function parseCount(value: string, what: string, max: number = Number.MAX_SAFE_INTEGER): number {
  const text = value.trim()
  const count = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN
  if (!(Number.isSafeInteger(count) && count <= max)) {
    throw new UsageError(`Invalid ${what}: '${value}'.`, {
      hint: max === Number.MAX_SAFE_INTEGER ? 'Use a whole number of 0 or more.' : `Use a whole number from 0 to ${max}.`,
    })
  }
  return count
}

/**
 * A retention value as `@rsb/rotation`'s `parseRetention` reads it: `always`, a whole number, or integer
 * arithmetic (`7*2`).
 *
 * @param where - where it was given, added to the message (`daily in --rotation=daily=x`)
 * @throws {RotationError} ERR_RSB_ROTATION_BAD_RETENTION
 */
export function parseRetentionValue(value: string, where?: string): Retention {
  try {
    return parseRetention(value)
  } catch (error) {
    if (where === undefined || !(error instanceof RotationError)) throw error
    throw new RotationError(error.code, `${error.message.replace(/\.$/, '')} (${where}).`, {
      hint: error.hint,
      target: value,
      cause: error,
    })
  }
}

/**
 * Parses a rotation scheme written as one value (`rsb --rotation=SPEC`): comma-separated `FREQUENCY=COUNT` pairs,
 * each COUNT a retention value ({@link parseRetentionValue}). A frequency given twice takes the last value.
 *
 * @param as - how the option was written, for messages (`--rotation`)
 * @throws {UsageError} ERR_RSB_CLI_USAGE for an unknown frequency, an empty scheme, or a scheme that keeps nothing
 *   but the newest snapshot (every count 0, no `always`)
 * @throws {RotationError} ERR_RSB_ROTATION_BAD_RETENTION for a bad count
 * @example
 * ```ts
 * parseRotationSpec('hourly=24,daily=7*2,monthly=always') // { hourly: 24, daily: 14, monthly: 'always' }
 * ```
 */
export function parseRotationSpec(spec: string, as = '--rotation', fallback?: Readonly<RotationScheme>): RotationScheme {
  const scheme: RotationScheme = {}
  for (const part of spec.split(',')) {
    if (part.trim() === '') continue
    const eq = part.indexOf('=')
    const frequency = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase()
    if (!(FREQUENCIES as readonly string[]).includes(frequency)) {
      throw new UsageError(`Unknown rotation frequency '${frequency}' in ${as}=${spec}.`, {
        hint: `Use ${FREQUENCIES.join(', ')}, each as FREQUENCY=COUNT or FREQUENCY=always.`,
      })
    }
    scheme[frequency as Frequency] = parseRetentionValue(eq === -1 ? '' : part.slice(eq + 1), `${frequency} in ${as}=${spec}`)
  }
  if (Object.keys(scheme).length === 0) {
    throw new UsageError('Refusing to use empty rotation scheme! (all backups would be deleted)', {
      hint: `Give at least one FREQUENCY=COUNT, for example ${as}=daily=7.`,
    })
  }
  if (Object.values(scheme).every((retention) => retention === 0)) {
    const otherwise = fallback ? `, or leave ${as} out for the default ${formatRotationSpec(fallback)}` : ''
    throw new UsageError(`${as}=${spec} keeps nothing but the newest snapshot (every count is 0 and none is "always").`, {
      hint: `Give a count above 0, for example ${as}=daily=7${otherwise}.`,
    })
  }
  return scheme
}

/**
 * Formats a scheme as a rotation spec (frequencies in their fixed order).
 *
 * @example
 * ```ts
 * formatRotationSpec({ monthly: 'always', hourly: 24 }) // 'hourly=24,monthly=always'
 * ```
 */
export function formatRotationSpec(scheme: Readonly<RotationScheme>): string {
  return FREQUENCIES.filter((f) => scheme[f] !== undefined)
    .map((f) => `${f}=${scheme[f]}`)
    .join(',')
}

// One number (no sign) and one unit: the libraries accept more (ms reads "100" as milliseconds, bytes reads "10G" as
// 10), and a value that is not clearly one thing is refused rather than guessed.
// A duration's unit is lower case but for the first letter (`M` could be minutes or months: refused).
const DURATION = /^(\d+(?:\.\d+)?) *([a-zA-Z][a-z]*)$/
const SIZE = /^(\d+(?:\.\d+)?) *(?:([kmgtp])(?:i?b)?|b)?$/i
const SIZE_UNITS = 'kmgtp'

/**
 * A duration in whole seconds: plain digits are seconds (`600`), else one number and a unit as `ms` reads it
 * (`90s`, `10m`, `1.5h`, `2d`, `1w`, `10 minutes`).
 *
 * @param what - where it was given, for the message (`--timeout`)
 * @throws {UsageError} ERR_RSB_CLI_USAGE for anything else, a negative value, or a fraction of a second
 * @example
 * ```ts
 * parseDuration('10m', '--timeout') // 600
 * ```
 */
export function parseDuration(value: string, what: string, max: number = Number.MAX_SAFE_INTEGER): number {
  const text = value.trim()
  const bad = () =>
    new UsageError(`Invalid duration for ${what}: '${value}'.`, {
      hint: `Give seconds (600) or a number and a unit: 90s, 10m, 1.5h, 2d, 1w${max === Number.MAX_SAFE_INTEGER ? '' : ` (at most ${max} s)`}.`,
    })
  let seconds: number
  if (/^\d+$/.test(text)) seconds = Number(text)
  else {
    const match = DURATION.exec(text)
    const unit = match?.[2]
    // ms reads its units in any case; `M` alone is refused rather than read as minutes
    const parsed = match && unit !== 'M' ? ms(`${match[1]}${unit}` as ms.StringValue) : undefined
    // 1.1h is 3960000.0000000005 ms in floating point: a whole number of seconds within rounding
    const milliseconds = parsed === undefined || !Number.isFinite(parsed) ? undefined : Math.round(parsed)
    if (milliseconds === undefined || milliseconds % 1000 !== 0) throw bad()
    seconds = milliseconds / 1000
  }
  if (!(Number.isSafeInteger(seconds) && seconds >= 0 && seconds <= max)) throw bad()
  return seconds
}

/**
 * A size in bytes: plain digits are bytes, else one number and a unit as `bytes` reads it, in powers of 1024
 * (`512K`, `512KB`, `10G`, `1.5TiB`); a fraction of a byte is refused (`1.3K`).
 *
 * @param what - where it was given, for the message
 * @throws {UsageError} ERR_RSB_CLI_USAGE for anything else or a fraction of a byte
 * @example
 * ```ts
 * parseSize('10G', '--min-free') // 10737418240
 * ```
 */
export function parseSize(value: string, what: string): number {
  const match = SIZE.exec(value.trim())
  // a fraction of a byte is not a size (bytes would round 1.3K down to 1331 and 0.5 to 0)
  const power = match?.[2] ? SIZE_UNITS.indexOf(match[2].toLowerCase()) + 1 : 0
  const whole = match !== null && Number.isInteger(Number(match[1]) * 1024 ** power)
  const size = match && whole ? bytes.parse(`${match[1]}${match[2] ? `${match[2]}b` : 'b'}`) : null
  if (size === null || !Number.isSafeInteger(size) || size < 0) {
    throw new UsageError(`Invalid size for ${what}: '${value}'.`, {
      hint: 'Give bytes (1048576) or a number and a unit: 512K, 100M, 10G, 1.5T (powers of 1024).',
    })
  }
  return size
}

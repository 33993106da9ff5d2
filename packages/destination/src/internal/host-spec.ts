/** The `[user@]host` part at the start of a remote expression, as far as the first `:` or `/`. */
export interface HostSpec {
  /** Index of the `:` or `/` that ended the host spec, or the text's length. */
  readonly end: number
  /** Text before the first `@`; `undefined` without an `@`. */
  readonly user: string | undefined
  /** The host; for `[…]` the text inside the brackets. */
  readonly host: string
  /** The host was written in brackets (`[::1]`). */
  readonly bracketed: boolean
}

/**
 * Reads `[user@]host` from `start` up to the first `:` or `/`, the way rsync does, with the original's user rule:
 * the user ends at the first `@` (`a@b@c:/x` is user `a`, host `b@c`). A `[` right at the start of the host, with
 * a `]` before any `/`, groups what is inside (its colons do not end the host); the group is a bracketed host (an
 * IPv6 literal) when the `]` is followed by `:`, or, in an `rsync://` URL, by `/` or the end. Otherwise brackets
 * are ordinary characters (`[::1]` and `[2024]/x` are local paths; the parser refuses a host such as `[::1]x`).
 */
export function scanHostSpec(text: string, start: number, url: boolean): HostSpec {
  let at = -1
  let hostStart = start
  let bracketEnd = -1
  let i = start
  for (; i < text.length; i++) {
    const c = text[i]
    if (c === ':' || c === '/') break
    if (c === '@' && at < 0) {
      at = i
      hostStart = i + 1
    } else if (c === '[' && i === hostStart) {
      const close = text.indexOf(']', i + 1)
      const slash = text.indexOf('/', i + 1)
      if (close > 0 && (slash < 0 || close < slash)) {
        const after = text[close + 1]
        if (after === ':' || (url && (after === '/' || after === undefined))) bracketEnd = close
        i = close
      }
    }
  }
  return {
    end: i,
    user: at < 0 ? undefined : text.slice(start, at),
    host: bracketEnd < 0 ? text.slice(hostStart, i) : text.slice(hostStart + 1, bracketEnd),
    bracketed: bracketEnd >= 0,
  }
}

import { describe, expect, it } from 'vitest'
import { OPTIONS, formatDuration, helpText, joinWords } from '../src/index.ts'

describe('help text', () => {
  const text = helpText()

  it('starts with the usage line and documents every option', () => {
    expect(text.startsWith('Usage: rsb [OPTIONS] [SOURCE] DESTINATION\n')).toBe(true)
    for (const option of OPTIONS) {
      expect(text).toContain(`--${option.name}`)
      if (option.short) expect(text).toContain(`-${option.short}`)
    }
  })

  it('documents the exit statuses and the fixed help errors of the original', () => {
    for (const status of ['  0 ', '  1 ', '  2 ', '  130 ', '  143 ']) expect(text).toContain(status)
    const flat = text.replace(/\s+/g, ' ')
    expect(flat).toMatch(/rsync, the snapshot copy and the removal of old snapshots/)
    expect(flat).toMatch(/not given --one-file-system/)
    expect(text).toContain('RSYNC_MODULE_PATH')
  })

  it('keeps lines within 80 columns', () => {
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(80)
  })
})

describe('formatDuration', () => {
  it.each([
    [0, '0 seconds'],
    [1000, '1 second'],
    [60, '0.06 seconds'],
    [3140, '3.14 seconds'],
    [59_994, '59.99 seconds'],
    [60_000, '1 minute'],
    [3_723_000, '1 hour, 2 minutes and 3 seconds'],
    [90_061_000, '1 day, 1 hour and 1 minute'],
    [2 * 364 * 86_400_000 + 3_600_000, '2 years and 1 hour'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })

  it('joins words as a, b and c', () => {
    expect(joinWords([])).toBe('')
    expect(joinWords(['a'])).toBe('a')
    expect(joinWords(['a', 'b'])).toBe('a and b')
    expect(joinWords(['create backup', 'create snapshot', 'rotate old snapshots'])).toBe(
      'create backup, create snapshot and rotate old snapshots',
    )
  })
})

import { quoteArgument as execQuoteArgument, quoteCommandLine as execQuoteCommandLine } from '@rsb/exec'
import { describe, expect, it } from 'vitest'
import { quoteArgument, quoteCommandLine } from '../src/io/quote.ts'

describe("the log lines' copy of @rsb/exec's quoting", () => {
  it('agrees with @rsb/exec', () => {
    const words = [
      '',
      'plain',
      '/a/b-c_d.e',
      'a b',
      "it's",
      '"',
      '$(rm -rf /)',
      'new\nline',
      'ünï',
      '\u{1F600}',
      '-rf',
      '*',
      '~',
      'a=b',
      '@%+:,',
    ]
    for (const word of words) expect(quoteArgument(word), word).toBe(execQuoteArgument(word))
    expect(quoteCommandLine(words)).toBe(execQuoteCommandLine(words))
  })
})

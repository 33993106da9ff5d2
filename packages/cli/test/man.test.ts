// rsb(1) as Markdown (unit tier): its sections in order, every command with its summary and every long option of
// its table, the backup's OPTIONS, the exit statuses and environment variables of rsb --help; the help-text splitter.
import { describe, expect, it } from 'vitest'
import { OPTIONS } from '../src/args.ts'
import { COMMANDS } from '../src/commands/index.ts'
import { helpText } from '../src/help.ts'
import { helpBlocks, manPageMarkdown, markdownText } from '../src/man.ts'

const SECTIONS = ['SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'OPTIONS', 'EXIT STATUS', 'FILES', 'ENVIRONMENT', 'EXAMPLES', 'SEE ALSO']

describe('rsb(1) as Markdown', () => {
  it('starts with the ronn heading (NAME) and has the sections in order', async () => {
    const markdown = await manPageMarkdown()
    expect(markdown.split('\n')[0]).toMatch(/^# rsb\(1\) -- \S/)
    const headings = [...markdown.matchAll(/^## (.+)$/gm)].map((m) => m[1])
    expect(headings).toEqual(SECTIONS)
  })

  it('has every command with its summary, and every long option of its table', async () => {
    const markdown = await manPageMarkdown()
    const commands = markdown.slice(markdown.indexOf('## COMMANDS'), markdown.indexOf('## OPTIONS'))
    for (const command of COMMANDS) {
      expect(commands).toContain(`### ${command.name}\n\n${markdownText(command.summary)}.`)
      if (command.load === undefined || command.name === 'backup') continue
      const block = commands.slice(commands.indexOf(`### ${command.name}\n`)).split(/\n### /)[0]!
      for (const option of (await command.load()).options)
        expect(block, `${command.name} --${option.name}`).toContain(`\`--${option.name}\``)
    }
  })

  it('has the backup’s OPTIONS, the exit statuses, FILES and the environment of rsb --help', async () => {
    const markdown = await manPageMarkdown()
    const options = markdown.slice(markdown.indexOf('## OPTIONS'), markdown.indexOf('## EXIT STATUS'))
    for (const option of OPTIONS) expect(options).toContain(`\`--${option.name}\``)
    expect(options).toContain('* `-n`, `--dry-run`\n')
    expect(options).toContain('* `-x` *PATTERN*, `--exclude`=*PATTERN*\n')
    const exit = markdown.slice(markdown.indexOf('## EXIT STATUS'), markdown.indexOf('## FILES'))
    for (const status of ['0', '1', '2', '130', '143']) expect(exit).toContain(`* **${status}**\n`)
    expect(markdown).toContain('* **/etc/rsb/rsb.toml**')
    const environment = markdown.slice(markdown.indexOf('## ENVIRONMENT'), markdown.indexOf('## EXAMPLES'))
    for (const name of ['RSB\\_CONFIG', 'RSYNC\\_MODULE\\_PATH', 'NODE\\_DEBUG=rsb:exec', 'TZ']) expect(environment).toContain(name)
    expect(markdown).toMatch(/## SEE ALSO\n\nrsync\(1\)/)
  })
})

describe('helpBlocks', () => {
  it('splits a help text into its usage, paragraphs (wrapped lines joined) and sections of entries', () => {
    const text = [
      'Usage: rsb x [OPTIONS] DESTINATION',
      '       rsb x --other',
      '',
      'One paragraph',
      'on two lines.',
      '',
      'Exit status:',
      '  0    fine',
      '  1    an error that',
      '       wraps',
      '  RSYNC_PID, RSYNC_ARG0',
      '                     below',
      '',
      'Examples:',
      '  rsb x /mnt',
      '',
    ].join('\n')
    expect(helpBlocks(text)).toEqual([
      { kind: 'usage', lines: ['rsb x [OPTIONS] DESTINATION', 'rsb x --other'] },
      { kind: 'paragraph', text: 'One paragraph on two lines.' },
      {
        kind: 'section',
        title: 'Exit status',
        entries: [
          { term: '0', description: 'fine' },
          { term: '1', description: 'an error that wraps' },
          { term: 'RSYNC_PID, RSYNC_ARG0', description: 'below' },
        ],
      },
      { kind: 'section', title: 'Examples', entries: [{ term: 'rsb x /mnt', description: '' }] },
    ])
  })

  it('reads rsb --help: its two usage lines, its exit statuses', () => {
    const blocks = helpBlocks(helpText('rsb'))
    expect(blocks[0]).toMatchObject({ kind: 'usage' })
    const exit = blocks.find((b) => b.kind === 'section' && b.title === 'Exit status')
    expect(exit?.kind === 'section' && exit.entries.map((e) => e.term)).toEqual(['0', '1', '2', '130', '143'])
  })

  it('escapes what Markdown would read as markup', () => {
    expect(markdownText('a*b_c [x] `y` <z> \\')).toBe('a\\*b\\_c \\[x\\] \\`y\\` \\<z\\> \\\\')
  })
})

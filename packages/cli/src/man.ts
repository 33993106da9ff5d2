// rsb(1), the manual page, as Markdown for a Markdown → roff converter (scripts/build-man.mjs, at build time): made
// from what the help prints (helpText, each command's help() and option table), so that the page and `--help` never
// disagree. Pure but for loading the command modules.
import { OPTIONS } from './args.js'
import { commandHelp, commandOptions, COMMANDS, type CommandModule } from './commands/index.js'
import type { OptionDefinition } from './kit/getopt.js'
import { helpText } from './help.js'

/** One block of a help text: its usage lines, a paragraph, or a titled section (`Exit status:`) of entries. */
export type HelpBlock =
  | { readonly kind: 'usage'; readonly lines: readonly string[] }
  | { readonly kind: 'paragraph'; readonly text: string }
  | { readonly kind: 'section'; readonly title: string; readonly entries: readonly HelpEntry[] }

/** One entry of a help section: `  0    success…`, `  RSB_LOCK_DIR  where…`, or an example line (no description). */
export interface HelpEntry {
  readonly term: string
  readonly description: string
}

/**
 * Splits a help text (the kit's format: a `Usage:` block, paragraphs wrapped at 80 columns, sections such as
 * `Options:` whose entries are indented by two spaces) into blocks; wrapped lines are joined again.
 *
 * @example
 * ```ts
 * helpBlocks('Usage: rsb help [COMMAND]\n\nPrint\nthe help.\n')
 * // [{ kind: 'usage', lines: ['rsb help [COMMAND]'] }, { kind: 'paragraph', text: 'Print the help.' }]
 * ```
 */
export function helpBlocks(text: string): HelpBlock[] {
  const blocks: HelpBlock[] = []
  const lines = text.split('\n')
  let i = 0
  while (i < lines.length) {
    if ((lines[i] ?? '').trim() === '') {
      i++
      continue
    }
    const group: string[] = []
    while (i < lines.length && (lines[i] ?? '').trim() !== '') group.push(lines[i++] ?? '')
    const [first = '', ...rest] = group
    if (first.startsWith('Usage:')) {
      blocks.push({ kind: 'usage', lines: group.map((line) => line.replace(/^(Usage:)?\s+/, '')) })
    } else if (/^\S[^:]*:$/.test(first) && rest.every((line) => line.startsWith('  '))) {
      blocks.push({ kind: 'section', title: first.slice(0, -1), entries: sectionEntries(rest) })
    } else {
      blocks.push({ kind: 'paragraph', text: group.map((line) => line.trim()).join(' ') })
    }
  }
  return blocks
}

/** The entries of a section's lines: a line indented by two starts one (term, two spaces, description), deeper ones go on. */
function sectionEntries(lines: readonly string[]): HelpEntry[] {
  const entries: { term: string; description: string }[] = []
  for (const line of lines) {
    const last = entries.at(-1)
    if (/^ {2}\S/.test(line) || last === undefined) {
      const match = /^\s*(\S.*?)(?: {2,}(\S.*))?$/.exec(line)
      entries.push({ term: match?.[1] ?? line.trim(), description: match?.[2] ?? '' })
    } else {
      last.description = `${last.description} ${line.trim()}`.trim()
    }
  }
  return entries
}

/** Text for Markdown: what Markdown would read as markup is escaped (the converter escapes for roff). */
export function markdownText(text: string): string {
  return text.replace(/[\\`*_[\]<>#|~]/g, (c) => `\\${c}`)
}

/** An option's term: `` `-x` *PATTERN*, `--exclude`=*PATTERN* ``. */
function optionTerm(option: OptionDefinition): string {
  const value = option.value === undefined ? '' : markdownText(option.value)
  const long = option.value === undefined ? `\`--${option.name}\`` : `\`--${option.name}\`=*${value}*`
  if (option.short === undefined) return long
  return option.value === undefined ? `\`-${option.short}\`, ${long}` : `\`-${option.short}\` *${value}*, ${long}`
}

/** A definition list: `* TERM` then the description indented below (the converter's list items become .TP). */
function definitions(items: readonly (readonly [term: string, description: string])[]): string[] {
  return items.map(([term, description]) => `* ${term}\n  ${description}`)
}

function optionList(options: readonly OptionDefinition[]): string {
  return definitions(options.map((option) => [optionTerm(option), markdownText(option.description)])).join('\n')
}

function entryList(entries: readonly HelpEntry[]): string {
  return definitions(entries.map((entry) => [`**${markdownText(entry.term)}**`, markdownText(entry.description)])).join('\n')
}

/** A code block (four spaces: the converter keeps it as typed). */
function codeBlock(lines: readonly string[]): string {
  return lines.map((line) => `    ${line}`).join('\n')
}

/** A usage line with its program in bold: `**rsb list** [OPTIONS] DESTINATION`. */
function usageLine(line: string): string {
  const match = /^(rsb(?:-rotate)?(?: [a-z]+)?|rsync-system-backup)(?= |$)(.*)$/.exec(line)
  const program = match?.[1] ?? ''
  const rest = match?.[2] ?? line
  const command = program.split(' ')[1]
  // `rsb COMMAND …` names no command: only a real command word is bold with the program
  if (command !== undefined && !COMMANDS.some((c) => c.name === command)) return `**rsb**${markdownText(program.slice(3) + rest)}`
  return `**${program}**${markdownText(rest)}`
}

function blocksOf(blocks: readonly HelpBlock[], kind: HelpBlock['kind']): HelpBlock[] {
  return blocks.filter((block) => block.kind === kind)
}

function section(blocks: readonly HelpBlock[], title: string): readonly HelpEntry[] {
  const found = blocks.find((block) => block.kind === 'section' && block.title === title)
  return found?.kind === 'section' ? found.entries : []
}

/** The files rsb reads and writes (the configuration file's jobs: `rsb run`, `rsb config`, `rsb systemd`). */
const FILES: readonly (readonly [string, string])[] = [
  [
    '/etc/rsb/rsb.toml',
    'The configuration file: the jobs that rsb run, rsb config and rsb systemd read. $RSB_CONFIG or --config=FILE name another file.',
  ],
  [
    'DESTINATION/../.rsb/',
    'The store’s metadata beside the snapshots: the mirrors, the snapshots’ manifests, the runs, the content hashes (see the README).',
  ],
  ['/run/rsb/', 'The run locks, as root (see RSB_LOCK_DIR).'],
  ['/etc/crypttab, /etc/fstab', 'The disks --crypto unlocks and the filesystems --mount mounts.'],
  [
    '/etc/rotate-backups.ini, ~/.rotate-backups.ini, ~/.config/rotate-backups.ini',
    'The locations rsb rotate (rsb-rotate) rotates when it is given no DIRECTORY.',
  ],
  [
    'PREFIX/share/bash-completion/completions/rsb',
    'The bash completion of rsb (and of rsync-system-backup and rsb-rotate), as scripts/install.sh installs it ' +
      '(PREFIX /usr/local by default); rsb completion bash prints it.',
  ],
]

/** Environment variables the help does not name (read by the configuration file's commands). */
const MORE_ENVIRONMENT: readonly HelpEntry[] = [
  { term: 'RSB_CONFIG', description: 'the configuration file of jobs (default /etc/rsb/rsb.toml; --config=FILE wins)' },
]

const EXAMPLES: readonly string[] = [
  'rsb --dry-run / /mnt/backups/latest      # what a backup of / would do',
  'sudo rsb / /mnt/backups/latest            # back up /, snapshot, rotate',
  'rsb -x /home/.cache --rotation=daily=14,monthly=always / nas:/srv/backups/latest',
  'rsb list /mnt/backups/latest              # the snapshots',
  'rsb status --max-age=26h /mnt/backups/latest',
  'rsb-rotate --daily=7 --weekly=4 --dry-run /mnt/backups',
  'rsb completion bash > ~/.local/share/bash-completion/completions/rsb',
]

/** rsb's one-line description (NAME). */
export const MAN_DESCRIPTION = 'Linux system backups powered by rsync: backup, snapshot, rotation'

/**
 * The manual page rsb(1) as Markdown (ronn's `# name(section) -- description` heading, then NAME, SYNOPSIS,
 * DESCRIPTION, COMMANDS, OPTIONS, EXIT STATUS, FILES, ENVIRONMENT, EXAMPLES, SEE ALSO), made from the help texts and
 * option tables.
 *
 * @returns Markdown for marked-man (scripts/build-man.mjs turns it into roff)
 * @example
 * ```ts
 * process.stdout.write(await manPageMarkdown())
 * ```
 */
export async function manPageMarkdown(): Promise<string> {
  const main = helpBlocks(helpText('rsb'))
  const modules = new Map<string, CommandModule<unknown>>()
  for (const command of COMMANDS) if (command.load) modules.set(command.name, (await command.load()) as CommandModule<unknown>)
  const rotate = modules.get('rotate')
  const rotateUsage = rotate ? (blocksOf(helpBlocks(rotate.help()), 'usage')[0] as { lines: string[] } | undefined)?.lines : undefined
  const mainUsage = (blocksOf(main, 'usage')[0] as { lines: string[] } | undefined)?.lines ?? []
  const synopsis = [
    ...mainUsage.map((line) => line.replace(/\s{2,}\(.*\)$/, '')),
    'rsync-system-backup [OPTIONS] [SOURCE] DESTINATION',
    ...(rotateUsage ?? []).filter((line) => line.startsWith('rsb-rotate')),
  ]
  const paragraphs = blocksOf(main, 'paragraph').map((block) => (block.kind === 'paragraph' ? block.text : ''))
  // the help's sentence on abbreviations goes with the options
  const abbreviations = paragraphs.filter((text) => text.startsWith('Long options'))
  const description = paragraphs.filter((text) => !abbreviations.includes(text))

  const out: string[] = [
    `# rsb(1) -- ${MAN_DESCRIPTION}`,
    '',
    '## SYNOPSIS',
    '',
    synopsis.map(usageLine).join('  \n'),
    '',
    '## DESCRIPTION',
    '',
    ...description.flatMap((text) => [markdownText(text), '']),
    markdownText(
      'rsync-system-backup is rsb under the original program’s name and grammar, forever without commands. ' +
        'rsb-rotate is rsb rotate (rotate-backups 8.1’s command line).',
    ),
    '',
    '## COMMANDS',
    '',
  ]
  for (const command of COMMANDS) {
    const module = modules.get(command.name)
    out.push(`### ${command.name}`, '', `${markdownText(command.summary)}.`, '')
    if (module === undefined) continue
    if (command.name === 'backup') {
      out.push(markdownText('The backup described above, with the OPTIONS below: rsb backup [OPTIONS] [SOURCE] DESTINATION.'), '')
      continue
    }
    const blocks = helpBlocks(commandHelp(command.name, module))
    const usage = blocksOf(blocks, 'usage').flatMap((block) => (block.kind === 'usage' ? block.lines : []))
    if (usage.length > 0) out.push(usage.map(usageLine).join('  \n'), '')
    for (const block of blocks) if (block.kind === 'paragraph') out.push(markdownText(block.text), '')
    const options = commandOptions(command.name, module.options)
    if (options.length > 0) out.push(`**Options of rsb ${command.name}:**`, '', optionList(options), '')
    for (const block of blocks) {
      // the Jobs section's options are in the list above
      if (block.kind !== 'section' || block.title === 'Options' || block.title === 'Jobs') continue
      out.push(`**${markdownText(block.title)}:**`, '')
      if (block.entries.every((entry) => entry.description === '')) out.push(codeBlock(block.entries.map((e) => e.term)), '')
      else out.push(entryList(block.entries), '')
    }
  }
  const environment = [...section(main, 'Environment'), ...MORE_ENVIRONMENT].map((entry) =>
    entry.term.startsWith('NODE_DEBUG') ? { ...entry, description: `${entry.description} (for example NODE_DEBUG=rsb:exec)` } : entry,
  )
  out.push(
    '## OPTIONS',
    '',
    markdownText('The options of the backup (rsb, rsb backup and rsync-system-backup).'),
    '',
    optionList(commandOptions('backup', OPTIONS)),
    '',
    ...abbreviations.flatMap((text) => [markdownText(text), '']),
    '## EXIT STATUS',
    '',
    entryList(section(main, 'Exit status')),
    '',
    '## FILES',
    '',
    entryList(FILES.map(([term, description]) => ({ term, description }))),
    '',
    '## ENVIRONMENT',
    '',
    entryList(environment),
    '',
    '## EXAMPLES',
    '',
    codeBlock(EXAMPLES),
    '',
    '## SEE ALSO',
    '',
    'rsync(1), rsyncd.conf(5), ssh(1), sudo(8), crypttab(5), fstab(5), ionice(1), systemd.timer(5)',
    '',
  )
  return out.join('\n')
}

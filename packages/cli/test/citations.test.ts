// Tier 1: the sources, tests, benchmarks, scripts and READMEs cite nothing a reader of the repository cannot open:
// no document that is not in it (a `NAME.md` found nowhere in the tree), no section number of such a document
// ("reference 3.2", "reference section 10.4", "acceptance 4.5.2"), no bare test-list number ("15.1 #6"), and no
// issue of a tracker outside the repository ("issue 9", "Issue 16 point 7"). Public upstream references keep their
// project ("rotate-backups issue #31", "rsync issues 494, 915"); man pages, RFCs and URLs are fine. Only reads files.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = path.resolve(import.meta.dirname, '../../..')
const SELF = path.relative(ROOT, fileURLToPath(import.meta.url))

/** What is scanned, relative to the repository root. */
const SCANNED = ['packages', 'scripts', 'bench', '.ci', 'README.md']
/** Scanned files: these extensions, README.md, and scripts without an extension that start with `#!`. */
const SCANNED_EXTENSIONS = new Set(['.ts', '.mts', '.mjs', '.js', '.sh'])
/** Never read, never counted as holding documents: installed and built files, and what .gitignore leaves out. */
const IGNORED_DIRECTORIES = new Set(['node_modules', 'dist', '.git'])
const IGNORED_AT_ROOT = new Set(['.bench-tmp', 'test-results'])

/**
 * Citations accepted as they are, as `file:line`. Keep it empty: a citation is rewritten into words that say what
 * is meant (or dropped), not listed here.
 */
const KNOWN_EXCEPTIONS: readonly string[] = []

type CitationKind = 'missing document' | 'reference section' | 'test-list number' | 'tracker issue'

interface Citation {
  /** 1-based */
  readonly line: number
  readonly kind: CitationKind
  readonly text: string
}

/** `NAME.md`, with the path written before it (`../fixtures/README.md`); not inside a URL (every part follows a `/`). */
const DOCUMENT = /(?<![\w./-])(?:\.{0,2}\/)?(?:[\w.-]+\/)*[\w.-]*[\w-]\.md(?![\w])/g
/** A section of a reference document: "reference 3.2", "(reference section 10.4)", "reference: 8", "§ 4", "acceptance 4.5.2". */
const REFERENCE_SECTION = /\breference\b[\s:,(]*(?:sections?\s+)?\d+(?:\.\d+)*|§\s*\d|\bacceptance\s+\d+(?:\.\d+)+/gi
/** A reference's test-list number written bare: "15.1 #6", "(15.2 #3, #9)". */
const TEST_LIST_NUMBER = /\b\d+\.\d+\s*#\d+/g
/** "issue 9", "issues 9 and 10", "Issue 16 point 7"; not "issue #9" (see PROJECT_BEFORE for the allowed ones). */
const TRACKER_ISSUE = /\bissues?\s+\d+/gi
/** What may come right before "issue N" on the same line: a public project, `owner/repo`, "upstream" or "GitHub". */
const PROJECT_BEFORE =
  /(?:^|[\s(`'"])(?:[\w.-]+\/[\w.-]+|rotate-backups|rsync-system-backup|rsync|upstream|github|gitlab|node(?:\.js|js)?|vitest|openssh|util-linux|cryptsetup|systemd|debian|ssh2|execa|luxon|typescript|pnpm|oxc|oxlint|oxfmt)(?:'s|')?\s*$/i

/**
 * The citations in `text`, line by line. `documentExists` says whether a `NAME.md` as written (with its path) is
 * in the repository.
 */
function findCitations(text: string, documentExists: (mention: string) => boolean): Citation[] {
  const found: Citation[] = []
  text.split('\n').forEach((content, index) => {
    const line = index + 1
    for (const match of content.matchAll(DOCUMENT)) {
      if (!documentExists(match[0])) found.push({ line, kind: 'missing document', text: match[0] })
    }
    for (const match of content.matchAll(REFERENCE_SECTION)) found.push({ line, kind: 'reference section', text: match[0] })
    for (const match of content.matchAll(TEST_LIST_NUMBER)) found.push({ line, kind: 'test-list number', text: match[0] })
    for (const match of content.matchAll(TRACKER_ISSUE)) {
      if (!PROJECT_BEFORE.test(content.slice(0, match.index))) found.push({ line, kind: 'tracker issue', text: match[0] })
    }
  })
  return found.sort((a, b) => a.line - b.line)
}

function ignoredDirectory(relative: string): boolean {
  const name = path.basename(relative)
  return (
    IGNORED_DIRECTORIES.has(name) || IGNORED_AT_ROOT.has(relative) || relative === '.changeset' || /(?:^|\/)test\/fixtures$/.test(relative)
  )
}

/** Every file below `relative` (a directory or a file), relative to the root; `skip` says which directories to leave out. */
function walk(relative: string, skip: (relative: string) => boolean): string[] {
  const absolute = path.join(ROOT, relative)
  if (!fs.existsSync(absolute)) return []
  if (!fs.statSync(absolute).isDirectory()) return [relative]
  const files: string[] = []
  for (const entry of fs.readdirSync(absolute, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const child = relative === '' ? entry.name : `${relative}/${entry.name}`
    if (entry.isDirectory()) {
      if (!skip(child)) files.push(...walk(child, skip))
    } else if (entry.isFile()) files.push(child)
  }
  return files
}

function scanned(relative: string): boolean {
  const name = path.basename(relative)
  if (name === 'CHANGELOG.md' || relative === SELF) return false
  if (name === 'README.md' || SCANNED_EXTENSIONS.has(path.extname(name))) return true
  return path.extname(name) === '' && fs.readFileSync(path.join(ROOT, relative), 'utf8').startsWith('#!')
}

/** Base names of every `.md` file in the repository (CHANGELOG.md and .changeset included; node_modules not). */
const DOCUMENTS = new Set(
  walk('', (relative) => IGNORED_DIRECTORIES.has(path.basename(relative)) || IGNORED_AT_ROOT.has(relative))
    .filter((file) => file.endsWith('.md'))
    .map((file) => path.basename(file)),
)

function documentExistsFor(file: string): (mention: string) => boolean {
  return (mention) =>
    fs.existsSync(path.resolve(ROOT, path.dirname(file), mention)) ||
    fs.existsSync(path.join(ROOT, mention)) ||
    DOCUMENTS.has(path.basename(mention))
}

const FILES = SCANNED.flatMap((relative) => walk(relative, ignoredDirectory)).filter(scanned)

describe('findCitations', () => {
  const known = new Set(['README.md', 'CHANGELOG.md', 'packages/cli/README.md'])
  const cite = (text: string): [CitationKind, string][] =>
    findCitations(text, (mention) => known.has(mention) || known.has(path.basename(mention))).map((c) => [c.kind, c.text])

  it('flags a document that is not in the repository, a reference section, a bare test-list number and a tracker issue', () => {
    expect(cite('// why: see SAFETY.md and docs/STYLE.md')).toEqual([
      ['missing document', 'SAFETY.md'],
      ['missing document', 'docs/STYLE.md'],
    ])
    expect(cite("describe('notification order (reference 3.2)', () => {")).toEqual([['reference section', 'reference 3.2']])
    expect(cite('// Reference section 10.5, row by row')).toEqual([['reference section', 'Reference section 10.5']])
    expect(cite("it('parses a line (acceptance 4.5.2)')")).toEqual([['reference section', 'acceptance 4.5.2']])
    expect(cite("it('a dry run writes nothing (15.1 #8, 15.2 #3)')")).toEqual([
      ['test-list number', '15.1 #8'],
      ['test-list number', '15.2 #3'],
    ])
    expect(cite('// Issue 16 point 7. Needs root.')).toEqual([['tracker issue', 'Issue 16']])
    expect(cite("// issue 10's snapshots (issues 9 and 10)")).toEqual([
      ['tracker issue', 'issue 10'],
      ['tracker issue', 'issues 9'],
    ])
  })

  it('gives the line of each citation', () => {
    expect(findCitations('first\n(issue 9)\nthird (reference 4.3)\n', () => true)).toEqual([
      { line: 2, kind: 'tracker issue', text: 'issue 9' },
      { line: 3, kind: 'reference section', text: 'reference 4.3' },
    ])
  })

  it('leaves documents of the repository, upstream issues, versions, man pages, RFCs and URLs alone', () => {
    for (const text of [
      'See [CHANGELOG.md](CHANGELOG.md) and [usage](packages/cli/README.md#usage).',
      "const readme = path.join(dir, 'README.md')",
      "describe('weekly buckets across New Year (rotate-backups issue #31)')",
      'rotate-backups issue 5, upstream issue 7, GitHub issue 12, nodejs/node issue 3, rsync issues 494, 915',
      'issue #5, rsync(1), RFC 4253, util-linux 2.38, rsync 3.5.0, goal <= 1.10',
      'https://github.com/xolox/python-rotate-backups/blob/master/docs/SAFETY.md',
      'the reference for the integer arithmetic; referencePlan(backups); back-references',
      "file.endsWith('.md')",
    ]) {
      expect(cite(text), text).toEqual([])
    }
  })
})

describe('the repository cites only what it holds', () => {
  it('scans the sources, tests, benchmarks, scripts and READMEs', () => {
    expect(FILES).toEqual(
      expect.arrayContaining(['README.md', 'packages/cli/README.md', 'packages/cli/src/main.ts', 'scripts/test.sh', '.ci/run']),
    )
    expect(
      FILES.filter((file) => file.endsWith('CHANGELOG.md') || file.includes('/test/fixtures/') || file.includes('node_modules/')),
    ).toEqual([])
    expect(DOCUMENTS).toContain('CHANGELOG.md')
  })

  it('no file cites a document, section, test-list number or issue from outside the repository', () => {
    const found = FILES.flatMap((file) =>
      findCitations(fs.readFileSync(path.join(ROOT, file), 'utf8'), documentExistsFor(file))
        .map((c) => `${file}:${c.line}: ${c.kind}: ${c.text}`)
        .filter((entry) => !KNOWN_EXCEPTIONS.includes(entry.slice(0, entry.indexOf(': ')))),
    )
    expect(found).toEqual([])
  })
})

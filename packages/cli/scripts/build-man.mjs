// The build's last step (after tsc -b): man/rsb.1 (and man/rsync-system-backup.1, man/rsb-rotate.1: `.so` of it) from the Markdown that dist/man.js makes of the help texts, with
// marked-man (Markdown → roff). Definition lists (`* TERM` then the description) become .TP paragraphs. The date is
// $SOURCE_DATE_EPOCH's when it is set (reproducible builds), else today's.
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { Marked } from 'marked'
import markedMan from 'marked-man'

const root = path.resolve(import.meta.dirname, '..')
const { manPageMarkdown } = await import(pathToFileURL(path.join(root, 'dist', 'man.js')).href)
const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
const epoch = Number(process.env.SOURCE_DATE_EPOCH)
const date = Number.isFinite(epoch) && process.env.SOURCE_DATE_EPOCH ? epoch * 1000 : Date.now()

const marked = new Marked(markedMan, { manual: 'rsb manual', manVersion: `rsb ${version}`, date, breaks: false })
marked.use({
  renderer: {
    list: (body) => `\n${body}`,
    // first line: the term; the rest: its description
    listitem(text) {
      const [term = '', ...description] = text
        .trim()
        .replace(/^\.P\n/, '')
        .split('\n')
      return `.TP\n${term}\n${description.join('\n').replace(/^\.br\n/, '')}\n`
    },
  },
})

// no hyphenation and a ragged right margin: options and paths stay whole, as typed
const roff = marked.parse(await manPageMarkdown()).replace(/^(\.TH .*\n)/, '$1.nh\n.ad l\n')
const file = path.join(root, 'man', 'rsb.1')
fs.mkdirSync(path.dirname(file), { recursive: true })
// the page, and for the other two programs a page that is rsb(1) (man rsb-rotate, man rsync-system-backup)
const pages = [
  [file, roff],
  ...['rsync-system-backup', 'rsb-rotate'].map((name) => [path.join(root, 'man', `${name}.1`), '.so man1/rsb.1\n']),
]
for (const [page, text] of pages) {
  fs.writeFileSync(`${page}.tmp`, text)
  fs.renameSync(`${page}.tmp`, page)
}

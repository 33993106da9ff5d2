// `--exclude-from=FILE`: exclude patterns read from files when the backup starts (args.ts only records the names).
import fs from 'node:fs/promises'
import { constants } from 'node:fs'
import { CliError } from '../errors.js'

/**
 * The patterns of one exclude file's text, as rsync's `--exclude-from` reads its lines: a line ends at `\n` or `\r`
 * (so CRLF files work), empty lines and lines starting with `#` or `;` are skipped, everything else (spaces included)
 * is one pattern. Each is then used as an `--exclude` PATTERN, always a literal exclude (a line `- NAME` excludes
 * the name `- NAME`, see `formatExcludeArgument` of `@rsb/rsync`). Pure.
 *
 * @example
 * ```ts
 * parseExcludeLines('*.log\n# comment\n\n- literal\n') // ['*.log', '- literal']
 * ```
 */
export function parseExcludeLines(text: string): string[] {
  return text.split(/[\r\n]/).filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith(';'))
}

function refuse(file: string, why: string, hint: string, cause?: unknown): CliError {
  return new CliError('ERR_RSB_CLI_EXCLUDE_FROM', `The exclude file ${JSON.stringify(file)} (--exclude-from) ${why}.`, {
    path: file,
    hint,
    cause,
  })
}

/**
 * Reads the `--exclude-from` files, in order, and returns their patterns (see {@link parseExcludeLines}). Read-only;
 * called before the backup writes anything, so that a bad file stops the run with nothing changed. Relative names
 * are relative to the working directory.
 *
 * @throws {CliError} ERR_RSB_CLI_EXCLUDE_FROM for a file that is missing, unreadable, not a regular file, not valid
 *   UTF-8 or holds a NUL byte
 */
export async function readExcludeFiles(files: readonly string[]): Promise<string[]> {
  const patterns: string[] = []
  for (const file of files) {
    let bytes: Buffer
    try {
      // O_NONBLOCK: a FIFO in its place never blocks the run (it is refused below)
      const handle = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK)
      try {
        if (!(await handle.stat()).isFile()) throw refuse(file, 'is not a regular file', 'Give a text file of patterns, one per line.')
        bytes = await handle.readFile()
      } finally {
        await handle.close()
      }
    } catch (error) {
      if (error instanceof CliError) throw error
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT')
        throw refuse(file, 'does not exist', 'Check the name (a relative name is read from the working directory).', error)
      throw refuse(
        file,
        `cannot be read (${code ?? (error as Error).message})`,
        'Check its permissions: rsb reads it as the user it runs as.',
        error,
      )
    }
    if (bytes.includes(0)) throw refuse(file, 'holds a NUL byte', 'Give a text file of patterns, one per line.')
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    } catch (error) {
      throw refuse(file, 'is not valid UTF-8', 'Write the file in UTF-8; to match names that are not, use ? or * for their bytes.', error)
    }
    patterns.push(...parseExcludeLines(text))
  }
  return patterns
}

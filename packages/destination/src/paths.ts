import type { Destination } from './destination.js'
import { DestinationError } from './errors.js'
import { buildExpression } from './internal/expression.js'
import { showExpression } from './internal/show.js'

/**
 * The directory that holds the destination directory, where snapshots are created and rotated: the POSIX
 * dirname of the directory without its trailing slashes (Python's `posixpath.dirname`). For a daemon destination
 * this is a path inside the module.
 *
 * @param destination - the destination
 * @returns the parent directory (never empty): `/mnt/backups` for `/mnt/backups/latest///`, `/` for `/latest`
 * @throws {DestinationError} `ERR_RSB_DESTINATION_NO_PARENT` when there is none (`latest`, `/`, `host:`, a
 *   daemon module without a directory)
 * @example
 * ```ts
 * parentDirectory(parseDestination('backup-server:/backups/laptop')) // '/backups'
 * ```
 */
export function parentDirectory(destination: Destination): string {
  const directory = trimTrailingSlashes(destination.directory)
  let head = directory.slice(0, directory.lastIndexOf('/') + 1)
  if (trimTrailingSlashes(head) !== '') head = trimTrailingSlashes(head)
  if (head !== '') return head
  const expression = buildExpression(destination)
  throw new DestinationError(
    'ERR_RSB_DESTINATION_NO_PARENT',
    expression,
    `Cannot determine the parent directory of the destination, so snapshots cannot be created or rotated for ${showExpression(expression)}.`,
    {
      hint:
        destination.kind === 'daemon'
          ? "Snapshots of an rsync daemon module are made on the server, by the module's post-xfer exec running rsb --snapshot --rotate."
          : 'Give a destination directory inside a parent directory (such as /mnt/backups/latest): snapshots are made beside it.',
    },
  )
}

/**
 * The value with exactly one trailing `/` (all trailing slashes stripped, one added), as rsync gets SOURCE and
 * DESTINATION; `''` stays `''` and `undefined` stays `undefined`.
 *
 * @param value - a path or rsync location
 * @returns `a/` for `a//`, `/` for `/` and `//`, `host:/` for `host:`
 * @example
 * ```ts
 * ensureTrailingSlash(formatDestination(parseDestination('/mnt/backups/latest///'))) // '/mnt/backups/latest/'
 * ```
 */
export function ensureTrailingSlash(value: string): string
export function ensureTrailingSlash(value: string | undefined): string | undefined
export function ensureTrailingSlash(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return value
  return `${trimTrailingSlashes(value)}/`
}

function trimTrailingSlashes(text: string): string {
  let end = text.length
  while (end > 0 && text[end - 1] === '/') end--
  return text.slice(0, end)
}

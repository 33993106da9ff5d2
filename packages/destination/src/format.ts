import type { Destination } from './destination.js'
import { DestinationError } from './errors.js'
import { buildExpression } from './internal/expression.js'
import { showExpression } from './internal/show.js'
import { parseDestination } from './parse.js'

/**
 * Formats a destination as the expression rsync receives (before {@link ensureTrailingSlash}): the local
 * directory, `[user@]host:dir`, or `rsync://[user@]host:port/module[/dir]` for every daemon destination
 * (`host::module/dir` becomes `rsync://host:873/module/dir`; module and directory are never fused). IPv6 hosts
 * are bracketed.
 *
 * The result always reads back as the same destination; a hand-built value that would not (a local directory
 * `a:b`, which rsync would take for a host, an empty host, a port of 0…) is refused.
 *
 * @param destination - a destination, normally from {@link parseDestination}
 * @returns the expression; `parseDestination(formatDestination(d))` equals `d`
 * @throws {DestinationError} `ERR_RSB_DESTINATION_INVALID` when no expression reads back as `destination`
 * @example
 * ```ts
 * formatDestination(parseDestination('server::backups/system')) // 'rsync://server:873/backups/system'
 * formatDestination({ kind: 'ssh', username: undefined, hostname: '::1', directory: 'backups' }) // '[::1]:backups'
 * ```
 */
export function formatDestination(destination: Destination): string {
  const isObject = typeof destination === 'object' && destination !== null
  const expression = isObject ? buildExpression(destination) : ''
  let reread: Destination | undefined
  let cause: unknown
  try {
    reread = parseDestination(expression)
  } catch (error) {
    cause = error
  }
  if (isObject && reread && sameDestination(reread, destination)) return expression
  throw new DestinationError(
    'ERR_RSB_DESTINATION_INVALID',
    expression,
    `Failed to format destination! (${showExpression(expression)}): it would not be read back as the same destination.`,
    {
      hint: "Build destinations with parseDestination; a local path with ':' before any '/' needs a ./ prefix.",
      cause,
    },
  )
}

function sameDestination(a: Destination, b: Destination): boolean {
  switch (a.kind) {
    case 'local':
      return b.kind === 'local' && a.directory === b.directory
    case 'ssh':
      return b.kind === 'ssh' && a.username === b.username && a.hostname === b.hostname && a.directory === b.directory
    case 'daemon':
      return (
        b.kind === 'daemon' &&
        a.username === b.username &&
        a.hostname === b.hostname &&
        a.port === b.port &&
        a.module === b.module &&
        a.directory === b.directory
      )
  }
}

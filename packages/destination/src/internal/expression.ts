import type { Destination } from '../destination.js'

/**
 * The expression of a destination (as the original writes it, with rsb's separator between module and directory),
 * built from the fields without checking them (`''` for something that is not a destination). IPv6 hosts (anything holding a `:`) get brackets.
 */
export function buildExpression(destination: Destination): string {
  switch (destination.kind) {
    case 'local':
      return String(destination.directory)
    case 'ssh':
      return `${userPart(destination.username)}${hostPart(destination.hostname)}:${String(destination.directory)}`
    case 'daemon': {
      const directory = destination.directory === '' ? '' : `/${String(destination.directory)}`
      return `rsync://${userPart(destination.username)}${hostPart(destination.hostname)}:${String(destination.port)}/${String(destination.module)}${directory}`
    }
    default:
      return '' // not a destination (a JavaScript caller's mistake)
  }
}

function userPart(user: string | undefined): string {
  return user === undefined ? '' : `${String(user)}@`
}

function hostPart(host: string): string {
  const text = String(host)
  return text.includes(':') ? `[${text}]` : text
}

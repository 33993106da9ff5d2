// Which destination a command works on: the expression parsed (@rsb/destination), with what every command derives
// from it (where snapshots go, what rsync gets, the run lock's key).
import path from 'node:path'
import {
  DestinationError,
  formatDestination,
  parentDirectory,
  parseDestination,
  type DaemonDestination,
  type Destination,
} from '@rsb/destination'
import type { RsyncDestination } from '@rsb/rsync'

/** The destination of a command, with what it derives from it. */
export interface Target {
  readonly destination: Destination
  /** The expression as given. */
  readonly expression: string
  /** Where snapshots go; undefined when the directory has no parent (`latest`, `/`, a daemon module). */
  readonly parent: string | undefined
  /** What `runRsync` gets: a daemon port is only set when the expression names one (else the tunnel's or 873). */
  readonly rsync: RsyncDestination
  /** The key of the run lock: the absolute local path, or the formatted remote expression. */
  readonly lockKey: string
}

/**
 * Parses the destination of a run (`@rsb/destination`).
 *
 * @throws {DestinationError} the parse errors of `parseDestination` (usage errors: exit 2)
 */
export function resolveTarget(expression: string, cwd = process.cwd()): Target {
  const destination = parseDestination(expression)
  // A port written in the expression wins over the tunnel's; find out whether there is one.
  const explicitPort = destination.kind === 'daemon' && (parseDestination(expression, { defaultPort: 1 }) as DaemonDestination).port !== 1
  let parent: string | undefined
  try {
    parent = parentDirectory(destination)
  } catch (error) {
    if (!(error instanceof DestinationError)) throw error
  }
  return {
    destination,
    expression,
    parent,
    rsync: destination.kind === 'daemon' && !explicitPort ? { ...destination, port: undefined } : destination,
    lockKey: destination.kind === 'local' ? path.resolve(cwd, destination.directory) : formatDestination(destination),
  }
}

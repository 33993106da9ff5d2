import type { DaemonDestination, Destination } from './destination.js'
import { DestinationError } from './errors.js'
import { buildExpression } from './internal/expression.js'
import { showExpression } from './internal/show.js'

/**
 * Asserts that commands can run where the destination is: on this machine (local) or over SSH. An rsync daemon
 * module has no command context, so its directory cannot be checked, snapshotted or rotated from the client.
 *
 * @param destination - the destination
 * @throws {DestinationError} `ERR_RSB_DESTINATION_NO_CONTEXT` for a daemon destination
 * @example
 * ```ts
 * const destination = parseDestination('backup-user@backup-server:backups/system')
 * assertCommandContext(destination)
 * destination.kind // 'local' | 'ssh'
 * ```
 */
export function assertCommandContext(destination: Destination): asserts destination is Exclude<Destination, DaemonDestination> {
  if (destination.kind !== 'daemon') return
  const expression = buildExpression(destination)
  throw new DestinationError(
    'ERR_RSB_DESTINATION_NO_CONTEXT',
    expression,
    `Commands cannot run on an rsync daemon destination (${showExpression(expression)}).`,
    {
      hint: "Run rsb on the server instead, from the module's post-xfer exec (rsb --snapshot --rotate, destination from $RSYNC_MODULE_PATH).",
    },
  )
}

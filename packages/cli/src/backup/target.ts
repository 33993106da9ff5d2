// What `rsb backup` may do with its destination (the actions a daemon destination allows, …).
import { parentDirectory } from '@rsb/destination'
import type { RunOptions } from '../args.js'
import { UsageError } from '../errors.js'
import type { Target } from '../session/target.js'

/**
 * Checks a destination against the command line, before anything runs.
 *
 * @returns the actions to run (a daemon destination without explicit actions: backup only)
 * @throws {UsageError} ERR_RSB_CLI_USAGE: `-s`/`-r`, `--mount` or `--crypto` against a daemon, `--tunnel` without
 *   a daemon destination, an SSH destination without a directory
 * @throws {DestinationError} ERR_RSB_DESTINATION_NO_PARENT when snapshots or rotation need a parent directory
 *   that cannot be determined
 */
export function checkTarget(target: Target, options: RunOptions): { backup: boolean; snapshot: boolean; rotate: boolean } {
  const { destination } = target
  let { backup, snapshot, rotate } = options
  if (destination.kind === 'daemon') {
    const explicit = options.explicitActions.filter((a) => a !== 'backup')
    if (explicit.length > 0) {
      throw new UsageError(
        `--${[...new Set(explicit)].join(' and --')} cannot run against an rsync daemon destination (${target.expression}).`,
        { hint: "Snapshots and rotation run on the server: put 'rsb --snapshot --rotate' in the module's post-xfer exec." },
      )
    }
    for (const [given, what] of [
      [options.mount, '--mount'],
      [options.crypto, '--crypto'],
    ] as const) {
      if (given !== undefined) {
        throw new UsageError(`${what} cannot be used with an rsync daemon destination (${target.expression}).`, {
          hint: `Run rsb with ${what} on the server instead.`,
        })
      }
    }
    return { backup: true, snapshot: false, rotate: false }
  }
  if (options.tunnel) throw new UsageError('--tunnel needs an rsync daemon destination (HOST::MODULE or rsync://HOST/MODULE).')
  if (destination.kind === 'ssh' && destination.directory === '') {
    throw new UsageError(`The SSH destination '${target.expression}' names no directory.`, {
      hint: `rsync would write into the remote home directory with --delete; name the directory, for example ${target.expression}/backups/latest.`,
    })
  }
  if ((snapshot || rotate) && target.parent === undefined) parentDirectory(destination) // throws ERR_RSB_DESTINATION_NO_PARENT
  return { backup, snapshot, rotate }
}

// The snapshot names the completion offers for DESTINATION (`rsb completion --snapshots DESTINATION`): read from the
// store as `rsb list` reads it, without sudo (a completion never asks for a password) and only for a local
// DESTINATION (no SSH connection, which could ask for one too). Quiet: any failure is no names.
import { parseDestination } from '@rsb/destination'
import { DEFAULT_ROTATION_SCHEME } from '../../args.js'
import { createLogger } from '../../kit/log.js'
import type { MainIo } from '../../main.js'
import { buildCatalog, readCatalog } from '../../session/catalog.js'
import { readableSnapshots } from '../../session/walk.js'

/** Where nothing is written. */
const NOWHERE = { write: () => true }

/**
 * The names of DESTINATION's snapshots that hold a whole tree (complete, or made before manifests), oldest first; none
 * when DESTINATION is not local, is not a backup, or cannot be read without sudo.
 *
 * @param destination - a mirror (`/mnt/backups/latest`) or its store, as typed on the command line (dequoted)
 * @param io - the environment and the abort signal (nothing is printed)
 * @returns the names (`2026-12-01 10:00:00`)
 * @example
 * ```ts
 * await snapshotNames('/mnt/backups/latest', io) // ['2026-11-30 10:00:00', '2026-12-01 10:00:00']
 * ```
 */
export async function snapshotNames(destination: string, io: MainIo): Promise<string[]> {
  try {
    if (destination === '' || parseDestination(destination).kind !== 'local') return []
    const opened = await readCatalog({ destination, sudo: false, env: io.env, logger: createLogger(NOWHERE, -10), signal: io.signal })
    try {
      const catalog = buildCatalog(opened.state, opened.mirrorNames, { scheme: DEFAULT_ROTATION_SCHEME, keepLatest: 0, now: new Date() })
      return readableSnapshots(catalog.snapshots).map((snapshot) => snapshot.name)
    } finally {
      await opened.close()
    }
  } catch {
    return []
  }
}

/**
 * Error codes of `@rsb/cli`. Stable API: a code is never reused for another meaning.
 *
 * - `ERR_RSB_CLI_USAGE`: a wrong command line (unknown option, missing value, bad value, too many
 *   arguments, an action the destination cannot do). Exit status 2.
 * - `ERR_RSB_CLI_UNSUPPORTED_PLATFORM`: `uname` does not say Linux and `--force` was not given.
 * - `ERR_RSB_CLI_LOCKED`: another rsb run is working on the same destination.
 * - `ERR_RSB_CLI_LOCK_UNSAFE`: the lock directory or a lock file could be steered by another user (wrong owner,
 *   mode, a symlink, a parent others may write to).
 * - `ERR_RSB_CLI_LOCK_FAILED`: the lock could not be taken for another reason (no `flock` program, an I/O error).
 * - `ERR_RSB_CLI_SNAPSHOT_EXISTS`: a snapshot with this run's name exists already.
 * - `ERR_RSB_CLI_SNAPSHOT_FAILED`: copying the destination directory into a snapshot failed.
 * - `ERR_RSB_CLI_EXACT_FAILED`: files of the destination directory that rsync would change in place could not be moved
 *   aside first (so that older snapshots keep their inodes): the run stops before rsync.
 * - `ERR_RSB_CLI_MIRROR_INCOMPLETE`: a snapshot without a backup (`--snapshot` alone) of a destination directory
 *   that an interrupted backup left incomplete (files it moved aside are not back yet): refused before anything is
 *   written; the next backup completes it.
 * - `ERR_RSB_CLI_INTERRUPTED`: the run was stopped by SIGINT or SIGTERM (exit 130 or 143).
 * - `ERR_RSB_CLI_RSH_UNSUPPORTED`: rsb's own SSH connection cannot follow `$RSYNC_RSH` (its program is not ssh, or
 *   it holds an option such as `-J` or `-o ProxyCommand=…`, or shell syntax), or a remote shell given in
 *   `--rsync-option` (`--rsh=…`, `-e…`) for an SSH destination: refused before connecting (exit 1).
 *
 * Refusals found by looking at the disk before anything runs (exit status 1, nothing changed); each
 * comes with a hint that says what to type instead:
 *
 * - `ERR_RSB_CLI_PATH_UNRESOLVED`: SOURCE or DESTINATION could not be resolved (realpath failed).
 * - `ERR_RSB_CLI_DESTINATION_IS_STORE`: DESTINATION is a store or holds snapshots (did you mean DEST/latest?).
 * - `ERR_RSB_CLI_DESTINATION_IS_MOUNT_POINT`: DESTINATION is the `--mount` point itself.
 * - `ERR_RSB_CLI_DESTINATION_NOT_EMPTY`: DESTINATION is a non-empty directory that is not a known mirror.
 * - `ERR_RSB_CLI_DESTINATION_SYMLINK`: DESTINATION is a symbolic link (snapshots would hold the link).
 * - `ERR_RSB_CLI_DESTINATION_NOT_DIRECTORY`: DESTINATION exists and is not a directory.
 * - `ERR_RSB_CLI_DESTINATION_MISSING`: DESTINATION does not exist, and the run only snapshots or rotates.
 * - `ERR_RSB_CLI_DESTINATION_IN_BACKUP`: DESTINATION lies inside a mirror or a snapshot of a store.
 * - `ERR_RSB_CLI_SOURCE_MISSING`: SOURCE does not exist.
 * - `ERR_RSB_CLI_SOURCE_NOT_DIRECTORY`: SOURCE is not a directory.
 * - `ERR_RSB_CLI_SOURCE_UNREADABLE`: SOURCE's root cannot be read.
 * - `ERR_RSB_CLI_SOURCE_EMPTY`: SOURCE is empty (an unmounted filesystem?); `--allow-empty-source` accepts it.
 * - `ERR_RSB_CLI_SOURCE_IS_BACKUP`: SOURCE is an rsb mirror or store (swapped arguments?).
 * - `ERR_RSB_CLI_OVERLAP`: SOURCE and DESTINATION are the same directory or one holds the other.
 * - `ERR_RSB_CLI_SOURCE_OVERLAP`: two of several SOURCEs are the same directory or one holds the other once resolved
 *   (symbolic links; as typed, that is a usage error).
 * - `ERR_RSB_CLI_EXCLUDE_FROM`: an `--exclude-from` FILE is missing, unreadable, not a regular file, not valid UTF-8 or
 *   holds a NUL byte (read when the backup starts, before anything is written).
 * - `ERR_RSB_CLI_STORE_UNREADABLE`: the store's metadata (`.rsb/`) is damaged or of a newer format.
 * - `ERR_RSB_CLI_STORE_UNSAFE`: another user could steer what rsb writes and deletes in the store: the store, `.rsb/`
 *   or a directory in it belongs to a user other than root, rsb's user and the one who ran sudo, may be written by
 *   group or others (the store itself: unless sticky), or (`.rsb/` and its directories) is a symbolic link or no directory.
 * - `ERR_RSB_CLI_MODULE_PATH_UNSAFE`: `$RSYNC_MODULE_PATH` (an rsync daemon's hook) is `/` or directly under `/`
 *   (also once resolved): no snapshot, no rotation, and a `--daemon-hook=pre` makes the daemon refuse the transfer.
 *
 * The commands that read a store (`rsb list`, `rsb status`, `rsb restore`):
 *
 * - `ERR_RSB_CLI_NOT_A_BACKUP`: DESTINATION is neither a mirror nor a store of snapshots (a typo, a disk not mounted;
 *   exit 1).
 * - `ERR_RSB_CLI_DESTINATION_DAEMON`: DESTINATION is an rsync daemon's (`HOST::MODULE`, `rsync://`), whose store and
 *   snapshots the daemon does not expose: a usage error (exit 2), nothing ran.
 * - `ERR_RSB_CLI_METRICS_FAILED`: `rsb status --metrics=FILE` could not write FILE (its directory is missing or not
 *   writable).
 *
 * `rsb restore`'s refusals (nothing is written; exit status 2 where the command line alone is wrong, else 1):
 *
 * - `ERR_RSB_CLI_SNAPSHOT_NOT_FOUND`: no snapshot of the mirror is the one asked for (`--snapshot=NAME` unknown or of
 *   another mirror, nothing at or before `--at=TIME`, a mirror without snapshots).
 * - `ERR_RSB_CLI_RESTORE_PATH_MISSING`: a PATH does not exist in the snapshot.
 * - `ERR_RSB_CLI_RESTORE_UNSAFE_PATH`: a PATH that is empty, holds a `..` component or a NUL byte (exit 2).
 * - `ERR_RSB_CLI_RESTORE_PATH_SYMLINK`: a parent component of a PATH inside the snapshot is a symbolic link or no
 *   directory (reading through it would read outside the snapshot).
 * - `ERR_RSB_CLI_RESTORE_DAEMON`: DESTINATION is an rsync daemon's (`HOST::MODULE`, `rsync://`), whose snapshots the
 *   daemon does not expose (exit 2).
 * - `ERR_RSB_CLI_RESTORE_IN_PLACE`: a restore without `--to` that would overwrite SOURCE/PATH, without `--in-place`
 *   (exit 2).
 * - `ERR_RSB_CLI_RESTORE_OTHER_HOST`: a restore in place from a snapshot another machine made (its manifest's host):
 *   its SOURCE is that machine's.
 * - `ERR_RSB_CLI_RESTORE_NO_SOURCE`: a restore in place from a snapshot whose record names no SOURCE (no manifest).
 * - `ERR_RSB_CLI_RESTORE_TARGET_INVALID`: where the files would go cannot take them: `--to` DIR is no directory, its
 *   parent is missing, or it (or SOURCE) lies inside a backup store.
 * - `ERR_RSB_CLI_WALK_FAILED`: the snapshots' trees could not be read whole (`rsb diff`, `versions`, `verify`).
 * - `ERR_RSB_CLI_NO_HARD_LINKS`: the destination's filesystem cannot make hard links (vfat, exFAT, some shares).
 * - `ERR_RSB_CLI_HASHES_FAILED`: the content hashes of a snapshot could not be computed, written or read.
 * - `ERR_RSB_CLI_PATH_NOT_IN_SNAPSHOTS`: `rsb versions` PATH is in no snapshot.
 * - `ERR_RSB_CLI_DU_FAILED`: `rsb du` could not read the store's space.
 * - `ERR_RSB_CLI_DOCTOR_FAILED`: `rsb doctor` could not run its checks at all.
 *
 * The configuration file of jobs (`/etc/rsb/rsb.toml`, `--config=FILE`, `$RSB_CONFIG`):
 *
 * - `ERR_RSB_CLI_CONFIG_MISSING`: there is no such file.
 * - `ERR_RSB_CLI_CONFIG_UNSAFE`: another user could write the file or its directory (or it is a symbolic link): its
 *   hooks run as rsb's user.
 * - `ERR_RSB_CLI_CONFIG_INVALID`: it cannot be read, is not TOML, or has unknown keys or bad values (each problem with
 *   file, line and key).
 * - `ERR_RSB_CLI_JOB_UNKNOWN`: `--job=NAME` or `rsb run NAME` names no job of the file (exit 2).
 *
 * `rsb systemd`:
 *
 * - `ERR_RSB_CLI_UNIT_DIR_UNSAFE`: the unit directory is missing, no directory, or another user could write it (or a
 *   directory above it without the sticky bit): the units' commands run as root.
 * - `ERR_RSB_CLI_INSTALL_FAILED`: a unit file could not be written, or an old one removed, or systemctl failed; or the
 *   rsb program the units would run (or a directory above it, or the directory of a link to it) could be changed by
 *   another user; or the unit directory has units rsb wrote from another configuration file.
 * - `ERR_RSB_CLI_SCHEDULE_UNSUPPORTED`: `--cron` for a job whose schedule cron cannot express.
 */
export type CliErrorCode =
  | 'ERR_RSB_CLI_USAGE'
  | 'ERR_RSB_CLI_NOT_A_BACKUP'
  | 'ERR_RSB_CLI_DESTINATION_DAEMON'
  | 'ERR_RSB_CLI_METRICS_FAILED'
  | 'ERR_RSB_CLI_RESTORE_OTHER_HOST'
  | 'ERR_RSB_CLI_UNSUPPORTED_PLATFORM'
  | 'ERR_RSB_CLI_LOCKED'
  | 'ERR_RSB_CLI_LOCK_UNSAFE'
  | 'ERR_RSB_CLI_LOCK_FAILED'
  | 'ERR_RSB_CLI_SNAPSHOT_EXISTS'
  | 'ERR_RSB_CLI_SNAPSHOT_FAILED'
  | 'ERR_RSB_CLI_EXACT_FAILED'
  | 'ERR_RSB_CLI_MIRROR_INCOMPLETE'
  | 'ERR_RSB_CLI_INTERRUPTED'
  | 'ERR_RSB_CLI_RSH_UNSUPPORTED'
  | 'ERR_RSB_CLI_PATH_UNRESOLVED'
  | 'ERR_RSB_CLI_DESTINATION_IS_STORE'
  | 'ERR_RSB_CLI_DESTINATION_IS_MOUNT_POINT'
  | 'ERR_RSB_CLI_DESTINATION_NOT_EMPTY'
  | 'ERR_RSB_CLI_DESTINATION_SYMLINK'
  | 'ERR_RSB_CLI_DESTINATION_NOT_DIRECTORY'
  | 'ERR_RSB_CLI_DESTINATION_MISSING'
  | 'ERR_RSB_CLI_DESTINATION_IN_BACKUP'
  | 'ERR_RSB_CLI_SOURCE_MISSING'
  | 'ERR_RSB_CLI_SOURCE_NOT_DIRECTORY'
  | 'ERR_RSB_CLI_SOURCE_UNREADABLE'
  | 'ERR_RSB_CLI_SOURCE_EMPTY'
  | 'ERR_RSB_CLI_SOURCE_IS_BACKUP'
  | 'ERR_RSB_CLI_OVERLAP'
  | 'ERR_RSB_CLI_SOURCE_OVERLAP'
  | 'ERR_RSB_CLI_EXCLUDE_FROM'
  | 'ERR_RSB_CLI_STORE_UNREADABLE'
  | 'ERR_RSB_CLI_STORE_UNSAFE'
  | 'ERR_RSB_CLI_MODULE_PATH_UNSAFE'
  | 'ERR_RSB_CLI_SNAPSHOT_NOT_FOUND'
  | 'ERR_RSB_CLI_RESTORE_PATH_MISSING'
  | 'ERR_RSB_CLI_RESTORE_UNSAFE_PATH'
  | 'ERR_RSB_CLI_RESTORE_PATH_SYMLINK'
  | 'ERR_RSB_CLI_RESTORE_DAEMON'
  | 'ERR_RSB_CLI_RESTORE_IN_PLACE'
  | 'ERR_RSB_CLI_RESTORE_NO_SOURCE'
  | 'ERR_RSB_CLI_RESTORE_TARGET_INVALID'
  | 'ERR_RSB_CLI_WALK_FAILED'
  | 'ERR_RSB_CLI_NO_HARD_LINKS'
  | 'ERR_RSB_CLI_HASHES_FAILED'
  | 'ERR_RSB_CLI_PATH_NOT_IN_SNAPSHOTS'
  | 'ERR_RSB_CLI_DU_FAILED'
  | 'ERR_RSB_CLI_DOCTOR_FAILED'
  | 'ERR_RSB_CLI_CONFIG_MISSING'
  | 'ERR_RSB_CLI_CONFIG_UNSAFE'
  | 'ERR_RSB_CLI_CONFIG_INVALID'
  | 'ERR_RSB_CLI_JOB_UNKNOWN'
  | 'ERR_RSB_CLI_UNIT_DIR_UNSAFE'
  | 'ERR_RSB_CLI_INSTALL_FAILED'
  | 'ERR_RSB_CLI_SCHEDULE_UNSUPPORTED'

/** Details a {@link CliError} may carry. */
export interface CliErrorDetails {
  /** What to do about it. */
  hint?: string | undefined
  /** The original failure. */
  cause?: unknown
  /** The destination expression the error is about. */
  destination?: string | undefined
  /** A path the error is about (lock file, snapshot). */
  path?: string | undefined
}

/**
 * The error class of `@rsb/cli`.
 *
 * @example
 * ```ts
 * throw new CliError('ERR_RSB_CLI_LOCKED', 'Another rsb run is working on /mnt/backups/latest.')
 * ```
 */
export class CliError extends Error {
  override readonly name: string = 'CliError'
  readonly code: CliErrorCode
  readonly hint: string | undefined
  readonly destination: string | undefined
  readonly path: string | undefined

  constructor(code: CliErrorCode, message: string, details: CliErrorDetails = {}) {
    super(message, { cause: details.cause })
    this.code = code
    this.hint = details.hint
    this.destination = details.destination
    this.path = details.path
  }
}

/**
 * A wrong command line: exit status 2.
 *
 * @example
 * ```ts
 * throw new UsageError('option --bogus not recognized')
 * ```
 */
export class UsageError extends CliError {
  override readonly name: string = 'UsageError'

  constructor(message: string, details: Omit<CliErrorDetails, 'path'> = {}) {
    super('ERR_RSB_CLI_USAGE', message, details)
  }
}

/**
 * Any rsb error (from any `@rsb/*` package), recognised by its code (duck typing, no `instanceof`). The same
 * test as `@rsb/exec`'s `isRsbError`, kept here so that `main()` does not load `@rsb/exec` (execa, ssh2) for
 * `--help`, `--version` and usage errors.
 */
export function isRsbError(error: unknown): error is Error & { code: string; hint?: string | undefined } {
  if (!(error instanceof Error)) return false
  const code: unknown = (error as Error & { code?: unknown }).code
  return typeof code === 'string' && code.startsWith('ERR_RSB_')
}

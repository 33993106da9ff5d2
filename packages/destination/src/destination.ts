/** The rsync daemon's port, used when an expression names none (`host::module`, `rsync://host/module`). */
export const DEFAULT_DAEMON_PORT = 873

/** A directory on this machine: `/mnt/backups/latest`, `relative/dir`. */
export interface LocalDestination {
  readonly kind: 'local'
  /** The path exactly as given (never empty). */
  readonly directory: string
}

/** A directory on another machine, reached by rsync over SSH: `[user@]host:dir`. */
export interface SshDestination {
  readonly kind: 'ssh'
  /** The SSH user; `undefined` for SSH's default user. */
  readonly username: string | undefined
  /** The SSH host name, alias or address; an IPv6 literal without its brackets (`::1`). */
  readonly hostname: string
  /** The remote directory exactly as given; `''` for `host:` (the remote user's home directory). */
  readonly directory: string
}

/**
 * A module of an rsync daemon, optionally a directory inside it: `[user@]host::module[/dir]` or
 * `rsync://[user@]host[:port]/module[/dir]`.
 */
export interface DaemonDestination {
  readonly kind: 'daemon'
  /** The daemon's user (`auth users`); `undefined` when none is given. */
  readonly username: string | undefined
  /** The daemon's host name or address; an IPv6 literal without its brackets. */
  readonly hostname: string
  /** The TCP port: the one in the URL, else the parse's default port (873, or an SSH tunnel's local port). */
  readonly port: number
  /** The module name (never empty). */
  readonly module: string
  /** The directory inside the module, without its leading `/`; `''` for the module itself. */
  readonly directory: string
}

/** Where a backup goes: one of rsync's location syntaxes, discriminated on `kind`. */
export type Destination = LocalDestination | SshDestination | DaemonDestination

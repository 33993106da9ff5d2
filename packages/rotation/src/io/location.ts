/** A location to rotate: a local directory, or a directory on an SSH host (`[user@]host:/dir`). */
export type Location =
  | { readonly kind: 'local'; readonly directory: string }
  | {
      readonly kind: 'ssh'
      /** The SSH host or alias, without the user. */
      readonly host: string
      /** The login user from `user@host`, if given. */
      readonly user: string | undefined
      readonly directory: string
    }

/**
 * Parses a location like rotate-backups: `ALIAS:DIR` split at the first `:` is remote when both parts are
 * non-empty and the part before holds no `/` (`server:/backups`, `user@host:/path`, `host:relative`);
 * anything else is a local directory (`/a:b`).
 *
 * @example
 * ```ts
 * parseLocation('some-host:/some/directory') // { kind: 'ssh', host: 'some-host', user: undefined, directory: '/some/directory' }
 * ```
 */
export function parseLocation(text: string): Location {
  const colon = text.indexOf(':')
  if (colon > 0 && colon < text.length - 1 && !text.slice(0, colon).includes('/')) {
    const alias = text.slice(0, colon)
    const at = alias.lastIndexOf('@')
    return {
      kind: 'ssh',
      host: at < 0 ? alias : alias.slice(at + 1),
      user: at < 0 ? undefined : alias.slice(0, at),
      directory: text.slice(colon + 1),
    }
  }
  return { kind: 'local', directory: text }
}

/** Formats a location as rotate-backups logs it: the directory, or `[user@]host:/dir`. */
export function formatLocation(location: Location): string {
  if (location.kind === 'local') return location.directory
  return `${location.user === undefined ? '' : `${location.user}@`}${location.host}:${location.directory}`
}

/** Joins a directory and an entry name with one `/`. */
export function joinPath(directory: string, name: string): string {
  return directory.endsWith('/') ? `${directory}${name}` : `${directory}/${name}`
}

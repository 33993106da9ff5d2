import type { Context } from '@rsb/exec'
import { CliError } from '../errors.js'
import { STORE_DIRECTORY } from '../session/store.js'

/** What one probe of a path found (see {@link probePath}). */
export interface PathFacts {
  /** The path made absolute, `~` expanded (SSH, as the login user), `.`/`..`/`//` and symlinked parents resolved. */
  readonly resolved: string
  /** What `resolved` is (not following a final symlink). */
  readonly type: 'missing' | 'directory' | 'symlink' | 'other'
  /** A directory with at least one entry. */
  readonly nonEmpty: boolean
  /** Readable and searchable (`test -r` and `-x`). */
  readonly readable: boolean
  /** It holds `.rsb/store.json`: it is an rsb store. */
  readonly isStore: boolean
  /** It holds entries named like snapshots (`YYYY-MM-DD HH:MM:SS`). */
  readonly holdsSnapshots: boolean
  /** Its parent is an rsb store (`.rsb/store.json`) that records it as a mirror. */
  readonly isRegisteredMirror: boolean
  /** Its parent holds snapshot-named directories (an original store, adopted or not). */
  readonly besideSnapshots: boolean
  /**
   * The first ancestor (the parent or above) that is a mirror or a snapshot of a store: a path inside it would
   * be written over by that mirror's backups, or would write into a snapshot.
   */
  readonly insideBackup: string | undefined
  /**
   * Device and inode of the parent (the store), or of its nearest existing ancestor followed by the rest of the
   * path: one directory however it is reached (symlinks, bind mounts). Empty when `stat` failed.
   */
  readonly storeId: string
}

const GLOB = '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]'

// $1 path (absolute, or relative to the working directory: the login directory over SSH), $2 unused,
// $3 'source' to resolve the whole path (following a final symlink, as rsync does with SOURCE/).
// Prints KEY=VALUE fields, NUL-separated.
/** The probe (exported for tests that answer it with a recording context). */
export const PROBE_SCRIPT = `
set -u
g='${GLOB}'
p=$1
out() { printf '%s=%s\\0' "$1" "$2"; }
case $p in /*) ;; *) p=$(pwd -P)/$p ;; esac
real() { r=$(realpath $1 -- "$2" && echo x) || { out error "cannot resolve $2"; exit 0; }; r=\${r%?x}; }
b=\${p##*/}
if [ "$3" = source ]; then real -m "$p"; R=$r
else
  case $b in
    ''|.|..) real -m "$p"; R=$r ;;
    *) d=\${p%/*}; [ -n "$d" ] || d=/; real -m "$d"; R=\${r%/}/$b ;;
  esac
fi
out resolved "$R"
if [ -L "$R" ]; then out type symlink; elif [ -d "$R" ]; then out type directory; elif [ -e "$R" ]; then out type other; else out type missing; fi
has() { d=$1; shift; [ -n "$(find "$d/" -mindepth 1 -maxdepth 1 "$@" -printf x -quit 2>/dev/null)" ]; }
if [ -d "$R" ] && [ ! -L "$R" ]; then
  has "$R" && out nonempty 1
  [ -r "$R" ] && [ -x "$R" ] && out readable 1
  [ -f "$R/${STORE_DIRECTORY}/store.json" ] && out store 1
  has "$R" -name "$g" && out snapshots 1
fi
P=\${R%/*}; [ -n "$P" ] || P=/
n=\${R##*/}
# the store's identity: device and inode of it (or of its nearest existing ancestor, plus the rest of the path)
I=$P; while [ ! -d "$I" ]; do I=\${I%/*}; [ -n "$I" ] || I=/; done
out storeid "$(stat -c %d:%i -- "$I" 2>/dev/null)\${P#"$I"}"
if [ "$R" != / ]; then
  [ -f "$P/${STORE_DIRECTORY}/mirrors/$n.json" ] && [ -f "$P/${STORE_DIRECTORY}/store.json" ] && out mirror 1
  has "$P" -type d -name "$g" && out beside 1
fi
A=$P
while [ "$A" != / ] && [ -n "$A" ]; do
  Q=\${A%/*}; [ -n "$Q" ] || Q=/
  m=\${A##*/}
  if [ -f "$Q/${STORE_DIRECTORY}/store.json" ]; then
    if [ -f "$Q/${STORE_DIRECTORY}/mirrors/$m.json" ]; then out inside "$A"; break; fi
    case $m in $g) out inside "$A"; break ;; esac
  elif has "$Q" -type d -name "$g"; then
    [ -d "$A" ] && { out inside "$A"; break; }
  fi
  A=$Q
done
exit 0
`

// Expands a leading ~ or ~user of $1 as the login shell of rsync's remote side does (no sudo: sudo's HOME is root's).
const TILDE_SCRIPT = `
p=$1
case $p in
  '~'|'~/'*) p=$HOME\${p#'~'} ;;
  '~'*) u=\${p#'~'}; u=\${u%%/*}; h=$(getent passwd -- "$u" | cut -d: -f6)
        [ -n "$h" ] || { echo "no such user: $u" >&2; exit 3; }; p=$h\${p#'~'"$u"} ;;
esac
printf '%s' "$p"
`

/**
 * Looks at a path in its context with one command: resolves it the way rsync will see it and reports what is
 * there (see {@link PathFacts}). Read-only.
 *
 * @param options.tilde - expand a leading `~` or `~user` as the remote shell of rsync does (SSH destinations)
 * @param options.source - resolve the whole path, following a final symlink (SOURCE, which rsync reads as `SOURCE/`)
 * @throws {CliError} ERR_RSB_CLI_PATH_UNRESOLVED when the path cannot be resolved
 */
export async function probePath(
  context: Context,
  path: string,
  options: { tilde?: boolean; source?: boolean; what: string; signal?: AbortSignal | undefined },
): Promise<PathFacts> {
  // A trailing slash says nothing for a directory: `latest/` is `latest` (and its symlink check must still see it).
  let trimmed = path.length > 1 ? path.replace(/\/+$/, '') || '/' : path
  if (options.tilde && trimmed.startsWith('~')) {
    const expanded = await context.run(['sh', '-c', TILDE_SCRIPT, 'sh', trimmed], {
      sudo: false,
      ionice: undefined,
      signal: options.signal,
      check: false,
    })
    if (expanded.exitCode !== 0 || expanded.stdout === '') {
      throw new CliError(
        'ERR_RSB_CLI_PATH_UNRESOLVED',
        `Cannot resolve ${options.what} '${path}' on ${context.host}: ${expanded.stderr.trim() || 'no home directory'}.`,
        {
          path,
          hint: `Check the user name after ~ (it must exist on ${context.host}).`,
        },
      )
    }
    trimmed = expanded.stdout
  }
  const result = await context.run(['sh', '-c', PROBE_SCRIPT, 'sh', trimmed, '', options.source ? 'source' : ''], {
    ionice: undefined,
    signal: options.signal,
    check: false,
  })
  const facts = new Map<string, string>()
  for (const field of result.stdout.split('\0')) {
    const eq = field.indexOf('=')
    if (eq > 0) facts.set(field.slice(0, eq), field.slice(eq + 1))
  }
  const resolved = facts.get('resolved')
  if (result.exitCode !== 0 || resolved === undefined) {
    const why = facts.get('error') ?? (result.stderr.trim().split('\n').at(-1) || `exit status ${result.exitCode}`)
    throw new CliError('ERR_RSB_CLI_PATH_UNRESOLVED', `Cannot resolve ${options.what} '${path}' on ${context.host}: ${why}.`, {
      path,
      hint: `Check that ${options.what} is a path that ${context.host} can reach (for SSH: relative paths start in the login directory).`,
    })
  }
  return {
    resolved,
    type: (facts.get('type') as PathFacts['type'] | undefined) ?? 'missing',
    nonEmpty: facts.has('nonempty'),
    readable: facts.has('readable'),
    isStore: facts.has('store'),
    holdsSnapshots: facts.has('snapshots'),
    isRegisteredMirror: facts.has('mirror'),
    besideSnapshots: facts.has('beside'),
    insideBackup: facts.get('inside'),
    storeId: /^\d+:\d+/.test(facts.get('storeid') ?? '') ? (facts.get('storeid') ?? '') : '',
  }
}

import type { Context } from '@rsb/exec'
import { CliError } from '../errors.js'
import { describeHolder, parseHolder, type LockHolder } from './lock.js'

// $1 the directory to lock (the resolved destination), $2 the holder to record (one JSON line; empty in a dry run:
// nothing written), $3 the file to record it in (in the store's metadata; only when its folder exists).
// Holds a flock on $1 (or on its nearest existing ancestor) for as long as it runs: until rsb
// stops it (TERM), or until its output is gone (the SSH connection closed, rsb killed), when the next `printf`
// fails. Exit 75: held by another run (its holder printed); 69: no flock here; 70: the directory cannot be opened.
/** The server side of {@link acquireServerLock} (exported for tests). */
export const HOLD_SCRIPT = `
d=$1
while [ ! -d "$d" ]; do d=\${d%/*}; [ -n "$d" ] || d=/; done
exec 9<"$d" || exit 70
command -v flock >/dev/null 2>&1 || exit 69
f=$3
if ! flock -n 9; then { [ -f "$f" ] && [ ! -L "$f" ] && cat -- "$f"; } 2>/dev/null; exit 75; fi
if [ -f "$f" ] && [ ! -L "$f" ]; then printf 'previous '; cat -- "$f"; printf '\\n'; fi
w=
if [ -n "$2" ] && [ -d "\${f%/*}" ] && [ ! -L "\${f%/*}" ]; then
  rm -f -- "$f" && ( set -C; printf '%s\\n' "$2" > "$f" ) 2>/dev/null && w=1
fi
trap '[ -z "$w" ] || rm -f -- "$f"; exit 0' TERM
echo locked
while sleep 1 9<&-; do printf . || exit 0; done
`

/** A lock held on the server; `release()` is idempotent. */
export interface ServerLock {
  /** The holder a run that ended without releasing the lock left behind. */
  readonly previous: LockHolder | undefined
  release(): Promise<void>
}

/**
 * Takes the lock of a mirror on its server, over the run's SSH connection: a `flock` on the destination directory
 * (or, before the first backup made it, on its nearest existing ancestor) held by a command that runs until
 * released (or until the connection is gone, so that a killed run frees it within a second). Runs from several
 * machines to one mirror are so serialised. The holder is recorded in HOLDERFILE (not in a dry run) for the
 * message another run shows.
 *
 * @returns undefined when the server has no `flock` (the caller warns)
 * @throws {CliError} ERR_RSB_CLI_LOCKED when another run holds it; ERR_RSB_CLI_LOCK_FAILED
 */
export async function acquireServerLock(options: {
  context: Context
  /** The resolved destination. */
  directory: string
  /** Where the holder is recorded: `.rsb/mirrors/NAME.lock` of the store. */
  holderFile: string
  display: string
  holder: LockHolder | undefined
}): Promise<ServerLock | undefined> {
  const { context, directory, display } = options
  const controller = new AbortController()
  let output = ''
  let onLocked: () => void = () => undefined
  const locked = new Promise<void>((resolve) => {
    onLocked = resolve
  })
  const settled = context
    .run(['sh', '-c', HOLD_SCRIPT, 'sh', directory, options.holder ? JSON.stringify(options.holder) : '', options.holderFile], {
      ionice: undefined,
      check: false,
      capture: false,
      signal: controller.signal,
      killAfterMs: 2000,
      onStdout: (chunk) => {
        if (output.length < 64 * 1024) output += chunk
        if (/^locked$/m.test(output)) onLocked()
      },
      onStderr: () => undefined,
    })
    .then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    )
  const first = await Promise.race([locked.then(() => undefined), settled])
  if (first === undefined) {
    const line = /^previous (.*)$/m.exec(output)?.[1]
    let released: Promise<void> | undefined
    return {
      previous: line === undefined ? undefined : parseHolder(line),
      release() {
        controller.abort()
        released ??= settled.then(() => undefined)
        return released
      },
    }
  }
  if ('error' in first) throw first.error
  const { exitCode } = first.result
  if (exitCode === 69) return undefined
  if (exitCode === 75) {
    const holder = parseHolder(output.split('\n')[0] ?? '')
    throw new CliError(
      'ERR_RSB_CLI_LOCKED',
      holder
        ? `Another rsb run (${describeHolder(holder)}) is working on ${display} on ${context.host}.`
        : `Another rsb run is working on ${display} on ${context.host}.`,
      { destination: display, path: directory, hint: 'Wait for it to finish; only one run per destination at a time, from any machine.' },
    )
  }
  throw new CliError(
    'ERR_RSB_CLI_LOCK_FAILED',
    `Could not take the lock of ${directory} on ${context.host}: ${exitCode === 70 ? 'the directory cannot be opened' : `exit status ${String(exitCode)}`}${first.result.stderr.trim() ? ` (${first.result.stderr.trim().split('\n').at(-1)})` : ''}.`,
    { destination: display, path: directory },
  )
}

// The probes of `rsb doctor`: one command each, in the context where the files are (the destination's filesystem
// over the one SSH connection; SOURCE here). The write tests happen in a private directory that the probe makes
// with mktemp -d in the store (or the nearest existing parent) and removes when it ends, also when it is stopped.
import type { Context } from '@rsb/exec'
import { parseFilesystemFacts, parseSourceFacts, PROBE_MTIME, type FilesystemFacts, type SourceFacts } from './checks.js'

/** The prefix of the probe's scratch directory (the rest is mktemp's random part). */
export const SCRATCH_PREFIX = '.rsb-doctor.'

// $1 the directory (resolved: no symlink in it), $2 `write` to run the write tests. Prints KEY=VALUE fields,
// NUL-separated. Writes nothing outside the directory mktemp -d makes (0700, unpredictable name), which the EXIT
// trap removes by its name; the signals' traps exit, so that the EXIT trap runs then too (the tests run in a child
// the script waits for, so that a signal is handled at once, not after a test that hangs).
/** The filesystem probe (exported for tests that answer it with a recording context). */
export const FILESYSTEM_SCRIPT = `
set -u
export LC_ALL=C TZ=UTC
out() { printf '%s=%s\\0' "$1" "$2"; }
B=$1
while [ -L "$B" ] || [ ! -d "$B" ]; do
  [ "$B" != / ] || break
  B=\${B%/*}; [ -n "$B" ] || B=/
done
out base "$B"
out mountpoint "$(stat -c %m -- "$B" 2>/dev/null)"
out df "$(df -B1 --output=fstype,size,avail,itotal,iavail -- "$B" 2>/dev/null | tail -n 1)"
out linkmax "$(getconf LINK_MAX "$B" 2>/dev/null)"
[ "$2" = write ] || exit 0
me=$(id -u)
owner=$(stat -c %u -- "$B")
if [ "$owner" != 0 ] && [ "$owner" != "$me" ]; then out unsafe "$B belongs to another user (uid $owner)"; exit 0; fi
if [ -n "$(find "$B" -maxdepth 0 -perm -0002 ! -perm -1000 2>/dev/null)" ]; then out unsafe "every user may write in $B"; exit 0; fi
T=$(mktemp -d "$B/${SCRATCH_PREFIX}XXXXXXXXXX" 2>&1) || { out scratch-error "$T"; exit 0; }
c=
gone() { [ -z "$c" ] || kill "$c" 2>/dev/null; rm -rf -- "$T"; }
trap gone EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
out scratch "$T"
# the tests in a child, waited for: a signal ends the wait at once, and the EXIT trap stops the child and removes T
(
trap - EXIT HUP INT TERM
f=$T/probe
e=$( { : > "$f"; } 2>&1) || { out hardlink-error "$e"; exit 0; }
if e=$(ln -- "$f" "$T/link" 2>&1); then out hardlink 1; else out hardlink-error "$e"; fi
if ! command -v setfacl >/dev/null 2>&1 || ! command -v getfacl >/dev/null 2>&1; then out acl-error 'no setfacl program'
elif e=$(setfacl -m u:4321:r -- "$f" 2>&1) && getfacl -n -- "$f" 2>/dev/null | grep -q '^user:4321:r'; then out acl 1
else out acl-error "\${e:-the ACL was not kept}"; fi
if ! command -v setfattr >/dev/null 2>&1 || ! command -v getfattr >/dev/null 2>&1; then out xattr-error 'no setfattr program'
elif e=$(setfattr -n user.rsb-doctor -v 1 -- "$f" 2>&1) && [ "$(getfattr --only-values -n user.rsb-doctor -- "$f" 2>/dev/null)" = 1 ]; then out xattr 1
else out xattr-error "\${e:-the attribute was not kept}"; fi
if [ "$me" = 0 ]; then
  : > "$T/owner"
  if e=$(chown 4321:4321 -- "$T/owner" 2>&1) && [ "$(stat -c %u:%g -- "$T/owner")" = 4321:4321 ]; then out owner 1
  else out owner-error "\${e:-the owner was not kept}"; fi
fi
: > "$T/case-probe"
if [ -e "$T/CASE-PROBE" ]; then out case insensitive; else out case sensitive; fi
: > "$T/time"
if e=$(touch -d '${PROBE_MTIME}' -- "$T/time" 2>&1); then out mtime "$(stat -c %y -- "$T/time")"; else out mtime-error "$e"; fi
) &
c=$!
wait "$c"
c=
exit 0
`

/**
 * Probes the filesystem that holds `directory` (or its nearest existing parent) in `context`, with its sudo
 * default; with `write`, makes a private scratch directory there for the write tests and removes it.
 */
export async function probeFilesystem(
  context: Context,
  directory: string,
  options: { write: boolean; signal?: AbortSignal | undefined },
): Promise<FilesystemFacts> {
  const result = await context.run(['sh', '-c', FILESYSTEM_SCRIPT, 'sh', directory, options.write ? 'write' : ''], {
    ionice: undefined,
    signal: options.signal,
    check: false,
  })
  const facts = parseFilesystemFacts(result.stdout)
  if (facts.base === '') {
    throw new Error(
      `the filesystem probe of ${directory} on ${context.host} failed: ${result.stderr.trim() || `exit status ${result.exitCode}`}`,
    )
  }
  return facts
}

// $1 SOURCE, $2 `-xdev` or empty. One line: ENTRIES BYTES MAXLINKS FIND-STATUS (inodes, hard links counted once; bytes of files
// and symlinks; the highest link count of a regular file). Only numbers cross: no names.
/** The scan of SOURCE (exported for tests). */
export const SOURCE_SCRIPT = `
set -u
export LC_ALL=C
{ find "$1/" $2 -printf '%D:%i %n %s %y\\n'; echo "find-status $?"; } | awk '
$1 == "find-status" { st = $2; next }
{ if ($2 > 1) { if (seen[$1]++) next } n++
  if ($4 == "f" || $4 == "l") s += $3
  if ($4 == "f" && $2 > m) m = $2 }
END { printf "%.0f %.0f %.0f %d\\n", n, s, m, st }'
`

/** Scans SOURCE (a resolved directory) in `context`: its entries, bytes and most-linked file. */
export async function scanSource(
  context: Context,
  source: string,
  options: { multiFs: boolean; signal?: AbortSignal | undefined },
): Promise<SourceFacts> {
  const result = await context.run(['sh', '-c', SOURCE_SCRIPT, 'sh', source, options.multiFs ? '' : '-xdev'], {
    signal: options.signal,
    check: false,
  })
  const facts = parseSourceFacts(source, result.stdout, result.stderr)
  if (facts === undefined) throw new Error(`the scan of ${source} failed: ${result.stderr.trim() || `exit status ${result.exitCode}`}`)
  return facts
}

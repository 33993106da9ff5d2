import type { Context } from '@rsb/exec'
import { CliError } from '../errors.js'
import type { Logger } from '../kit/log.js'
import { describeHolder, parseHolder, type LockHolder } from './lock.js'

// $1 the directory to lock (the resolved destination), $2 the file where holders are recorded (in the store's
// metadata; read here, written by RECORD_SCRIPT once the run's checks passed). Takes an exclusive flock on $1 (on
// descriptor 9), or, before the first backup made it, on its nearest existing ancestor (at most 5 levels up: a
// deeper missing path is refused, exit 71); and shared ones on the six directories above that (descriptors 3 to
// 8), so that a first run (which locks an ancestor) and a later run (which locks the directory the first one made)
// still exclude each other. Two existing mirrors of one store do not exclude each other; a new mirror's first run
// waits for the store's other runs. The record is read only when its folder and the one above are real
// directories of root, this user or the user who ran sudo that nobody else may write (whoever may write there
// could plant a FIFO), with a time limit and its newlines removed (it cannot fake an answer). Then it runs until
// rsb stops it (TERM, answered at once: `released` printed; INT and QUIT, a Ctrl-C in rsb's terminal, are ignored:
// rsb releases it itself) or until its output is gone (the connection closed, rsb killed), when `printf` fails.
// Output lines: `pid PID` (the holder's, for the kill that releases it), `holder JSON` (exit 75: another run
// holds it), `previous JSON` (a dead run's record, taken over), `locked`, `released`. Exit 75: held; 69: no flock
// here; 70: the directory cannot be opened; 71: too many missing directories above the destination.
// own DIR: DIR is a real directory of root, this user or the user who ran sudo, and nobody else may write it.
const OWN = `me=$(id -u)
own() {
  [ -d "$1" ] && [ ! -L "$1" ] || return 1
  s=$(stat -c '%u %a' -- "$1") || return 1
  case \${s% *} in 0|"$me"|"\${SUDO_UID:-0}") ;; *) return 1 ;; esac
  [ $(( 0\${s#* } & 022 )) -eq 0 ]
}`

/** The server side of {@link acquireServerLock} (exported for tests). */
export const HOLD_SCRIPT = `
trap '' INT QUIT
echo "pid $$"
x=$1
k=0
while [ ! -d "$x" ]; do x=\${x%/*}; [ -n "$x" ] || x=/; k=$((k + 1)); done
[ $k -le 5 ] || exit 71
[ $k -eq 0 ] || echo new
command exec 9<"$x" || exit 70
command -v flock >/dev/null 2>&1 || exit 69
f=$2
m=\${f%/*}
${OWN}
safe=
own "$m" && own "\${m%/*}" && safe=1
holder() { [ -n "$safe" ] && [ -f "$f" ] && [ ! -L "$f" ] && timeout 5 head -c 4096 -- "$f" 2>/dev/null | tr -d '\\n\\r'; }
held() { printf 'holder %s\\n' "$(holder)"; exit 75; }
flock -n 9 || held
n=3
a=$x
while [ "$a" != / ] && [ $n -le 8 ]; do
  a=\${a%/*}; [ -n "$a" ] || a=/
  if eval "command exec $n<\\"\\$a\\"" 2>/dev/null; then flock -s -n $n || held; n=$((n + 1)); fi
done
p=$(holder)
[ -z "$p" ] || printf 'previous %s\\n' "$p"
trap 'kill $! 2>/dev/null; echo; echo released; exit 0' TERM
echo locked
# the sleep in the background, so that TERM is answered at once (a shell runs traps only between commands)
while :; do sleep 1 3<&- 4<&- 5<&- 6<&- 7<&- 8<&- 9<&- & wait $!; printf . || exit 0; done
`

// $1 the record file, $2 the holder (one JSON line): written aside (mktemp, private) and renamed into place, only
// when its folder and the one above are real directories of root, this user or the user who ran sudo that nobody
// else may write (the store read checked them; this checks again where it writes).
const RECORD_SCRIPT = `
umask 077
d=\${1%/*}
${OWN}
own "$d" && own "\${d%/*}" || exit 0
t=$(mktemp "$d/.lock.XXXXXX") || exit 1
printf '%s\\n' "$2" > "$t" && mv -f -- "$t" "$1" || { rm -f -- "$t"; exit 1; }
`

/** A lock held on the destination's machine; `release()` is idempotent. */
export interface ServerLock {
  /** The holder a run that ended without releasing the lock left behind. */
  readonly previous: LockHolder | undefined
  /**
   * Records the holder in the store (`.rsb/mirrors/NAME.lock`) for the message another run shows; called once the
   * run's checks passed (never in a dry run), so that a refused run changes nothing. Removed again on release.
   */
  record(holder: LockHolder): Promise<void>
  /**
   * Throws when the holder has ended before it was released (the connection was lost and rsb's next command opened
   * a new one): the run must not write on without its lock.
   *
   * @throws {CliError} ERR_RSB_CLI_LOCK_FAILED
   */
  assertHeld(): void
  release(): Promise<void>
}

/** How long the holder may take to answer before the run gives up (ERR_RSB_CLI_LOCK_FAILED). */
const ANSWER_MS = 30_000

/**
 * Takes the lock of a mirror where it lives, in the destination's context (over the run's SSH connection, or on
 * this machine): a `flock` on the destination directory (before the first backup made it, on its nearest
 * existing ancestor, with shared ones above it) held by a command that runs until released, or until the
 * connection is gone, so that a killed run frees it within a second or two. Runs from several machines, and
 * from several users or lock directories on one machine, are so serialised. {@link ServerLock.record} records
 * the holder in HOLDERFILE for the message another run shows.
 *
 * @returns undefined when there is no `flock` there (the caller warns)
 * @throws {CliError} ERR_RSB_CLI_LOCKED when another run holds it; ERR_RSB_CLI_LOCK_FAILED; the run's abort
 */
export async function acquireServerLock(options: {
  context: Context
  /** The resolved destination. */
  directory: string
  /** Where the holder is recorded: `.rsb/mirrors/NAME.lock` of the store. */
  holderFile: string
  display: string
  logger: Logger
  signal: AbortSignal | undefined
}): Promise<ServerLock | undefined> {
  const { context, directory, display, logger } = options
  const controller = new AbortController()
  let output = ''
  let tail = ''
  let releasedSeen = false
  let ended = false
  let onLocked: () => void = () => undefined
  const locked = new Promise<void>((resolve) => {
    onLocked = resolve
  })
  const settled = context
    .run(['sh', '-c', HOLD_SCRIPT, 'sh', directory, options.holderFile], {
      ionice: undefined,
      check: false,
      capture: false,
      signal: controller.signal,
      killAfterMs: 2000,
      onStdout: (chunk) => {
        // the first lines say what happened; the rest is a dot a second, of which only the end is kept
        if (output.length < 64 * 1024) output += chunk
        tail = (tail + chunk).slice(-64)
        if (/(^|\n)released(\n|$)/.test(tail)) releasedSeen = true
        if (/^locked$/m.test(output)) onLocked()
      },
      onStderr: () => undefined,
    })
    .then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    )
    .finally(() => {
      ended = true
    })
  // the run's own stop, and a holder that never answers, end the wait
  let timer: NodeJS.Timeout | undefined
  const gaveUp = new Promise<'aborted' | 'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ANSWER_MS)
    if (options.signal?.aborted) resolve('aborted')
    options.signal?.addEventListener('abort', () => resolve('aborted'), { once: true })
  })
  const first = await Promise.race([locked.then(() => 'locked' as const), settled, gaveUp])
  clearTimeout(timer)
  if (first === 'aborted' || first === 'timeout') {
    controller.abort()
    await settled
    if (first === 'aborted') throw options.signal?.reason instanceof Error ? options.signal.reason : new Error('interrupted')
    throw new CliError(
      'ERR_RSB_CLI_LOCK_FAILED',
      `The lock of ${directory} on ${context.host} did not answer in ${ANSWER_MS / 1000} seconds.`,
      {
        destination: display,
        path: directory,
      },
    )
  }
  if (first === 'locked') {
    const line = /^previous (.*)$/m.exec(output)?.[1]
    let released: Promise<void> | undefined
    let recorded = false
    const removeRecord = async () => {
      if (recorded) await context.run(['rm', '-f', '--', options.holderFile], { ionice: undefined, check: false }).catch(() => undefined)
    }
    let releasing = false
    const assertHeld = () => {
      if (ended && !releasing)
        throw new CliError(
          'ERR_RSB_CLI_LOCK_FAILED',
          `The lock of ${directory} on ${context.host} was lost (the connection dropped?): the run stops here rather than write without it.`,
          { destination: display, path: directory, hint: 'Run rsb again once the connection is stable.' },
        )
    }
    return {
      previous: line === undefined ? undefined : parseHolder(line),
      assertHeld,
      async record(holder) {
        assertHeld()
        recorded = true
        await context.run(['sh', '-c', RECORD_SCRIPT, 'sh', options.holderFile, JSON.stringify(holder)], {
          ionice: undefined,
          check: false,
        })
      },
      release() {
        releasing = true
        released ??= (async () => {
          // the record goes first, while this run still holds the lock (no other run's record can be there yet)
          await removeRecord()
          // then TERM to the holder (through sh, which a least-privilege sudoers rule allows)
          const pid = /^pid (\d+)$/m.exec(output)?.[1]
          // (not when it has ended already: the PID may be another process's by now)
          if (pid !== undefined && !ended)
            await context.run(['sh', '-c', 'kill -TERM "$1"', 'sh', pid], { ionice: undefined, check: false }).catch(() => undefined)
          let timer: NodeJS.Timeout | undefined
          const stopped = await Promise.race([
            settled.then(() => true),
            new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 5000))),
          ])
          clearTimeout(timer)
          if (stopped && releasedSeen) return
          // it did not stop when asked: it is stopped as a command now, and ends with the connection at the latest
          controller.abort()
          await settled
          logger.log('warning', `The lock of ${directory} on ${context.host} did not stop when asked; it ends when the connection closes.`)
        })()
        return released
      },
    }
  }
  if ('error' in first) throw first.error
  const { exitCode } = first.result
  if (exitCode === 69) return undefined
  if (exitCode === 75) {
    const holder = parseHolder(/^holder (.*)$/m.exec(output)?.[1] ?? '')
    throw new CliError(
      'ERR_RSB_CLI_LOCKED',
      holder
        ? `Another rsb run (${describeHolder(holder)}) is working on ${display} on ${context.host}.`
        : /^new$/m.test(output)
          ? `Another rsb run is working on ${display} on ${context.host}, or, as this destination is new, on another mirror of its store.`
          : `Another rsb run is working on ${display} on ${context.host}.`,
      { destination: display, path: directory, hint: 'Wait for it to finish; only one run per destination at a time, from any machine.' },
    )
  }
  const stderr = first.result.stderr.trim().split('\n').at(-1) ?? ''
  throw new CliError(
    'ERR_RSB_CLI_LOCK_FAILED',
    `Could not take the lock of ${directory} on ${context.host}: ${exitCode === 70 ? 'the directory cannot be opened' : exitCode === 71 ? 'more than 5 directories above it are missing (create its parent first)' : `exit status ${String(exitCode)}`}${stderr ? ` (${stderr})` : ''}.`,
    { destination: display, path: directory },
  )
}

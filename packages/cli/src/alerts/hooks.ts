// The one place in @rsb/cli that starts a process without @rsb/exec. A hook is a shell command that may start
// background processes (`sleep 1000 &`), and a time-out or abort must stop all of them: that needs the hook in
// a process group of its own (spawn's `detached`, which calls setsid) and a signal to the whole group
// (`process.kill(-pid)`). @rsb/exec's contexts cannot do either: execa's `cancelSignal` and `kill()` signal the
// child's PID only, and a context neither starts a new process group nor tells its caller the PID. execa is no
// dependency of @rsb/cli, so node:child_process does it here (as session/lock.ts runs flock).
import { spawn } from 'node:child_process'

/** How much of a hook's output is kept: the last 64 KiB. */
export const HOOK_OUTPUT_LIMIT = 64 * 1024

/** What a hook did. */
export interface HookResult {
  /** Exited with status 0 in time, not aborted. */
  readonly ok: boolean
  /** Its shell's exit status; undefined when a signal ended it (or it never started). */
  readonly exitCode: number | undefined
  /** The signal that ended the shell, if one did (`SIGTERM` after a time-out). */
  readonly signal: string | undefined
  /** Stopped because it ran longer than `timeout`. */
  readonly timedOut: boolean
  /** Stopped because `signal` was aborted. */
  readonly aborted: boolean
  /** Its standard output and error (one pipe, in the order written): the last {@link HOOK_OUTPUT_LIMIT} bytes. */
  readonly output: string
}

/** Options of {@link runHook}. */
export interface RunHookOptions {
  /** Time limit in milliseconds; 0 or Infinity: none. */
  readonly timeout: number
  /** Stops the hook (its whole process group) like a time-out does. */
  readonly signal?: AbortSignal | undefined
  /** The environment the hook's variables are added to (the job's: usually the process's). */
  readonly baseEnv: Readonly<Record<string, string | undefined>>
  /** Between SIGTERM and SIGKILL to the process group, in milliseconds. Default: 5000. */
  readonly killAfter?: number | undefined
  /** Bytes of output kept (the last ones). Default: {@link HOOK_OUTPUT_LIMIT}. */
  readonly outputLimit?: number | undefined
  /** The working directory. Default: `/`, so that a hook never depends on where rsb was started. */
  readonly cwd?: string | undefined
  /**
   * How long, in milliseconds, the output pipe may stay open once the shell has exited (and its group was signalled)
   * before it is closed from this end: a process that left the group (setsid, a daemon) may hold it for ever.
   * Default: {@link HOOK_PIPE_GRACE}.
   */
  readonly pipeGrace?: number | undefined
}

/** How long the output pipe may stay open after the hook's shell exited (and its group was signalled): 1.5 s. */
export const HOOK_PIPE_GRACE = 1500

/** Keeps the last `limit` bytes of what it is given. */
class Tail {
  readonly #limit: number
  #chunks: Buffer[] = []
  #size = 0
  #cut = false

  constructor(limit: number) {
    this.#limit = limit
  }

  push(chunk: Buffer): void {
    this.#chunks.push(chunk)
    this.#size += chunk.length
    if (this.#size > 2 * this.#limit) this.#compact()
  }

  #compact(): void {
    const all = Buffer.concat(this.#chunks)
    if (all.length > this.#limit) this.#cut = true
    this.#chunks = [all.subarray(Math.max(0, all.length - this.#limit))]
    this.#size = this.#chunks[0]?.length ?? 0
  }

  text(): string {
    this.#compact()
    let bytes = this.#chunks[0] ?? Buffer.alloc(0)
    // after a cut, skip the continuation bytes of a character whose start was dropped
    if (this.#cut) {
      let start = 0
      while (start < bytes.length && start < 4 && ((bytes[start] as number) & 0xc0) === 0x80) start++
      bytes = bytes.subarray(start)
    }
    return bytes.toString('utf8')
  }
}

/**
 * Runs a hook command with `sh -c COMMAND` in a process group of its own: the job's environment (`baseEnv`)
 * plus `env` (RSB_JOB, RSB_STATUS, RSB_SNAPSHOT, RSB_DESTINATION, RSB_EXIT_CODE, RSB_ERROR …, passed as they
 * are: nothing in a value is evaluated), standard input `/dev/null`, standard output and error captured (never
 * rsb's own, which may be a `--json` document).
 *
 * The hook ends when its shell exits: processes it left in its process group are then sent SIGTERM (like
 * systemd's KillMode=control-group), so nothing it started outlives it unless it left the group (setsid,
 * systemd-run, a daemon that detaches). On a time-out or abort the whole group gets SIGTERM, then SIGKILL after
 * `killAfter`. Output is read until the pipe closes, but never longer than `pipeGrace` after the shell exited and its
 * group is empty (or was sent SIGKILL): a process outside the group that keeps the pipe open (`setsid sleep 100 &`)
 * cannot make the hook, or the run that waits for it, last for ever. Even a shell that never exits (stuck in the
 * kernel) is given up `pipeGrace` after the SIGKILL of a time-out or abort.
 *
 * Never throws for the command's own failure (a non-zero status, a signal, a time-out, a missing `sh`).
 *
 * @example
 * ```ts
 * const result = await runHook('pg_dumpall > /var/backups/pg.sql', { RSB_JOB: 'home' }, { timeout: 600_000, baseEnv: process.env })
 * if (!result.ok) console.error(result.output)
 * ```
 */
export function runHook(command: string, env: Readonly<Record<string, string>>, options: RunHookOptions): Promise<HookResult> {
  const tail = new Tail(options.outputLimit ?? HOOK_OUTPUT_LIMIT)
  const finished = (fields: Omit<HookResult, 'output' | 'ok'>): HookResult => ({
    ...fields,
    ok: fields.exitCode === 0 && !fields.timedOut && !fields.aborted,
    output: tail.text(),
  })
  if (options.signal?.aborted) return Promise.resolve(finished({ exitCode: undefined, signal: undefined, timedOut: false, aborted: true }))
  const environment: Record<string, string> = {}
  for (const [name, value] of Object.entries(options.baseEnv)) if (value !== undefined) environment[name] = value
  Object.assign(environment, env)

  return new Promise<HookResult>((resolve) => {
    let timedOut = false
    let aborted = false
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
    let killTimer: NodeJS.Timeout | undefined
    let killed = false
    let pipeTimer: NodeJS.Timeout | undefined
    const grace = options.pipeGrace ?? HOOK_PIPE_GRACE
    // one pipe for both streams, so that the output keeps the order in which the hook wrote it: the outer shell
    // points its standard error at its standard output and becomes (exec) the hook's shell, same PID and group
    const child = spawn('/bin/sh', ['-c', 'exec 2>&1; exec /bin/sh -c "$1"', 'sh', command], {
      cwd: options.cwd ?? '/',
      env: environment,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    const group = child.pid
    // signal 0 only asks whether anything is left in the group
    const signalGroup = (name: NodeJS.Signals | 0): boolean => {
      if (group === undefined) return false
      try {
        process.kill(-group, name)
        return true
      } catch {
        // ESRCH: nothing is left in the group
        return false
      }
    }
    // the end of waiting for the pipe: what is still in it is lost, the output so far is the hook's
    const giveUp = () => {
      child.stdout.destroy()
      child.stderr.destroy()
      done(exit?.code ?? null, exit?.signal ?? null)
    }
    const stop = () => {
      signalGroup('SIGTERM')
      killTimer ??= setTimeout(() => {
        killed = true
        signalGroup('SIGKILL')
        clearTimeout(pipeTimer)
        pipeTimer = setTimeout(giveUp, grace)
      }, options.killAfter ?? 5000)
    }
    const onAbort = () => {
      aborted = true
      stop()
    }
    const deadline =
      Number.isFinite(options.timeout) && options.timeout > 0
        ? setTimeout(() => {
            timedOut = true
            stop()
          }, options.timeout)
        : undefined
    options.signal?.addEventListener('abort', onAbort, { once: true })
    child.stdout.on('data', (chunk: Buffer) => tail.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => tail.push(chunk))
    child.once('exit', (code, signal) => {
      exit = { code, signal }
      clearTimeout(deadline)
      // what the hook left behind in its group (it may hold the output pipes open)
      if (!timedOut && !aborted) stop()
      // a process outside the group may hold the pipe for ever: wait `grace` for it, once the group is gone (what
      // is still in it holds the pipe until its SIGKILL, which starts a grace of its own)
      pipeTimer ??= setTimeout(() => {
        if (killed || !signalGroup(0)) giveUp()
      }, grace)
    })
    child.once('error', (error: NodeJS.ErrnoException) => {
      // the shell could not start (it never emits 'exit' then)
      if (exit || group !== undefined) return
      tail.push(Buffer.from(`rsb: cannot run /bin/sh: ${error.message}\n`))
      done(error.code === 'ENOENT' ? 127 : 126, null)
    })
    child.once('close', () => {
      if (group === undefined) return
      done(exit?.code ?? null, exit?.signal ?? null)
    })
    let settled = false
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return
      settled = true
      clearTimeout(deadline)
      clearTimeout(killTimer)
      clearTimeout(pipeTimer)
      options.signal?.removeEventListener('abort', onAbort)
      resolve(finished({ exitCode: code ?? undefined, signal: signal ?? undefined, timedOut, aborted }))
    }
  })
}

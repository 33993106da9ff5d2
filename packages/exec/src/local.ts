import { loadExeca } from './internal/lazy.js'
import { BaseContext, type ContextDefaults, type SpawnOutcome, type SpawnRequest } from './context.js'

/** Options of a {@link LocalContext}. */
export interface LocalContextOptions extends ContextDefaults {
  /** Working directory of the commands. Default: the process's. */
  cwd?: string | undefined
  /**
   * Open file descriptors that every command inherits (as its descriptors 3, 4, …), asked at each start: for
   * example a held lock, so that the lock lasts as long as any command of the run. Default: none.
   */
  inherit?: (() => readonly number[]) | undefined
}

/**
 * Runs commands on this machine (execa, no shell). `sudo` is prepended only when not root.
 *
 * @example
 * ```ts
 * const context = new LocalContext({ sudo: true })
 * if (await context.isDirectory('/mnt/backups')) console.log(await context.listEntries('/mnt/backups'))
 * ```
 */
export class LocalContext extends BaseContext {
  readonly kind = 'local' as const
  readonly host = 'localhost'
  readonly #cwd: string | undefined
  readonly #inherit: (() => readonly number[]) | undefined

  constructor(options: LocalContextOptions = {}) {
    super({ ...options, interactive: options.interactive ?? Boolean(process.stdin.isTTY) })
    this.#cwd = options.cwd
    this.#inherit = options.inherit
  }

  isPrivileged(): Promise<boolean> {
    return Promise.resolve(process.getuid?.() === 0)
  }

  close(): Promise<void> {
    return Promise.resolve()
  }

  protected async spawn(request: SpawnRequest): Promise<SpawnOutcome> {
    const [file, ...args] = request.argv as [string, ...string[]]
    const execa = await loadExeca()
    const inherited = this.#inherit?.() ?? []
    const stdin = request.terminal ? 'inherit' : request.input === undefined ? 'ignore' : 'pipe'
    const output = request.terminal ? 'inherit' : 'pipe'
    const subprocess = execa(file, args, {
      reject: false,
      ...(this.#cwd === undefined ? {} : { cwd: this.#cwd }),
      env: request.env,
      extendEnv: true,
      // execa's types name only descriptors 3 to 9; at run time any open descriptor is passed to the child
      stdio: [stdin, output, output, ...(inherited as readonly 3[])],
      ...(request.input === undefined || request.terminal ? {} : { input: request.input }),
      // execa buffers nothing: the streams are read here, chunk by chunk, by the caller's sinks
      buffer: false,
      ...(request.signal ? { cancelSignal: request.signal } : {}),
      forceKillAfterDelay: request.killAfterMs,
    })
    subprocess.stdout?.on('data', request.onStdout)
    subprocess.stderr?.on('data', request.onStderr)
    const result = await subprocess
    const code = (result.cause as NodeJS.ErrnoException | undefined)?.code
    return {
      exitCode: result.exitCode,
      signal: result.signal,
      notFound: code === 'ENOENT',
      aborted: result.isCanceled,
    }
  }
}

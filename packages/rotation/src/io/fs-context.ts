import fs from 'node:fs'
import type { Context, ContextDefaults, LocalContext, RunOptions, RunResult } from '@rsb/exec'
import { loadExec } from './exec.js'

/**
 * The local context of `rsb-rotate`: a `LocalContext` of `@rsb/exec` whose sanity checks (`test -d`, `-r`, `-w`)
 * and listing (`find DIR/ -mindepth 1 -maxdepth 1`) are answered with `node:fs` when no sudo is involved (sudo
 * off, or already root), with the same results; everything else (removals, sudo, failures) runs the commands
 * through a `LocalContext`, created (and `@rsb/exec` loaded) on first use. A local dry run thus starts no process
 * and loads neither `@rsb/exec` nor execa.
 */
export class FsLocalContext implements Context {
  readonly kind = 'local' as const
  readonly host = 'localhost'
  #defaults: Readonly<ContextDefaults> | undefined
  #local: Promise<LocalContext> | undefined

  /** As `new LocalContext()`'s: prompts allowed when standard input is a terminal. */
  get defaults(): Readonly<ContextDefaults> {
    this.#defaults ??= { interactive: Boolean(process.stdin.isTTY) }
    return this.#defaults
  }

  #commands(): Promise<LocalContext> {
    this.#local ??= loadExec().then(({ LocalContext }) => new LocalContext(this.defaults))
    return this.#local
  }

  #direct(options: RunOptions | undefined): boolean {
    if (options?.signal?.aborted) return false // the command path reports the abort
    // No sudo unless the call asks for it (this context has no sudo default).
    return options?.sudo !== true || process.getuid?.() === 0
  }

  isDirectory(path: string, options?: RunOptions): Promise<boolean> {
    if (!this.#direct(options)) return this.#commands().then((c) => c.isDirectory(path, options))
    try {
      return Promise.resolve(fs.statSync(path).isDirectory())
    } catch {
      return Promise.resolve(false)
    }
  }

  isReadable(path: string, options?: RunOptions): Promise<boolean> {
    if (!this.#direct(options)) return this.#commands().then((c) => c.isReadable(path, options))
    return Promise.resolve(accessible(path, fs.constants.R_OK))
  }

  isWritable(path: string, options?: RunOptions): Promise<boolean> {
    if (!this.#direct(options)) return this.#commands().then((c) => c.isWritable(path, options))
    return Promise.resolve(accessible(path, fs.constants.W_OK))
  }

  listEntries(directory: string, options?: RunOptions): Promise<string[]> {
    if (this.#direct(options)) {
      try {
        // like `find DIR/`, a symbolic link to a directory is followed
        return Promise.resolve(fs.readdirSync(directory).sort())
      } catch {
        // find reports the failure
      }
    }
    return this.#commands().then((c) => c.listEntries(directory, options))
  }

  async run(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    return (await this.#commands()).run(argv, options)
  }

  async capture(argv: readonly string[], options?: RunOptions): Promise<string> {
    return (await this.#commands()).capture(argv, options)
  }

  async test(argv: readonly string[], options?: RunOptions): Promise<boolean> {
    return (await this.#commands()).test(argv, options)
  }

  async exists(path: string, options?: RunOptions): Promise<boolean> {
    return (await this.#commands()).exists(path, options)
  }

  async isFile(path: string, options?: RunOptions): Promise<boolean> {
    return (await this.#commands()).isFile(path, options)
  }

  async which(name: string, options?: RunOptions): Promise<string | undefined> {
    return (await this.#commands()).which(name, options)
  }

  async readFile(path: string, options?: RunOptions): Promise<string> {
    return (await this.#commands()).readFile(path, options)
  }

  async mountPointOf(path: string, options?: RunOptions): Promise<string> {
    return (await this.#commands()).mountPointOf(path, options)
  }

  async isPrivileged(): Promise<boolean> {
    return (await this.#commands()).isPrivileged()
  }

  async hasIonice(): Promise<boolean> {
    return (await this.#commands()).hasIonice()
  }

  async commandLine(argv: readonly string[], options?: RunOptions): Promise<{ argv: string[]; env: Record<string, string> }> {
    return (await this.#commands()).commandLine(argv, options)
  }

  async close(): Promise<void> {
    if (this.#local) await (await this.#local).close()
  }
}

function accessible(path: string, mode: number): boolean {
  try {
    fs.accessSync(path, mode)
    return true
  } catch {
    return false
  }
}

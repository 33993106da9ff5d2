import fs from 'node:fs'
import { LocalContext, type RunOptions } from '@rsb/exec'

/**
 * The `LocalContext` of `rsb-rotate`: the sanity checks (`test -d`, `-r`, `-w`) and the listing
 * (`find DIR -mindepth 1 -maxdepth 1`) are answered with `node:fs` when no sudo is involved (sudo off, or
 * already root), with the same results; everything else (removals, sudo, failures) runs the commands. A local
 * dry run then starts no process and never loads the process-spawning code.
 */
export class FsLocalContext extends LocalContext {
  #direct(options: RunOptions | undefined): boolean {
    if (options?.signal?.aborted) return false // the command path reports the abort
    const sudo = options?.sudo ?? this.defaults.sudo ?? false
    return !sudo || process.getuid?.() === 0
  }

  override isDirectory(path: string, options?: RunOptions): Promise<boolean> {
    if (!this.#direct(options)) return super.isDirectory(path, options)
    try {
      return Promise.resolve(fs.statSync(path).isDirectory())
    } catch {
      return Promise.resolve(false)
    }
  }

  override isReadable(path: string, options?: RunOptions): Promise<boolean> {
    return this.#direct(options) ? Promise.resolve(accessible(path, fs.constants.R_OK)) : super.isReadable(path, options)
  }

  override isWritable(path: string, options?: RunOptions): Promise<boolean> {
    return this.#direct(options) ? Promise.resolve(accessible(path, fs.constants.W_OK)) : super.isWritable(path, options)
  }

  override listEntries(directory: string, options?: RunOptions): Promise<string[]> {
    if (this.#direct(options)) {
      try {
        // find does not follow a symbolic link given as the directory (it lists nothing): let it answer that.
        if (directory.endsWith('/') || !fs.lstatSync(directory).isSymbolicLink()) return Promise.resolve(fs.readdirSync(directory).sort())
      } catch {
        // find reports the failure
      }
    }
    return super.listEntries(directory, options)
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

import type { ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { freePort, startServer, stopProcess, waitForPort } from './process.js'
import { makeTempDir } from './tmp.js'

/** One module of the test daemon. */
export interface RsyncModule {
  /** The module's directory (created if missing). */
  path: string
  /** Default: false (writable). */
  readOnly?: boolean
  /** `post-xfer exec` command (run by /bin/sh). */
  postXferExec?: string
  /** Further `key = value` parameters of the module. */
  extra?: Record<string, string>
}

/** A running rsync daemon on 127.0.0.1. */
export interface RsyncDaemon {
  readonly hostname: '127.0.0.1'
  readonly port: number
  /** The helper's private directory (config, log, pid). */
  readonly dir: string
  readonly configFile: string
  readonly logFile: string
  /** `rsync://127.0.0.1:PORT/MODULE[/path]` */
  url(module: string, subpath?: string): string
  /** Stops the daemon (by PID) and removes the helper's directory (not the modules' directories). */
  stop(): Promise<void>
}

/**
 * Starts `rsync --daemon --no-detach` on 127.0.0.1 on a free port,
 * with `use chroot = no` and `munge symlinks = no`, so symlinks arrive intact. Needs root (uid/gid root).
 */
export async function startRsyncDaemon(options: { modules: Record<string, RsyncModule>; env?: NodeJS.ProcessEnv }): Promise<RsyncDaemon> {
  const temp = await makeTempDir('rsb-rsyncd-')
  const dir = temp.path
  const port = await freePort()
  const configFile = path.join(dir, 'rsyncd.conf')
  const logFile = path.join(dir, 'rsyncd.log')
  const lines = [`pid file = ${path.join(dir, 'rsyncd.pid')}`, `log file = ${logFile}`, 'use chroot = no', 'munge symlinks = no', '']
  for (const [name, module] of Object.entries(options.modules)) {
    await fs.mkdir(module.path, { recursive: true })
    lines.push(
      `[${name}]`,
      `    path = ${module.path}`,
      `    read only = ${module.readOnly ? 'yes' : 'no'}`,
      '    uid = root',
      '    gid = root',
    )
    if (module.postXferExec) lines.push(`    post-xfer exec = ${module.postXferExec}`)
    for (const [key, value] of Object.entries(module.extra ?? {})) lines.push(`    ${key} = ${value}`)
    lines.push('')
  }
  await fs.writeFile(configFile, lines.join('\n'))
  let child: ChildProcess | undefined
  try {
    child = startServer('rsync', ['--daemon', '--no-detach', `--config=${configFile}`, '--address=127.0.0.1', `--port=${port}`], {
      env: options.env ?? process.env,
    })
    await waitForPort(port, child)
  } catch (error) {
    if (child) await stopProcess(child)
    await temp.remove()
    throw error
  }
  const server = child
  return {
    hostname: '127.0.0.1',
    port,
    dir,
    configFile,
    logFile,
    url: (module, subpath) => `rsync://127.0.0.1:${port}/${module}${subpath ? `/${subpath.replace(/^\/+/, '')}` : ''}`,
    async stop() {
      await stopProcess(server)
      await temp.remove()
    },
  }
}

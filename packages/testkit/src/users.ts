import fs from 'node:fs/promises'
import { runChecked } from './process.js'

/** A throwaway local user. */
export interface TestUser {
  readonly name: string
  readonly uid: number
  readonly gid: number
  readonly home: string
  /** Deletes the user, its home directory and its sudoers rule. */
  remove(): Promise<void>
}

/**
 * Creates a non-root user with a login shell (password `*`, so sshd accepts key logins with `UsePAM no`)
 * and, unless `sudo: false`, a passwordless sudo rule in /etc/sudoers.d/. Needs root.
 */
export async function createSudoUser(options: { sudo?: boolean; prefix?: string } = {}): Promise<TestUser> {
  const name = `${options.prefix ?? 'rsbt'}${process.pid % 100000}${Math.floor(Math.random() * 1000)}`
  await runChecked('useradd', ['-m', '-s', '/bin/bash', '-p', '*', name])
  const sudoers = `/etc/sudoers.d/rsb-test-${name}`
  try {
    if (options.sudo !== false) {
      await fs.writeFile(sudoers, `${name} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 })
      await runChecked('visudo', ['-c', '-q', '-f', sudoers])
    }
    const uid = Number((await runChecked('id', ['-u', name])).trim())
    const gid = Number((await runChecked('id', ['-g', name])).trim())
    return {
      name,
      uid,
      gid,
      home: `/home/${name}`,
      async remove() {
        await fs.rm(sudoers, { force: true })
        await runChecked('userdel', ['-r', '-f', name]).catch(() => undefined)
      },
    }
  } catch (error) {
    await fs.rm(sudoers, { force: true })
    await runChecked('userdel', ['-r', '-f', name]).catch(() => undefined)
    throw error
  }
}

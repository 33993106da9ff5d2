import fs from 'node:fs'
import type { Context } from '@rsb/exec'
import type { Logger } from '../kit/log.js'

const SUMMARY = 'System backups'
const DESKTOP_VARIABLES = ['DBUS_SESSION_BUS_ADDRESS', 'DISPLAY', 'WAYLAND_DISPLAY', 'XAUTHORITY'] as const

/** Where a desktop session lives: its user and the variables that reach it. */
export interface DesktopSession {
  readonly uid: number
  readonly env: Readonly<Record<string, string>>
}

/**
 * Finds the desktop session to notify, as the original did: the most common (uid, variables) combination
 * among processes whose environment has `DISPLAY`, `WAYLAND_DISPLAY`, `XAUTHORITY` or the D-Bus session bus
 * address. Unreadable processes are skipped.
 */
export function findDesktopSession(procRoot = '/proc'): DesktopSession | undefined {
  const counts = new Map<string, { session: DesktopSession; count: number }>()
  let entries: string[]
  try {
    entries = fs.readdirSync(procRoot).filter((name) => /^\d+$/.test(name))
  } catch {
    return undefined
  }
  for (const pid of entries) {
    let environ: string
    let uid: number
    try {
      environ = fs.readFileSync(`${procRoot}/${pid}/environ`, 'utf8')
      uid = fs.statSync(`${procRoot}/${pid}`).uid
    } catch {
      continue
    }
    const env: Record<string, string> = {}
    for (const entry of environ.split('\0')) {
      const eq = entry.indexOf('=')
      const name = entry.slice(0, eq)
      if (eq > 0 && (DESKTOP_VARIABLES as readonly string[]).includes(name)) env[name] = entry.slice(eq + 1)
    }
    if (Object.keys(env).length === 0) continue
    const key = JSON.stringify([uid, Object.entries(env).sort()])
    const seen = counts.get(key)
    if (seen) seen.count++
    else counts.set(key, { session: { uid, env }, count: 1 })
  }
  let best: { session: DesktopSession; count: number } | undefined
  for (const candidate of counts.values()) if (!best || candidate.count > best.count) best = candidate
  return best?.session
}

/** The argv of `notify-send`: options as `--name=value`, then summary and body. */
export function notificationArgv(body: string, urgency: 'normal' | 'critical' = 'normal'): string[] {
  return ['notify-send', ...(urgency === 'critical' ? ['--urgency=critical'] : []), SUMMARY, body]
}

/**
 * Sends desktop notifications through `notify-send`. Never throws: a missing `notify-send` or a failure
 * is logged at DEBUG and ignored. When the process has no desktop variables itself, the desktop session
 * is looked up in /proc and reached through `sudo -u #UID VAR=value … notify-send` if it belongs to
 * another user.
 */
export class Notifier {
  readonly #context: Context
  readonly #logger: Logger
  readonly #enabled: boolean
  readonly #env: Readonly<Record<string, string | undefined>>
  #session: DesktopSession | null | undefined

  constructor(context: Context, logger: Logger, enabled: boolean, env: Readonly<Record<string, string | undefined>>) {
    this.#context = context
    this.#logger = logger
    this.#enabled = enabled
    this.#env = env
  }

  get enabled(): boolean {
    return this.#enabled
  }

  async send(body: string, urgency: 'normal' | 'critical' = 'normal'): Promise<void> {
    if (!this.#enabled) return
    const argv = notificationArgv(body, urgency)
    try {
      const ownDesktop = DESKTOP_VARIABLES.some((name) => this.#env[name])
      if (this.#session === undefined) this.#session = ownDesktop ? null : (findDesktopSession() ?? null)
      const session = this.#session
      const uid = process.getuid?.()
      let command = argv
      let env: Record<string, string> = {}
      if (session && session.uid !== uid) {
        command = ['sudo', '-n', '-u', `#${session.uid}`, ...Object.entries(session.env).map(([k, v]) => `${k}=${v}`), ...argv]
      } else if (session) {
        env = { ...session.env }
      }
      const result = await this.#context.run(command, {
        sudo: false,
        ionice: undefined,
        env,
        check: false,
        signal: AbortSignal.timeout(15_000),
      })
      if (result.exitCode !== 0)
        this.#logger.log('debug', `notify-send exited with ${result.exitCode ?? result.signal}: ${result.stderr.trim()}`)
    } catch (error) {
      this.#logger.log('debug', `Failed to send a desktop notification: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
}

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { copyPackageForUsers } from '@rsb/testkit'
import { expect, onTestFinished } from 'vitest'

/** This package's directory. */
const PACKAGE = path.resolve(import.meta.dirname, '..')

/** The built program (scripts/test.sh builds before the tests run). */
export const BIN = path.join(PACKAGE, 'dist/bin/rsb.js')

/**
 * A copy of the built program (the package's dist with every package it imports) that any user can run, for a
 * test that runs rsb as another user: the checkout may lie where only root gets in (a clone in a 0700 `mktemp -d`
 * directory). Removed when the current test finishes; returns the copy's `dist/bin/rsb.js`.
 */
export async function binForUsers(): Promise<string> {
  const copy = await copyPackageForUsers(PACKAGE)
  onTestFinished(() => copy.remove())
  return path.join(copy.path, path.relative(PACKAGE, BIN))
}

/** The outcome of a finished rsb process. */
export interface RsbResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface RsbOptions {
  /** Added to (and overriding) the test process's environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>
  /** Directories put first on PATH (stand-in programs). */
  path?: string[]
  cwd?: string
  /** Run in its own process group (so a test can kill rsb and its children with -PID). */
  detached?: boolean
}

function environment(options: RsbOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, RSYNC_MODULE_PATH: undefined, TZ: process.env.TZ ?? 'UTC' }
  for (const [key, value] of Object.entries(options.env ?? {})) env[key] = value
  if (options.path?.length) env.PATH = [...options.path, env.PATH].join(':')
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key]
  return env
}

/** A running rsb process with its collected output. */
export interface RsbProcess {
  child: ChildProcess
  /** stderr so far. */
  stderr(): string
  /** Resolves when stderr contains `text`. */
  waitForStderr(text: string | RegExp, timeoutMs?: number): Promise<void>
  done: Promise<RsbResult>
}

/** Starts `node dist/bin/rsb.js ARGS` (no shell). Stop it by its PID. */
export function startRsb(args: readonly string[], options: RsbOptions = {}): RsbProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: environment(options),
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  })
  let stdout = ''
  let stderr = ''
  const listeners: Array<() => void> = []
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString()
    for (const listener of listeners) listener()
  })
  const done = new Promise<RsbResult>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return {
    child,
    stderr: () => stderr,
    done,
    waitForStderr(text, timeoutMs = 30_000) {
      const found = () => (typeof text === 'string' ? stderr.includes(text) : text.test(stderr))
      if (found()) return Promise.resolve()
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`rsb never printed ${String(text)}; stderr:\n${stderr}`)), timeoutMs)
        const check = () => {
          if (!found()) return
          clearTimeout(timer)
          resolve()
        }
        listeners.push(check)
        void done.then(() => {
          if (!found()) {
            clearTimeout(timer)
            reject(new Error(`rsb exited without printing ${String(text)}; stderr:\n${stderr}`))
          }
        })
      })
    },
  }
}

/** Runs rsb to completion. */
export function runRsb(args: readonly string[], options: RsbOptions = {}): Promise<RsbResult> {
  return startRsb(args, options).done
}

/** The original tests' source tree: notes.txt, subdirectory/, a dangling symlink. */
export async function createSource(dir: string): Promise<void> {
  await fs.mkdir(path.join(dir, 'subdirectory'), { recursive: true })
  await fs.writeFile(path.join(dir, 'notes.txt'), 'This file should be included in the backup.\n')
  await fs.symlink('../include-me.txt', path.join(dir, 'subdirectory', 'symbolic-link'))
}

/** The original tests' check of a destination made from {@link createSource}. */
export async function verifyDestination(dir: string): Promise<void> {
  expect(await fs.readFile(path.join(dir, 'notes.txt'), 'utf8')).toBe('This file should be included in the backup.\n')
  expect((await fs.stat(path.join(dir, 'subdirectory'))).isDirectory()).toBe(true)
  const link = await fs.lstat(path.join(dir, 'subdirectory', 'symbolic-link'))
  expect(link.isSymbolicLink()).toBe(true)
  expect(await fs.readlink(path.join(dir, 'subdirectory', 'symbolic-link'))).toBe('../include-me.txt')
}

const SNAPSHOT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/

/** Entries of `dir` named like snapshots (`latest` does not count). */
export async function snapshotsIn(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).filter((name) => SNAPSHOT.test(name)).sort()
  } catch {
    return []
  }
}

/** A full listing (names, inode numbers, modes, sizes, mtimes, link counts, link targets) of a tree, for before/after comparisons. */
export async function listing(root: string, options: { runRecords?: boolean } = {}): Promise<string[]> {
  const lines: string[] = []
  // a store's run records (.rsb/runs/): a refused run leaves one, and changes nothing else
  const skipped = (relative: string) => options.runRecords === false && /(^|\/)\.rsb\/runs(\/|$)/.test(relative)
  async function walk(dir: string): Promise<void> {
    let entries
    try {
      entries = await fs.readdir(dir, { withFileTypes: true })
    } catch {
      lines.push(`${dir}: missing`)
      return
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name)
      if (skipped(path.relative(root, full))) continue
      const stat = await fs.lstat(full)
      const target = stat.isSymbolicLink() ? ` -> ${await fs.readlink(full)}` : ''
      lines.push(`${path.relative(root, full)} ${stat.ino} ${stat.mode.toString(8)} ${stat.size} ${stat.mtimeMs} ${stat.nlink}${target}`)
      if (entry.isDirectory()) await walk(full)
    }
  }
  await walk(root)
  return lines
}

/** The run records of a store (`.rsb/runs/*.json`), oldest first. */
export async function runRecords(store: string): Promise<Record<string, unknown>[]> {
  const directory = path.join(store, '.rsb/runs')
  let names: string[]
  try {
    names = (await fs.readdir(directory)).filter((name) => /^\d{13}-[0-9a-f]{8}-\d+\.json$/.test(name)).sort()
  } catch {
    return []
  }
  return Promise.all(
    names.map(async (name) => JSON.parse(await fs.readFile(path.join(directory, name), 'utf8')) as Record<string, unknown>),
  )
}

/** Writes an executable script into `dir` (a stand-in program for PATH). */
export async function writeProgram(dir: string, name: string, script: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true })
  const file = path.join(dir, name)
  await fs.writeFile(file, `#!/bin/sh\n${script}\n`, { mode: 0o755 })
  return file
}

/** Names that break naive quoting: spaces, quotes, $() and backticks. */
export const HOSTILE_NAME = `it's a "name" $(touch pwned) \`touch pwned2\``

/** Quotes one argument for a POSIX shell. */
export function shellQuote(argument: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(argument) ? argument : `'${argument.replaceAll("'", `'"'"'`)}'`
}

/**
 * Runs rsb with standard output and error on a pseudo-terminal (util-linux `script`): the output of both
 * streams arrives together, with `\r\n` line ends.
 */
export function runRsbOnTerminal(args: readonly string[], options: RsbOptions = {}): Promise<RsbResult> {
  const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      env: environment(options),
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

/** Every process now with its argv (from /proc/PID/cmdline, as `ps` shows it to any user). */
export async function processes(): Promise<{ pid: number; argv: string[] }[]> {
  const found: { pid: number; argv: string[] }[] = []
  for (const pid of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    const line = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
    if (line !== '') found.push({ pid: Number(pid), argv: line.replace(/\0$/, '').split('\0') })
  }
  return found
}

/**
 * Runs the built rsb as another USER (util-linux `runuser`; the test must be root), from a copy that USER can read
 * ({@link binForUsers}), with only PATH and TZ of the test's environment plus ENV, and collects its standard error.
 * Call it inside a test.
 */
export async function runRsbAs(
  user: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<{ code: number | null; stderr: string }> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, TZ: 'UTC', ...options.env }
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key]
  const child = spawn('runuser', ['-u', user, '--', process.execPath, await binForUsers(), ...args], {
    cwd: options.cwd ?? '/',
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stderr }))
  })
}

/** libfaketime's library (Debian's faketime package, which scripts/setup.sh installs), if it is installed. */
let faketimeLibrary: string | null | undefined
function faketime(): string | undefined {
  if (faketimeLibrary === undefined) {
    try {
      faketimeLibrary =
        execFileSync('dpkg', ['-L', 'libfaketime'], { encoding: 'utf8' })
          .split('\n')
          .find((line) => line.endsWith('/libfaketime.so.1')) ?? null
    } catch {
      faketimeLibrary = null
    }
  }
  return faketimeLibrary ?? undefined
}

/** `YYYY-MM-DD HH:MM:SS` in UTC (the tests' TZ): a snapshot's name at that moment. */
export function nameAt(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ')
}

/**
 * The environment of a run whose clock starts at `date` (and runs on), with libfaketime. `fakeStat: false` leaves
 * files' times as they are (`NO_FAKE_STAT`): rsync then copies the source's real mtimes, so an unchanged file stays
 * the same between runs.
 */
export function clockAt(date: Date, options: { fakeStat?: boolean } = {}): Record<string, string> {
  const library = faketime()
  expect(library, 'libfaketime is needed (scripts/setup.sh installs the faketime package)').toBeDefined()
  return {
    LD_PRELOAD: library as string,
    FAKETIME: `@${nameAt(date)}`,
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
    ...(options.fakeStat === false ? { NO_FAKE_STAT: '1' } : {}),
  }
}

/** Polls every 100 ms until `check` gives a value (what a daemon or a background run does after the client has gone). */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs / 1000} s`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

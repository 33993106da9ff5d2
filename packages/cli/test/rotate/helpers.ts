import fs from 'node:fs/promises'
import path from 'node:path'
import { testdir } from '@rsb/testkit'
import { main, type MainIo } from '../../src/commands/rotate/main.ts'

export interface CliRun {
  code: number
  stdout: string
  stderr: string
  /** The log messages without the time/host/pid prefix: `LEVEL message`. */
  lines: string[]
}

/**
 * Runs `rsb-rotate` in-process with HOME, XDG_CONFIG_HOME and the system configuration directory pointed at
 * an empty temporary directory (no configuration file of this machine leaks in).
 */
export async function runCli(
  argv: readonly string[],
  io: Partial<MainIo> & { env?: Record<string, string | undefined> } = {},
): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const home = io.env?.HOME ?? (await testdir({}, 'rsb-rotate-home-'))
  const code = await main(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    systemConfigDir: path.join(home, 'etc'),
    ...io,
    env: { PATH: process.env.PATH, HOME: home, ...io.env },
  })
  const lines = stderr
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+ rsb-rotate\[\d+\] /, ''))
  return { code, stdout, stderr, lines }
}

/** Creates one directory per name below `root`. */
export async function makeEntries(root: string, names: readonly string[]): Promise<void> {
  for (const name of names) await fs.mkdir(path.join(root, name))
}

/** The sorted entries of a directory. */
export async function entries(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).sort()
}

/** Backups of four days: `--daily=1` alone would delete three of them. */
export const FOUR_DAYS = ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04']

/**
 * Bad command lines that are usage errors (exit 2, one line on stderr, nothing deleted), each with the error
 * code it names; `DIR` stands for a directory of {@link FOUR_DAYS}. Every other option would delete.
 */
export const USAGE_ERRORS: readonly [label: string, argv: readonly string[], code: string][] = [
  ['an unknown option (--nope)', ['--nope', '--daily=1', 'DIR'], 'ERR_RSB_CLI_USAGE'],
  ['a bad timestamp pattern (-t "(?P<year>")', ['-t', '(?P<year>', '--daily=1', 'DIR'], 'ERR_RSB_ROTATION_BAD_PATTERN'],
  ['a negative retention (--daily=-1)', ['--daily=-1', 'DIR'], 'ERR_RSB_ROTATION_BAD_RETENTION'],
  ['a fractional retention (--daily=1.5)', ['--daily=1.5', 'DIR'], 'ERR_RSB_ROTATION_BAD_RETENTION'],
  ['a retention that is not a number (--daily=abc)', ['--daily=abc', 'DIR'], 'ERR_RSB_ROTATION_BAD_RETENTION'],
  ['a bad retention after the directory (DIR --hourly=2x)', ['--daily=1', 'DIR', '--hourly=2x'], 'ERR_RSB_ROTATION_BAD_RETENTION'],
  ['an empty scheme (no frequency)', ['DIR'], 'ERR_RSB_ROTATION_EMPTY_SCHEME'],
]

// `rsb systemd --install`: the unit directory checked, each unit written atomically (a temporary file in the same
// directory, then rename), the timers of jobs no longer in the configuration found (and with --prune removed), then
// systemctl: `daemon-reload` and `enable --now` for the running system's unit directories, `systemctl --root=ROOT
// enable` for ROOT/etc/systemd/system (an image or a chroot: nothing is started), nothing for any other directory.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { CliError } from '../../errors.js'
import { findUnsafePath, type UnsafePath } from '../../kit/owner.js'
import { isRsbUnitName, jobOfTimer, serviceName, timerName, writtenFrom, type UnitFile } from './units.js'

/** The system unit directories of systemd (systemd.unit(5)), where the running manager finds units. */
const SYSTEM_UNIT_DIRS = [
  '/etc/systemd/system',
  '/run/systemd/system',
  '/usr/local/lib/systemd/system',
  '/usr/lib/systemd/system',
  '/lib/systemd/system',
]

/**
 * How the written units are put to use: the systemctl commands to run, each undefined where there is none to run.
 * `disable` (the `--prune`d timers) runs before their files are removed, `reload` and `enable` after the units are
 * written.
 */
export interface Activation {
  /** `live`: the running system's units; `root`: those of the system under `root`; `none`: not a unit directory. */
  readonly kind: 'live' | 'root' | 'none'
  /** For `root`: the directory systemctl is given as `--root`. */
  readonly root: string | undefined
  readonly disable: readonly string[] | undefined
  readonly reload: readonly string[] | undefined
  readonly enable: readonly string[] | undefined
}

/**
 * The systemctl commands that enable (and start) these timers once their units are in `unitDir`, and first disable
 * the `stale` ones: `systemctl daemon-reload` and `systemctl enable --now` for a unit directory of the running system;
 * `systemctl --root=ROOT enable` (nothing started, no reload: another system's units) for ROOT/etc/systemd/system and
 * the other system directories under a ROOT; none for any other directory. Pure.
 *
 * @example
 * ```ts
 * planActivation('/srv/image/etc/systemd/system', ['rsb-home.timer'], []).enable
 * // ['systemctl', '--root=/srv/image', 'enable', 'rsb-home.timer']
 * ```
 */
export function planActivation(unitDir: string, timers: readonly string[], stale: readonly string[]): Activation {
  const dir = path.resolve(unitDir)
  const some = (argv: readonly string[], names: readonly string[]) => (names.length > 0 ? [...argv, ...names] : undefined)
  if (SYSTEM_UNIT_DIRS.includes(dir)) {
    return {
      kind: 'live',
      root: undefined,
      disable: some(['systemctl', 'disable', '--now'], stale),
      reload: ['systemctl', 'daemon-reload'],
      enable: some(['systemctl', 'enable', '--now'], timers),
    }
  }
  const system = SYSTEM_UNIT_DIRS.find((system) => dir.endsWith(system))
  if (system === undefined) return { kind: 'none', root: undefined, disable: undefined, reload: undefined, enable: undefined }
  const root = dir.slice(0, -system.length)
  return {
    kind: 'root',
    root,
    disable: some(['systemctl', `--root=${root}`, 'disable'], stale),
    reload: undefined,
    enable: some(['systemctl', `--root=${root}`, 'enable'], timers),
  }
}

/**
 * Refuses a unit directory that is missing or that another user could write: it and every directory above it must be
 * owned by root or this user and writable by nobody else (a directory above may be with the sticky bit, as /tmp):
 * kit/owner.ts's rule, the one the program the units run ({@link checkProgram}) and the configuration file are
 * checked by.
 *
 * @returns the directory's real path
 * @throws {CliError} ERR_RSB_CLI_UNIT_DIR_UNSAFE
 */
export function checkUnitDirectory(unitDir: string): string {
  const unsafe = (why: string, hint: string) =>
    new CliError('ERR_RSB_CLI_UNIT_DIR_UNSAFE', `The unit directory ${unitDir} ${why}.`, { path: unitDir, hint })
  let real: string
  try {
    real = fs.realpathSync(unitDir)
  } catch {
    throw unsafe('does not exist', 'Give --unit-dir an existing directory (systemd reads /etc/systemd/system).')
  }
  if (!fs.statSync(real).isDirectory()) throw unsafe('is not a directory', 'Give --unit-dir a directory.')
  const problem = findUnsafePath(real)
  if (problem !== undefined) throw unsafe(where(problem, real), fix(problem.path))
  return real
}

/**
 * Refuses a program for the units to run that another user could change or replace (the units run it as root), by
 * the rule of {@link checkUnitDirectory}: its real path and every directory above it, and the directory that names
 * it (where a symbolic link to it could be pointed elsewhere).
 *
 * @throws {CliError} ERR_RSB_CLI_INSTALL_FAILED, also for a program that does not exist
 */
export function checkProgram(program: string): void {
  let problem: UnsafePath | undefined
  let self: string | undefined
  try {
    self = fs.realpathSync(program)
    // one component at a time: the directory of a link on the way is checked too
    problem = findUnsafePath(program)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    self = program
    problem = { path: program, reason: code === 'ENOENT' ? 'does not exist' : `cannot be checked (${code ?? (error as Error).message})` }
  }
  if (problem === undefined) return
  throw new CliError(
    'ERR_RSB_CLI_INSTALL_FAILED',
    `The units would run ${program} as root, but it ${where(problem, self)}: another user could change what root runs.`,
    {
      path: problem.path,
      hint:
        'Install rsb as root (npm install --global @rsb/cli, or scripts/install.sh) and give it with --rsb, for example ' +
        '--rsb=/usr/local/bin/rsb.',
    },
  )
}

/** What is wrong with a path, said of it: its own fault, or one of a directory it lies in. */
function where(problem: UnsafePath, self: string | undefined): string {
  return problem.path === self ? problem.reason : `lies in ${problem.path}, which ${problem.reason}`
}

function fix(file: string): string {
  return `Make it root's (or yours) and not writable by others: chown root: '${file}' && chmod go-w '${file}'.`
}

/** What became of one unit file. */
export type WriteOutcome = 'written' | 'unchanged'

/**
 * Writes a unit into the directory atomically (a new temporary file there, mode 0644, synced, renamed over the unit),
 * unless the file holds that text already.
 *
 * @throws {CliError} ERR_RSB_CLI_INSTALL_FAILED
 */
export function writeUnit(dir: string, unit: UnitFile): WriteOutcome {
  const target = path.join(dir, unit.name)
  try {
    if (fs.readFileSync(target, 'utf8') === unit.text && (fs.statSync(target).mode & 0o7777) === 0o644) return 'unchanged'
  } catch {
    // missing or unreadable: written below
  }
  const temporary = path.join(dir, `.${unit.name}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    const fd = fs.openSync(temporary, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644)
    try {
      fs.writeFileSync(fd, unit.text)
      fs.fchmodSync(fd, 0o644)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(temporary, target)
    return 'written'
  } catch (error) {
    fs.rmSync(temporary, { force: true })
    const code = (error as NodeJS.ErrnoException).code
    throw new CliError('ERR_RSB_CLI_INSTALL_FAILED', `Cannot write ${target}: ${(error as Error).message}`, {
      path: target,
      cause: error,
      ...(code === 'EACCES' || code === 'EPERM' ? { hint: 'Install as root: sudo rsb systemd --install …' } : {}),
    })
  }
}

/** The `rsb-NAME.timer` files in the directory whose NAME is none of these jobs, sorted. */
export function staleTimers(dir: string, jobs: readonly string[]): string[] {
  let entries: string[]
  try {
    entries = fs.readdirSync(dir)
  } catch {
    return []
  }
  return entries
    .filter((entry) => {
      const job = jobOfTimer(entry)
      return job !== undefined && !jobs.includes(job)
    })
    .sort()
}

/**
 * The configuration file rsb wrote this unit file from (its first line names it: see units.ts's writtenFrom), or
 * undefined for a file rsb did not write: also a symbolic link (systemctl link), a file that is not a regular one, or
 * one that cannot be read. Reads no more than the first 4 KiB.
 */
export function unitConfig(file: string): string | undefined {
  let fd: number
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK)
  } catch {
    return undefined
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return undefined
    const buffer = Buffer.alloc(4096)
    const length = fs.readSync(fd, buffer, 0, buffer.length, 0)
    const text = buffer.subarray(0, length).toString('utf8')
    const end = text.indexOf('\n')
    return end === -1 ? undefined : writtenFrom(text.slice(0, end))
  } catch {
    return undefined
  } finally {
    fs.closeSync(fd)
  }
}

/** Whether rsb wrote this unit file from this configuration file (its first line says so, exactly). */
export function writtenByRsb(file: string, config: string): boolean {
  return unitConfig(file) === config
}

/** The units in the directory that rsb wrote from another configuration file than this one, sorted by name. */
export function otherConfigUnits(dir: string, config: string): { readonly file: string; readonly config: string }[] {
  let entries: string[]
  try {
    entries = fs.readdirSync(dir)
  } catch {
    return []
  }
  return entries
    .filter(isRsbUnitName)
    .sort()
    .flatMap((entry) => {
      const file = path.join(dir, entry)
      const from = unitConfig(file)
      return from === undefined || from === config ? [] : [{ file, config: from }]
    })
}

/**
 * Removes the timer and service of a job that is gone, each only if rsb wrote it from this configuration file (see
 * {@link writtenByRsb}).
 *
 * @returns the files removed
 * @throws {CliError} ERR_RSB_CLI_INSTALL_FAILED
 */
export function removeUnits(dir: string, job: string, config: string): string[] {
  const removed: string[] = []
  for (const name of [timerName(job), serviceName(job)]) {
    const file = path.join(dir, name)
    if (!writtenByRsb(file, config)) continue
    try {
      fs.rmSync(file)
      removed.push(file)
    } catch (error) {
      throw new CliError('ERR_RSB_CLI_INSTALL_FAILED', `Cannot remove ${file}: ${(error as Error).message}`, { path: file, cause: error })
    }
  }
  return removed
}

// `rsb systemd` run as a program: units installed into a unit directory under a temporary ROOT (never the machine's
// /etc/systemd), checked by the real systemd-analyze verify (also the command lines systemd reads from them) and
// enabled by the real `systemctl --root=ROOT`; cron lines run through /bin/sh as cron would run them; the refusals.
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { otherConfigUnits, removeUnits, writtenByRsb } from '../src/commands/systemd/install.ts'
import { BIN, HOSTILE_NAME, runRsb, writeProgram } from './helpers.ts'

const JOBS = { home: 'Mon..Fri 02:30', etc: 'hourly', db: '*:0/15' } as const

interface Setup {
  readonly dir: string
  /** The configuration file (in a directory with a space, quotes, `$()`, backticks and a `%` in its name). */
  readonly config: string
  /** The rsb program the units run: a wrapper of the built program (in a directory with a space). */
  readonly rsb: string
  /** ROOT/etc/systemd/system. */
  readonly unitDir: string
  readonly root: string
}

const CONFIG_TEXT = `
[defaults]
rotation = "daily=7"

[jobs.home]
source = "/home"
destination = "/mnt/backups/home/latest"
schedule = "${JOBS.home}"
randomized-delay = "10m"
ionice = "best-effort"

[jobs.etc]
source = "/etc"
destination = "/mnt/backups/etc/latest"

[jobs.db]
source = "/var/lib/db"
destination = "/mnt/backups/db/latest"
schedule = "${JOBS.db}"
randomized-delay = 0
ionice = "realtime"

[jobs.module]
daemon = true
`

function setup(configText = CONFIG_TEXT): Setup {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rsb-systemd-'))
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }))
  const configDir = path.join(dir, `conf ${HOSTILE_NAME} 100%`)
  fs.mkdirSync(configDir, { mode: 0o755 })
  const config = path.join(configDir, 'rsb.toml')
  fs.writeFileSync(config, configText, { mode: 0o644 })
  const binDir = path.join(dir, 'bin dir')
  fs.mkdirSync(binDir, { mode: 0o755 })
  const rsb = path.join(binDir, 'rsb')
  fs.writeFileSync(rsb, `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`, { mode: 0o755 })
  const root = path.join(dir, 'root')
  const unitDir = path.join(root, 'etc/systemd/system')
  fs.mkdirSync(unitDir, { recursive: true, mode: 0o755 })
  return { dir, config, rsb, unitDir, root }
}

function systemd(s: Setup, ...extra: string[]): string[] {
  return ['systemd', `--config=${s.config}`, `--rsb=${s.rsb}`, ...extra]
}

/** A unit file's settings by section and key (the last value of a key wins, as systemd reads these). */
function readUnit(file: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {}
  let section: Record<string, string> | undefined
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const header = /^\[(.+)\]$/.exec(line)
    if (header !== null) {
      section = sections[header[1] as string] = {}
      continue
    }
    const eq = line.indexOf('=')
    if (section === undefined || eq === -1) throw new Error(`not a unit line: ${line}`)
    section[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return sections
}

/**
 * A command line of a unit as systemd splits it (systemd.service(5)): `%%` is `%`, words are separated by spaces,
 * double-quoted words keep their spaces with `\"` and `\\` escaped, `$$` is `$`.
 */
function splitExecLine(text: string): string[] {
  const words: string[] = []
  for (const match of text.replaceAll('%%', '%').matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    const word = match[1] === undefined ? (match[2] as string) : match[1].replace(/\\(.)/g, '$1')
    words.push(word.replaceAll('$$', '$'))
  }
  return words
}

/** `systemd-analyze verify` (no man pages, no generators: it works without systemd running as PID 1). */
function verify(files: readonly string[], env: NodeJS.ProcessEnv = {}): { status: number | null; output: string } {
  const result = spawnSync('systemd-analyze', ['verify', '--man=no', '--generators=no', ...files], {
    encoding: 'utf8',
    env: { ...process.env, SYSTEMD_COLORS: '0', ...env },
  })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

/**
 * The command lines systemd itself read from the units: the unit dump `systemd-analyze verify` logs at debug level
 * (its ExecStart= "Command Line:", shell-quoted), by unit name; `$$` is still `$$` there (systemd turns it into `$`
 * when it runs the command).
 */
function commandLinesSystemdRead(files: readonly string[]): Map<string, string[]> {
  const { status, output } = verify(files, { SYSTEMD_LOG_LEVEL: 'debug' })
  expect(status, output).toBe(0)
  const lines = new Map<string, string[]>()
  let unit: string | undefined
  for (const line of output.split('\n')) {
    const start = /^\s*-> Unit (.+):$/.exec(line)
    if (start !== null) unit = start[1]
    const command = /^\s*Command Line: (.+)$/.exec(line)
    if (command !== null && unit !== undefined) {
      const argv = [...(command[1] as string).matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) =>
        (m[1] === undefined ? (m[2] as string) : m[1].replace(/\\(.)/g, '$1')).replaceAll('$$', '$'),
      )
      lines.set(unit, argv)
    }
  }
  return lines
}

function unitFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => /\.(service|timer)$/.test(name))
    .sort()
}

describe('rsb systemd --install (systemd-analyze, systemctl --root)', () => {
  it('writes a service and a timer per job and the failure template, which systemd-analyze verify accepts, and enables the timers', async () => {
    const s = setup()
    const result = await runRsb(systemd(s, '--all', '--install', `--unit-dir=${s.unitDir}`))
    expect(result.stderr).toContain("Job 'module' is a daemon job")
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain(`Enabled rsb-home.timer, rsb-etc.timer, rsb-db.timer in ${s.root} (not started`)
    expect(result.stdout).toBe('')

    const names = unitFiles(s.unitDir)
    expect(names).toEqual([
      'rsb-db.service',
      'rsb-db.timer',
      'rsb-etc.service',
      'rsb-etc.timer',
      'rsb-failure@.service',
      'rsb-home.service',
      'rsb-home.timer',
    ])
    for (const name of names) {
      expect((fs.statSync(path.join(s.unitDir, name)).mode & 0o7777).toString(8)).toBe('644')
      expect(result.stderr).toContain(`Wrote ${path.join(s.unitDir, name)}.`)
    }
    expect(fs.readdirSync(s.unitDir).filter((name) => name.endsWith('.tmp'))).toEqual([])

    const files = names.map((name) => path.join(s.unitDir, name))
    const verified = verify(files)
    expect(verified.status, verified.output).toBe(0)

    // what systemd read: each job's command line exactly, despite the space, quotes, $() and % in the paths
    const read = commandLinesSystemdRead(files)
    for (const job of Object.keys(JOBS)) expect(read.get(`rsb-${job}.service`)).toEqual([s.rsb, 'run', `--config=${s.config}`, job])
    expect(read.get('rsb-failure@i.service')).toEqual([s.rsb, 'run', `--config=${s.config}`, '--report-failure', 'i'])

    const expected = {
      home: { ioClass: 'best-effort', delay: '600' },
      etc: { ioClass: 'idle', delay: '300' },
      db: { ioClass: 'realtime', delay: '0' },
    } as const
    for (const [job, schedule] of Object.entries(JOBS)) {
      const timer = readUnit(path.join(s.unitDir, `rsb-${job}.timer`))
      expect(timer.Timer).toEqual({
        OnCalendar: schedule,
        Persistent: 'true',
        RandomizedDelaySec: expected[job as keyof typeof expected].delay,
        Unit: `rsb-${job}.service`,
      })
      expect(timer.Install).toEqual({ WantedBy: 'timers.target' })
      const service = readUnit(path.join(s.unitDir, timer.Timer?.Unit as string))
      expect(service.Install).toBeUndefined()
      expect(service.Unit).toMatchObject({
        OnFailure: `rsb-failure@${job}.service`,
        After: 'network-online.target',
        Wants: 'network-online.target',
      })
      expect(service.Service).toMatchObject({
        Type: 'oneshot',
        Nice: '19',
        IOSchedulingClass: expected[job as keyof typeof expected].ioClass,
        CPUSchedulingPolicy: 'batch',
      })
      expect(splitExecLine(service.Service?.ExecStart as string)).toEqual([s.rsb, 'run', `--config=${s.config}`, job])
      // enabled by systemctl --root: the WantedBy= symlink
      const link = path.join(s.unitDir, 'timers.target.wants', `rsb-${job}.timer`)
      expect(fs.readlinkSync(link)).toBe(`/etc/systemd/system/rsb-${job}.timer`)
      expect(execFileSync('systemctl', [`--root=${s.root}`, 'is-enabled', `rsb-${job}.timer`], { encoding: 'utf8' }).trim()).toBe('enabled')
    }
    const failure = readUnit(path.join(s.unitDir, 'rsb-failure@.service'))
    expect(splitExecLine(failure.Service?.ExecStart as string)).toEqual([s.rsb, 'run', `--config=${s.config}`, '--report-failure', '%i'])

    // what it prints without --install is what it wrote
    const printed = await runRsb(systemd(s, '--all', `--unit-dir=${s.unitDir}`))
    expect(printed.code, printed.stderr).toBe(0)
    expect(printed.stdout).toBe(
      names
        .toSorted((a, b) => order(a) - order(b))
        .map((name) => `# ${path.join(s.unitDir, name)}\n${fs.readFileSync(path.join(s.unitDir, name), 'utf8')}`)
        .join('\n'),
    )
  })

  it('installs again without changes, names a timer of a job that is gone, and --prune disables and removes it', async () => {
    const s = setup()
    expect((await runRsb(systemd(s, '--all', '--install', `--unit-dir=${s.unitDir}`))).code).toBe(0)
    // a job that was in the file once (rsb wrote its units), and a timer rsb did not write
    fs.writeFileSync(s.config, `${CONFIG_TEXT}\n[jobs.old]\ndestination = "/mnt/backups/old/latest"\n`)
    const old = await runRsb(systemd(s, '--install', `--unit-dir=${s.unitDir}`, 'old'))
    expect(old.code, old.stderr).toBe(0)
    fs.writeFileSync(s.config, CONFIG_TEXT)
    fs.writeFileSync(path.join(s.unitDir, 'rsb-theirs.timer'), '[Timer]\nOnCalendar=daily\nUnit=rsb-theirs.service\n', { mode: 0o644 })
    const before = Object.fromEntries(names(s.unitDir).map((name) => [name, fs.statSync(path.join(s.unitDir, name)).mtimeMs]))

    const again = await runRsb(systemd(s, 'home', '--install', `--unit-dir=${s.unitDir}`))
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).toContain(`${path.join(s.unitDir, 'rsb-home.service')} is up to date.`)
    expect(again.stderr).toMatch(/rsb-old\.timer, .*rsb-theirs\.timer belong to no job of .*--prune/)
    for (const name of names(s.unitDir)) expect(fs.statSync(path.join(s.unitDir, name)).mtimeMs, name).toBe(before[name])

    const dry = await runRsb(systemd(s, '--all', '--install', '--prune', '--dry-run', `--unit-dir=${s.unitDir}`))
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toContain(`# ${path.join(s.unitDir, 'rsb-home.service')}\n`)
    expect(dry.stderr).toContain('Would disable and remove rsb-old.timer')
    expect(dry.stderr).toContain(`Would run: systemctl --root=${s.root} disable rsb-old.timer`)
    expect(dry.stderr).toContain(`Would run: systemctl --root=${s.root} enable rsb-home.timer rsb-etc.timer rsb-db.timer`)
    expect(fs.existsSync(path.join(s.unitDir, 'rsb-old.timer'))).toBe(true)

    const pruned = await runRsb(systemd(s, '--all', '--install', '--prune', `--unit-dir=${s.unitDir}`))
    expect(pruned.code, pruned.stderr).toBe(0)
    expect(pruned.stderr).toContain(`Removed ${path.join(s.unitDir, 'rsb-old.timer')}.`)
    expect(pruned.stderr).toContain(`Removed ${path.join(s.unitDir, 'rsb-old.service')}.`)
    expect(pruned.stderr).toMatch(/rsb-theirs\.timer belongs to no job .*rsb did not write/)
    expect(names(s.unitDir)).not.toContain('rsb-old.timer')
    expect(names(s.unitDir)).toContain('rsb-theirs.timer')
    expect(fs.readdirSync(path.join(s.unitDir, 'timers.target.wants')).sort()).toEqual(['rsb-db.timer', 'rsb-etc.timer', 'rsb-home.timer'])
  })

  it('refuses the jobs of a second configuration file in a unit directory with the units of another, changing nothing', async () => {
    const s = setup()
    expect((await runRsb(systemd(s, 'home', 'etc', '--install', `--unit-dir=${s.unitDir}`))).code).toBe(0)
    const before = Object.fromEntries(unitFiles(s.unitDir).map((name) => [name, fs.readFileSync(path.join(s.unitDir, name), 'utf8')]))
    // b.toml has a job of its own and one named like a.toml's: its units would replace the other's
    const second = path.join(path.dirname(s.config), 'b.toml')
    fs.writeFileSync(second, `[jobs.db]\ndestination = "/mnt/b/db/latest"\n\n[jobs.home]\ndestination = "/mnt/b/home/latest"\n`, {
      mode: 0o644,
    })
    for (const extra of [['--prune'], ['--dry-run'], ['--prune', '--dry-run'], []]) {
      const result = await runRsb([
        'systemd',
        `--config=${second}`,
        `--rsb=${s.rsb}`,
        '--all',
        '--install',
        ...extra,
        `--unit-dir=${s.unitDir}`,
      ])
      expect(result.code, result.stderr).toBe(1)
      expect(result.stdout).toBe('')
      expect(result.stderr).toContain(
        `${s.unitDir} has units rsb wrote from another configuration file, ${s.config} (rsb-etc.service, rsb-etc.timer, ` +
          'rsb-failure@.service, rsb-home.service, rsb-home.timer): one unit directory takes the jobs of one file',
      )
      expect(result.stderr).toContain('(ERR_RSB_CLI_INSTALL_FAILED) Hint: ')
      expect(result.stderr).toContain(`systemctl --root=${s.root} disable rsb-etc.timer rsb-home.timer && rm -- `)
      const after = Object.fromEntries(unitFiles(s.unitDir).map((name) => [name, fs.readFileSync(path.join(s.unitDir, name), 'utf8')]))
      expect(after).toEqual(before)
    }
  })

  it('--prune removes only units rsb wrote from this configuration file, compared exactly', async () => {
    const s = setup()
    const units = path.join(s.dir, 'units')
    fs.mkdirSync(units, { mode: 0o755 })
    expect((await runRsb(systemd(s, 'home', '--install', `--unit-dir=${units}`))).code).toBe(0)
    const files = [path.join(units, 'rsb-home.timer'), path.join(units, 'rsb-home.service')]
    for (const other of [`${s.config}x`, s.config.slice(0, -1), path.join(s.dir, 'rsb.toml'), `'${s.config}'`, `"${s.config}"`]) {
      expect(writtenByRsb(files[0] as string, other), other).toBe(false)
      expect(removeUnits(units, 'home', other), other).toEqual([])
    }
    expect(otherConfigUnits(units, s.config)).toEqual([])
    expect(otherConfigUnits(units, path.join(s.dir, 'b.toml')).map((unit) => [path.basename(unit.file), unit.config])).toEqual([
      ['rsb-failure@.service', s.config],
      ['rsb-home.service', s.config],
      ['rsb-home.timer', s.config],
    ])
    expect(names(units)).toEqual(['rsb-failure@.service', 'rsb-home.service', 'rsb-home.timer'])
    // a link to a unit (systemctl link) or a FIFO is never read as rsb's
    fs.symlinkSync(files[0] as string, path.join(units, 'rsb-link.timer'))
    spawnSync('mkfifo', [path.join(units, 'rsb-fifo.timer')])
    expect(writtenByRsb(path.join(units, 'rsb-link.timer'), s.config)).toBe(false)
    expect(writtenByRsb(path.join(units, 'rsb-fifo.timer'), s.config)).toBe(false)
    expect(removeUnits(units, 'home', s.config)).toEqual(files)
  })

  it('refuses a unit directory that other users may write, and writes nothing', async () => {
    const s = setup()
    fs.chmodSync(s.unitDir, 0o777)
    const result = await runRsb(systemd(s, '--all', '--install', `--unit-dir=${s.unitDir}`))
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('ERR_RSB_CLI_UNIT_DIR_UNSAFE')
    expect(result.stderr).toContain('may be written by every user')
    expect(fs.readdirSync(s.unitDir)).toEqual([])
    const missing = await runRsb(systemd(s, '--all', '--install', `--unit-dir=${path.join(s.dir, 'nowhere')}`))
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('does not exist. (ERR_RSB_CLI_UNIT_DIR_UNSAFE)')
  })

  it('writes, without enabling, into a directory that is no systemd unit directory', async () => {
    const s = setup()
    const elsewhere = path.join(s.dir, 'units')
    fs.mkdirSync(elsewhere, { mode: 0o755 })
    const result = await runRsb(systemd(s, 'etc', '--install', `--unit-dir=${elsewhere}`))
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain('is not a systemd unit directory')
    expect(unitFiles(elsewhere)).toEqual(['rsb-etc.service', 'rsb-etc.timer', 'rsb-failure@.service'])
    expect(fs.existsSync(path.join(elsewhere, 'timers.target.wants'))).toBe(false)
  })
})

describe('rsb systemd --install refuses a program another user could change (root runs it)', () => {
  const isRoot = process.getuid?.() === 0

  /** `rsb systemd --all --install --unit-dir=DIR --rsb=PROGRAM` into a directory that is no systemd unit directory. */
  async function refused(s: Setup, program: string, message: string): Promise<void> {
    const units = path.join(s.dir, 'units')
    fs.mkdirSync(units, { recursive: true, mode: 0o755 })
    for (const dry of [[], ['--dry-run']]) {
      const result = await runRsb([
        'systemd',
        `--config=${s.config}`,
        `--rsb=${program}`,
        '--all',
        '--install',
        ...dry,
        `--unit-dir=${units}`,
      ])
      expect(result.code, result.stderr).toBe(1)
      expect(result.stdout).toBe('')
      expect(result.stderr).toContain('(ERR_RSB_CLI_INSTALL_FAILED) Hint: Install rsb as root')
      expect(result.stderr).toContain(message)
      expect(fs.readdirSync(units)).toEqual([])
    }
    // printed, the units are the user's to judge
    const printed = await runRsb(['systemd', `--config=${s.config}`, `--rsb=${program}`, '--all'])
    expect(printed.code, printed.stderr).toBe(0)
    expect(printed.stdout).toContain(`ExecStart=`)
  }

  it('in a directory its group may write to', async () => {
    const s = setup()
    fs.chmodSync(path.dirname(s.rsb), 0o775)
    await refused(
      s,
      s.rsb,
      `The units would run ${s.rsb} as root, but it lies in ${path.dirname(s.rsb)}, which may be written by its group`,
    )
  })

  it('a program its group may write to, also through a symbolic link from a safe directory', async () => {
    const s = setup()
    fs.chmodSync(s.rsb, 0o775)
    await refused(s, s.rsb, `but it may be written by its group`)
    const safe = path.join(s.dir, 'safe')
    fs.mkdirSync(safe, { mode: 0o755 })
    fs.symlinkSync(s.rsb, path.join(safe, 'rsb'))
    await refused(s, path.join(safe, 'rsb'), `The units would run ${path.join(safe, 'rsb')} as root, but it may be written by its group`)
  })

  it('a symbolic link in a directory others may write to (it could be pointed elsewhere), though the program is safe', async () => {
    const s = setup()
    const open = path.join(s.dir, 'open')
    fs.mkdirSync(open, { mode: 0o755 })
    fs.chmodSync(open, 0o777)
    fs.symlinkSync(s.rsb, path.join(open, 'rsb'))
    await refused(s, path.join(open, 'rsb'), `but it lies in ${open}, which may be written by every user`)
  })

  it.skipIf(!isRoot)('in a directory another user owns (as root: nobody, 65534)', async () => {
    const s = setup()
    fs.chownSync(path.dirname(s.rsb), 65534, 65534)
    await refused(s, s.rsb, `but it lies in ${path.dirname(s.rsb)}, which belongs to user 65534`)
  })

  it('a program that does not exist', async () => {
    const s = setup()
    await refused(s, path.join(s.dir, 'missing'), `The units would run ${path.join(s.dir, 'missing')} as root, but it does not exist`)
  })
})

describe('rsb systemd --cron', () => {
  it('prints one line per job for /etc/cron.d/rsb, whose commands run rsb run --config=FILE JOB through /bin/sh', async () => {
    const s = setup()
    const record = path.join(s.dir, 'argv')
    // the rsb the lines run records its arguments; nice, ionice, sleep and logger are stand-ins that record theirs
    const recorder = path.join(s.dir, 'bin dir', 'record')
    fs.writeFileSync(recorder, `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a"; done > '${record}'\necho ran\n`, { mode: 0o755 })
    const standins = path.join(s.dir, 'standins')
    const calls = path.join(s.dir, 'calls')
    await writeProgram(standins, 'nice', `echo "nice $1 $2" >> '${calls}'; shift 2; exec "$@"`)
    await writeProgram(standins, 'ionice', `echo "ionice $1 $2" >> '${calls}'; shift 2; exec "$@"`)
    await writeProgram(standins, 'sleep', `echo "sleep $*" >> '${calls}'`)
    await writeProgram(standins, 'logger', `echo "logger $*: $(cat)" >> '${calls}'`)

    const result = await runRsb(['systemd', `--config=${s.config}`, `--rsb=${recorder}`, '--all', '--cron'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain("Job 'module' is a daemon job")
    const lines = result.stdout.split('\n')
    expect(lines.at(-1)).toBe('')
    expect(lines).toContain('SHELL=/bin/sh')
    expect(lines.some((line) => /^PATH=\/\S*sbin\S*$/.test(line))).toBe(true)
    const entries = lines.filter((line) => line !== '' && !line.startsWith('#') && !/^[A-Z]+=/.test(line))
    const expected: Record<string, { fields: string; ionice: string }> = {
      home: { fields: '30 2 * * 1-5', ionice: '2' },
      etc: { fields: '0 * * * *', ionice: '3' },
      db: { fields: '*/15 * * * *', ionice: '1' },
    }
    expect(entries).toHaveLength(3)
    for (const [i, job] of ['home', 'etc', 'db'].entries()) {
      // five time fields, the user, the command
      const match = /^(\S+ \S+ \S+ \S+ \S+) (\S+) (.+)$/.exec(entries[i] as string)
      expect(match, entries[i]).not.toBeNull()
      const [, fields, user, command] = match as unknown as [string, string, string, string]
      expect(fields).toBe(expected[job]?.fields)
      expect(fields.split(' ').every((field) => /^(\*|\d+(-\d+)?)(\/\d+)?(,(\d+(-\d+)?)(\/\d+)?)*$/.test(field))).toBe(true)
      expect(user).toBe('root')
      expect(lines[lines.indexOf(entries[i] as string) - 1]).toBe(`# job ${job}: OnCalendar=${JOBS[job as keyof typeof JOBS]}`)

      // as cron runs it: \% is %, then /bin/sh -c
      fs.rmSync(calls, { force: true })
      const run = spawnSync('/bin/sh', ['-c', cronCommand(command)], {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${standins}:${process.env.PATH ?? '/usr/bin:/bin'}` },
      })
      expect(run.status, run.stderr).toBe(0)
      expect(fs.readFileSync(record, 'utf8').split('\0').slice(0, -1)).toEqual(['run', `--config=${s.config}`, job])
      const log = fs.readFileSync(calls, 'utf8')
      expect(log).toContain('nice -n 19\n')
      expect(log).toContain(`ionice -c ${expected[job]?.ionice}\n`)
      expect(log).toContain(`logger -t rsb-${job}: ran\n`)
      if (job === 'home') expect(log).toMatch(/^sleep \d+\n/)
      if (job === 'db') expect(log).not.toContain('sleep')
    }
  })

  it('refuses a schedule cron cannot express, naming the job and the schedule', async () => {
    const s = setup(`${CONFIG_TEXT}\n[jobs.monthend]\ndestination = "/mnt/backups/m/latest"\nschedule = "*-*~01 23:00"\n`)
    const result = await runRsb(systemd(s, '--all', '--cron'))
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain("job 'monthend' ('*-*~01 23:00'): cron cannot count days from the end of a month")
    expect(result.stderr).toContain('ERR_RSB_CLI_SCHEDULE_UNSUPPORTED')
    // the others are fine
    expect((await runRsb(systemd(s, 'home', 'etc', '--cron'))).code).toBe(0)
  })
})

describe('rsb systemd refusals', () => {
  it('an unknown job: exit 2, naming the jobs', async () => {
    const s = setup()
    const result = await runRsb(systemd(s, 'home', 'nope'))
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain("There is no job 'nope'")
    expect(result.stderr).toContain('(ERR_RSB_CLI_JOB_UNKNOWN) Hint: Its jobs: home, etc, db, module.')
  })

  it('a daemon job by name: exit 2', async () => {
    const s = setup()
    const result = await runRsb(systemd(s, 'module'))
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/Job 'module' is a daemon job.*ERR_RSB_CLI_USAGE/)
  })

  it('a schedule systemd cannot read: exit 1, naming the job', async () => {
    const s = setup(CONFIG_TEXT.replace(`schedule = "${JOBS.db}"`, 'schedule = "every full moon"'))
    const result = await runRsb(systemd(s, '--all'))
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(
      /jobs\.db\.schedule: 'every full moon' is not a systemd OnCalendar expression.*ERR_RSB_CLI_CONFIG_INVALID/,
    )
  })

  it('no configuration file: exit 1 (ERR_RSB_CLI_CONFIG_MISSING)', async () => {
    const s = setup()
    const result = await runRsb(['systemd', '--all'], { env: { RSB_CONFIG: path.join(s.dir, 'none.toml') } })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('ERR_RSB_CLI_CONFIG_MISSING')
  })

  it('a wrong command line: exit 2', async () => {
    const s = setup()
    for (const argv of [systemd(s), systemd(s, '--all', '--cron', '--install'), systemd(s, '--all', '--rsb=rsb')]) {
      const result = await runRsb(argv)
      expect(result.code, argv.join(' ')).toBe(2)
      expect(result.stderr).toContain('ERR_RSB_CLI_USAGE')
    }
  })
})

/** The order in which rsb prints the units: each job's service and timer in the file's order, then the template. */
function order(name: string): number {
  const jobs = ['home', 'etc', 'db']
  const job = /^rsb-(.+)\.(service|timer)$/.exec(name)
  if (job === null || !jobs.includes(job[1] as string)) return 100
  return jobs.indexOf(job[1] as string) * 2 + (job[2] === 'timer' ? 1 : 0)
}

function names(dir: string): string[] {
  return fs.readdirSync(dir).sort()
}

/** A cron line's command as cron hands it to the shell: `\%` is `%`; a bare `%` would end it (none may be there). */
function cronCommand(command: string): string {
  let text = ''
  for (let i = 0; i < command.length; i++) {
    const c = command[i] as string
    if (c === '\\' && command[i + 1] === '%') {
      text += '%'
      i++
    } else if (c === '%') {
      throw new Error(`an unescaped % in the cron command: ${command}`)
    } else {
      text += c
    }
  }
  return text
}

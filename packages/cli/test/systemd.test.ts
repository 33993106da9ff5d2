// `rsb systemd`'s pure parts: the command line, the choice of jobs, the units' text and ExecStart quoting, the cron
// translation of OnCalendar expressions, and which systemctl commands an install runs.
import { describe, expect, it } from 'vitest'
import { cronEntries, help, options, parse, selectJobs, type SystemdArgs } from '../src/commands/systemd/index.ts'
import { cronFields, cronLine, normalizeCalendar, renderCrontab } from '../src/commands/systemd/cron.ts'
import { planActivation } from '../src/commands/systemd/install.ts'
import {
  execLine,
  isRsbUnitName,
  jobOfTimer,
  quoteExecArgument,
  renderFailureUnit,
  renderService,
  renderTimer,
  renderUnits,
  unitsText,
  writtenFrom,
} from '../src/commands/systemd/units.ts'
import { findJob } from '../src/config/expand.ts'
import { checkConfig, type Config, type ConfigJob } from '../src/config/load.ts'

const CONFIG = `
[defaults]
rotation = "daily=7"

[jobs.home]
source = "/home"
destination = "/mnt/backups/home/latest"
schedule = "Mon..Fri 02:30"
randomized-delay = "10m"
ionice = "best-effort"

[jobs.etc]
source = "/etc"
destination = "/mnt/backups/etc/latest"

[jobs.module]
daemon = true
`

function config(text = CONFIG): Config {
  return checkConfig(text, '/etc/rsb/rsb.toml')
}

function job(name: string, text = CONFIG): ConfigJob {
  const found = config(text).jobs.find((j) => j.name === name)
  if (found === undefined) throw new Error(`no job ${name}`)
  return found
}

function jobWith(values: string): ConfigJob {
  return job('x', `[jobs.x]\ndestination = "/mnt/b/x/latest"\n${values}\n`)
}

function args(argv: string[], env: Record<string, string> = {}): SystemdArgs {
  const parsed = parse(argv, env)
  if (parsed.kind !== 'run') throw new Error(`not a run: ${parsed.kind}`)
  return parsed.args
}

function errorOf(run: () => unknown): { code?: string; message: string; hint?: string; path?: string } {
  try {
    run()
  } catch (error) {
    return error as { code?: string; message: string; hint?: string; path?: string }
  }
  throw new Error('did not throw')
}

const SETTINGS = { rsb: '/usr/local/bin/rsb', config: '/etc/rsb/rsb.toml' }

/** The `KEY=value` lines of a unit's text, by key (comments and section headers left out). */
function settingsOf(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => /^[A-Za-z]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  )
}

describe('parse', () => {
  it('reads JOB names or --all and the options; defaults: /etc/systemd/system, $RSB_CONFIG, the running program', () => {
    expect(args(['home', 'etc', 'home'])).toEqual({
      jobs: ['home', 'etc'],
      all: false,
      config: '/etc/rsb/rsb.toml',
      install: false,
      dryRun: false,
      prune: false,
      cron: false,
      unitDir: '/etc/systemd/system',
      rsb: undefined,
    })
    expect(
      args(['--all', '--install', '-n', '--prune', '--unit-dir=/srv/u/', '--rsb=/opt/rsb/bin//rsb'], { RSB_CONFIG: '/srv/rsb.toml' }),
    ).toMatchObject({
      jobs: [],
      all: true,
      config: '/srv/rsb.toml',
      install: true,
      dryRun: true,
      prune: true,
      unitDir: '/srv/u',
      rsb: '/opt/rsb/bin/rsb',
    })
    expect(args(['--config', '/a/b.toml', '--cron', 'home'], { RSB_CONFIG: '/srv/rsb.toml' })).toMatchObject({
      config: '/a/b.toml',
      cron: true,
    })
    expect(args(['--inst', '--all'])).toMatchObject({ install: true })
  })

  it('gives the help and the version', () => {
    expect(parse(['--help'], {})).toEqual({ kind: 'help' })
    expect(parse(['-h', 'home'], {})).toEqual({ kind: 'help' })
    expect(parse(['--version'], {})).toEqual({ kind: 'version' })
  })

  it.each([
    [[], /Name the jobs/],
    [['--all', 'home'], /not both/],
    [['--all', '--cron', '--install'], /give one of them/],
    [['--all', '--cron', '--unit-dir=/srv'], /--unit-dir/],
    [['--all', '--dry-run'], /--dry-run goes with --install/],
    [['--all', '--prune'], /--prune goes with --install/],
    [['--all', '--rsb=bin/rsb'], /absolute path/],
    [['--all', '--rsb=/usr/bin/r\nsb'], /absolute path/],
    [['--all', '--unit-dir='], /must not be empty/],
    [['--all', '--bogus'], /not recognized/],
  ])('refuses %j (exit 2)', (argv, message) => {
    const error = errorOf(() => parse(argv, {}))
    expect(error.code).toBe('ERR_RSB_CLI_USAGE')
    expect(error.message).toMatch(message)
  })
})

describe('selectJobs', () => {
  it('takes every job with a timer for --all and names the daemon jobs it skips', () => {
    const selected = selectJobs(config(), [], true)
    expect(selected.jobs.map((j) => j.name)).toEqual(['home', 'etc'])
    expect(selected.daemons.map((j) => j.name)).toEqual(['module'])
  })

  it('takes the jobs named, in that order', () => {
    expect(selectJobs(config(), ['etc', 'home'], false).jobs.map((j) => j.name)).toEqual(['etc', 'home'])
  })

  it('refuses a name that is no job, listing the jobs (ERR_RSB_CLI_JOB_UNKNOWN)', () => {
    const error = errorOf(() => selectJobs(config(), ['home', 'hoem'], false))
    expect(error.code).toBe('ERR_RSB_CLI_JOB_UNKNOWN')
    expect(error.message).toContain("'hoem'")
    expect(error.message).toContain('/etc/rsb/rsb.toml')
    expect(error.hint).toBe('Its jobs: home, etc, module.')
    // the one refusal of an unknown job (config/expand.ts's findJob), as rsb run and --job=NAME give it
    const fromFindJob = errorOf(() => findJob(config(), 'hoem'))
    expect([error.message, error.hint, error.path]).toEqual([fromFindJob.message, fromFindJob.hint, fromFindJob.path])
  })

  it('refuses a daemon job by name: its rsync daemon runs it', () => {
    const error = errorOf(() => selectJobs(config(), ['module'], false))
    expect(error.code).toBe('ERR_RSB_CLI_USAGE')
    expect(error.message).toMatch(/daemon job.*no timer/)
  })
})

describe('quoteExecArgument', () => {
  it.each([
    ['home', 'home'],
    ['--config=/etc/rsb/rsb.toml', '--config=/etc/rsb/rsb.toml'],
    ['/etc/my rsb/x.toml', '"/etc/my rsb/x.toml"'],
    ['100%.toml', '100%%.toml'],
    ['$HOME', '$$HOME'],
    ['a"b', '"a\\"b"'],
    ["it's", '"it\'s"'],
    ['a\\b', '"a\\\\b"'],
    ['a;b', '"a;b"'],
    [';', '";"'],
    ['tab\there', '"tab\there"'],
    ['', '""'],
    ['/a b/%i $x "q"', '"/a b/%%i $$x \\"q\\""'],
  ])('%j → %s', (argument, quoted) => {
    expect(quoteExecArgument(argument)).toBe(quoted)
  })

  it('quotes each argument of a command line', () => {
    expect(execLine(['/opt/my rsb/rsb', 'run', '--config=/etc/rsb %/rsb.toml', 'home'])).toBe(
      '"/opt/my rsb/rsb" run "--config=/etc/rsb %%/rsb.toml" home',
    )
  })
})

describe('the units', () => {
  it('the service runs rsb run --config=FILE JOB once, at low priority, with the failure alert', () => {
    const unit = renderService(job('home'), SETTINGS)
    expect(unit.name).toBe('rsb-home.service')
    expect(unit.text).toContain('[Unit]\n')
    expect(unit.text).toContain('\n\n[Service]\n')
    expect(unit.text).not.toContain('[Install]')
    expect(settingsOf(unit.text)).toEqual({
      Description: 'rsb backup job home',
      Documentation: 'man:rsb(1)',
      OnFailure: 'rsb-failure@home.service',
      After: 'network-online.target',
      Wants: 'network-online.target',
      Type: 'oneshot',
      ExecStart: '/usr/local/bin/rsb run --config=/etc/rsb/rsb.toml home',
      Nice: '19',
      IOSchedulingClass: 'best-effort',
      CPUSchedulingPolicy: 'batch',
      TimeoutStartSec: 'infinity',
      KillMode: 'mixed',
      SyslogIdentifier: 'rsb-home',
    })
    expect(unit.text.split('\n')[0]).toMatch(/^# .*written by 'rsb systemd --install' from \/etc\/rsb\/rsb\.toml/)
  })

  it.each([
    ['', 'idle'],
    ['ionice = "idle"', 'idle'],
    ['ionice = "3"', 'idle'],
    ['ionice = "best-effort"', 'best-effort'],
    ['ionice = "2"', 'best-effort'],
    ['ionice = "realtime"', 'realtime'],
    ['ionice = "1"', 'realtime'],
  ])('%j gives IOSchedulingClass=%s', (values, ioClass) => {
    expect(settingsOf(renderService(jobWith(values), SETTINGS).text).IOSchedulingClass).toBe(ioClass)
  })

  it('the timer starts the service on the schedule, makes up missed runs, waits a random delay', () => {
    const unit = renderTimer(job('home'), SETTINGS)
    expect(unit.name).toBe('rsb-home.timer')
    expect(unit.text).toContain('\n[Timer]\n')
    expect(unit.text).toContain('\n[Install]\nWantedBy=timers.target\n')
    expect(settingsOf(unit.text)).toMatchObject({
      OnCalendar: 'Mon..Fri 02:30',
      Persistent: 'true',
      RandomizedDelaySec: '600',
      Unit: 'rsb-home.service',
      WantedBy: 'timers.target',
    })
    // the defaults of the configuration file
    expect(settingsOf(renderTimer(job('etc'), SETTINGS).text)).toMatchObject({ OnCalendar: 'hourly', RandomizedDelaySec: '300' })
  })

  it('the failure template reports the failure of the job that is its instance', () => {
    const unit = renderFailureUnit({ rsb: '/opt/r sb/rsb', config: '/etc/rsb/100%.toml' })
    expect(unit.name).toBe('rsb-failure@.service')
    expect(settingsOf(unit.text)).toMatchObject({
      Type: 'oneshot',
      ExecStart: '"/opt/r sb/rsb" run --config=/etc/rsb/100%%.toml --report-failure %i',
      Description: 'rsb failure alert of backup job %i',
    })
  })

  it('renders each job’s service and timer, then the failure template once; none without jobs', () => {
    const units = renderUnits(selectJobs(config(), [], true).jobs, SETTINGS)
    expect(units.map((u) => u.name)).toEqual([
      'rsb-home.service',
      'rsb-home.timer',
      'rsb-etc.service',
      'rsb-etc.timer',
      'rsb-failure@.service',
    ])
    expect(renderUnits([], SETTINGS)).toEqual([])
    const text = unitsText(units, '/etc/systemd/system')
    expect(text.startsWith('# /etc/systemd/system/rsb-home.service\n# ')).toBe(true)
    expect(text).toContain('\n\n# /etc/systemd/system/rsb-failure@.service\n')
  })

  it('reads back exactly the configuration file a unit was written from, whatever its path holds', () => {
    const hostile = "/etc/my rsb/a.toml, written by 'rsb systemd --install' from /etc/b.toml: edit the job there and install again.\"$(x)%"
    for (const file of ['/etc/rsb/rsb.toml', hostile, '/x: edit the job there and install again.']) {
      const units = renderUnits(selectJobs(config(), [], true).jobs, { rsb: '/usr/local/bin/rsb', config: file })
      for (const unit of units) expect(writtenFrom(unit.text.split('\n', 1)[0] as string), unit.name).toBe(file)
    }
    for (const line of [
      '',
      '[Unit]',
      "# The backup job home, written by 'rsb systemd --install' from /etc/rsb.toml",
      "# The backup job home, written by 'rsb systemd --install' from : edit the job there and install again.",
      "The backup job home, written by 'rsb systemd --install' from /etc/rsb.toml: edit the job there and install again.",
      '# edit the job there and install again.',
    ]) {
      expect(writtenFrom(line), line).toBeUndefined()
    }
    expect(
      ['rsb-home.timer', 'rsb-home.service', 'rsb-failure@.service', 'rsb-.timer', 'rsb-home.socket', 'other.timer'].filter(isRsbUnitName),
    ).toEqual(['rsb-home.timer', 'rsb-home.service', 'rsb-failure@.service'])
  })

  it('names the job of a timer file', () => {
    expect(jobOfTimer('rsb-home.timer')).toBe('home')
    expect(jobOfTimer('rsb-home.service')).toBeUndefined()
    expect(jobOfTimer('other.timer')).toBeUndefined()
  })
})

describe('normalizeCalendar (without systemd-analyze)', () => {
  it.each([
    ['hourly', '*-*-* *:00:00'],
    ['daily', '*-*-* 00:00:00'],
    ['Weekly', 'Mon *-*-* 00:00:00'],
    ['monthly', '*-*-01 00:00:00'],
    ['yearly', '*-01-01 00:00:00'],
    ['minutely', '*-*-* *:*:00'],
    ['*-*-* 03:00:00', '*-*-* 03:00:00'],
    ['03:00', '*-*-* 03:00:00'],
    ['*:0/15', '*-*-* *:0/15:00'],
    ['mon..fri 2:30', 'Mon..Fri *-*-* 2:30:00'],
    ['Saturday,Sun 4:00', 'Sat,Sun *-*-* 4:00:00'],
    ['Mon', 'Mon *-*-* 00:00:00'],
    ['*-*-01 05:00', '*-*-01 05:00:00'],
    ['12-25', '*-12-25 00:00:00'],
  ])('%s → %s', (text, normalized) => {
    expect(normalizeCalendar(text)).toBe(normalized)
  })

  it.each(['', 'bogus', '*-*-* 03:00 Europe/Berlin', '*-*~01', '02:30:00.5', 'Mon..Fri 02:30 03:00', 'Mon 1:2:3:4'])(
    'leaves %j to systemd-analyze',
    (text) => {
      expect(normalizeCalendar(text)).toBeUndefined()
    },
  )
})

describe('cronFields', () => {
  it.each([
    // systemd-analyze calendar's normalized forms (systemd 252)
    ['*-*-* *:00:00', '0 * * * *'],
    ['*-*-* 00:00:00', '0 0 * * *'],
    ['Mon *-*-* 00:00:00', '0 0 * * 1'],
    ['*-*-01 00:00:00', '0 0 1 * *'],
    ['*-01-01 00:00:00', '0 0 1 1 *'],
    ['*-01,04,07,10-01 00:00:00', '0 0 1 1,4,7,10 *'],
    ['*-*-* *:*:00', '* * * * *'],
    ['*-*-* 03:00:00', '0 3 * * *'],
    ['*-*-* *:00/15:00', '*/15 * * * *'],
    ['*-*-* *:05/20:00', '5-59/20 * * * *'],
    ['Mon..Fri *-*-* 02:30:00', '30 2 * * 1-5'],
    ['Sat,Sun *-*-* 04:00:00', '0 4 * * 6,0'],
    ['Fri..Sun *-*-* 04:00:00', '0 4 * * 5-7'],
    ['Mon..Fri,Sun *-*-* 01:00:00', '0 1 * * 1-5,0'],
    ['*-*-* 01,13:00:00', '0 1,13 * * *'],
    ['*-*-* 01..05:00:00', '0 1-5 * * *'],
    ['*-*-* 02..06/2:00:00', '0 2-6/2 * * *'],
    ['*-*-01/7 00:00:00', '0 0 */7 * *'],
    ['*-*-02/7 00:00:00', '0 0 2-31/7 * *'],
    ['*-02-* 01:00:00', '0 1 * 2 *'],
    ['*-*-* 2:30:00', '30 2 * * *'],
  ])('%s → %s', (normalized, fields) => {
    expect(cronFields(normalized)).toEqual({ kind: 'fields', fields })
  })

  it.each([
    ['*-*-* 02:30:15', /whole minutes/],
    ['*-*-* *:*:00/30', /whole minutes/],
    ['*-*-* 02:30:00.500000', /whole minutes/],
    ['2026-01-01 00:00:00', /no years/],
    ['*-*~01 00:00:00', /end of a month/],
    ['*-*-* 03:00:00 Europe/Berlin', /time zones/],
    ['Mon *-*-01 00:00:00', /either/],
    ['*-*-* 24:00:00', /hour 24/],
    ['*-13-* 00:00:00', /month 13/],
    ['*-*-* 05..01:00:00', /hour/],
    ['*-*-* *:00/0:00', /minute/],
    ['Mon..Xyz *-*-* 00:00:00', /weekdays/],
    ['bogus', /not a normalized/],
  ])('refuses %s', (normalized, reason) => {
    const result = cronFields(normalized)
    expect(result.kind).toBe('refused')
    expect(result.kind === 'refused' ? result.reason : '').toMatch(reason)
  })
})

describe('the cron lines', () => {
  it('runs rsb run --config=FILE JOB as root, after the random delay, under nice and ionice, into syslog', () => {
    expect(cronLine(job('home'), '30 2 * * 1-5', SETTINGS)).toBe(
      '30 2 * * 1-5 root sleep $(shuf -i 0-600 -n 1); nice -n 19 ionice -c 2 /usr/local/bin/rsb run --config=/etc/rsb/rsb.toml home 2>&1 | logger -t rsb-home',
    )
    expect(cronLine(jobWith('randomized-delay = 0'), '0 * * * *', SETTINGS)).toBe(
      '0 * * * * root nice -n 19 ionice -c 3 /usr/local/bin/rsb run --config=/etc/rsb/rsb.toml x 2>&1 | logger -t rsb-x',
    )
  })

  it('quotes the paths for the shell and escapes % for cron', () => {
    const line = cronLine(job('etc'), '0 * * * *', { rsb: "/opt/it's/rsb", config: '/etc/rsb 100%/rsb.toml' })
    expect(line).toContain(`'/opt/it'"'"'s/rsb' run '--config=/etc/rsb 100\\%/rsb.toml' etc`)
    expect(line.replaceAll('\\%', '')).not.toContain('%')
  })

  it('has a header, SHELL and PATH, then a comment and a line per job', () => {
    const jobs = selectJobs(config(), [], true).jobs
    const lines = renderCrontab(cronEntries(jobs, new Map()), SETTINGS).split('\n')
    expect(lines.filter((line) => line.startsWith('SHELL=') || line.startsWith('PATH='))).toEqual([
      'SHELL=/bin/sh',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ])
    const entries = lines.filter((line) => line !== '' && !line.startsWith('#') && !/^[A-Z]+=/.test(line))
    expect(entries.map((line) => line.split(' ').slice(0, 6).join(' '))).toEqual(['30 2 * * 1-5 root', '0 * * * * root'])
    expect(lines).toContain('# job home: OnCalendar=Mon..Fri 02:30')
    expect(lines.at(-1)).toBe('')
  })

  it('takes the normalized forms systemd-analyze gave, and reads the common forms without it', () => {
    const jobs = [jobWith('schedule = "weird form"')]
    expect(cronEntries(jobs, new Map([['weird form', '*-*-* 04:10:00']]))[0]?.fields).toBe('10 4 * * *')
    const error = errorOf(() => cronEntries(jobs, new Map()))
    expect(error.code).toBe('ERR_RSB_CLI_SCHEDULE_UNSUPPORTED')
    expect(error.message).toContain("job 'x' ('weird form'): without systemd-analyze")
  })

  it('refuses every job whose schedule cron cannot express, naming each job and schedule', () => {
    const text = `${CONFIG}\n[jobs.late]\ndestination = "/mnt/b/late/latest"\nschedule = "*-*~01 23:00"\n[jobs.fine]\ndestination = "/mnt/b/fine/latest"\nschedule = "*:0/15:30"\n`
    const error = errorOf(() => cronEntries(selectJobs(config(text), [], true).jobs, new Map([['*-*~01 23:00', '*-*~01 23:00:00']])))
    expect(error.code).toBe('ERR_RSB_CLI_SCHEDULE_UNSUPPORTED')
    expect(error.message).toContain("job 'late' ('*-*~01 23:00'): cron cannot count days from the end of a month")
    expect(error.message).toContain("job 'fine' ('*:0/15:30'): cron runs at whole minutes")
    expect(error.message).not.toContain("'home'")
  })
})

describe('planActivation', () => {
  it('reloads systemd and enables and starts the timers in the running system’s unit directory', () => {
    expect(planActivation('/etc/systemd/system/', ['rsb-a.timer', 'rsb-b.timer'], ['rsb-old.timer'])).toEqual({
      kind: 'live',
      root: undefined,
      disable: ['systemctl', 'disable', '--now', 'rsb-old.timer'],
      reload: ['systemctl', 'daemon-reload'],
      enable: ['systemctl', 'enable', '--now', 'rsb-a.timer', 'rsb-b.timer'],
    })
  })

  it('enables with --root (nothing started) under ROOT/etc/systemd/system', () => {
    expect(planActivation('/srv/image/etc/systemd/system', ['rsb-a.timer'], [])).toEqual({
      kind: 'root',
      root: '/srv/image',
      disable: undefined,
      reload: undefined,
      enable: ['systemctl', '--root=/srv/image', 'enable', 'rsb-a.timer'],
    })
  })

  it('runs nothing for another directory', () => {
    expect(planActivation('/srv/units', ['rsb-a.timer'], ['rsb-b.timer'])).toEqual({
      kind: 'none',
      root: undefined,
      disable: undefined,
      reload: undefined,
      enable: undefined,
    })
  })
})

describe('help', () => {
  it('documents every option and the exit statuses within 80 columns', () => {
    const text = help()
    for (const option of options) expect(text).toContain(`--${option.name}`)
    expect(text).toContain('Exit status:')
    expect(text).toContain('ERR_RSB_CLI_JOB_UNKNOWN')
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(80)
  })
})

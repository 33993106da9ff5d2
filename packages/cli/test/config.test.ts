// The configuration file of jobs, checked without touching the disk (checkConfig is pure): every problem of a broken
// file names its file, line and key; jobs become rsb backup command lines; the shipped schema and example are current.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { backupArgv, checkConfig, ConfigError, formatProblem, type Config } from '../src/config/load.ts'
import { configSchema, CONFIG_KEYS } from '../src/config/keys.ts'
import { jobCommandLine, splitJobOptions } from '../src/config/expand.ts'
import { OPTIONS } from '../src/args.ts'
import { findCommand, JOB_COMMANDS } from '../src/commands/index.ts'

const FILE = '/etc/rsb/rsb.toml'
const PACKAGE = path.resolve(import.meta.dirname, '..')
const GOOD = '[jobs.home]\nsource = "/home"\ndestination = "/mnt/backups/home/latest"\n'

/** The problems of a configuration text, as `rsb config check` prints them. */
function problems(text: string): string[] {
  try {
    checkConfig(text, FILE)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).code).toBe('ERR_RSB_CLI_CONFIG_INVALID')
    return (error as ConfigError).problems.map(formatProblem)
  }
  throw new Error('the configuration was accepted')
}

describe('rsb config check: each problem of a broken file with file, line and key', () => {
  it.each([
    [
      'a string left open (not TOML)',
      `${GOOD}[jobs.srv]\ndestination = "/mnt/backups/srv/latest\n`,
      [`${FILE}:5: jobs.srv.destination: not valid TOML: `],
    ],
    [
      'a key defined twice (not TOML)',
      `${GOOD}source = "/etc"\n`,
      [`${FILE}:4: jobs.home.source: not valid TOML: Defining a key multiple times is invalid.`],
    ],
    [
      'an unknown key, with the likely one',
      `${GOOD}rotaton = "daily=7"\n`,
      [`${FILE}:4: jobs.home.rotaton: unknown key 'rotaton' in [jobs.home] (did you mean 'rotation'?).`],
    ],
    ['a count given as a string', `${GOOD}keep-latest = "two"\n`, [`${FILE}:4: jobs.home.keep-latest: must be a whole number from 0.`]],
    ['a boolean given as a string', `[defaults]\nsudo = "no"\n${GOOD}`, [`${FILE}:2: defaults.sudo: must be true or false.`]],
    [
      'a list given as a string',
      `${GOOD}exclude = "*.tmp"\n`,
      [`${FILE}:4: jobs.home.exclude: must be a list of non-empty strings (["a", "b"]).`],
    ],
    [
      'a value rsb backup refuses (the same message as the command line)',
      `${GOOD}rotation = "hourly=x"\n`,
      [`${FILE}:4: jobs.home.rotation: Invalid retention value "x": not a number (hourly in --rotation=hourly=x).`],
    ],
    [
      'a relative destination',
      '[jobs.home]\nsource = "/home"\ndestination = "backups/latest"\n',
      [
        `${FILE}:3: jobs.home.destination: a local destination must be an absolute path ('backups/latest' would depend on the directory rsb runs in).`,
      ],
    ],
    [
      'two jobs writing into one store',
      `${GOOD}\n[jobs.etc]\nsource = "/etc"\ndestination = "/mnt/backups/home/etc-latest"\n`,
      [
        `${FILE}:7: jobs.etc.destination: jobs 'home' and 'etc' write into one store (/mnt/backups/home): each job needs a folder of its own`,
      ],
    ],
    [
      'two jobs into one store over SSH, as two users',
      '[jobs.a]\ndestination = "alice@nas:/srv/b/latest"\n[jobs.b]\ndestination = "nas:/srv/b/other"\n',
      [`${FILE}:4: jobs.b.destination: jobs 'a' and 'b' write into one store (nas:/srv/b)`],
    ],
    ['a job without destination', '[jobs.home]\nsource = "/home"\n', [`${FILE}:1: jobs.home: job 'home' has no destination.`]],
    [
      'a job name that cannot name a unit',
      `${GOOD}[jobs."my job"]\ndestination = "/mnt/x/latest"\n`,
      [`${FILE}:4: jobs."my job": job name 'my job': use letters, digits, - and _ (it names systemd units).`],
    ],
    [
      'a misspelt table',
      `[job.home]\nsource = "/home"\n`,
      [`${FILE}:1: job: unknown key 'job' at the top (only [defaults] and [jobs.NAME] tables).`],
    ],
    [
      'a job key in [defaults]',
      `[defaults]\ndestination = "/x/latest"\n${GOOD}`,
      [`${FILE}:2: defaults.destination: 'destination' belongs in a [jobs.NAME] table, not in [defaults].`],
    ],
    ['a webhook that is not http(s)', `${GOOD}webhook = "ftp://hc.example/uuid"\n`, [`${FILE}:4: jobs.home.webhook: `]],
    [
      'a mail address with a line break',
      `${GOOD}mail-to = ["ops@example.org", "a@b.org\\nBcc: x@y.org"]\n`,
      [`${FILE}:4: jobs.home.mail-to: `],
    ],
    [
      'every action off',
      `${GOOD}backup = false\nsnapshot = false\nrotate = false\n`,
      [`${FILE}:4: jobs.home.backup: backup, snapshot and rotate are all false`],
    ],
    [
      'a daemon job with a destination',
      '[jobs.nas]\ndaemon = true\ndestination = "/srv/x/latest"\n',
      [`${FILE}:3: jobs.nas.destination: a daemon job has no destination`],
    ],
  ])('%s', (_what, text, expected) => {
    const found = problems(text)
    expect(found).toHaveLength(expected.length)
    expected.forEach((start, i) => expect(found[i]!.startsWith(start), `${found[i]}\ndoes not start with\n${start}`).toBe(true))
  })

  it('every problem is reported at once, in the order of the lines, and a value of [defaults] once', () => {
    const found = problems(
      [
        '[defaults]',
        'keep-latest = -1',
        '[jobs.a]',
        'destination = "/a/x/latest"',
        'timeout = true',
        '[jobs.b]',
        'destination = "/b/x/latest"',
        'tunel = "gw"',
      ].join('\n'),
    )
    expect(found.map((p) => p.split(': ').slice(0, 2).join(': '))).toEqual([
      `${FILE}:2: defaults.keep-latest`,
      `${FILE}:5: jobs.a.timeout`,
      `${FILE}:8: jobs.b.tunel`,
    ])
  })

  it('a file with no job is a problem; an empty job table too', () => {
    expect(problems('')).toEqual([`${FILE}:1: no jobs: add a [jobs.NAME] table with at least a destination.`])
    expect(problems('[defaults]\nsudo = false\n')).toHaveLength(1)
  })
})

describe('jobs as command lines', () => {
  const config: Config = checkConfig(
    [
      '[defaults]',
      'sudo = false',
      'rotation = "daily=7"',
      'webhook = "https://hc-ping.com/abc"',
      '[jobs.home]',
      'source = ["/etc", "/home"]',
      'destination = "backup@nas:/srv/b/home/latest"',
      'exclude = ["*.tmp", "- literal"]',
      'keep-latest = 3',
      'timeout = "5m"',
      'snapshot = false',
      'notifications = false',
      '[jobs.root]',
      'destination = "/mnt/b/root/latest"',
      'schedule = "daily"',
      'randomized-delay = 60',
      '[jobs.nas]',
      'daemon = true',
    ].join('\n'),
    FILE,
  )

  it('a job is its keys as rsb backup options, [defaults] merged, then its SOURCEs and DESTINATION', () => {
    const home = config.jobs.find((job) => job.name === 'home')!
    expect(backupArgv(home, ['--dry-run'])).toEqual([
      '--backup',
      '--rotate',
      '--no-sudo',
      '--exclude=*.tmp',
      '--exclude=- literal',
      '--disable-notifications',
      '--rotation=daily=7',
      '--keep-latest=3',
      '--timeout=5m',
      '--dry-run',
      '--',
      '/etc',
      '/home',
      'backup@nas:/srv/b/home/latest',
    ])
    expect(home).toMatchObject({
      schedule: 'hourly',
      randomizedDelay: 300,
      alerts: { webhook: 'https://hc-ping.com/abc', mailTo: [], syslog: false },
    })
    const root = config.jobs.find((job) => job.name === 'root')!
    expect(backupArgv(root)).toEqual(['--no-sudo', '--rotation=daily=7', '--', '/', '/mnt/b/root/latest'])
    expect(root).toMatchObject({ schedule: 'daily', randomizedDelay: 60 })
    expect(config.jobs.find((job) => job.name === 'nas')).toMatchObject({ daemon: true, destination: undefined, sources: [] })
  })

  it('--job is found only by its whole name (no abbreviation of an older option changes meaning)', () => {
    expect(splitJobOptions(['--co=5', '/x/latest'], OPTIONS)).toBeUndefined()
    expect(splitJobOptions(['-n', '--job', 'home', '--config=/x.toml'], OPTIONS)).toEqual({
      job: 'home',
      config: '/x.toml',
      options: ['--dry-run'],
      positionals: [],
    })
    expect(() => splitJobOptions(['--job=a', '--job=b'], OPTIONS)).toThrow('--job is given twice')
  })

  it('every key of the file is in the schema, and the keys that are options are options of rsb backup', () => {
    const schema = configSchema() as { properties: { jobs: { additionalProperties: { properties: Record<string, unknown> } } } }
    expect(Object.keys(schema.properties.jobs.additionalProperties.properties)).toEqual(CONFIG_KEYS.map((key) => key.name))
    for (const key of CONFIG_KEYS) {
      if (key.option)
        expect(
          OPTIONS.map((o) => o.name),
          key.name,
        ).toContain(key.option.name)
    }
  })

  it("every command that takes a DESTINATION takes --job=NAME: the job's DESTINATION and the options it has", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rsb-config-'))
    const file = path.join(dir, 'rsb.toml')
    fs.writeFileSync(
      file,
      '[jobs.home]\nsource = "/home"\ndestination = "/mnt/b/home/latest"\nsudo = false\nrotation = "daily=3"\ntimeout = 30\n',
    )
    const extra: Record<string, string[]> = { restore: ['etc/hosts', '--to=/tmp/r'], versions: ['etc/hosts'] }
    for (const name of JOB_COMMANDS) {
      const module = await findCommand(name)!.load!()
      const selection = splitJobOptions(['--job=home', `--config=${file}`, ...(extra[name] ?? [])], module.options)!
      const argv = await jobCommandLine(name, selection, module.options, {})
      const parsed = module.parse(argv, {}) as { kind: string; args?: Record<string, unknown>; options?: Record<string, unknown> }
      expect(parsed.kind, name).toBe('run')
      const args = (parsed.args ?? {}) as Record<string, unknown>
      if (name === 'backup') {
        expect(argv).toEqual(['--no-sudo', '--rotation=daily=3', '--timeout=30', '--', '/home', '/mnt/b/home/latest'])
        expect(args).toMatchObject({ source: '/home', destination: '/mnt/b/home/latest', sudo: false, timeout: 30 })
      } else {
        expect(args.destination, name).toBe('/mnt/b/home/latest')
        if (name === 'doctor') expect(args.source).toBe('/home')
        const has = (option: string) => module.options.some((o) => o.name === option)
        expect(argv.includes('--timeout=30'), name).toBe(has('timeout'))
        if (has('no-sudo')) expect(args.sudo, name).toBe(false)
      }
    }
    await expect(jobCommandLine('list', splitJobOptions(['--job=nope', `--config=${file}`], OPTIONS)!, OPTIONS, {})).rejects.toMatchObject({
      code: 'ERR_RSB_CLI_JOB_UNKNOWN',
      hint: 'Its jobs: home.',
    })
    await expect(
      jobCommandLine('backup', splitJobOptions(['--job=home', `--config=${file}`, '/x'], OPTIONS)!, OPTIONS, {}),
    ).rejects.toThrow('gives SOURCE and DESTINATION already')
    fs.rmSync(dir, { recursive: true })
  })
})

describe('what the package ships', () => {
  it('schema/rsb.schema.json is the schema of the keys (rsb config schema)', () => {
    expect(JSON.parse(fs.readFileSync(path.join(PACKAGE, 'schema/rsb.schema.json'), 'utf8'))).toEqual(configSchema())
  })

  it("the README's table of keys names every key of the file, in order, with its description", () => {
    const readme = fs.readFileSync(path.join(PACKAGE, 'README.md'), 'utf8')
    const start = readme.indexOf('| key | value | where | meaning |')
    const rows = readme.slice(start).split('\n').slice(2)
    const table = rows.slice(
      0,
      rows.findIndex((row) => !row.startsWith('|')),
    )
    expect(table.map((row) => /^\| `([^`]+)`/.exec(row)?.[1])).toEqual(CONFIG_KEYS.map((key) => key.name))
    CONFIG_KEYS.forEach((key, i) => expect(table[i], key.name).toContain(key.description.replaceAll('|', '\\|')))
  })

  it('examples/rsb.toml (rsb config example) is valid, and the README holds it as it is', () => {
    const example = fs.readFileSync(path.join(PACKAGE, 'examples/rsb.toml'), 'utf8')
    const config = checkConfig(example, FILE)
    expect(config.jobs.map((job) => job.name)).toEqual(['system', 'home', 'media', 'nas'])
    for (const readme of [path.join(PACKAGE, 'README.md'), path.join(PACKAGE, '../../README.md')]) {
      expect(fs.readFileSync(readme, 'utf8'), readme).toContain(`\`\`\`toml\n${example}\`\`\``)
    }
  })
})

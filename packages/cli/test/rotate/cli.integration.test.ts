// rsb-rotate on real directories (main() in-process): rotate-backups' own command-line tests, the configuration
// files, --json, and the removal commands.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { isRoot, testdir } from '@rsb/testkit'
import { describe, expect, it, onTestFinished } from 'vitest'
import { entries, FOUR_DAYS, makeEntries, runCli, USAGE_ERRORS } from './helpers.ts'
import { FULL_KEPT, SAMPLE_BACKUPS, SAMPLE_SET } from '../../../rotation/test/sample-set.ts'

const FULL = ['--hourly=24', '--daily=7', '--weekly=4', '--monthly=12', '--yearly=always']
const FULL_REMAINING = [...Object.keys(FULL_KEPT), 'some-random-directory'].sort()

async function sampleDir(): Promise<string> {
  const root = await testdir({}, 'rsb-rotate-sample-')
  await makeEntries(root, SAMPLE_SET)
  return root
}

describe('upstream command-line tests on the sample set', () => {
  it('test_rotate_backups: configuration mode with a config file inside the directory', async () => {
    const root = await sampleDir()
    const config = path.join(root, 'rotate-backups.ini')
    await fs.writeFile(config, `[${root}]\nhourly = 24\ndaily = 7\nweekly = 4\nmonthly = 12\nyearly = always\nionice = idle\n`)
    const run = await runCli(['--verbose', `--config=${config}`])
    expect(run.code).toBe(0)
    expect(await entries(root)).toEqual([...FULL_REMAINING, 'rotate-backups.ini'].sort())
    expect(run.lines).toContain(`VERBOSE Selected 1 location based on configuration file:`)
    expect(run.lines).toContain(`VERBOSE  1. ${root}`)
    expect(run.lines).toContain(`INFO Found 266 timestamped backups in ${root}.`)
    expect(run.lines).toContain(`INFO Preserving ${root}/2014-07-02@20:03 (matches 'hourly' and 'daily' retention periods) ..`)
    expect(run.lines).toContain(`INFO Preserving ${root}/2013-10-10@20:07 (matches 'monthly' and 'yearly' retention periods) ..`)
    expect(run.lines).toContain(`INFO Preserving ${root}/2014-06-09@20:01 (matches 'weekly' retention period) ..`)
    expect(run.lines).toContain(`INFO Deleting ${root}/2014-06-25@20:03 ..`)
    expect(run.lines.filter((line) => line.startsWith('INFO Deleting '))).toHaveLength(247)
    expect(run.lines.filter((line) => /^VERBOSE Deleted .* in [0-9.]+ seconds?\.$/.test(line))).toHaveLength(247)
  })

  it('test_rotate_concurrent: FULL --parallel', async () => {
    const root = await sampleDir()
    const run = await runCli(['--verbose', ...FULL, '--parallel', root])
    expect(run.code).toBe(0)
    expect(await entries(root)).toEqual(FULL_REMAINING)
    expect(run.lines).toContain('INFO Preparing to rotate 247 backups (in parallel) ..')
    expect(run.lines.some((line) => line.startsWith('INFO Successfully rotated 247 backups in '))).toBe(true)
  })

  it('test_include_list: --ionice=idle FULL --include=2014-*', async () => {
    const root = await sampleDir()
    const run = await runCli(['--verbose', '--ionice=idle', ...FULL, '--include=2014-*', root])
    expect(run.code).toBe(0)
    const remaining = await entries(root)
    expect(remaining).toHaveLength(100)
    expect(remaining.filter((name) => name.startsWith('2013-'))).toHaveLength(83)
    expect(run.lines).toContain("VERBOSE Excluded 2013-10-10@20:07 (it didn't match the include list).")
  })

  it('test_exclude_list: FULL --exclude=2014-05-*', async () => {
    const root = await sampleDir()
    const run = await runCli(['-v', ...FULL, '--exclude=2014-05-*', root])
    expect(run.code).toBe(0)
    const remaining = await entries(root)
    expect(remaining).toHaveLength(50)
    expect(remaining.filter((name) => name.startsWith('2014-05-'))).toHaveLength(31)
    expect(run.lines).toContain('VERBOSE Excluded 2014-05-19@20:02 (it matched the exclude list).')
  })

  it('test_dry_run: nothing is deleted, the same lines are logged', async () => {
    const root = await sampleDir()
    const run = await runCli(['--dry-run', '--verbose', '--daily=7', '--weekly=7', '--monthly=12', '--yearly=always', root])
    expect(run.code).toBe(0)
    expect(await entries(root)).toEqual([...SAMPLE_SET].sort())
    expect(run.lines[0]).toBe('INFO Performing a dry run (because of --dry-run option) ..')
    expect(run.lines.filter((line) => line.startsWith('INFO Deleting '))).toHaveLength(244)
    expect(run.lines.filter((line) => line.startsWith('INFO Preserving '))).toHaveLength(22)
    expect(run.lines.some((line) => line.startsWith('VERBOSE Deleted'))).toBe(false)
  })

  it('strict versus relaxed (galera backups)', async () => {
    const names = [
      'galera_backup_db4.sl.example.lab_2016-03-17_10-00',
      'galera_backup_db4.sl.example.lab_2016-03-17_12-00',
      'galera_backup_db4.sl.example.lab_2016-03-17_16-00',
    ]
    const strict = await testdir()
    await makeEntries(strict, names)
    expect((await runCli(['--hourly=3', '--daily=1', strict])).code).toBe(0)
    expect(await entries(strict)).toEqual([names[0], names[2]])
    const relaxed = await testdir()
    await makeEntries(relaxed, names)
    expect((await runCli([relaxed, '--hourly=3', '--daily=1', '--relaxed'])).code).toBe(0)
    expect(await entries(relaxed)).toEqual(names)
  })

  it('prefer old / prefer new / minutely', async () => {
    const names = ['backup-2016-01-10_21-15-00', 'backup-2016-01-10_21-30-00', 'backup-2016-01-10_21-45-00']
    const cases: [string[], string[]][] = [
      [['--hourly=1'], [names[0]!]],
      [['--hourly=1', '--prefer-recent'], [names[2]!]],
      [
        ['--prefer-recent', '--relaxed', '--minutely=2'],
        [names[1]!, names[2]!],
      ],
    ]
    for (const [argv, remaining] of cases) {
      const root = await testdir()
      await makeEntries(root, names)
      expect((await runCli([...argv, root])).code).toBe(0)
      expect(await entries(root)).toEqual(remaining)
    }
  })

  it('invalid dates are ignored with a NOTICE and never deleted', async () => {
    const root = await testdir({ 'snapshot-201808030034.tar.gz': '', 'snapshot-180731150101.tar.gz': '' })
    const run = await runCli(['--monthly=always', '--json', root])
    expect(run.code).toBe(0)
    expect(run.lines).toContain('NOTICE Ignoring snapshot-180731150101.tar.gz due to invalid date (month must be in 1..12).')
    expect(JSON.parse(run.stdout).locations[0].backups).toHaveLength(1)
    expect(await entries(root)).toEqual(['snapshot-180731150101.tar.gz', 'snapshot-201808030034.tar.gz'])
  })

  it('custom timestamp pattern and optional captures', async () => {
    const root = await testdir({ 'prometheus-grafana-production-09-04-2020.tar.gz': '', 'My-File--2009-12-31--23-59-59.txt': '' })
    const run = await runCli(['--monthly=always', '--json', '-n', '-t', String.raw`(?P<day>\d{2})-(?P<month>\d{2})-(?P<year>\d{4})`, root])
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout).locations[0].backups).toEqual([
      { name: 'prometheus-grafana-production-09-04-2020.tar.gz', timestamp: '2020-04-09T00:00:00', action: 'keep', periods: ['monthly'] },
    ])
  })
})

describe('argument validation (upstream), exit statuses', () => {
  it('--ionice=unsupported-class and --hourly=not-a-number are usage errors (exit 2, one line, no stack)', async () => {
    for (const argv of [['--ionice=unsupported-class'], ['--hourly=not-a-number', '/tmp']]) {
      const run = await runCli(argv)
      expect(run.code).toBe(2)
      expect(run.stderr).toMatch(/^rsb-rotate: error: .*\((ERR_RSB_CLI_USAGE|ERR_RSB_ROTATION_BAD_RETENTION)\) Hint: .*\n$/)
    }
  })

  it('--ionice=3 with no directory and no configuration prints the usage and exits 0', async () => {
    const run = await runCli(['--ionice=3'])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('Usage: rsb-rotate [OPTIONS] [DIRECTORY, ..]')
  })

  it('a non-existent directory fails (exit 1), or is a NOTICE with --force', async () => {
    const missing = path.join(await testdir(), 'missing')
    const run = await runCli(['--daily=1', missing])
    expect(run.code).toBe(1)
    // One line: the message, the code and the hint.
    expect(run.lines.filter((line) => line.startsWith('ERROR '))).toEqual([
      `ERROR It seems ${missing} doesn't exist or isn't a directory! (ERR_RSB_ROTATION_LOCATION_MISSING) Hint: Check the location; use --force to continue anyway.`,
    ])
    const forced = await runCli(['--daily=1', '--force', missing])
    expect(forced.lines).toContain(`NOTICE It seems ${missing} doesn't exist but --force was given so continuing anyway ..`)
    expect(forced.code).toBe(1)
  })

  it('a missing configuration file fails', async () => {
    const run = await runCli(['--config=/nonexistent/rotate-backups.ini', '--daily=1'])
    expect(run.code).toBe(1)
    expect(run.lines).toEqual([
      expect.stringMatching(
        /^ERROR Failed to load configuration file! \(\/nonexistent\/rotate-backups\.ini: no such file\) \(ERR_RSB_ROTATION_BAD_CONFIG\) Hint: /,
      ),
    ])
  })

  it('an empty scheme over the sample set fails (exit 2)', async () => {
    const root = await sampleDir()
    const run = await runCli([root])
    expect(run.code).toBe(2)
    expect(run.lines).toEqual([
      expect.stringMatching(
        /^ERROR Refusing to use empty rotation scheme! \(all backups would be deleted\) \(ERR_RSB_ROTATION_EMPTY_SCHEME\) Hint: Give at least one of --minutely/,
      ),
    ])
    expect(await entries(root)).toHaveLength(267)
  })

  it("a scheme whose counts are all 0 keeps rotate-backups 8.1's behaviour (the newest stays) with a WARNING", async () => {
    const root = await testdir()
    await makeEntries(root, FOUR_DAYS)
    const run = await runCli(['--daily=0', '--weekly=0', root])
    expect(run.code).toBe(0)
    expect(await entries(root)).toEqual(['2024-01-04'])
    expect(run.lines.filter((line) => line.startsWith('WARNING '))).toEqual([
      `WARNING The rotation scheme {'daily': 0, 'weekly': 0} keeps nothing but the newest backup in ${root} (every count is 0 and none is 'always'); rotating anyway, as rotate-backups 8.1 does.`,
    ])
  })

  it('a scheme with a count above 0 or "always" logs no such warning', async () => {
    for (const argv of [
      ['--daily=0', '--weekly=1'],
      ['--daily=0', '--monthly=always'],
    ]) {
      const root = await testdir()
      await makeEntries(root, FOUR_DAYS)
      const run = await runCli([...argv, '--dry-run', root])
      expect(run.code).toBe(0)
      expect(run.lines.filter((line) => line.startsWith('WARNING '))).toEqual([])
    }
  })

  it('an unreadable directory fails for a non-root user (root reads everything)', async () => {
    if (isRoot) {
      const dir = await testdir()
      await fs.chmod(dir, 0)
      onTestFinished(() => fs.chmod(dir, 0o755))
      const run = await runCli(['-n', '--daily=1', dir])
      expect(run.code).toBe(0)
      return
    }
    const run = await runCli(['-n', '--daily=1', '/root'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('ERR_RSB_ROTATION_LOCATION_UNREADABLE')
  })

  it('options after directories are options, -- ends them', async () => {
    const root = await testdir()
    await makeEntries(root, ['2024-01-01', '2024-01-02'])
    const run = await runCli([root, '--daily=1'])
    expect(run.code).toBe(0)
    expect(await entries(root)).toEqual(['2024-01-02'])
    const dashed = await runCli(['--daily=1', '--', '--daily=1'])
    expect(dashed.code).toBe(1)
    expect(dashed.stderr).toContain('ERR_RSB_ROTATION_LOCATION_MISSING')
  })

  it('--help documents every option and the exit statuses; --version prints the version', async () => {
    const help = await runCli(['--help'])
    expect(help.code).toBe(0)
    for (const option of [
      '--minutely',
      '--hourly',
      '--daily',
      '--weekly',
      '--monthly',
      '--yearly',
      '--timestamp-pattern',
      '--include',
      '--exclude',
      '--parallel',
      '--prefer-recent',
      '--relaxed',
      '--ionice',
      '--config',
      '--removal-command',
      '--use-sudo',
      '--syslog',
      '--force',
      '--dry-run',
      '--verbose',
      '--quiet',
      '--help',
      '--version',
      '--legacy-week-buckets',
      '--keep-latest',
      '--json',
      'Exit status',
    ]) {
      expect(help.stdout).toContain(option)
    }
    const version = await runCli(['--version'])
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^rsb-rotate \d+\.\d+\.\d+\n$/) })
  })

  it('-q hides INFO lines, -vv shows DEBUG lines', async () => {
    const root = await testdir()
    await makeEntries(root, ['2024-01-01', 'notes'])
    expect((await runCli(['-q', '--daily=1', root])).lines).toEqual([])
    expect((await runCli(['-vv', '-n', '--daily=1', root])).lines).toContain('DEBUG Failed to match time stamp in filename: notes')
  })
})

describe('bad input end to end: one line on stderr, no stack trace, nothing deleted', () => {
  it.each(USAGE_ERRORS)('%s exits 2', async (_, argv, code) => {
    const root = await testdir({}, 'rsb-rotate-usage-')
    await makeEntries(root, FOUR_DAYS)
    const run = await runCli(argv.map((arg) => (arg === 'DIR' ? root : arg)))
    expect(run.code).toBe(2)
    expect(run.stdout).toBe('')
    const lines = run.stderr.split('\n')
    expect(lines.at(-1)).toBe('')
    expect(lines.slice(0, -1)).toEqual([expect.stringContaining(`(${code})`)])
    expect(lines[0]).toMatch(/^(rsb-rotate: error: |\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+ rsb-rotate\[\d+\] ERROR )\S.* Hint: \S/)
    expect(run.stderr).not.toMatch(/^\s+at /m)
    expect(await entries(root)).toEqual(FOUR_DAYS)
  })

  it('a directory given as --config (unreadable as a file, even for root) exits 1 with one clear line', async () => {
    const root = await testdir({}, 'rsb-rotate-data-')
    await makeEntries(root, FOUR_DAYS)
    const config = await testdir({}, 'rsb-rotate-config-dir-')
    const run = await runCli(['-c', config, '--daily=1', root])
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.lines).toEqual([
      `ERROR Failed to load configuration file! (${config}: is a directory) (ERR_RSB_ROTATION_BAD_CONFIG) Hint: Give a readable configuration file (a regular file).`,
    ])
    expect(run.stderr).not.toMatch(/^\s+at /m)
    expect(await entries(root)).toEqual(FOUR_DAYS)
  })
})

describe('removal commands', () => {
  it('-C rmdir removes with rmdir (2024-03-05 is planned as rmdir <dir>/2024-03-05)', async () => {
    const root = await testdir()
    await makeEntries(root, ['2024-03-04', '2024-03-05'])
    await fs.writeFile(path.join(root, '2024-03-05', 'inside'), 'x')
    const run = await runCli(['-vv', '--monthly=always', '--removal-command=rmdir', root])
    expect(run.lines).toContain("INFO Using custom removal command: ['rmdir']")
    expect(run.lines).toContain(`DEBUG Running rmdir ${root}/2024-03-05`)
    expect(run.code).toBe(1) // rmdir refuses a non-empty directory: reported, exit 1
    expect(run.lines.some((line) => line.startsWith(`ERROR Failed to delete ${root}/2024-03-05: `))).toBe(true)
    await fs.rm(path.join(root, '2024-03-05', 'inside'))
    expect((await runCli(['--monthly=always', '-C', 'rmdir', root])).code).toBe(0)
    expect(await entries(root)).toEqual(['2024-03-04'])
  })

  it('a failing removal is reported per backup and the others still run (sequential and -j)', async () => {
    for (const parallel of [[], ['-j']]) {
      const root = await testdir()
      await makeEntries(root, ['2024-03-01', '2024-03-02', '2024-03-03', '2024-03-04'])
      await fs.writeFile(path.join(root, '2024-03-02', 'keep-me'), 'x')
      const run = await runCli([...parallel, '--daily=1', '-C', 'rmdir', root])
      expect(run.code).toBe(1)
      expect(await entries(root)).toEqual(['2024-03-02', '2024-03-04'])
      expect(run.lines.filter((line) => line.startsWith(`ERROR Failed to delete ${root}/`))).toEqual([
        expect.stringContaining(`ERROR Failed to delete ${root}/2024-03-02: Command on localhost failed with exit status 1: rmdir`),
      ])
      expect(run.lines.at(-1)).toBe('ERROR Failed to delete 1 backup (the other deletions ran). (ERR_RSB_ROTATION_REMOVAL_FAILED)')
    }
  })

  it('a custom command skips the writability check (echo Deleting)', async () => {
    const root = await testdir()
    await makeEntries(root, ['2019-03-05', '2019-03-06'])
    const run = await runCli(['-v', '--monthly=always', '-C', 'echo Deleting', root])
    expect(run.code).toBe(0)
    expect(run.lines.some((line) => line.includes('is writable'))).toBe(false)
    expect(await entries(root)).toEqual(['2019-03-05', '2019-03-06'])
  })

  it.skipIf(!isRoot)('writability (root, read-only tmpfs): required without --force; with --force rm fails → exit 1', async () => {
    const root = await testdir()
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', root])
    onTestFinished(() => {
      execFileSync('umount', [root])
    })
    await makeEntries(root, ['2019-03-05', '2019-03-06'])
    execFileSync('mount', ['-o', 'remount,ro', root])
    const refused = await runCli(['--monthly=always', root])
    expect(refused.code).toBe(1)
    expect(refused.lines.filter((line) => line.startsWith('ERROR '))).toEqual([
      expect.stringMatching(/^ERROR It seems .* isn't writable! \(ERR_RSB_ROTATION_LOCATION_UNWRITABLE\) Hint: \S/),
    ])
    expect(refused.lines.some((line) => line.startsWith(`ERROR It seems ${root} isn't writable! `))).toBe(true)
    expect(refused.lines.some((line) => line.startsWith('INFO Deleting'))).toBe(false)
    const forced = await runCli(['--monthly=always', '--force', root])
    expect(forced.lines).toContain(`NOTICE It seems ${root} isn't writable but --force was given so continuing anyway ..`)
    expect(forced.lines.some((line) => line.startsWith(`ERROR Failed to delete ${root}/2019-03-06: `))).toBe(true)
    expect(forced.code).toBe(1)
    expect((await runCli(['--monthly=always', '-C', 'echo Deleting', root])).code).toBe(0)
  })

  it('sudo and ionice prefix the removal command (root: no sudo needed)', async () => {
    const root = await testdir()
    await makeEntries(root, ['2024-03-04', '2024-03-05'])
    const run = await runCli(['-vv', '--monthly=always', '--use-sudo', '--ionice=idle', root])
    expect(run.code).toBe(0)
    const sudo = isRoot ? '' : 'sudo -n '
    expect(run.lines).toContain(`DEBUG Running ${sudo}ionice -c idle rm -fR ${root}/2024-03-05`)
    expect(await entries(root)).toEqual(['2024-03-04'])
  })
})

describe('names that are hostile to shells', () => {
  const names = [
    "2024-01-01 it's",
    '2024-01-02 "quoted"',
    '2024-01-03 $(touch pwned)',
    '2024-01-04 a\nb',
    '2024-01-05 `x` ;|&',
    '2024-01-06 last',
  ]

  it.each([[[]], [['-j']]])('deletes exactly the planned names %j', async (extra) => {
    const root = await testdir()
    await makeEntries(root, names)
    const run = await runCli([...extra, '--daily=1', root])
    expect(run.code).toBe(0)
    expect(await entries(root)).toEqual(['2024-01-06 last'])
  })

  it('dry-run deletes nothing and --json lists every collected backup in order', async () => {
    const root = await testdir()
    await makeEntries(root, [...names, 'no timestamp'])
    const run = await runCli(['--dry-run', '--daily=2', '--keep-latest=3', '--json', root])
    expect(run.code).toBe(0)
    expect(await entries(root)).toEqual([...names, 'no timestamp'].sort())
    expect(run.lines).toContain(`INFO Preserving ${root}/${names[5]} (matches 'daily' and 'keep-latest' retention periods) ..`)
    expect(run.stdout).toBe(
      JSON.stringify({
        locations: [
          {
            directory: root,
            backups: [
              { name: names[0], timestamp: '2024-01-01T00:00:00', action: 'delete', periods: [] },
              { name: names[1], timestamp: '2024-01-02T00:00:00', action: 'delete', periods: [] },
              { name: names[2], timestamp: '2024-01-03T00:00:00', action: 'delete', periods: [] },
              // periods: retention frequencies only; keep-latest is a reason of the log lines.
              { name: names[3], timestamp: '2024-01-04T00:00:00', action: 'keep', periods: [] },
              { name: names[4], timestamp: '2024-01-05T00:00:00', action: 'keep', periods: ['daily'] },
              { name: names[5], timestamp: '2024-01-06T00:00:00', action: 'keep', periods: ['daily'] },
            ],
          },
        ],
      }) + '\n',
    )
  })
})

describe('configuration files', () => {
  it('glob sections: configuration mode finds ROOT/laptop and ROOT/vps (the .ini file is not a directory)', async () => {
    const root = await testdir({ laptop: null, vps: null })
    await makeEntries(path.join(root, 'laptop'), ['2024-01-01', '2024-01-02'])
    await makeEntries(path.join(root, 'vps'), ['2024-01-01'])
    const config = path.join(root, 'rotate-backups.ini')
    await fs.writeFile(config, `[${root}/*]\ndaily = 7\nweekly = 4\nmonthly = always\n`)
    const run = await runCli(['-v', '-c', config, '-n', '--json'])
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout).locations.map((l: { directory: string }) => l.directory)).toEqual([`${root}/laptop`, `${root}/vps`])
    expect(run.lines).toContain(`VERBOSE Ignoring match (not a directory): ${config}`)
  })

  it('glob sections: the section of ROOT/* replaces a command-line scheme for ROOT/laptop', async () => {
    const root = await testdir({ laptop: null })
    await makeEntries(path.join(root, 'laptop'), ['2024-01-01', '2024-01-02'])
    const config = path.join(root, 'rotate-backups.ini')
    await fs.writeFile(config, `[${root}/*]\ndaily = 7\nweekly = 4\nmonthly = always\n`)
    const run = await runCli(['-v', '-c', config, '-n', '--json', '--monthly=always', `${root}/laptop`])
    expect(run.code).toBe(0)
    expect(run.lines).toContain(`VERBOSE Using configuration section [${root}/*] for ${root}/laptop.`)
    const backups = JSON.parse(run.stdout).locations[0].backups as { periods: string[] }[]
    expect(backups.map((b) => b.periods)).toEqual([['daily', 'weekly', 'monthly'], ['daily']])
  })

  it('a specific section beats a glob one; nothing leaks between sections; strict = no works; [DEFAULT] applies', async () => {
    const root = await testdir({ a: null, b: null })
    const names = ['backup-2016-01-10_21-15-00', 'backup-2016-01-10_21-30-00', 'backup-2016-01-10_21-45-00', 'x-2016-01-10_21-50-00']
    await makeEntries(path.join(root, 'a'), names)
    await makeEntries(path.join(root, 'b'), names)
    const config = path.join(root, 'rotate-backups.ini')
    await fs.writeFile(
      config,
      `[DEFAULT]\nminutely = always\n[${root}/*]\nhourly = 1\n[${root}/a]\nhourly = 1\ninclude-list = backup-*\nprefer-recent = yes\nstrict = no\n`,
    )
    const run = await runCli(['-c', config, '-n', '--json', '--daily=99', `${root}/b`, `${root}/a`])
    expect(run.code).toBe(0)
    const [b, a] = JSON.parse(run.stdout).locations as { backups: { name: string; action: string; periods: string[] }[] }[]
    // b: the glob section (scheme replaced: minutely always from DEFAULT + hourly 1), no include list, oldest.
    expect(b!.backups.map((x) => [x.name, x.periods])).toEqual([
      [names[0], ['minutely', 'hourly']],
      [names[1], ['minutely']],
      [names[2], ['minutely']],
      [names[3], ['minutely']],
    ])
    // a: its own section: include list, prefer-recent, relaxed.
    expect(a!.backups.map((x) => [x.name, x.periods])).toEqual([
      [names[0], ['minutely']],
      [names[1], ['minutely']],
      [names[2], ['minutely', 'hourly']],
    ])
  })

  it('reads the default locations in order, later files override earlier keys, unknown keys warn', async () => {
    const home = await testdir({ etc: null, '.config': null })
    const data = await testdir({})
    await makeEntries(data, ['2024-01-01', '2024-01-02', '2024-01-03'])
    await fs.mkdir(path.join(home, 'etc', 'rotate-backups.d'))
    await fs.writeFile(path.join(home, 'etc', 'rotate-backups.ini'), `[${data}]\ndaily = 1\n`)
    await fs.writeFile(path.join(home, 'etc', 'rotate-backups.d', '10-x.ini'), `[${data}]\ndaily = 2\n`)
    await fs.writeFile(path.join(home, '.rotate-backups.ini'), `[${data}]\nrelaxed = yes\n`)
    await fs.writeFile(path.join(home, '.config', 'rotate-backups.ini'), `[${data}]\nweekly = 9\n`)
    const run = await runCli(['-n', '--json'], { env: { HOME: home } })
    expect(run.code).toBe(0)
    expect(run.lines[1]).toMatch(
      /^WARNING Ignoring unknown key 'relaxed' in section \[.*\] of .*\.rotate-backups\.ini \(line 2\); did you mean 'strict = no'\?$/,
    )
    const backups = JSON.parse(run.stdout).locations[0].backups as { periods: string[] }[]
    expect(backups.map((b) => b.periods)).toEqual([['weekly'], ['daily'], ['daily']])
  })

  it('a bad value in a configuration file is an error naming the file and line', async () => {
    const root = await testdir()
    const config = path.join(root, 'r.ini')
    await fs.writeFile(config, `[${root}]\n\ndaily = seven\n`)
    const run = await runCli(['-c', config])
    expect(run.code).toBe(1)
    expect(run.lines[0]).toContain(`Invalid value for 'daily' in section [${root}] (${config}, line 3)`)
  })
})

it('counts upstream sample backups as 266', () => {
  expect(SAMPLE_BACKUPS).toHaveLength(266)
})

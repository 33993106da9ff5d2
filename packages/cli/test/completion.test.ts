// rsb completion (unit tier: nothing is started): the script names every command word and every long option of every
// command's table (the backup's OPTIONS for backup and the default command), with = after the options that take a
// value; what positionals and option values complete to; the command line's parse.
import { describe, expect, it } from 'vitest'
import { OPTIONS } from '../src/args.ts'
import { completionCommands, options, parse } from '../src/commands/completion/index.ts'
import { completionScript, optionWords, positionalKinds, valueKind } from '../src/commands/completion/script.ts'
import { COMMANDS, JOB_COMMANDS } from '../src/commands/index.ts'
import { JOB_OPTIONS } from '../src/config/expand.ts'
import type { OptionDefinition } from '../src/kit/getopt.ts'

/** The words of the script's `options='…'` line for COMMAND. */
function optionsLine(script: string, command: string): string[] {
  const match = new RegExp(`\\n    '${command}'\\)\\n      options='([^']*)'`).exec(script)
  expect(match, `no case for ${command}`).not.toBeNull()
  return match![1]!.split(' ').filter(Boolean)
}

describe('the completion script', () => {
  it('names every command word, in the order of rsb --help', async () => {
    const script = completionScript(await completionCommands(), '1.2.3')
    expect(script).toContain(`_rsb_commands='${COMMANDS.map((c) => c.name).join(' ')}'`)
    expect(script.split('\n')[0]).toContain('(rsb 1.2.3)')
    expect(script).toMatch(/\ncomplete -F _rsb rsb rsync-system-backup rsb-rotate\n$/)
  })

  it('has every long option of each command’s table (= after those that take a value), and no other', async () => {
    const commands = await completionCommands()
    const script = completionScript(commands, '0.0.0')
    for (const command of COMMANDS) {
      const own: readonly OptionDefinition[] = command.name === 'backup' ? OPTIONS : command.load ? (await command.load()).options : []
      // and --job, --config on the commands that take a DESTINATION
      const table = JOB_COMMANDS.has(command.name) ? [...own, ...JOB_OPTIONS] : own
      const expected = table.map((o) => (o.value === undefined ? `--${o.name}` : `--${o.name}=`))
      expect(optionsLine(script, command.name), command.name).toEqual(expected)
    }
    // the backup's table is the real one, not an empty stand-in
    expect(optionsLine(script, 'backup')).toEqual(expect.arrayContaining(['--dry-run', '--mount=', '--exclude=', '--rotation=']))
    expect(optionsLine(script, 'list')).toContain('--json')
    expect(optionsLine(script, 'restore')).toContain('--snapshot=')
    expect(optionsLine(script, 'verify')).toEqual(expect.arrayContaining(['--job=', '--config=']))
    expect(optionsLine(script, 'run')).not.toContain('--job=')
  })

  it('lists the short letters of the options that take a value (their value is the next word)', async () => {
    const script = completionScript(await completionCommands(), '0.0.0')
    const valued = OPTIONS.filter((o) => o.value !== undefined && o.short !== undefined)
    expect(valued.length).toBeGreaterThan(3)
    const shorts = /\n    'backup'\)\n.*\n      shorts='([^']*)'/.exec(script)?.[1]
    expect(shorts?.split(' ')).toEqual(valued.map((o) => `${o.short}:${o.name}`))
  })

  it('quotes whatever it puts in single quotes', () => {
    const script = completionScript(
      [{ name: "it's", options: [{ name: 'x', value: 'DIR', description: '' }], positionals: [{ kind: 'words', words: ["a'b"] }] }],
      '0',
    )
    expect(script).toContain(`'it'\\''s')`)
    expect(script).toContain(`positionals=('words a'\\''b')`)
  })
})

describe('what words complete to', () => {
  const names = COMMANDS.map((c) => c.name)

  it('positionals: DESTINATION a directory, then snapshots (diff, verify), files (restore, versions), jobs (run, systemd)', () => {
    expect(positionalKinds('list', names)).toEqual([{ kind: 'directories' }])
    expect(positionalKinds('diff', names)).toEqual([{ kind: 'directories' }, { kind: 'snapshots', latest: true }])
    expect(positionalKinds('restore', names)).toEqual([{ kind: 'directories' }, { kind: 'files' }])
    expect(positionalKinds('run', names)).toEqual([{ kind: 'jobs' }])
    expect(positionalKinds('systemd', names)).toEqual([{ kind: 'jobs' }])
    expect(positionalKinds('help', names)[0]).toEqual({ kind: 'words', words: names })
    expect(positionalKinds('no-such-command', names)).toEqual([{ kind: 'files' }])
  })

  it('option values: --snapshot= snapshot names, --job= job names, DIR directories, FILE files, fixed words', () => {
    expect(valueKind({ name: 'snapshot', value: 'NAME', description: '' })).toEqual({ kind: 'snapshots', latest: false })
    expect(valueKind({ name: 'snapshot', short: 's', description: '' })).toEqual({ kind: 'none' })
    expect(valueKind({ name: 'job', value: 'NAME', description: '' })).toEqual({ kind: 'jobs' })
    expect(valueKind({ name: 'mount', value: 'DIR', description: '' })).toEqual({ kind: 'directories' })
    expect(valueKind({ name: 'config', value: 'FILE', description: '' })).toEqual({ kind: 'files' })
    expect(valueKind({ name: 'ionice', value: 'CLASS', description: '' })).toEqual({
      kind: 'words',
      words: ['idle', 'best-effort', 'realtime'],
    })
    expect(valueKind({ name: 'rotation', value: 'SPEC', description: '' })).toEqual({ kind: 'none' })
    expect(
      optionWords([
        { name: 'a', description: '' },
        { name: 'b', value: 'X', description: '' },
      ]),
    ).toEqual(['--a', '--b='])
  })
})

describe('rsb completion’s command line', () => {
  it('no argument or bash: the script; --snapshots DESTINATION (hidden): the names; --help', () => {
    expect(parse([])).toEqual({ kind: 'run', args: { kind: 'script', shell: 'bash' } })
    expect(parse(['bash'])).toEqual({ kind: 'run', args: { kind: 'script', shell: 'bash' } })
    expect(parse(['--snapshots', '/mnt/backups/latest'])).toEqual({
      kind: 'run',
      args: { kind: 'snapshots', destination: '/mnt/backups/latest' },
    })
    expect(parse(['--snapshots=/a b'])).toEqual({ kind: 'run', args: { kind: 'snapshots', destination: '/a b' } })
    expect(parse(['--help'])).toEqual({ kind: 'help' })
    expect(parse(['--version'])).toEqual({ kind: 'version' })
    expect(options.map((o) => o.name)).not.toContain('snapshots')
  })

  it('another shell, two shells or an unknown option are usage errors', () => {
    expect(() => parse(['zsh'])).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE' }))
    expect(() => parse(['bash', 'bash'])).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE' }))
    expect(() => parse(['--bogus'])).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE' }))
  })
})

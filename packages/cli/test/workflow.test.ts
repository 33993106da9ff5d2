// Tier 2: the workflow with a recording context (no real commands), to check the command shapes a CI machine
// running as root cannot produce: a non-root user's sudo prefixes, a filesystem that `mountpoint` reports as not
// mounted and then mounted, and the order of the whole run (reference rsync-system-backup.md 7.4).
import { RecordingContext } from '@rsb/exec'
import { describe, expect, it } from 'vitest'
import { parseArgs, type RunOptions } from '../src/index.ts'
import { runWorkflow } from '../src/backup/run.ts'
import { createLogger } from '../src/log.ts'

type Handler = (argv: readonly string[]) => { exitCode?: number; stdout?: string } | undefined

/** Records every final argv; answers from `handler` (default: exit 0, no output). Not root. */
function recordingContext(handler: Handler, defaults: { sudo?: boolean; ionice?: RunOptions['ionice'] }): RecordingContext {
  return new RecordingContext(({ argv }) => handler(argv), { ...defaults, privileged: false })
}

function options(argv: string[]): RunOptions {
  const parsed = parseArgs(argv, {})
  if (parsed.kind !== 'run') throw new Error('expected a run')
  return parsed.options
}

function sink() {
  const out = { text: '', isTTY: false, write: (s: string) => ((out.text += s), true) }
  return out
}

describe('the workflow with a recording context (non-root user, sudo)', () => {
  it('runs the original command sequence with sudo prefixes: mount, rsync, snapshot, rotation, unmount', async () => {
    let mounted = false
    const context = recordingContext(
      (argv) => {
        const command = argv.filter((a) => a !== 'sudo' && a !== '-n' && !a.startsWith('HOME='))
        const [program] = command
        if (program === 'uname') return { stdout: 'Linux\n' }
        if (program === 'which')
          return { exitCode: command[1] === 'ionice' ? 0 : 1, stdout: command[1] === 'ionice' ? '/usr/bin/ionice\n' : '' }
        if (program === 'mountpoint') return { exitCode: mounted ? 0 : 32 }
        if (program === 'mount') {
          mounted = true
          return {}
        }
        if (program === 'umount') {
          mounted = false
          return {}
        }
        if (program === 'test' && command[1] === '-e') return { exitCode: 1 } // no snapshot with this name yet
        if (program === 'find') return { stdout: 'latest\0' }
        if (program === 'stat') return { stdout: '/mnt/backups\n' }
        return {}
      },
      { sudo: true, ionice: 'idle' },
    )
    const stderr = sink()
    const { error, summary } = await runWorkflow(
      options(['--mount', '/mnt/backups', '--ionice=idle', '--disable-notifications', '/mnt/backups/latest']),
      {
        logger: createLogger(stderr, 1),
        stdout: sink(),
        stderr,
        env: { RSB_LOCK_DIR: `/tmp/rsb-workflow-test-${process.pid}` },
        signal: undefined,
        contexts: { local: context },
      },
    )
    expect(error).toBeUndefined()
    expect(summary.actions).toEqual(['backup', 'snapshot', 'rotate'])
    const shown = context.calls
      .map((call) => call.argv)
      .filter((argv) => !argv.includes('which'))
      .map((argv) => argv.join(' '))
    const indexOf = (prefix: string) => shown.findIndex((line) => line.startsWith(prefix))
    const order = [
      'uname',
      'sudo -n mountpoint /mnt/backups',
      'sudo -n mount /mnt/backups',
      'sudo -n test -d /mnt/backups/latest',
      'sudo -n HOME= ionice -c idle rsync --delete --delete-excluded --acls --archive --hard-links --numeric-ids --xattrs --one-file-system',
      'sudo -n find /mnt/backups -mindepth 1 -maxdepth 1 -print0', // leftovers of interrupted snapshots
      'sudo -n ionice -c idle cp --archive --link --no-target-directory /mnt/backups/latest /mnt/backups/.rsb-snapshot-',
      'sudo -n mv --no-target-directory /mnt/backups/.rsb-snapshot-',
      'sudo -n umount /mnt/backups',
    ]
    const positions = order.map(indexOf)
    expect(
      positions.every((p) => p >= 0),
      `missing: ${order.filter((_, i) => positions[i] === -1).join(' | ')}\n${shown.join('\n')}`,
    ).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
    expect(shown.find((line) => line.includes(' rsync '))).toMatch(/ \/ \/mnt\/backups\/latest\/$/)
    // the rotation lists the parent again after the rename, before unmounting
    const rotationScan = shown.findLastIndex((line) => line.startsWith('sudo -n find /mnt/backups '))
    expect(rotationScan).toBeGreaterThan(indexOf('sudo -n mv '))
    expect(rotationScan).toBeLessThan(indexOf('sudo -n umount'))
    expect(mounted).toBe(false)
  })

  it('with --no-sudo: no sudo for rsync and the destination commands, but mount and umount still ask for it', async () => {
    let mounted = false
    const context = recordingContext(
      (argv) => {
        const program = argv.find((a) => a !== 'sudo' && a !== '-n')
        if (program === 'uname') return { stdout: 'Linux\n' }
        if (program === 'mountpoint') return { exitCode: mounted ? 0 : 32 }
        if (program === 'mount') mounted = true
        if (program === 'umount') mounted = false
        if (program === 'test' && argv.includes('-e')) return { exitCode: 1 }
        return {}
      },
      { sudo: false },
    )
    const stderr = sink()
    const { error } = await runWorkflow(options(['-u', '-m', '/mnt/b', '--disable-notifications', '--backup', '/mnt/b/latest']), {
      logger: createLogger(stderr),
      stdout: sink(),
      stderr,
      env: { RSB_LOCK_DIR: `/tmp/rsb-workflow-test-${process.pid}` },
      signal: undefined,
      contexts: { local: context },
    })
    expect(error).toBeUndefined()
    const shown = context.commands
    expect(shown).toContain('sudo -n mount /mnt/b')
    expect(shown).toContain('sudo -n umount /mnt/b')
    expect(shown).toContain('mountpoint /mnt/b')
    expect(shown.find((line) => line.includes('rsync'))).toMatch(/^rsync --delete/)
  })
})

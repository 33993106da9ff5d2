// Tier 2: the workflow with a recording context (no real commands), to check the command shapes a CI machine
// running as root cannot produce: a non-root user's sudo prefixes, a filesystem that `mountpoint` reports as not
// mounted and then mounted, and the order of the whole run.
import { RecordingContext } from '@rsb/exec'
import { describe, expect, it } from 'vitest'
import { parseArgs, type RunOptions } from '../src/index.ts'
import { runWorkflow } from '../src/backup/run.ts'
import { createLogger } from '../src/kit/log.ts'
import { PROBE_SCRIPT } from '../src/backup/probe.ts'
import { READ_SCRIPT, WRITE_SCRIPT } from '../src/session/store.ts'
import { HOLD_SCRIPT } from '../src/session/server-lock.ts'

type Handler = (argv: readonly string[]) => { exitCode?: number; stdout?: string } | undefined

/** Short names for rsb's own scripts (`sh -c SCRIPT sh ARGS…`) in the recorded command lines. */
const SCRIPTS = new Map([
  [PROBE_SCRIPT, 'probe'],
  [READ_SCRIPT, 'read-store'],
  [WRITE_SCRIPT, 'write-records'],
  [HOLD_SCRIPT, 'hold-lock'],
])

/** A command line with rsb's scripts shown by name: `sudo -n sh -c probe sh /mnt/backups/latest  `. */
function label(argv: readonly string[]): string {
  return argv.map((a) => SCRIPTS.get(a) ?? a).join(' ')
}

/**
 * Answers rsb's store scripts as a store at /mnt/backups holding the mirror `latest` would: every probed path is
 * a readable, non-empty directory (SOURCE and DESTINATION alike), and records are written.
 */
function storeReply(command: readonly string[]): { exitCode?: number; stdout?: string } | undefined {
  if (command[0] !== 'sh' || command[1] !== '-c') return undefined
  const script = SCRIPTS.get(command[2] as string)
  if (script === 'probe') return { stdout: `resolved=${command[4]}\0type=directory\0readable=1\0nonempty=1\0` }
  if (script === 'read-store') {
    const store = '{"format":"rsb-store","version":1,"created":"2024-01-01T00:00:00.000Z"}\n'
    const mirror = '{"version":1,"name":"latest","id":"0123abcd","created":"2024-01-01T00:00:00.000Z"}\n'
    const facts = 'users\x000\x00\x00facts\x000 0 755 d/backups\x001 0 755 d/latest\x00'
    return { stdout: `${facts}store\0${store}\0mirrors\0${mirror}\0snapshots\0\0deleting\0` }
  }
  return {}
}

/** Records every final argv; answers rsb's store scripts, then from `handler` (default: exit 0, no output). Not root. */
function recordingContext(handler: Handler, defaults: { sudo?: boolean; ionice?: RunOptions['ionice'] }): RecordingContext {
  let releaseHolder: (() => void) | undefined
  return new RecordingContext(
    async ({ argv }, request) => {
      const bare = argv.filter((a) => a !== 'sudo' && a !== '-n' && !a.startsWith('HOME='))
      // the lock at the mirror: taken at once, held (the command runs) until rsb's kill, then released
      if (bare[0] === 'sh' && bare[2] === HOLD_SCRIPT) {
        request.onStdout(new TextEncoder().encode('pid 4242\nlocked\n'))
        await new Promise<void>((resolve) => {
          releaseHolder = resolve
          request.signal?.addEventListener('abort', () => resolve(), { once: true })
        })
        return { stdout: '\nreleased\n' }
      }
      if (bare[0] === 'sh' && bare[2] === 'kill -TERM "$1"') releaseHolder?.()
      return storeReply(bare) ?? handler(argv)
    },
    { ...defaults, privileged: false },
  )
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
      .map(label)
    const indexOf = (prefix: string) => shown.findIndex((line) => line.startsWith(prefix))
    const order = [
      'uname',
      'sudo -n mountpoint /mnt/backups',
      'sudo -n mount /mnt/backups',
      'sudo -n sh -c probe sh /mnt/backups/latest', // DESTINATION resolved and checked, after the mount
      'sudo -n sh -c probe sh / ', // SOURCE
      'sudo -n sh -c hold-lock sh /mnt/backups/latest /mnt/backups/.rsb/mirrors/latest.lock', // the lock at the mirror
      'sudo -n sh -c read-store sh /mnt/backups', // the store, read under the lock
      'sudo -n test -d /mnt/backups/latest',
      'sudo -n -H ionice -c idle rsync --delete --delete-excluded --acls --archive --hard-links --numeric-ids --xattrs --one-file-system',
      'sudo -n sh -c write-records sh /mnt/backups/.rsb/snapshots new', // the claim of the snapshot's name
      'sudo -n ionice -c idle cp --archive --link --no-target-directory -- /mnt/backups/latest /mnt/backups/.rsb-snapshot-0123abcd-',
      'sudo -n mv --no-target-directory -- /mnt/backups/.rsb-snapshot-0123abcd-',
      'sudo -n rm -f -- /mnt/backups/.rsb/mirrors/latest.lock', // released: its record first, then the holder
      'sudo -n sh -c kill -TERM "$1" sh 4242',
      'sudo -n umount /mnt/backups',
    ]
    const positions = order.map(indexOf)
    expect(
      positions.every((p) => p >= 0),
      `missing: ${order.filter((_, i) => positions[i] === -1).join(' | ')}\n${shown.join('\n')}`,
    ).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
    expect(shown.find((line) => line.includes(' rsync '))).toMatch(/ \/ \/mnt\/backups\/latest\/$/)
    // the rotation reads the store again after the rename, before unmounting
    const rotationScan = shown.findLastIndex((line) => line.startsWith('sudo -n sh -c read-store sh /mnt/backups'))
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

const SNAPSHOT_NAME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/

const WRITERS = new Set(['cp', 'mv', 'mkdir', 'ln', 'rsync', 'touch'])

/** Whether `command` writes into `existing` or anything below it. */
function writesInto(command: readonly string[], existing: ReadonlySet<string>): boolean {
  if (!WRITERS.has(command[0] as string)) return false
  return command.slice(1).some((arg) => [...existing].some((name) => arg === name || arg.startsWith(`${name}/`)))
}

/** A recording context for `rsb -s /mnt/backups/latest` whose `test -e` says "exists" for the names in `existing`. */
function snapshotContext(answerExists: (path: string) => boolean) {
  const existing = new Set<string>()
  const asked: string[] = []
  const context = recordingContext(
    (argv) => {
      const command = argv.filter((a) => a !== 'sudo' && a !== '-n')
      const [program] = command
      if (program === 'uname') return { stdout: 'Linux\n' }
      if (program === 'test' && command[1] === '-e') {
        const path = command[2] as string
        if (path.startsWith('/mnt/backups/') && SNAPSHOT_NAME.test(path.slice('/mnt/backups/'.length))) {
          asked.push(path)
          if (existing.has(path) || answerExists(path)) {
            existing.add(path)
            return { exitCode: 0 }
          }
        }
        return { exitCode: 1 }
      }
      if (program === 'find') return { stdout: '/mnt/backups/latest\0' }
      return {}
    },
    { sudo: true },
  )
  return { context, existing, asked }
}

async function runSnapshotOnly(context: RecordingContext) {
  const stderr = sink()
  const result = await runWorkflow(options(['-s', '--disable-notifications', '/mnt/backups/latest']), {
    logger: createLogger(stderr, 1),
    stdout: sink(),
    stderr,
    env: { RSB_LOCK_DIR: `/tmp/rsb-workflow-test-${process.pid}` },
    signal: undefined,
    contexts: { local: context },
  })
  return { ...result, log: stderr.text }
}

describe('the snapshot never goes into an existing snapshot', () => {
  it('when the snapshot name of this second exists already: waits for a free name, copies to a temporary name and renames to the free one', async () => {
    let first = true
    const { context, existing, asked } = snapshotContext(() => {
      // only the first name asked for exists (another snapshot made in the same second)
      const answer = first
      first = false
      return answer
    })
    const { error, summary } = await runSnapshotOnly(context)
    expect(error).toBeUndefined()
    expect(existing.size).toBe(1)
    const [taken] = existing
    const copies = context.calls.filter((call) => call.command[0] === 'cp')
    const renames = context.calls.filter((call) => call.command[0] === 'mv')
    expect(copies).toHaveLength(1)
    expect(renames).toHaveLength(1)
    // cp only ever writes the hidden temporary name
    const cp = copies[0]?.command ?? []
    expect(cp.slice(0, 4)).toEqual(['cp', '--archive', '--link', '--no-target-directory'])
    expect(cp.at(-2)).toBe('/mnt/backups/latest')
    expect(cp.at(-1)).toMatch(/^\/mnt\/backups\/\.rsb-snapshot-/)
    // the rename goes to a name that was checked and found free, never the taken one
    const mv = renames[0]?.command ?? []
    expect(mv.slice(0, 4)).toEqual(['mv', '--no-target-directory', '--', cp.at(-1)])
    const target = mv.at(-1) as string
    expect(target).not.toBe(taken)
    expect(asked).toContain(target)
    expect(summary.snapshot).toBe(target)
    for (const call of context.calls) expect(writesInto(call.command, existing), call.argv.join(' ')).toBe(false)
  })

  it('when every candidate name exists: fails with ERR_RSB_CLI_SNAPSHOT_EXISTS and runs neither cp nor mv', async () => {
    const { context, existing } = snapshotContext(() => true)
    const { error, summary, log } = await runSnapshotOnly(context)
    expect(error).toMatchObject({ code: 'ERR_RSB_CLI_SNAPSHOT_EXISTS' })
    expect(summary.error?.code).toBe('ERR_RSB_CLI_SNAPSHOT_EXISTS')
    expect(summary.snapshot ?? null).toBeNull()
    expect(existing.size).toBeGreaterThan(0)
    expect(context.calls.filter((call) => call.command[0] === 'cp' || call.command[0] === 'mv')).toEqual([])
    for (const call of context.calls) expect(writesInto(call.command, existing), call.argv.join(' ')).toBe(false)
    expect(log).not.toContain('Creating snapshot:')
  })
})

describe('notification order around the unlock (as the original does)', () => {
  it('"Starting backup" comes after the missing-disk check and before the unlock; "Finished" before unmount and lock', async () => {
    let unlocked = false
    let mounted = false
    const context = recordingContext(
      (argv) => {
        const command = argv.filter((a) => a !== 'sudo' && a !== '-n' && !a.startsWith('HOME='))
        const [program] = command
        if (program === 'uname') return { stdout: 'Linux\n' }
        if (program === 'which')
          return command[1] === 'cryptdisks_start' || command[1] === 'cryptdisks_stop'
            ? { stdout: `/usr/sbin/${command[1]}\n` }
            : { exitCode: 1 }
        if (program === 'cat' && command[1] === '/etc/crypttab') return { stdout: 'backups /dev/sdz1 /root/backups.key luks,noauto\n' }
        if (program === 'test' && command[1] === '-e') {
          if (command[2] === '/dev/mapper/backups') return { exitCode: unlocked ? 0 : 1 }
          if (command[2] === '/dev/sdz1' || command[2] === '/root/backups.key') return { exitCode: 0 }
          return { exitCode: 1 }
        }
        if (program === 'cryptdisks_start') unlocked = true
        if (program === 'cryptdisks_stop') unlocked = false
        if (program === 'mountpoint') return { exitCode: mounted ? 0 : 32 }
        if (program === 'mount') mounted = true
        if (program === 'umount') mounted = false
        if (program === 'find') return { stdout: '/mnt/backups/latest\0' }
        return {}
      },
      { sudo: true },
    )
    const stderr = sink()
    const { error } = await runWorkflow(options(['--crypto', 'backups', '--mount', '/mnt/backups', '/mnt/backups/latest']), {
      logger: createLogger(stderr, 1),
      stdout: sink(),
      stderr,
      // a desktop of its own: notify-send runs directly, no look-up of other users' sessions
      env: { RSB_LOCK_DIR: `/tmp/rsb-workflow-test-${process.pid}`, DISPLAY: ':0' },
      signal: undefined,
      contexts: { local: context },
    })
    expect(error).toBeUndefined()
    const shown = context.calls.map((call) => call.command.join(' '))
    const indexOf = (line: string) => shown.indexOf(line)
    const order = [
      'cat /etc/crypttab',
      'test -e /dev/sdz1', // the missing-disk check
      'notify-send System backups Starting backup',
      'cryptdisks_start backups',
      'mount /mnt/backups',
      'notify-send System backups Finished backup', // prefix, see below
      'umount /mnt/backups',
      'cryptdisks_stop backups',
    ]
    const positions = order.map((line) =>
      line.endsWith('Finished backup') ? shown.findIndex((s) => s.startsWith(`${line} in `)) : indexOf(line),
    )
    expect(
      positions.every((p) => p >= 0),
      `missing: ${order.filter((_, i) => positions[i] === -1).join(' | ')}\n${shown.join('\n')}`,
    ).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
    expect(shown.filter((line) => line.startsWith('notify-send'))).toHaveLength(2)
    expect(unlocked).toBe(false)
    expect(mounted).toBe(false)
  })

  it('a missing disk sends no notification at all', async () => {
    const context = recordingContext(
      (argv) => {
        const command = argv.filter((a) => a !== 'sudo' && a !== '-n')
        if (command[0] === 'uname') return { stdout: 'Linux\n' }
        if (command[0] === 'cat') return { stdout: 'backups /dev/sdz1 /root/backups.key luks,noauto\n' }
        if (command[0] === 'test' && command[1] === '-e') return { exitCode: 1 }
        return {}
      },
      { sudo: true },
    )
    const stderr = sink()
    const { error } = await runWorkflow(options(['--crypto', 'backups', '/mnt/backups/latest']), {
      logger: createLogger(stderr, 1),
      stdout: sink(),
      stderr,
      env: { RSB_LOCK_DIR: `/tmp/rsb-workflow-test-${process.pid}`, DISPLAY: ':0' },
      signal: undefined,
      contexts: { local: context },
    })
    expect(error).toMatchObject({ code: 'ERR_RSB_CRYPTTAB_MISSING_DISK' })
    const shown = context.calls.map((call) => call.command[0])
    expect(shown).toContain('test')
    expect(shown).not.toContain('notify-send')
    expect(shown).not.toContain('cryptdisks_start')
    expect(shown).not.toContain('rsync')
  })
})

describe('Ctrl-C during a mount that hangs (a mount the test machine cannot make hang for real: recorded)', () => {
  // `mount` answers only when it is stopped; `mountedWhenStopped`: it had mounted just before (a mount that ends on
  // SIGTERM after its work is done)
  async function stopDuringMount(mountedWhenStopped: boolean) {
    let mounted = false
    const controller = new AbortController()
    const context = new RecordingContext(
      async ({ command }, request) => {
        const [program] = command
        if (program === 'uname') return { stdout: 'Linux\n' }
        if (program === 'mountpoint') return { exitCode: mounted ? 0 : 32 }
        if (program === 'mount') {
          setTimeout(() => controller.abort('SIGINT'), 50)
          await new Promise<void>((resolve) => request.signal?.addEventListener('abort', () => resolve(), { once: true }))
          mounted = mountedWhenStopped
          return { aborted: true }
        }
        if (program === 'umount') {
          mounted = false
          return {}
        }
        return {}
      },
      { privileged: true },
    )
    const started = performance.now()
    const { error } = await runWorkflow(options(['--mount', '/mnt/backups', '--disable-notifications', '/mnt/backups/latest']), {
      logger: createLogger(sink(), 1),
      stdout: sink(),
      stderr: sink(),
      env: { RSB_LOCK_DIR: `/tmp/rsb-workflow-test-${process.pid}` },
      signal: controller.signal,
      contexts: { local: context },
    })
    return { error, seconds: (performance.now() - started) / 1000, mounted, commands: context.calls.map((call) => call.command.join(' ')) }
  }

  it('the mount is stopped at once; nothing was mounted, so nothing is unmounted', { timeout: 10_000 }, async () => {
    const run = await stopDuringMount(false)
    expect(run.error).toBeDefined()
    expect(run.seconds).toBeLessThan(2)
    expect(run.commands).toContain('mount /mnt/backups')
    expect(run.commands.some((c) => c.startsWith('umount'))).toBe(false)
    expect(run.commands.some((c) => c.startsWith('rsync'))).toBe(false)
  })

  it('a mount that got done before it stopped is unmounted again', { timeout: 10_000 }, async () => {
    const run = await stopDuringMount(true)
    expect(run.error).toBeDefined()
    expect(run.seconds).toBeLessThan(2)
    expect(run.commands).toContain('umount /mnt/backups')
    expect(run.mounted).toBe(false)
  })
})

// Opening a destination (src/session/open.ts), the set-up every command shares: the run lock, the contexts, one SSH
// connection, the --crypto check, unlock and mount, each undone in reverse order by the caller's CleanupScope, and
// every step stopped by the run's signal. Tier 2: recorded commands, no process is started.
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CleanupScope, RecordingContext, type RecordingHandler } from '@rsb/exec'
import { testdir } from '@rsb/testkit'
import { createLogger } from '../src/kit/log.ts'
import { openDestination, type OpenRequest } from '../src/session/open.ts'
import { HOLD_SCRIPT } from '../src/session/server-lock.ts'
import { resolveTarget } from '../src/session/target.ts'

async function request(expression: string, extra: Partial<OpenRequest> = {}): Promise<OpenRequest> {
  const locks = await testdir()
  fs.chmodSync(locks, 0o700)
  return {
    target: resolveTarget(expression),
    sudo: true,
    ionice: undefined,
    env: { RSB_LOCK_DIR: locks },
    logger: createLogger({ write: () => true }, -5),
    signal: undefined,
    ...extra,
  }
}

/** `mountpoint` says "not mounted" until `mount` ran; `mount` may hang until the signal stops it. */
function disk(options: { hang?: boolean } = {}) {
  let mounted = false
  const handler: RecordingHandler = async ({ argv }, spawn) => {
    const program = argv.filter((a) => a !== 'sudo' && a !== '-n')[0]
    if (program === 'mountpoint') return { exitCode: mounted ? 0 : 32 }
    if (program === 'mount') {
      if (options.hang) {
        // mounted, and then mount(8) hangs (a slow helper): the undo must still unmount
        mounted = true
        await new Promise((resolve) => spawn.signal?.addEventListener('abort', resolve, { once: true }))
        return { exitCode: 143 }
      }
      mounted = true
    }
    if (program === 'umount') mounted = false
    return {}
  }
  return { context: new RecordingContext(handler, { privileged: false }), mounted: () => mounted }
}

describe('openDestination', () => {
  it('locks the destination, mounts, and the scope undoes both in reverse order (unmount, then the lock)', async () => {
    const { context, mounted } = disk()
    const req = await request('/mnt/backups/latest', { mount: '/mnt/backups', contexts: { local: context } })
    const scope = new CleanupScope()
    const opened = await openDestination(req, scope)
    expect(opened.destination).toBe(context)
    expect(opened.disks).toBe(context)
    await opened.checkDisk()
    await opened.unlock()
    await opened.mount()
    expect(mounted()).toBe(true)
    // a second run (here: another command) on the same destination is refused while this one holds it
    await expect(openDestination(await request('/mnt/backups/latest', { env: req.env }), new CleanupScope())).rejects.toMatchObject({
      code: 'ERR_RSB_CLI_LOCKED',
    })
    await scope.close()
    expect(mounted()).toBe(false)
    expect(context.commands).toEqual([
      'mountpoint /mnt/backups',
      'sudo -n mount /mnt/backups',
      'mountpoint /mnt/backups',
      'sudo -n umount /mnt/backups',
      'mountpoint /mnt/backups',
    ])
    // released: the next one opens it
    const next = new CleanupScope()
    await openDestination(await request('/mnt/backups/latest', { env: req.env }), next)
    await next.close()
  })

  it('a command that only reads takes no lock: it opens a destination a backup holds, and never blocks one', async () => {
    const req = await request('/mnt/backups/latest')
    const writer = new CleanupScope()
    await openDestination(req, writer)
    const reader = new CleanupScope()
    const opened = await openDestination({ ...req, writes: false }, reader)
    await expect(opened.lockMirror({ resolved: '/mnt/backups/latest', storeId: '' })).rejects.toThrow(/takes no locks/)
    expect(() => opened.takeLock('other', 'other')).toThrow(/takes no locks/)
    // and it does not mount or unlock: undoing that could pull the disk from under a backup that started meanwhile
    for (const extra of [{ mount: '/mnt/backups' }, { crypto: 'backup' }]) {
      await expect(openDestination({ ...req, ...extra, writes: false }, new CleanupScope())).rejects.toMatchObject({
        code: 'ERR_RSB_CLI_USAGE',
        message: expect.stringMatching(/does not (mount|unlock) the disk/),
      })
    }
    await writer.close()
    // with the reader still open, a backup takes the destination
    const next = new CleanupScope()
    await openDestination(req, next)
    await next.close()
    await reader.close()
  })

  it('an SSH destination gets one connection, closed by the scope; a daemon destination none', async () => {
    const made: string[] = []
    let closed = 0
    const ssh = (host: string, user: string | undefined) => {
      made.push(`${user ?? ''}@${host}`)
      const context = new RecordingContext(undefined, { kind: 'ssh', host })
      context.close = () => ((closed += 1), Promise.resolve())
      return context
    }
    const scope = new CleanupScope()
    const opened = await openDestination(await request('backup@server:/srv/backups/latest', { contexts: { ssh } }), scope)
    expect(made).toEqual(['backup@server'])
    expect(opened.disks).toBe(opened.destination)
    await scope.close()
    expect(closed).toBe(1)
    const daemon = new CleanupScope()
    expect((await openDestination(await request('server::module/latest', { contexts: { ssh } }), daemon)).destination).toBeUndefined()
    await daemon.close()
    expect(made).toHaveLength(1)
  })

  it('a hanging mount is stopped by the signal (Ctrl-C), and nothing is left mounted or locked', async () => {
    const { context, mounted } = disk({ hang: true })
    const controller = new AbortController()
    const req = await request('/mnt/backups/latest', { mount: '/mnt/backups', contexts: { local: context }, signal: controller.signal })
    const scope = new CleanupScope()
    const opened = await openDestination(req, scope)
    const mounting = opened.mount()
    setTimeout(() => controller.abort('SIGINT'), 50)
    const started = Date.now()
    await expect(mounting).rejects.toBeDefined()
    expect(Date.now() - started).toBeLessThan(5000)
    await scope.close()
    expect(mounted()).toBe(false)
    const next = new CleanupScope()
    await openDestination(await request('/mnt/backups/latest', { env: req.env }), next)
    await next.close()
  })

  it('locks a mirror by its real path: a second spelling of it is the same lock', async () => {
    // the lock where the mirror lives: taken at once and held until rsb stops its holder
    let release: (() => void) | undefined
    const holder: RecordingHandler = async ({ argv }, spawn) => {
      if (argv[0] === 'sh' && argv[2] === HOLD_SCRIPT) {
        spawn.onStdout(new TextEncoder().encode('pid 4242\nlocked\n'))
        await new Promise<void>((resolve) => {
          release = resolve
          spawn.signal?.addEventListener('abort', () => resolve(), { once: true })
        })
        return { stdout: '\nreleased\n' }
      }
      if (argv[0] === 'sh' && argv[2] === 'kill -TERM "$1"') release?.()
      return {}
    }
    const req = await request('/mnt/backups/latest', { contexts: { local: new RecordingContext(holder) } })
    const scope = new CleanupScope()
    const opened = await openDestination(req, scope)
    await opened.lockMirror({ resolved: '/srv/store/latest', storeId: '' })
    const otherScope = new CleanupScope()
    const other = await openDestination(await request('/elsewhere/latest', { env: req.env, contexts: req.contexts }), otherScope)
    await expect(other.lockMirror({ resolved: '/srv/store/latest', storeId: '' })).rejects.toMatchObject({ code: 'ERR_RSB_CLI_LOCKED' })
    await otherScope.close()
    await scope.close()
  })
})

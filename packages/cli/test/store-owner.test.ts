// Tier 2: readStore's owner and mode checks on the store reader's output as a recording context
// answers it: who may own the store and .rsb/, what is refused, one line naming the path, and that the records are
// never parsed from a store the reader found unsafe.
import { RecordingContext } from '@rsb/exec'
import { describe, expect, it } from 'vitest'
import { READ_SCRIPT, readStore, unsafeStoreDirectory } from '../src/session/store.ts'

const STORE_JSON = '{"format":"rsb-store","version":1,"created":"2024-01-01T00:00:00.000Z"}\n'
const MIRROR_JSON = '{"version":1,"name":"latest","id":"0123abcd","created":"2024-01-01T00:00:00.000Z"}\n'

interface Reply {
  /** `id -u` and `$SUDO_UID` where the reader ran. */
  uid?: string
  sudoUid?: string
  /** `DEPTH UID MODE TYPE/NAME` lines, as find prints them. */
  facts?: string[]
  /** The reader's own check stopped it. */
  unsafe?: boolean
  exitCode?: number
}

const SAFE = ['0 0 755 d/b', '1 0 755 d/latest', '1 0 755 d/.rsb', '0 0 755 d/.rsb', '1 0 644 f/store.json', '1 0 755 d/mirrors']

/** What READ_SCRIPT prints for the store /b. */
function output(reply: Reply): string {
  const head = `users\0${reply.uid ?? '0'}\0${reply.sudoUid ?? ''}\0facts\0${(reply.facts ?? SAFE).map((f) => `${f}\0`).join('')}`
  if (reply.unsafe) return `${head}unsafe\0`
  return `${head}store\0${STORE_JSON}\0mirrors\0${MIRROR_JSON}\0snapshots\0\0deleting\0`
}

function context(reply: Reply, options: { kind?: 'local' | 'ssh'; host?: string } = {}): RecordingContext {
  return new RecordingContext(
    ({ command }) => (command[2] === READ_SCRIPT ? { stdout: output(reply), exitCode: reply.exitCode ?? 0 } : undefined),
    options,
  )
}

/** The facts with `line` in place of the one of the same NAME at the same depth (or added). */
function withFact(line: string, facts: string[] = SAFE): string[] {
  const key = (f: string) => `${f.split(' ')[0]} ${f.slice(f.indexOf('/') + 1)}`
  const metadataAt = facts.findIndex((f, i) => i > 0 && f.startsWith('0 '))
  const [depth] = line.split(' ')
  const replaced = facts.map((f, i) => (key(f) === key(line) && (depth === '0' || i > metadataAt) ? line : f))
  return replaced.includes(line) ? replaced : [...replaced, line]
}

describe('readStore refuses a store another user could steer (ERR_RSB_CLI_STORE_UNSAFE)', () => {
  it('a store, .rsb/ and directories of root read as before: entries (without .rsb), records', async () => {
    const state = await readStore(context({}), '/b')
    expect([...state.entries]).toEqual([['latest', 'd']])
    expect(state.store).toMatchObject({ format: 'rsb-store' })
    expect(state.mirrors).toHaveLength(1)
  })

  it.each([
    ['.rsb/ owned by another user', withFact('0 1001 755 d/.rsb'), '/b/.rsb belongs to UID 1001, not to root.', 'chown root -- /b/.rsb'],
    ['.rsb/ a symbolic link', withFact('0 1001 777 l/.rsb'), '/b/.rsb is a symbolic link.', 'ls -ld -- /b/.rsb'],
    ['.rsb/ a regular file', withFact('0 0 644 f/.rsb'), '/b/.rsb is a regular file, not a directory.', 'ls -ld -- /b/.rsb'],
    ['.rsb/ mode 0777', withFact('0 0 777 d/.rsb'), '/b/.rsb has mode 0777: group or others may write in it.', 'chmod go-w -- /b/.rsb'],
    [
      '.rsb/ sticky and world-writable',
      withFact('0 0 1777 d/.rsb'),
      '/b/.rsb has mode 1777: group or others may write in it.',
      'chmod go-w',
    ],
    ['.rsb/ group-writable', withFact('0 0 775 d/.rsb'), '/b/.rsb has mode 0775', 'chmod go-w'],
    ['.rsb/mirrors a symbolic link', withFact('1 1001 777 l/mirrors'), '/b/.rsb/mirrors is a symbolic link.', 'ls -ld -- /b/.rsb/mirrors'],
    ['.rsb/mirrors a FIFO', withFact('1 0 644 p/mirrors'), '/b/.rsb/mirrors is a FIFO, not a directory.', 'move it aside'],
    ['.rsb/snapshots a regular file', withFact('1 0 644 f/snapshots'), '/b/.rsb/snapshots is a regular file, not a directory.', 'ls -ld'],
    ['.rsb/deleting owned by another user', withFact('1 1001 700 d/deleting'), '/b/.rsb/deleting belongs to UID 1001', 'chown root'],
    ['.rsb/daemon-hooks mode 0733', withFact('1 0 733 d/daemon-hooks'), '/b/.rsb/daemon-hooks has mode 0733', 'chmod go-w'],
    ['another directory in .rsb/ writable by others', withFact('1 0 777 d/future'), '/b/.rsb/future has mode 0777', 'chmod go-w'],
    ['a FIFO in .rsb/', withFact('1 0 644 p/fifo'), '/b/.rsb/fifo is a FIFO, not a directory.', 'ls -ld -- /b/.rsb/fifo'],
    ['a symbolic link in .rsb/', withFact('1 0 777 l/store.json'), '/b/.rsb/store.json is a symbolic link.', 'ls -ld'],
    ['the store owned by another user', withFact('0 1001 755 d/b'), '/b belongs to UID 1001, not to root.', 'chown root -- /b'],
    [
      'the store mode 0777',
      withFact('0 0 777 d/b'),
      '/b has mode 0777: without the sticky bit, group or others may write in it.',
      'chmod go-w -- /b (or keep it shared with chmod +t',
    ],
    ['the store group-writable', withFact('0 0 2775 d/b'), '/b has mode 2775', 'chmod go-w -- /b'],
    ['the store a symbolic link', withFact('0 0 777 l/b'), '/b is a symbolic link.', 'ls -ld -- /b'],
    ['the store sticky but owned by another user', withFact('0 1001 1777 d/b'), '/b belongs to UID 1001', 'chown root -- /b'],
  ])('%s', async (_what, facts, problem, hint) => {
    const error = await readStore(context({ facts }), '/b').catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_RSB_CLI_STORE_UNSAFE', hint: expect.stringContaining(hint) })
    const { message } = error as Error
    expect(message.startsWith(`The backup store /b could be steered by another user: ${problem}`), message).toBe(true)
    expect(message).not.toContain('\n')
  })

  it.each([
    ['sticky and world-writable (as /tmp), owned by root', '0 0 1777 d/b'],
    ['owned by the user the reader runs as', '0 1000 755 d/b'],
    ['owned by the user who ran sudo', '0 1002 700 d/b'],
  ])('a store %s is accepted', async (_what, fact) => {
    const state = await readStore(context({ uid: fact.includes(' 1000 ') ? '1000' : '0', sudoUid: '1002', facts: withFact(fact) }), '/b')
    expect(state.mirrors).toHaveLength(1)
  })

  it('.rsb/ and its directories may belong to rsb’s user or the user who ran sudo; the refusal names them', async () => {
    const facts = withFact('1 1000 700 d/daemon-hooks', withFact('0 1002 755 d/.rsb'))
    expect((await readStore(context({ uid: '1000', sudoUid: '1002', facts }), '/b')).mirrors).toHaveLength(1)
    await expect(readStore(context({ uid: '1000', facts: withFact('0 1001 755 d/.rsb') }), '/b')).rejects.toThrow(
      "/b/.rsb belongs to UID 1001, not to root or UID 1000 (rsb's user).",
    )
    await expect(readStore(context({ uid: '0', sudoUid: '1002', facts: withFact('0 1001 755 d/.rsb') }), '/b')).rejects.toThrow(
      'not to root or UID 1002 (who ran sudo).',
    )
  })

  it('a $SUDO_UID that is not a number allows nobody more', async () => {
    await expect(readStore(context({ sudoUid: '1001x', facts: withFact('0 1001 755 d/.rsb') }), '/b')).rejects.toMatchObject({
      code: 'ERR_RSB_CLI_STORE_UNSAFE',
    })
  })

  it('regular files in .rsb/ (store.json, files being written) are not directories to check; a missing .rsb/ is a new store', async () => {
    const files = withFact('1 1001 600 f/.tmp.123.store.json.part', withFact('1 0 644 f/store.json'))
    expect((await readStore(context({ facts: files }), '/b')).mirrors).toHaveLength(1)
    expect((await readStore(context({ facts: ['0 0 755 d/b', '1 0 755 d/latest'] }), '/b')).entries.get('latest')).toBe('d')
  })

  it('over SSH the hint says on which host', async () => {
    const error = await readStore(context({ facts: withFact('0 1001 755 d/.rsb') }, { kind: 'ssh', host: 'backup@nas' }), '/b').catch(
      (e: unknown) => e,
    )
    expect(error).toMatchObject({ code: 'ERR_RSB_CLI_STORE_UNSAFE', hint: expect.stringContaining('on backup@nas: chown root -- /b/.rsb') })
  })

  it('an unsafe store is refused as such even when it could not be read (exit 3), before its records are looked at', async () => {
    await expect(readStore(context({ facts: withFact('0 1001 700 d/.rsb'), exitCode: 3 }), '/b')).rejects.toMatchObject({
      code: 'ERR_RSB_CLI_STORE_UNSAFE',
    })
  })

  it('the reader’s own stop (unsafe) is a refusal even when the facts it printed look safe (changed in between)', async () => {
    await expect(readStore(context({ unsafe: true }), '/b')).rejects.toMatchObject({
      code: 'ERR_RSB_CLI_STORE_UNSAFE',
      message: expect.stringContaining('changed while rsb read it'),
    })
  })

  it('names with newlines stay on one line in the message; hostile names are quoted in the hint', async () => {
    const dir = "/b/it's\nhere"
    const error = await readStore(context({ facts: ['0 1001 755 d/here', '1 0 755 d/latest'] }), dir).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_RSB_CLI_STORE_UNSAFE', path: dir })
    expect((error as Error).message).not.toContain('\n')
    expect((error as Error).message).toContain(JSON.stringify(dir))
    expect((error as { hint: string }).hint).toContain(`chown root -- '/b/it'"'"'s\nhere'`)
  })

  it('output without the owner facts (a reader that could not print them) is unreadable, not safe', async () => {
    const c = new RecordingContext(({ command }) =>
      command[2] === READ_SCRIPT
        ? { stdout: `users\x000\x00\x00facts\0store\0${STORE_JSON}\0mirrors\0\0snapshots\0\0deleting\0` }
        : undefined,
    )
    await expect(readStore(c, '/b')).rejects.toMatchObject({ code: 'ERR_RSB_CLI_STORE_UNREADABLE' })
  })
})

describe('unsafeStoreDirectory', () => {
  const users = { uid: 0, sudoUid: undefined }
  it('the sticky bit excuses write access for others on the store only', () => {
    expect(unsafeStoreDirectory({ path: '/b', uid: 0, mode: 0o1777, type: 'd' }, 'store', users)).toBeUndefined()
    expect(unsafeStoreDirectory({ path: '/b/.rsb', uid: 0, mode: 0o1777, type: 'd' }, 'metadata', users)?.fix).toBe('mode')
  })
  it('mode 0755 and 0700 of root are fine; set-gid alone is fine', () => {
    for (const mode of [0o755, 0o700, 0o2755, 0o711])
      expect(unsafeStoreDirectory({ path: '/b', uid: 0, mode, type: 'd' }, 'metadata', users)).toBeUndefined()
  })
})

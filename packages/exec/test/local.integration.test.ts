import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ExecError, LocalContext } from '../src/index.ts'

describe('LocalContext', () => {
  const context = new LocalContext()

  it('returns status and output of an unchecked command', async () => {
    const result = await context.run(['sh', '-c', 'echo out; echo err >&2; exit 3'], { check: false })
    expect(result).toMatchObject({ argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'], exitCode: 3, stdout: 'out\n', stderr: 'err\n' })
  })

  it('throws a typed error with exit status and stderr tail for a failing checked command', async () => {
    const error = await context.run(['sh', '-c', 'echo first >&2; echo broken >&2; exit 4']).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ExecError)
    expect(error).toMatchObject({ code: 'ERR_RSB_EXEC_COMMAND_FAILED', exitCode: 4, stderrTail: 'first\nbroken' })
    expect((error as Error).message).toContain('exit status 4')
  })

  it('passes the descriptors of `inherit` to every command as 3, 4, …, with standard input still given; none without it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rsb-inherit-'))
    onTestFinished(() => fs.rm(dir, { recursive: true, force: true }))
    const first = await fs.open(path.join(dir, 'first'), 'w')
    const second = await fs.open(path.join(dir, 'second'), 'w')
    onTestFinished(async () => {
      await first.close()
      await second.close()
    })
    const fds = [first.fd]
    const inheriting = new LocalContext({ inherit: () => fds })
    const script = 'readlink /proc/self/fd/3; readlink /proc/self/fd/4 || echo none; cat'
    expect((await inheriting.run(['sh', '-c', script], { input: 'in\n' })).stdout).toBe(`${dir}/first\nnone\nin\n`)
    fds.push(second.fd) // asked at each start
    expect((await inheriting.run(['sh', '-c', script])).stdout).toBe(`${dir}/first\n${dir}/second\n`)
    expect((await context.run(['sh', '-c', 'readlink /proc/self/fd/3 || echo none'])).stdout).toBe('none\n')
  })

  it('reports a missing program as not found', async () => {
    await expect(context.run(['rsb-no-such-program'])).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_NOT_FOUND' })
    expect(await context.test(['rsb-no-such-program'])).toBe(false)
  })

  it('trims one line of captured output', async () => {
    expect(await context.capture(['echo', '  x  '])).toBe('x')
    expect(await context.capture(['printf', 'a\\nb\\n'])).toBe('a\nb\n')
  })

  it('feeds input and sets environment overrides without sudo', async () => {
    expect((await context.run(['cat'], { input: 'abc' })).stdout).toBe('abc')
    expect(await context.capture(['sh', '-c', 'echo "[$RSB_TEST_VAR]"'], { env: { RSB_TEST_VAR: 'a b' } })).toBe('[a b]')
  })

  it('streams output chunks as they arrive', async () => {
    const chunks: string[] = []
    const result = await context.run(['printf', 'one\\rtwo\\n'], { capture: false, onStdout: (c) => chunks.push(c) })
    expect(chunks.join('')).toBe('one\rtwo\n')
    expect(result.stdout).toBe('')
  })

  it('stops a command on abort and rejects with ERR_RSB_EXEC_ABORTED', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    await expect(context.run(['sleep', '30'], { signal: controller.signal })).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_ABORTED' })
  })

  it('lists the entries of a directory, also through a symlink to it, names with newlines included', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rsb-list-'))
    onTestFinished(() => fs.rm(dir, { recursive: true, force: true }))
    await fs.mkdir(path.join(dir, 'real'))
    for (const name of ['b', 'a b', 'new\nline', '.hidden']) await fs.writeFile(path.join(dir, 'real', name), '')
    await fs.symlink('real', path.join(dir, 'link'))
    const expected = ['.hidden', 'a b', 'b', 'new\nline']
    expect(await context.listEntries(path.join(dir, 'real'))).toEqual(expected)
    expect(await context.listEntries(path.join(dir, 'real') + '/')).toEqual(expected)
    expect(await context.listEntries(path.join(dir, 'link'))).toEqual(expected)
    await expect(context.listEntries(path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_COMMAND_FAILED' })
  })

  it('answers the file tests', async () => {
    expect(await context.isDirectory('/')).toBe(true)
    expect(await context.isFile('/')).toBe(false)
    expect(await context.exists('/rsb-does-not-exist')).toBe(false)
    expect(await context.which('sh')).toMatch(/\/sh$/)
    expect(await context.which('rsb-no-such-program')).toBeUndefined()
  })
})

describe('LocalContext cancellation of a command that ignores SIGTERM', () => {
  it('escalates to SIGKILL after the grace period', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rsb-kill-'))
    onTestFinished(() => fs.rm(dir, { recursive: true, force: true }))
    const pidFile = path.join(dir, 'pid')
    const context = new LocalContext()
    const controller = new AbortController()
    const running = context.run(['sh', '-c', 'echo $$ > "$1"; trap "" TERM; exec sleep 30', 'sh', pidFile], {
      signal: controller.signal,
      killAfterMs: 300,
    })
    setTimeout(() => controller.abort(), 200)
    await expect(running).rejects.toMatchObject({ code: 'ERR_RSB_EXEC_ABORTED' })
    // the call returned because the command is gone: SIGKILL reached the process that ignored SIGTERM
    const pid = Number(await fs.readFile(pidFile, 'utf8'))
    expect(() => process.kill(pid, 0)).toThrow()
  })
})

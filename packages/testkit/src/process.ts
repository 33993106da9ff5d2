import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'

/** A free TCP port on 127.0.0.1 (asked from the kernel). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** Resolves once a TCP connect to 127.0.0.1:port succeeds; rejects after `timeoutMs` or when `child` exits. */
export async function waitForPort(port: number, child: ChildProcess | undefined, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let exited: string | undefined
  child?.once('exit', (code, signal) => (exited = `exited with ${code ?? signal}`))
  for (;;) {
    if (exited) throw new Error(`server ${exited} before listening on port ${port}`)
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port })
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Starts a long-running server process (kept as a child, stopped by PID). */
export function startServer(file: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], env: options.env ?? process.env })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  Object.defineProperty(child, 'stderrTail', { get: () => stderr })
  return child
}

/** Stops a child process by PID: SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

/** Runs a command to completion; rejects with its stderr when it fails. */
export async function runChecked(file: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
    if (input !== undefined) child.stdin?.end(input)
    child.once('error', reject)
    child.once('close', (code, signal) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${file} ${args.join(' ')} failed (${code ?? signal}): ${stderr.trim()}`)),
    )
  })
}

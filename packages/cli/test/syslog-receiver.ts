// A real syslog receiver for tests: a unix datagram socket (what /dev/log is) bound by a small python3 program
// that prints each datagram it receives as one JSON string per line. Stopped by PID when the test finishes.
import { spawn } from 'node:child_process'
import path from 'node:path'
import { stopProcess, testdir } from '@rsb/testkit'
import { onTestFinished } from 'vitest'

const RECEIVER = String.raw`
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps(data.decode("utf-8", "replace")), flush=True)
`

/** A listening syslog socket and what arrived on it. */
export interface SyslogReceiver {
  /** The socket's path (for `--socket`, RSB_SYSLOG_SOCKET). */
  readonly socket: string
  /** The datagrams received so far, e.g. `<11>Dec  2 01:05:18 rsb[1234]: job home: backup failed`. */
  readonly messages: string[]
  /** Waits until at least `count` datagrams arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<string[]>
}

/** Starts a receiver on a fresh socket in a temporary directory; call it inside a test. */
export async function startSyslogReceiver(): Promise<SyslogReceiver> {
  const dir = await testdir({}, 'rsb-syslog-')
  const socket = path.join(dir, 'log.sock')
  const child = spawn('python3', ['-c', RECEIVER, socket], { stdio: ['ignore', 'pipe', 'pipe'] })
  onTestFinished(() => stopProcess(child))
  const messages: string[] = []
  let stderr = ''
  let buffer = ''
  let ready: () => void
  const started = new Promise<void>((resolve) => (ready = resolve))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString()
    let end: number
    while ((end = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, end)
      buffer = buffer.slice(end + 1)
      if (line === 'ready') ready()
      else messages.push(JSON.parse(line) as string)
    }
  })
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the syslog receiver exited with ${code}: ${stderr}`))),
  )
  exited.catch(() => undefined)
  await Promise.race([started, exited])
  return {
    socket,
    messages,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      while (messages.length < count) {
        if (Date.now() > deadline)
          throw new Error(`${messages.length} syslog messages arrived, expected ${count}: ${JSON.stringify(messages)}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      return messages
    },
  }
}

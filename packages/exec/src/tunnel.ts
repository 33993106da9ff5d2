import net from 'node:net'
import { ExecError } from './errors.js'
import type { SshContext } from './ssh.js'

/** An open SSH tunnel: a local listener whose connections go to `remoteHost:remotePort` on the SSH server. */
export interface Tunnel {
  /** Always `127.0.0.1` (also listening on `::1` with the same port when the machine has IPv6). */
  readonly localHost: '127.0.0.1'
  /** The local port the kernel picked. */
  readonly localPort: number
  /** Where connections go, as seen from the SSH server. */
  readonly remoteHost: string
  readonly remotePort: number
  /** The last reason a forwarded connection failed, if any. */
  readonly lastError: Error | undefined
  /** Stops listening and closes forwarded connections (the SSH connection stays with its context). */
  close(): Promise<void>
}

/** Options of {@link openTunnel}. */
export interface OpenTunnelOptions {
  /** The host to reach from the SSH server. Default: `localhost`. */
  remoteHost?: string | undefined
}

/**
 * Forwards a local port on 127.0.0.1 (picked by the kernel: no race) to `remoteHost:remotePort` on the SSH
 * server, over the context's one ssh2 connection. Ready when it resolves: the connection is authenticated,
 * the listener is up and a probe connection through it reached the remote port.
 *
 * @throws {ExecError} ERR_RSB_EXEC_TUNNEL when the remote port cannot be reached; the SSH errors of
 * {@link SshContext.connect} when the connection fails
 * @example
 * ```ts
 * const tunnel = await openTunnel(new SshContext({ host: 'nas' }), 873)
 * // rsync … rsync://localhost:${tunnel.localPort}/module/
 * await tunnel.close()
 * ```
 */
export async function openTunnel(context: SshContext, remotePort: number, options: OpenTunnelOptions = {}): Promise<Tunnel> {
  const remoteHost = options.remoteHost ?? 'localhost'
  const client = await context.connect()
  const forward = (sourceHost: string, sourcePort: number) =>
    new Promise<import('ssh2').ClientChannel>((resolve, reject) =>
      client.forwardOut(sourceHost, sourcePort, remoteHost, remotePort, (error, channel) => (error ? reject(error) : resolve(channel))),
    )
  const unreachable = (cause: unknown) =>
    new ExecError('ERR_RSB_EXEC_TUNNEL', `The tunnel could not reach ${remoteHost}:${remotePort} on ${context.host}.`, {
      host: context.host,
      cause,
      hint: `Check that a service (the rsync daemon?) listens on port ${remotePort} of ${context.host}.`,
    })
  try {
    const probe = await forward('127.0.0.1', 0)
    probe.close()
  } catch (error) {
    throw unreachable(error)
  }

  let lastError: Error | undefined
  const sockets = new Set<net.Socket>()
  const onConnection = (socket: net.Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    socket.pause()
    forward(socket.remoteAddress ?? '127.0.0.1', socket.remotePort ?? 0).then(
      (channel) => {
        channel.on('error', () => socket.destroy())
        socket.pipe(channel).pipe(socket)
        socket.once('close', () => channel.close())
        channel.once('close', () => socket.destroy())
        socket.resume()
      },
      (error: Error) => {
        lastError = unreachable(error)
        socket.destroy()
      },
    )
  }
  const listen = (server: net.Server, host: string, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        const address = server.address()
        resolve(typeof address === 'object' && address ? address.port : port)
      })
    })
  const v4 = net.createServer({ allowHalfOpen: true }, onConnection)
  const localPort = await listen(v4, '127.0.0.1', 0)
  const v6 = net.createServer({ allowHalfOpen: true }, onConnection)
  const servers = [v4]
  await listen(v6, '::1', localPort).then(
    () => servers.push(v6),
    () => undefined,
  )
  return {
    localHost: '127.0.0.1',
    localPort,
    remoteHost,
    remotePort,
    get lastError() {
      return lastError
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))))
    },
  }
}

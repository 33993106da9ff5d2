// Benchmark: 100 small remote commands (`test -d /`) through one SshContext against 100 runs of
// the `ssh` binary to the same loopback sshd, in one run. Goal: SshContext at least 5x faster.
import { spawnSync } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { SshContext } from '../dist/index.js'
import { createSudoUser, startSshd } from '../../testkit/dist/index.js'

const N = 100
// A throwaway login user: its remote shell starts in a few milliseconds, so the numbers measure the SSH
// transport, not a heavy ~/.bashrc (root's on our machines initialises pyenv: ~200 ms per command).
const user = await createSudoUser({ sudo: false })
const server = await startSshd({ user: user.name })
try {
  const t0 = performance.now()
  const context = new SshContext({ host: server.alias, sshConfigFile: server.sshConfigFile })
  for (let i = 0; i < N; i++) {
    if (!(await context.isDirectory('/'))) throw new Error('test -d / failed over SshContext')
  }
  await context.close()
  const ours = performance.now() - t0

  const t1 = performance.now()
  for (let i = 0; i < N; i++) {
    const r = spawnSync('ssh', ['-F', server.sshConfigFile, server.alias, 'test', '-d', '/'])
    if (r.status !== 0) throw new Error(`ssh failed: ${r.stderr}`)
  }
  const binary = performance.now() - t1

  console.log(`SshContext: ${N} x 'test -d /' over one connection: ${ours.toFixed(0)} ms (${(ours / N).toFixed(2)} ms each)`)
  console.log(`ssh binary: ${N} x 'ssh HOST test -d /':           ${binary.toFixed(0)} ms (${(binary / N).toFixed(2)} ms each)`)
  console.log(`ratio (ssh binary / SshContext): ${(binary / ours).toFixed(1)}x faster (goal: >= 5x)`)
} finally {
  await server.stop()
  await user.remove()
}

export { ExecError, isRsbError, type ExecErrorCode, type ExecErrorDetails } from './errors.js'
export { quoteArgument, quoteCommandLine } from './quote.js'
export { buildCommandLine, parseIoniceClass, type CommandLine, type CommandLineSpec, type IoniceClass } from './command.js'
export {
  BaseContext,
  tailLines,
  type Context,
  type ContextDefaults,
  type RunOptions,
  type RunResult,
  type SpawnOutcome,
  type SpawnRequest,
} from './context.js'
export { classifySudoRefusal, explainSudoFailure, sudoCommand, type SudoRefusal } from './sudo.js'
export { LocalContext, type LocalContextOptions } from './local.js'
export { SshContext, type SshContextOptions } from './ssh.js'
export {
  SSH_KEEPALIVE,
  resolveSshHost,
  parseSshG,
  parseSshCommand,
  splitUserHost,
  type ParseSshCommandOptions,
  type ResolveSshHostOptions,
  type SshCommand,
  type SshHostConfig,
} from './ssh-config.js'
export { parseKnownHosts, verifyHostKey, hostFieldMatches, knownHostName, type HostKeyVerdict, type KnownHostEntry } from './known-hosts.js'
export { openTunnel, type OpenTunnelOptions, type Tunnel } from './tunnel.js'
export { CleanupScope } from './cleanup.js'
export {
  RecordingContext,
  withoutSudo,
  type RecordedCommand,
  type RecordedReply,
  type RecordingContextOptions,
  type RecordingHandler,
} from './recording.js'
export { handleInterrupts, type Interrupts } from './interrupts.js'

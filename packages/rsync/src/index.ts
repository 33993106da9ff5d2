export {
  BASE_RSYNC_OPTIONS,
  DEFAULT_EXCLUDED_ROOTS,
  buildRsyncArgs,
  formatRsyncLocation,
  type RsyncArgsOptions,
  type RsyncDestination,
} from './args.js'
export {
  RSYNC_SHORT_OPTIONS_WITH_VALUE,
  UNSAFE_RSYNC_OPTIONS,
  checkRsyncOptions,
  formatExcludeArgument,
  type UnsafeRsyncOption,
} from './options.js'
export { RsyncError, describeRsyncExit, type RsyncErrorCode, type RsyncErrorDetails, type RsyncExitStatus } from './errors.js'
export { RsyncOutputParser, type RsyncEvent, type RsyncOutputParserOptions } from './output.js'
export { parseProgressLine, type RsyncProgress } from './progress.js'
export { parseStats, type RsyncFileCounts, type RsyncStats } from './stats.js'
export {
  remoteShellOption,
  runRsync,
  withSshKeepalive,
  type RsyncResult,
  type RsyncTunnelOptions,
  type RunRsyncOptions,
  type SshKeepalive,
} from './run.js'

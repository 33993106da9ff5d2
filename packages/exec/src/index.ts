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
export { LocalContext, type LocalContextOptions } from './local.js'

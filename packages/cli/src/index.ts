export { main, version, type MainIo } from './main.js'
export { COMMANDS, findCommand, type Command, type CommandModule } from './commands/index.js'
export {
  parseArgs,
  parseIoniceOption,
  parseRotationSpec,
  formatRotationSpec,
  parseTunnelSpec,
  OPTIONS,
  DEFAULT_ROTATION_SCHEME,
  MAX_COUNT,
  wantsJson,
  type Frequency,
  type IoniceClass,
  type ParsedArgs,
  type RotationScheme,
  type RunOptions,
  type TunnelSpec,
} from './args.js'
export { getopt, type GetoptResult, type OptionDefinition, type OptionOccurrence } from './kit/getopt.js'
export { CliError, UsageError, type CliErrorCode, type CliErrorDetails } from './errors.js'
export { helpText, USAGE } from './help.js'
export { formatDuration, joinWords } from '@rsb/rotation/io'
export type { RunSummary } from './backup/summary.js'

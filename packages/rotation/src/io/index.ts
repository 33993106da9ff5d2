// The I/O layer of @rsb/rotation: listing, sanity checks and removal through @rsb/exec contexts.
export {
  applyRotation,
  DEFAULT_REMOVAL_COMMAND,
  executeRotation,
  prepareRotation,
  removalError,
  type ExecuteOptions,
  type PreparedRotation,
  type Removal,
  type RemovalResult,
  type RotationEvent,
  type RotationOptions,
  type RotationResult,
} from './apply.js'
export { formatLocation, joinPath, parseLocation, type Location } from './location.js'
export { describeRotationEvent, type DescribeOptions, type RotationLogLine } from './messages.js'
export { formatDuration, joinWords } from './duration.js'
export { FsLocalContext } from './fs-context.js'
export { compareCodePoints } from '../order.js'

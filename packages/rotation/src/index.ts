// The pure planner: names and settings in, keep/delete decisions out. No I/O (see `@rsb/rotation/io`).
export { RotationError, type RotationErrorCode, type RotationErrorDetails } from './errors.js'
export { daysInMonth, formatTimestamp, invalidTimestampReason, isoWeek, timestampSeconds, type Timestamp } from './timestamp.js'
export {
  compileTimestampPattern,
  DEFAULT_TIMESTAMP_PATTERN,
  parseTimestamp,
  type TimestampMatch,
  type TimestampPattern,
} from './timestamp-pattern.js'
export { compileShellPatterns, translateShellPattern, type ShellPatternList } from './fnmatch.js'
export {
  FREQUENCIES,
  formatScheme,
  parseRetention,
  validateScheme,
  type Frequency,
  type Retention,
  type RotationScheme,
} from './retention.js'
export {
  collectBackups,
  compareBackups,
  sortBackups,
  type Backup,
  type CollectOptions,
  type Collection,
  type SkipReason,
  type SkippedEntry,
} from './collect.js'
export { planItems, timestampFromDate, type ItemDecision, type ItemPlan, type ItemPlanOptions } from './items.js'
export { planRotation, type BackupDecision, type FrequencyWindow, type KeepReason, type PlanOptions, type RotationPlan } from './plan.js'
export { formatSnapshotName, isSnapshotName, parseSnapshotName, parseSnapshotTimestamp, SNAPSHOT_NAME_PATTERN } from './snapshot-name.js'

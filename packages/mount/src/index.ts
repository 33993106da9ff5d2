export { MountError, type MountErrorCode, type MountErrorDetails } from './errors.js'
export { decodeFstabField, encodeFstabField, parseFstab, type FstabEntry, type FstabWarning, type ParsedFstab } from './fstab.js'
export {
  ensureMounted,
  isMountPoint,
  readFstab,
  readMounts,
  unmount,
  type EnsureMountedOptions,
  type FstabFile,
  type MountEvent,
  type MountHandle,
  type MountOptions,
} from './mount.js'
export { assertInside, isInside } from './contain.js'

export { CrypttabError, type CrypttabErrorCode, type CrypttabErrorDetails } from './errors.js'
export { decodeCrypttabField } from './escapes.js'
export { parseCrypttab, type CrypttabEntry, type CrypttabWarning, type ParsedCrypttab } from './parse.js'
export { encodeUdevLabel, resolveSourceDevice, sourceDeviceCandidates } from './source.js'
export {
  DEFAULT_CRYPTTAB,
  findCrypttabEntry,
  readCrypttab,
  type CrypttabEvent,
  type CrypttabFile,
  type CrypttabOptions,
  type UnlockMethod,
} from './read.js'
export { findSourceDevice, isAvailable, isUnlocked, mapperDevice, type StateOptions } from './state.js'
export { lock, unlock, type LockOptions, type UnlockHandle, type UnlockOptions } from './unlock.js'

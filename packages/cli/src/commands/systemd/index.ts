// `rsb systemd`: being written (this module is replaced by the command's implementation).
import type { MainIo } from '../../main.js'
import { unavailable, type Parsed } from '../index.js'

export const options = []

export function help(): string {
  return 'Usage: rsb systemd\n'
}

export function parse(): Parsed<never> {
  throw unavailable('systemd')
}

export function run(_args: never, _io: MainIo): Promise<number> {
  return Promise.resolve(2)
}

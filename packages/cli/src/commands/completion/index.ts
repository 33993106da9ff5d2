// `rsb completion`: being written (this module is replaced by the command's implementation).
import type { MainIo } from '../../main.js'
import { unavailable, type Parsed } from '../index.js'

export const options = []

export function help(): string {
  return 'Usage: rsb completion\n'
}

export function parse(): Parsed<never> {
  throw unavailable('completion')
}

export function run(_args: never, _io: MainIo): Promise<number> {
  return Promise.resolve(2)
}

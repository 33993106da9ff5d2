import fs from 'node:fs'
import path from 'node:path'

/** rsync's version in the recorded fixtures' names (test/fixtures/record.sh). */
export const RECORDED_VERSION = '3.5.0'

/** Reads a recorded fixture: `rsync-<version>-<name>`. */
export function fixture(name: string, version = RECORDED_VERSION): string {
  return fs.readFileSync(path.join(import.meta.dirname, 'fixtures', `rsync-${version}-${name}`), 'utf8')
}

import fs from 'node:fs'

/** The version of `@rsb/cli`, from its package.json. */
export function version(): string {
  const manifest = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  return manifest.version
}

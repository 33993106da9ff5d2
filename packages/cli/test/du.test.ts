// `rsb du`'s pure parts: the reading of its walk's output (numbers only, one line per tree) and its command line.
import { describe, expect, it } from 'vitest'
import { parse } from '../src/commands/du/index.ts'
import { parseUsage } from '../src/commands/du/usage.ts'

describe('parseUsage', () => {
  it('reads the filesystem, each tree (m: not there) and the total; blocks are 512 bytes', () => {
    const usage = parseUsage(['fs 4096 1000 600 256 200', 'r 0 24 9000 2 3 16 5000 1', 'm 1', 't 32 12000 9', 'done', ''].join('\n'), 2)
    expect(usage).toEqual({
      filesystem: { sizeBytes: 4096 * 1000, freeBytes: 4096 * 600, inodes: 256, freeInodes: 200 },
      trees: [
        {
          bytes: 24 * 512,
          apparentBytes: 9000,
          files: 2,
          directories: 3,
          exclusiveBytes: 16 * 512,
          exclusiveApparentBytes: 5000,
          exclusiveFiles: 1,
        },
        undefined,
      ],
      total: { bytes: 32 * 512, apparentBytes: 12000, inodes: 9 },
    })
  })

  it('a filesystem stat -f cannot tell is undefined; figures beyond 2^31 stay exact', () => {
    const usage = parseUsage(['fs -', 'r 0 17179869184 8796093022208 1 1 0 0 0', 't 17179869184 8796093022208 2', 'done'].join('\n'), 1)
    expect(usage.filesystem).toBeUndefined()
    expect(usage.trees[0]?.bytes).toBe(17_179_869_184 * 512)
    expect(usage.total.apparentBytes).toBe(8_796_093_022_208)
  })

  it.each([
    ['', 0],
    ['fs -\nt 0 0 0\n', 0],
    ['fs -\nr 0 1 1 1 1 1 1 1\nt 1 1 1\ndone\n', 2],
    ['fs -\nr 1 1 1 1 1 1 1 1\nt 1 1 1\ndone\n', 1],
    ['fs -\nr 0 1 1 x 1 1 1 1\nt 1 1 1\ndone\n', 1],
    ['fs -\nr 0 1 1 1 1 1 1\nt 1 1 1\ndone\n', 1],
    ['fs -\nr 0 1e30 1 1 1 1 1 1\nt 1 1 1\ndone\n', 1],
  ])('output it cannot read (%j for %i trees): ERR_RSB_CLI_DU_FAILED', (output, count) => {
    expect(() => parseUsage(output, count)).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_DU_FAILED' }))
  })
})

describe('rsb du command line', () => {
  it('one DESTINATION, --json, --no-sudo; no rotation options', () => {
    expect(parse(['--json', '--no-sudo', '/mnt/backups/latest'])).toMatchObject({
      kind: 'run',
      args: { destination: '/mnt/backups/latest', json: true, sudo: false },
    })
    expect(parse(['--help'])).toEqual({ kind: 'help' })
    expect(() => parse([])).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE' }))
    expect(() => parse(['--keep-latest=3', 'x'])).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_USAGE' }))
    expect(() => parse(['rsync://host/module'])).toThrow(expect.objectContaining({ code: 'ERR_RSB_CLI_DESTINATION_DAEMON' }))
  })
})

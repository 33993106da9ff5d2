import { describe, expect, it } from 'vitest'
import { main, version } from '../src/index.ts'

function buffers(tty = false) {
  const out = { text: '', isTTY: tty, write: (s: string) => ((out.text += s), true) }
  const err = { text: '', isTTY: tty, write: (s: string) => ((err.text += s), true) }
  return { out, err }
}

async function call(argv: string[], env: Record<string, string> = {}) {
  const { out, err } = buffers()
  const code = await main(argv, { stdout: out, stderr: err, env })
  return { code, stdout: out.text, stderr: err.text }
}

describe('main', () => {
  it.each([[[]], [['-h']], [['--help']], [['--help', 'a', 'b', 'c']]])('%j prints the usage on stdout and exits 0', async (argv) => {
    const result = await call(argv)
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Usage:')
    expect(result.stderr).toBe('')
  })

  it('--version prints the package version', async () => {
    const result = await call(['--version'])
    expect(result).toEqual({ code: 0, stdout: `rsb ${version()}\n`, stderr: '' })
    expect(version()).toMatch(/^\d+\.\d+\.\d+/)
  })

  it.each([[['a', 'b', 'c']], [['--bogus', 'x/y']], [['-m']], [['']], [['-s', '-r']]])(
    'usage error %j without a hint of its own: one line with the code and a pointer to --help, exit 2',
    async (argv) => {
      const result = await call(argv)
      expect(result.code).toBe(2)
      expect(result.stdout).toBe('')
      expect(result.stderr).toMatch(
        /^rsb: error: \S.* \(ERR_RSB_CLI_USAGE\) Hint: (Try 'rsb --help' for more information\.|Give DESTINATION.*)\n$/,
      )
    },
  )

  it('a usage error with a hint gives that hint, on the same line', async () => {
    const result = await call(['--tunnel=gw:abc', 'localhost::m'])
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr:
        "rsb: error: Invalid tunnel port 'abc' in 'gw:abc'. (ERR_RSB_CLI_USAGE) Hint: The SSH port must be a number from 1 to 65535.\n",
    })
  })

  it("a refused --rsync-option is a usage error with @rsb/rsync's code, one line, exit 2", async () => {
    const result = await call(['--rsync-option=--append-verify', '/src', '/b/latest'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      "rsb: error: --append-verify appends to existing files, which older snapshots share (hard links): it would change them. (ERR_RSB_RSYNC_UNSAFE_OPTION) Hint: Leave out --rsync-option=--append-verify: rsb's hard-link snapshots already keep the older versions of every file.\n",
    )
  })

  it('a line break in a refused value does not make a second line', async () => {
    const result = await call(['--ionice=a\nb', 'd/x'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      "rsb: error: Invalid I/O scheduling class! (got 'a b' while valid options are idle, best-effort, realtime, 1, 2 and 3) (ERR_RSB_CLI_USAGE) Hint: Use one of: idle, best-effort, realtime, 1, 2, 3.\n",
    )
  })

  it('a usage error found after parsing (daemon destination with -s) exits 2 before anything runs, one line', async () => {
    const result = await call(['-s', '-u', '127.0.0.1::module/dir'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(
      /^rsb: error: --snapshot cannot run against an rsync daemon destination .* \(ERR_RSB_CLI_USAGE\) Hint: \S[^\n]*\n$/,
    )
  })

  it('an rsb error is one line with its code and hint, exit 1, no stack trace', async () => {
    // rsb differs: /mnt/backup does not contain /mnt/backups/latest (whole path segments)
    const result = await call(['--no-sudo', '--mount', '/mnt/backup', '/mnt/backups/latest'])
    expect(result.code).toBe(1)
    const lines = result.stderr.split('\n').filter((line) => line !== '')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+ rsb\[\d+\] ERROR Aborting due to error: Destination directory \(\/mnt\/backups\/latest\) not located under mount point \(\/mnt\/backup\)! \(ERR_RSB_MOUNT_NOT_CONTAINED\) Hint: \S/,
    )
  })

  describe('--json shows refusals too', () => {
    it.each([
      [['--json', '--bogus', 'd/x'], 'ERR_RSB_CLI_USAGE', 'option --bogus not recognized'],
      [['--js', '--rotation=daily=0', 'd/x'], 'ERR_RSB_CLI_USAGE', '--rotation=daily=0 keeps nothing but the newest snapshot'],
      [['--rsync-option=--inplace', '--json', 'd/x'], 'ERR_RSB_RSYNC_UNSAFE_OPTION', '--inplace writes into existing files'],
      [['--json', '-s', '-r'], 'ERR_RSB_CLI_USAGE', 'No DESTINATION given and $RSYNC_MODULE_PATH is unset.'],
    ])('%j: a document with the error on stdout, the line on stderr, exit 2', async (argv, code, message) => {
      const result = await call(argv)
      expect(result.code).toBe(2)
      const document = JSON.parse(result.stdout) as { schemaVersion: number; exitCode: number; error: Record<string, unknown> }
      expect(document).toMatchObject({ schemaVersion: 1, exitCode: 2, error: { code, message: expect.stringContaining(message) } })
      expect(Object.keys(document.error).sort()).toEqual(['code', 'hint', 'message'])
      expect(typeof document.error.hint).toBe('string')
      expect(result.stderr.split('\n')).toHaveLength(2)
      expect(result.stderr).toContain(`(${code}) Hint: `)
    })

    it('no document without --json, nor for a --json after --', async () => {
      expect((await call(['--bogus', 'd/x'])).stdout).toBe('')
      expect((await call(['--bogus', '--', '--json'])).stdout).toBe('')
    })
  })
})

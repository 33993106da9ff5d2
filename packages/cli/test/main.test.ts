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

  it.each([[['a', 'b', 'c']], [['--ionice=foo']], [['--bogus', 'x/y']], [['-m']], [['']]])(
    'usage error %j: message with code and a pointer to --help on stderr, exit 2',
    async (argv) => {
      const result = await call(argv)
      expect(result.code).toBe(2)
      expect(result.stdout).toBe('')
      expect(result.stderr).toMatch(/^rsb: error: .+ \(ERR_RSB_CLI_USAGE\)\n/)
      expect(result.stderr).toContain("Try 'rsb --help'")
    },
  )

  it('a usage error found after parsing (daemon destination with -s) exits 2 before anything runs', async () => {
    const result = await call(['-s', '-u', '127.0.0.1::module/dir'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--snapshot cannot run against an rsync daemon destination')
  })

  it('an rsb error is one line with its code and hint, exit 1, no stack trace', async () => {
    // rsb differs: /mnt/backup does not contain /mnt/backups/latest (whole path segments)
    const result = await call(['--no-sudo', '--mount', '/mnt/backup', '/mnt/backups/latest'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(
      'ERROR Aborting due to error: Destination directory (/mnt/backups/latest) not located under mount point (/mnt/backup)! (ERR_RSB_MOUNT_NOT_CONTAINED)',
    )
    expect(result.stderr).toContain('Hint: ')
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })
})

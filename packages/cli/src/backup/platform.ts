import type { Context } from '@rsb/exec'
import { CliError } from '../errors.js'
import type { Logger } from '../kit/log.js'

/**
 * The platform check: `uname` in the source context (exit status ignored); output without `linux`
 * (lower-cased, so also an empty output) is not Linux.
 *
 * @returns a warning text when the check failed but `force` let the run go on
 * @throws {CliError} ERR_RSB_CLI_UNSUPPORTED_PLATFORM when not Linux and not forced
 */
export async function checkPlatform(context: Context, force: boolean, logger: Logger, signal?: AbortSignal): Promise<string | undefined> {
  const result = await context.run(['uname'], { sudo: false, ionice: undefined, check: false, signal })
  const name = result.stdout.trim()
  if (name.toLowerCase().includes('linux')) return undefined
  const shown = name === '' ? 'uname printed nothing' : `uname says '${name}'`
  if (force) {
    const warning = `It looks like you're not running Linux (${shown}), but continuing anyway because of -f/--force. You are on your own!`
    logger.log('warning', warning)
    return warning
  }
  throw new CliError('ERR_RSB_CLI_UNSUPPORTED_PLATFORM', `rsb only supports Linux (${shown}).`, {
    hint: 'Use -f/--force to run anyway; you are then on your own.',
  })
}

// The errors of `rsb systemd` whose codes ../../errors.ts does not list yet.
import { CliError, type CliErrorCode } from '../../errors.js'

/**
 * The error codes of `rsb systemd` that ../../errors.ts does not list yet (to be added to its CliErrorCode and
 * documented there):
 *
 * - `ERR_RSB_CLI_UNIT_DIR_UNSAFE`: the unit directory is missing, no directory, or another user could write it (or a
 *   directory above it without the sticky bit): the units' commands run as root.
 * - `ERR_RSB_CLI_INSTALL_FAILED`: a unit file could not be written, or an old one removed.
 * - `ERR_RSB_CLI_SCHEDULE_UNSUPPORTED`: `--cron` for a job whose schedule cron cannot express.
 */
export type SystemdErrorCode = 'ERR_RSB_CLI_UNIT_DIR_UNSAFE' | 'ERR_RSB_CLI_INSTALL_FAILED' | 'ERR_RSB_CLI_SCHEDULE_UNSUPPORTED'

/** A {@link CliError} with one of {@link SystemdErrorCode}. */
export function systemdError(
  code: SystemdErrorCode,
  message: string,
  details: { hint?: string; path?: string; cause?: unknown } = {},
): CliError {
  return new CliError(code as unknown as CliErrorCode, message, details)
}

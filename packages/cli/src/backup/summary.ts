import type { RsyncStats } from '@rsb/rsync'

/**
 * The `--json` summary of a run (printed on stdout, one document). Schema version 1:
 * fields are only ever added.
 */
export interface RunSummary {
  schemaVersion: 1
  /**
   * SOURCE as given; with several SOURCEs `/` (the mirror holds each under its whole path), and `sources` lists them;
   * likewise with one SOURCE backed up into a mirror that keeps its SOURCEs under their whole paths (it had several).
   */
  source: string
  /** Every SOURCE as given, only when there are several (or one under its whole path, see `source`). */
  sources?: string[] | undefined
  destination: string
  dryRun: boolean
  /** The actions that completed (in a dry run: that were simulated), in order: `backup`, `snapshot`, `rotate`. */
  actions: ('backup' | 'snapshot' | 'rotate')[]
  /** When the run started (ISO 8601). */
  startedAt: string
  /** Wall time of the run in seconds. */
  durationSeconds: number
  /** rsync's exit status and statistics (`--stats`, asked for with `--json`), when rsync ran. */
  rsync: { exitCode: number; statistics: RsyncStats | undefined } | undefined
  /** The snapshot this run created (full path; in a dry run: the one it would have created). */
  snapshot: string | undefined
  /** The rotation's decisions (full paths). */
  rotation: { kept: string[]; deleted: string[] } | undefined
  /** Warnings logged during the run (partial transfers, platform…). */
  warnings: string[]
  /** The error that ended the run, if any (`ERR_RSB_CLI_INTERNAL` for an unexpected error without a code). */
  error: { code: string; message: string; hint: string | undefined } | undefined
  /** The run's exit status. */
  exitCode: number
}

/** A fresh summary for a run starting now. */
export function createSummary(source: string, destination: string, dryRun: boolean): RunSummary {
  return {
    schemaVersion: 1,
    source,
    destination,
    dryRun,
    actions: [],
    startedAt: new Date().toISOString(),
    durationSeconds: 0,
    rsync: undefined,
    snapshot: undefined,
    rotation: undefined,
    warnings: [],
    error: undefined,
    exitCode: 0,
  }
}

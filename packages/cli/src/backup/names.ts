/** Snapshot names: `YYYY-MM-DD HH:MM:SS` in local time. */
export const SNAPSHOT_NAME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/

const pad = (n: number) => String(n).padStart(2, '0')

/** The snapshot name of a moment, in local time. */
export function formatSnapshotName(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
}

/** Whether a directory entry is named like an rsb snapshot. */
export function isSnapshotName(name: string): boolean {
  return SNAPSHOT_NAME.test(name)
}

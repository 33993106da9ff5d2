// @rsb/exec is loaded on first use: a local run of rsb-rotate answers its checks and listing with node:fs
// (see fs-context.ts), so a local dry run never loads it (nor node:crypto and node:net, which it imports).
let exec: Promise<typeof import('@rsb/exec')> | undefined

/** `import('@rsb/exec')`, once. */
export function loadExec(): Promise<typeof import('@rsb/exec')> {
  exec ??= import('@rsb/exec')
  return exec
}

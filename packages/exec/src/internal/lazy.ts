// execa and ssh2 are loaded on first use: importing @rsb/exec stays cheap for programs that may never run a
// command or open an SSH connection (`rsb --version`, `rsb-rotate --help`, a local-only run never loads ssh2).
import type { execa as Execa } from 'execa'

let execaModule: Promise<typeof Execa> | undefined
let ssh2Module: Promise<typeof import('ssh2')> | undefined

export function loadExeca(): Promise<typeof Execa> {
  execaModule ??= import('execa').then((m) => m.execa)
  return execaModule
}

export function loadSsh2(): Promise<typeof import('ssh2')> {
  ssh2Module ??= import('ssh2').then((m) => (m as { default?: typeof import('ssh2') }).default ?? m)
  return ssh2Module
}

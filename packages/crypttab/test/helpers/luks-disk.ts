// Test helpers for real LUKS disks on machines without device-mapper.
// Reusable from other packages' tests by relative path (`../../crypttab/test/helpers/luks-disk.ts`); see
// ../fixtures/README.md. Needs root, losetup, mkfs.ext4 and the real cryptsetup (for luksFormat).
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Context, RunOptions, RunResult } from '@rsb/exec'
import { runChecked } from '@rsb/testkit'
import { expect, onTestFinished } from 'vitest'
import { CrypttabError } from '../../src/index.ts'

/** The folder holding the `cryptsetup`, `cryptdisks_start` and `cryptdisks_stop` stand-ins. */
export const STAND_IN_BIN = fileURLToPath(new URL('../fixtures/bin/', import.meta.url)).replace(/\/$/, '')

/** The real cryptsetup binary, when installed. */
export const REAL_CRYPTSETUP = ['/usr/sbin/cryptsetup', '/sbin/cryptsetup'].find((file) => existsSync(file))

/** Every name and temporary directory made here starts with this. */
export const LUKS_TEST_PREFIX = 'rsb-luks-'

/** A PATH with the stand-ins first (then the usual system directories, as sshd gives a root session). */
export const STAND_IN_PATH = `${STAND_IN_BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`

/**
 * Makes every command of `context` (local or SSH) run with the stand-ins first on PATH, by adding `PATH` to each
 * command's environment overrides (`env PATH=… cmd` over SSH). Returns the same context.
 */
export function withStandIns<T extends Context>(context: T, searchPath = STAND_IN_PATH): T {
  const run = context.run.bind(context)
  context.run = (argv: readonly string[], options: RunOptions = {}): Promise<RunResult> =>
    run(argv, { ...options, env: { PATH: searchPath, ...options.env } })
  return context
}

/** Writes a value for a crypttab field (spaces, tabs, newlines, backslashes as octal escapes). */
export function encodeCrypttabField(value: string): string {
  return value.replace(/[ \t\n\\]/g, (char) => `\\0${(char.codePointAt(0) as number).toString(8).padStart(3, '0')}`)
}

/** Writes a value for an fstab field. */
export function encodeFstabField(value: string): string {
  return value.replace(/[ \t\n\\]/g, (char) => `\\${(char.codePointAt(0) as number).toString(8).padStart(3, '0')}`)
}

/** Options of {@link prepareLuksDisk}. */
export interface PrepareLuksDiskOptions {
  /** The crypttab target. Default: `rsb-luks-<random>`. Must start with {@link LUKS_TEST_PREFIX}. */
  name?: string
  /**
   * How crypttab names the LUKS container: `loop` (default) its loop device, `file` the image file itself, `uuid`
   * `UUID=<luks uuid>` with a hand-made `/dev/disk/by-uuid/<uuid>` link to the loop device (no udev on CI).
   */
  source?: 'loop' | 'file' | 'uuid'
  /** The key field: `file` (default) the generated key file, `none` (passphrase `passphrase` on stdin). */
  key?: 'file' | 'none'
  /** The crypttab options field. Default: `luks,noauto`. */
  options?: string
  /** Put ext4 on the plain device (default true). Without it, mounting fails. */
  filesystem?: boolean
  /** Image sizes in MiB (sparse). Default: 32 for the LUKS image, 16 for the plain one. */
  sizeMiB?: number
  /** The mount point's basename inside the disk's directory. Default: `mnt`. */
  mountPointName?: string
}

/** A prepared LUKS disk: files, loop devices, crypttab and fstab. Remove everything with `cleanup()`. */
export interface LuksDisk {
  /** The crypttab target (mapping name). */
  readonly name: string
  /** The temporary directory holding every file below (name starts with `rsb-luks-`). */
  readonly dir: string
  /** The LUKS image (a real LUKS2 header made by the real cryptsetup). */
  readonly image: string
  /** The key file (random 64 bytes, mode 0400) that opens the image. */
  readonly keyFile: string
  /** The passphrase that also opens the image (key slot 1). */
  readonly passphrase: string
  /** The loop device holding the LUKS image (`source: 'loop' | 'uuid'`), else undefined. */
  readonly luksDevice: string | undefined
  /** The LUKS UUID of the image. */
  readonly uuid: string
  /** The crypttab source field (decoded): the loop device, the image, or `UUID=…`. */
  readonly source: string
  /** The loop device with the plain filesystem; `/dev/mapper/NAME` points here once unlocked. */
  readonly plainDevice: string
  /** The crypttab file (one line: {@link LuksDisk.crypttabLine}). */
  readonly crypttab: string
  /** The crypttab line of this disk (fields encoded). */
  readonly crypttabLine: string
  /** `/dev/mapper/NAME`. */
  readonly mapper: string
  /** The mount point (a directory inside `dir`). */
  readonly mountPoint: string
  /** An fstab file with the line `/dev/mapper/NAME MOUNTPOINT ext4 noauto 0 0`. */
  readonly fstab: string
  /** Unmounts, removes the mapping, detaches the loop devices, removes links and the directory. */
  cleanup(): Promise<void>
}

interface Registry {
  loops: Map<string, string>
  mappers: Set<string>
  mountPoints: Set<string>
  links: Set<string>
}

/** What this process created (so that concurrent tests elsewhere never confuse the leftover check). */
const registry: Registry = { loops: new Map(), mappers: new Set(), mountPoints: new Set(), links: new Set() }

/** Attaches a file to a free loop device (registered for {@link leftovers}). */
export async function attachLoop(file: string): Promise<string> {
  const device = (await runChecked('losetup', ['--find', '--show', file])).trim()
  registry.loops.set(device, file)
  return device
}

async function detachLoop(device: string): Promise<void> {
  if (await isAttached(device)) await runChecked('losetup', ['-d', device])
}

async function isAttached(device: string): Promise<boolean> {
  const file = registry.loops.get(device)
  const back = await runChecked('losetup', ['--noheadings', '--output', 'BACK-FILE', '--list', device]).catch(() => '')
  return file !== undefined && back.trim().replace(/ \(deleted\)$/, '') === file
}

async function isMountPoint(directory: string): Promise<boolean> {
  return runChecked('mountpoint', ['-q', directory]).then(
    () => true,
    () => false,
  )
}

async function lexists(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    () => false,
  )
}

/** Registers a mount point, mapping name or link made by a test, for {@link leftovers}. */
export function track(kind: 'mountPoint' | 'mapper' | 'link', value: string): void {
  if (kind === 'mountPoint') registry.mountPoints.add(value)
  else if (kind === 'mapper') registry.mappers.add(value)
  else registry.links.add(value)
}

/**
 * What this process's tests left behind: loop devices still attached to their files, mounted mount points,
 * `/dev/mapper` entries and hand-made `/dev/disk/by-*` links. Empty when everything was cleaned up.
 */
export async function leftovers(): Promise<string[]> {
  const found: string[] = []
  for (const device of registry.loops.keys()) if (await isAttached(device)) found.push(`loop device ${device}`)
  for (const directory of registry.mountPoints) if (await isMountPoint(directory)) found.push(`mount ${directory}`)
  for (const name of registry.mappers) {
    for (const entry of [name, `${name}_unformatted`]) if (await lexists(`/dev/mapper/${entry}`)) found.push(`/dev/mapper/${entry}`)
  }
  for (const link of registry.links) if (await lexists(link)) found.push(`link ${link}`)
  return found
}

/**
 * Prepares a LUKS disk for the stand-ins: a LUKS2 image made by the real cryptsetup (fast PBKDF2) that opens with
 * a random key file and with a passphrase; a plain image with ext4 on its own loop device, recorded in the side file
 * `IMAGE.plain-device` so that the cryptsetup stand-in points `/dev/mapper/NAME` at it; a crypttab and an fstab.
 * Needs root.
 *
 * @example
 * ```ts
 * const disk = await prepareLuksDisk({ options: 'luks,discard' })
 * onTestFinished(() => disk.cleanup())
 * await unlock(disk.name, { context: withStandIns(new LocalContext()), path: disk.crypttab })
 * ```
 */
export async function prepareLuksDisk(options: PrepareLuksDiskOptions = {}): Promise<LuksDisk> {
  if (!REAL_CRYPTSETUP) throw new Error('prepareLuksDisk needs the real cryptsetup (apt-get install cryptsetup)')
  const name = options.name ?? `${LUKS_TEST_PREFIX}${randomBytes(4).toString('hex')}`
  if (!name.startsWith(LUKS_TEST_PREFIX)) throw new Error(`test mapping names must start with ${LUKS_TEST_PREFIX}`)
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), LUKS_TEST_PREFIX))
  const file = (base: string) => path.join(dir, base)
  const created: { luks?: string; plain?: string; link?: string; dirs?: string[] } = {}
  registry.mappers.add(name)
  const mountPoint = file(options.mountPointName ?? 'mnt')
  registry.mountPoints.add(mountPoint)

  const cleanup = async (): Promise<void> => {
    const errors: unknown[] = []
    const attempt = async (step: () => Promise<unknown>) => {
      try {
        await step()
      } catch (error) {
        errors.push(error)
      }
    }
    if (await isMountPoint(mountPoint)) await attempt(() => runChecked('umount', [mountPoint]))
    for (const entry of [name, `${name}_unformatted`]) {
      const link = `/dev/mapper/${entry}`
      const target = await fs.readlink(link).catch(() => undefined)
      if (target !== undefined && target === created.plain) await attempt(() => fs.rm(link))
    }
    if (created.link) await attempt(() => fs.rm(created.link as string, { force: true }))
    // directories made for the link (no udev here): removed when empty (another test may still use them)
    for (const directory of created.dirs ?? []) await fs.rmdir(directory).catch(() => undefined)
    for (const device of [created.plain, created.luks]) if (device) await attempt(() => detachLoop(device))
    await attempt(() => fs.rm(dir, { recursive: true, force: true }))
    if (errors.length > 0) throw new AggregateError(errors, `cleanup of ${name} failed`)
  }

  try {
    const image = file('luks.img')
    const keyFile = file('key')
    const passphrase = `pass ${randomBytes(6).toString('hex')}`
    await fs.writeFile(keyFile, randomBytes(64), { mode: 0o400 })
    await runChecked('truncate', ['-s', `${options.sizeMiB ?? 32}M`, image])
    const fast = ['--batch-mode', '--type', 'luks2', '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000']
    await runChecked(REAL_CRYPTSETUP, [...fast, 'luksFormat', image, keyFile])
    await runChecked(
      REAL_CRYPTSETUP,
      ['--batch-mode', '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000', `--key-file=${keyFile}`, 'luksAddKey', image],
      passphrase,
    )
    const uuid = (await runChecked(REAL_CRYPTSETUP, ['luksUUID', image])).trim()

    const plainImage = file('plain.img')
    await runChecked('truncate', ['-s', '16M', plainImage])
    if (options.filesystem !== false) await runChecked('mkfs.ext4', ['-q', '-F', plainImage])
    created.plain = await attachLoop(plainImage)
    await fs.writeFile(`${image}.plain-device`, `${created.plain}\n`)

    let source = image
    const kind = options.source ?? 'loop'
    if (kind !== 'file') {
      created.luks = await attachLoop(image)
      source = created.luks
    }
    if (kind === 'uuid') {
      const link = `/dev/disk/by-uuid/${uuid}`
      const first = await fs.mkdir(path.dirname(link), { recursive: true })
      if (first !== undefined) created.dirs = first === '/dev/disk' ? ['/dev/disk/by-uuid', '/dev/disk'] : [path.dirname(link)]
      await fs.symlink(created.luks as string, link)
      created.link = link
      registry.links.add(link)
      source = `UUID=${uuid}`
    }

    await fs.mkdir(mountPoint)
    const key = options.key === 'none' ? 'none' : encodeCrypttabField(keyFile)
    const crypttabLine = [encodeCrypttabField(name), encodeCrypttabField(source), key, options.options ?? 'luks,noauto'].join(' ')
    const crypttab = file('crypttab')
    await fs.writeFile(crypttab, `# test crypttab\n${crypttabLine}\n`)
    const fstab = file('fstab')
    await fs.writeFile(fstab, `${encodeFstabField(`/dev/mapper/${name}`)} ${encodeFstabField(mountPoint)} ext4 noauto 0 0\n`)
    return {
      name,
      dir,
      image,
      keyFile,
      passphrase,
      luksDevice: created.luks,
      uuid,
      source,
      plainDevice: created.plain,
      crypttab,
      crypttabLine,
      mapper: `/dev/mapper/${name}`,
      mountPoint,
      fstab,
      cleanup,
    }
  } catch (error) {
    await cleanup().catch(() => undefined)
    throw error
  }
}

/** Prepares a disk for the current test and cleans it up when the test finishes. */
export async function disk(options: PrepareLuksDiskOptions = {}): Promise<LuksDisk> {
  const prepared = await prepareLuksDisk(options)
  onTestFinished(() => prepared.cleanup())
  return prepared
}

/** The CrypttabError a promise rejects with (fails the test when it resolves or rejects with anything else). */
export async function rejection(promise: Promise<unknown>): Promise<CrypttabError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(CrypttabError)
  return error as CrypttabError
}

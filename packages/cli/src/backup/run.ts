import os from 'node:os'
import path from 'node:path'
import { CleanupScope, LocalContext, SshContext, quoteArgument, type Context } from '@rsb/exec'
import type { RunOptions } from '../args.js'
import { formatDuration, joinWords } from '@rsb/rotation/io'
import { buildRsyncArgs, DEFAULT_EXCLUDED_ROOTS } from '@rsb/rsync'
import { CliError, UsageError, isRsbError } from '../errors.js'
import type { Logger, TextSink } from '../kit/log.js'
import { assertInside } from '@rsb/mount'
import { Notifier } from './notify.js'
import { checkPlatform } from './platform.js'
import { rotateSnapshots } from './rotate.js'
import { checkSource, checkSourcesApart, inspectPaths, isInside, literalFilterPath, type Inspection } from './preflight.js'
import { probePath } from './probe.js'
import { adoptSnapshots, createSnapshot, removeLeftovers } from './snapshot.js'
import { linkHealthWarning, previousSnapshot, recordIntegrity, type IntegrityReport } from './integrity.js'
import { keepsWholePaths, prepareExact, recordedSources, stagePrefix, type ExactRun } from './exact.js'
import { readExcludeFiles } from './excludes.js'
import { metadataPath, readStore, registerMirror, STORE_VERSION, type MirrorRecord } from '../session/store.js'
import { createSummary, type RunSummary } from './summary.js'
import { checkTarget } from './target.js'
import { openDestination, type MirrorLock } from '../session/open.js'
import { processStartTime } from '../session/lock.js'
import { sshSettings } from '../session/ssh.js'
import { resolveTarget, type Target } from '../session/target.js'
import { runTransfer } from './transfer.js'
import {
  countTree,
  recordRun,
  redactArgv,
  redactRsyncOption,
  rsyncVersion,
  runOutcome,
  transferFigures,
  userName,
  utcOffset,
  type RunTrail,
} from './manifest.js'
import { version } from '../version.js'

/** What the workflow needs from its caller. */
export interface WorkflowIo {
  readonly logger: Logger
  readonly stdout: TextSink
  readonly stderr: TextSink
  readonly env: Readonly<Record<string, string | undefined>>
  readonly signal: AbortSignal | undefined
  /**
   * Where commands run, for tests that record command lines (tier 2). Default: a `LocalContext` with the run's
   * sudo and ionice settings, and an `SshContext` per SSH host.
   */
  readonly contexts?: {
    readonly local?: Context | undefined
    readonly ssh?: ((host: string, user: string | undefined) => Context) | undefined
  }
}

/** The outcome of a run: its summary, and the error that ended it (undefined on success). */
export interface WorkflowResult {
  readonly summary: RunSummary
  readonly error: unknown
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function interrupted(signal: AbortSignal): CliError {
  return new CliError('ERR_RSB_CLI_INTERRUPTED', `The backup was interrupted by ${String(signal.reason)}.`)
}

/**
 * Runs the backup workflow of rsync-system-backup with rsb's decisions: platform check, destination
 * checks, run lock, unlock, mount, rsync, atomic snapshot, rotation, notifications, and the cleanups in
 * reverse order on every exit path (also on SIGINT/SIGTERM through `io.signal`). Never throws: the error
 * that ended the run is returned with the summary.
 */
export async function runWorkflow(options: RunOptions, io: WorkflowIo): Promise<WorkflowResult> {
  const started = performance.now()
  const summary = createSummary(options.source, options.destination, options.dryRun)
  if (options.sources.length > 1) summary.sources = [...options.sources]
  const scope = new CleanupScope()
  const trail: RunTrail = {}
  let error: unknown
  try {
    await workflow(options, io, scope, summary, trail)
  } catch (caught) {
    error = caught
  }
  // the run record goes into the store while it is still mounted and the connection open (never in a dry run)
  if (!options.dryRun) await leaveRecord(options, io, trail, summary, error)
  try {
    await scope.close((description, failure) => io.logger.log('error', `Cleanup failed (${description}): ${message(failure)}`))
  } catch (failure) {
    error ??= failure
  }
  if (io.signal?.aborted && error === undefined) error = interrupted(io.signal)
  summary.durationSeconds = Math.round(performance.now() - started) / 1000
  if (error !== undefined) {
    summary.error = {
      code: isRsbError(error) ? error.code : 'ERR_RSB_CLI_INTERNAL',
      message: message(error),
      hint: isRsbError(error) ? error.hint : undefined,
    }
  }
  return { summary, error }
}

/**
 * The snapshot's link health and content hashes (see integrity.ts), recorded before it gets its name. The link health
 * warning of a snapshot that is mostly new copies joins the run's warnings. Failing costs a warning, never the
 * snapshot (it is then listed as unverifiable); only a stop is thrown.
 */
async function snapshotIntegrity(
  context: Context,
  logger: Logger,
  request: {
    store: string
    mirrorId: string
    copy: string
    snapshot: string
    previous: string | undefined
    transferred: number | undefined
    warnings: string[]
    signal: AbortSignal | undefined
  },
): Promise<IntegrityReport | undefined> {
  const { warnings, signal } = request
  let report: IntegrityReport
  try {
    report = await recordIntegrity({
      context,
      store: request.store,
      mirrorId: request.mirrorId,
      copy: request.copy,
      snapshot: request.snapshot,
      previous:
        request.previous === undefined
          ? undefined
          : { name: request.previous, directory: path.posix.join(request.store, request.previous) },
      signal,
    })
  } catch (error) {
    if (signal?.aborted) throw error
    const message = `The content hashes of snapshot ${request.snapshot} could not be recorded (${error instanceof Error ? error.message : String(error)}): 'rsb verify' reports it as unverifiable.`
    logger.log('warning', message)
    warnings.push(message)
    return undefined
  }
  const { links, hashes } = report
  logger.log(
    'verbose',
    `Snapshot ${request.snapshot}: ${links.linked} of ${links.files} file(s) linked to ${links.previous ?? 'no earlier snapshot'}, ${links.copied} new; hashed ${hashes.hashedFiles} file(s) in ${hashes.seconds}s.`,
  )
  if (report.unhashed > 0) {
    const message = `${report.unhashed} file(s) of snapshot ${request.snapshot} vanished or could not be read while they were hashed: 'rsb verify' cannot check them.`
    logger.log('warning', message)
    warnings.push(message)
  }
  const health = linkHealthWarning(links, request.transferred)
  if (health !== undefined) {
    logger.log('warning', health)
    warnings.push(health)
  }
  return report
}

/** Leaves the run's record in its store (see manifest.ts); a record that cannot be left is a log line, never a failure. */
async function leaveRecord(options: RunOptions, io: WorkflowIo, trail: RunTrail, summary: RunSummary, caught: unknown): Promise<void> {
  const { outcome, exitCode } = runOutcome(caught ?? (io.signal?.aborted ? interrupted(io.signal) : undefined), io.signal)
  // a stopped run is recorded as stopped, whichever step the stop broke off
  const error = outcome === 'interrupted' && io.signal ? interrupted(io.signal) : caught
  try {
    const skipped = await recordRun(trail, {
      started: new Date(summary.startedAt),
      ended: new Date(),
      argv: redactArgv(options.argv),
      actions: [options.backup && 'backup', options.snapshot && 'snapshot', options.rotate && 'rotate'].filter((a) => a !== false),
      // as the summary: with several SOURCEs, or one kept under its whole path (wholePaths), `/` and the list
      source: options.backup ? summary.source : undefined,
      sources: options.backup ? summary.sources : undefined,
      destination: options.destination,
      outcome,
      exitCode,
      error:
        error === undefined
          ? undefined
          : {
              code: isRsbError(error) ? error.code : 'ERR_RSB_CLI_INTERNAL',
              message: message(error),
              hint: isRsbError(error) ? error.hint : undefined,
            },
      snapshot: summary.snapshot === undefined ? undefined : summary.snapshot.slice(summary.snapshot.lastIndexOf('/') + 1),
      statistics: transferFigures(summary.rsync?.statistics),
      warnings: summary.warnings,
    })
    if (skipped !== undefined) io.logger.log('verbose', `No run record left: ${skipped}.`)
  } catch (failure) {
    io.logger.log('warning', `The run record could not be written: ${message(failure)}`)
  }
}

async function workflow(given: RunOptions, io: WorkflowIo, scope: CleanupScope, summary: RunSummary, trail: RunTrail): Promise<void> {
  const { logger, signal } = io
  // the --exclude-from files, read before anything else happens (nothing is written when one cannot be read): their
  // patterns join the --exclude ones (rsync's command line, the exactness fingerprint, the manifest's excludes); also
  // for a backup into $RSYNC_MODULE_PATH (-b); only a daemon hook's run without the backup action never reads them
  const options: RunOptions =
    given.excludeFrom.length === 0 || (given.destinationFromEnv && !given.backup)
      ? given
      : { ...given, exclude: [...given.exclude, ...(await readExcludeFiles(given.excludeFrom))] }
  const checkAbort = () => {
    if (signal?.aborted) throw interrupted(signal)
  }

  // 0. An rsync daemon's hooks (hook.ts): a module path that is / or directly under / is refused; the pre-xfer exec
  // only records the connection; the post-xfer exec goes on only after a push that succeeded.
  if (options.destinationFromEnv) {
    const { runDaemonHook } = await import('./hook.js')
    if (runDaemonHook(options, { logger, env: io.env, stdout: io.stdout, summary }) === 'done') return
  }

  // 1. What the destination allows, before anything runs.
  const target = resolveTarget(options.destination)
  const actions = checkTarget(target, options)
  if (target.destination.kind === 'daemon' && options.explicitActions.length === 0) {
    logger.log(
      'info',
      "Only the backup runs for an rsync daemon destination: snapshots and rotation run on the server, from the module's " +
        "post-xfer exec ('rsb --snapshot --rotate', destination from $RSYNC_MODULE_PATH).",
    )
  }
  try {
    buildRsyncArgs({
      sources: options.sources,
      destination: target.rsync,
      excludes: options.exclude,
      rsyncOptions: options.rsyncOptions,
    })
  } catch (error) {
    throw new UsageError((error as Error).message, { hint: (error as { hint?: string }).hint, cause: error })
  }
  if (options.mount !== undefined && target.destination.kind === 'local') assertInside(target.destination.directory, options.mount)

  // 2. Platform check, on this machine, before anything else happens (no lock taken, no connection opened).
  const plain = io.contexts?.local ?? new LocalContext({ sudo: options.sudo, ionice: options.ionice })
  const warning = await checkPlatform(plain, options.force, logger, signal)
  if (warning) summary.warnings.push(warning)
  checkAbort()

  // 3. The destination opened (session/open.ts): the run lock, the contexts, the SSH connection.
  const opened = await openDestination(
    {
      target,
      sudo: options.sudo,
      ionice: options.ionice,
      crypto: options.crypto,
      mount: options.mount,
      rsyncOptions: options.rsyncOptions,
      env: io.env,
      logger,
      signal,
      contexts: { ...io.contexts, plain },
    },
    scope,
  )
  const { local: source, destination } = opened
  // The crypttab entry and the missing-disk check (before any notification).
  await opened.checkDisk()

  const notifier = new Notifier(plain, logger, options.notifications, io.env)
  const startedAt = new Date(summary.startedAt)
  let versions: { local: Promise<string | undefined>; remote: Promise<string | undefined> } | undefined
  /** The files the backup moved aside for new inodes (exact.ts): new inodes in the snapshot on purpose. */
  let renewed = 0
  const timer = performance.now()
  const done: string[] = []
  if (actions.backup) await notifier.send(options.dryRun ? 'Starting dry-run' : 'Starting backup')

  // 4. Unlock (outside the failure handler, as the original), then mount.
  await opened.unlock()

  try {
    checkAbort()
    await opened.mount()
    // 5. SOURCE, DESTINATION and the store, resolved and checked before anything is written.
    let paths: Inspection | undefined
    let mirror: MirrorRecord | undefined
    let mirrorLock: MirrorLock | undefined
    /** The resolved SOURCEs of a daemon destination (whose side rsb cannot look at). */
    let daemonSources: string[] | undefined
    if (target.destination.kind === 'daemon' && actions.backup) {
      // rsb cannot look at the daemon's side, but SOURCE is here: a missing or empty one must not become the backup
      const probed = []
      for (const text of options.sources) {
        const facts = await probePath(source, text, { what: 'SOURCE', source: true, signal })
        checkSource(facts, text, options.allowEmptySource)
        probed.push({ facts, text })
      }
      checkSourcesApart(probed)
      // one SOURCE goes to rsync as given (as before); several as resolved (each lands under its whole path)
      if (probed.length > 1) daemonSources = probed.map(({ facts }) => facts.resolved)
    }
    if (destination && target.destination.kind !== 'daemon') {
      paths = await inspectPaths({
        destinationContext: destination,
        sourceContext: source,
        destinationText: target.expression,
        directory: target.destination.directory,
        sshDestination: target.destination.kind === 'ssh',
        sourceText: options.source,
        sourceTexts: options.sources.length > 1 ? options.sources : undefined,
        mount: options.mount,
        backup: actions.backup,
        acceptDestination: options.acceptDestination,
        allowEmptySource: options.allowEmptySource,
        signal,
        // The mirror's lock, before the store is read: another spelling of it (a symlinked parent, `..`, a bind
        // mount) is the same directory, and so the same lock. Also a lock where the mirror lives (on the server, or
        // here), for runs from other machines, other users and other lock directories. Two mirrors of one store may
        // run side by side (each touches only its own snapshots).
        beforeStore: async (facts) => {
          trail.context = destination
          trail.store = path.posix.dirname(facts.resolved)
          trail.mirrorName = path.posix.basename(facts.resolved)
          mirrorLock = await opened.lockMirror(facts)
        },
      })
      trail.state = paths.state
      mirror = await prepareStore(paths, destination, options, logger, signal)
      if (!options.dryRun) trail.mirror = mirror
      if (actions.snapshot && !actions.backup) refuseIncompleteMirror(paths, mirror)
      // checked and registered: from now on the run writes, and says so where other runs look
      if (mirrorLock && !options.dryRun)
        await mirrorLock.lock.record({
          host: os.hostname(),
          pid: process.pid,
          startTime: processStartTime(process.pid),
          since: new Date().toISOString(),
          key: mirrorLock.key,
        })
    }
    checkAbort()
    // rsync's versions for the manifest, asked once the checks passed, while the run goes on (never failing it)
    if (actions.snapshot && !options.dryRun && paths)
      versions = {
        local: rsyncVersion(source, signal),
        remote: target.destination.kind === 'ssh' && destination ? rsyncVersion(destination, signal) : Promise.resolve(undefined),
      }
    // the mirror's layout: SOURCEs under their whole paths with several, and with one into a mirror that had several
    const wholePaths = actions.backup && paths && mirror ? keepsLayout(paths, mirror, options, summary) : false
    if (actions.backup && paths && mirror) warnDroppedSources(paths, mirror, logger, summary)
    if (actions.backup) {
      renewed = await backupStep(options, io, target, source, destination, summary, paths, mirror, daemonSources, wholePaths)
      done.push('create backup')
      summary.actions.push('backup')
    }
    checkAbort()
    let snapshotName: string | undefined
    if ((actions.snapshot || actions.rotate) && destination && paths && mirror) {
      const plan = paths.plan
      let integrity: Promise<IntegrityReport | undefined> | undefined
      const integrityWarnings: string[] = []
      const step = {
        context: destination,
        logger,
        directory: plan.destination,
        store: plan.store,
        mirror,
        dryRun: options.dryRun,
        signal,
        // the link health and the hashes read the mirror while cp copies it (the copy has the mirror's inodes)
        alongside: (snapshot: string, stop: AbortSignal) => {
          const stats = summary.rsync?.statistics
          integrity = snapshotIntegrity(destination, logger, {
            store: plan.store,
            mirrorId: mirror.id,
            copy: plan.destination,
            snapshot,
            previous: previousSnapshot(paths.state, mirror, new Date()),
            // the files this run meant to give new inodes: those rsync transferred, those moved aside for exactness
            transferred: stats?.regularFilesTransferred === undefined ? undefined : stats.regularFilesTransferred + renewed,
            warnings: integrityWarnings,
            signal: stop,
          })
          return integrity
        },
        manifest: async (temporary: string, warnings: string[]) => {
          const stats = summary.rsync?.statistics
          // a snapshot alone (no backup in this run: the daemon's post-xfer exec) is counted: one walk of the copy
          const counted = stats?.files === undefined ? await countTree(destination, temporary, signal) : undefined
          const report = await integrity
          warnings.push(...integrityWarnings.splice(0))
          return {
            started: startedAt.toISOString(),
            ended: new Date().toISOString(),
            utcOffset: utcOffset(startedAt),
            host: os.hostname(),
            user: userName(),
            // several SOURCEs (or one kept under its whole path): `source` is `/` (the mirror holds each under its
            // whole path), `sources` lists them
            source: actions.backup ? (wholePaths ? '/' : plan.source) : undefined,
            ...(actions.backup && wholePaths && plan.sources !== undefined ? { sources: plan.sources } : {}),
            destination: target.expression,
            rsbVersion: version(),
            rsyncVersion: { local: await versions?.local, remote: await versions?.remote },
            rsyncOptions: options.rsyncOptions.map(redactRsyncOption),
            excludes: options.exclude,
            rsyncExitCode: summary.rsync?.exitCode,
            statistics: transferFigures(stats),
            entries: stats?.files?.total ?? counted?.entries,
            bytes: stats?.totalFileSize ?? counted?.bytes,
            links: report?.links,
            hashes: report?.hashes,
            warnings: [...summary.warnings, ...warnings],
          }
        },
      }
      // a store registered by this very run is read again: an adopted one may hold an earlier rsb's leftovers
      if (!options.dryRun)
        await removeLeftovers(step, paths.state.store ? paths.state : await readStore(destination, paths.plan.store, signal))
      if (actions.snapshot) {
        mirrorLock?.lock.assertHeld()
        const { path: snapshot, warnings: snapshotWarnings } = await createSnapshot(step)
        snapshotName = snapshot.slice(snapshot.lastIndexOf('/') + 1)
        summary.snapshot = snapshot
        summary.warnings.push(...snapshotWarnings)
        done.push('create snapshot')
        summary.actions.push('snapshot')
      }
      checkAbort()
      if (actions.rotate) {
        mirrorLock?.lock.assertHeld()
        const state = options.dryRun ? paths.state : await readStore(destination, paths.plan.store, signal)
        const rotation = await rotateSnapshots({
          context: destination,
          logger,
          store: paths.plan.store,
          state,
          mirror,
          adopt: options.dryRun ? paths.plan.adopt : [],
          scheme: options.rotation,
          keepLatest: options.keepLatest,
          snapshot: snapshotName,
          dryRun: options.dryRun,
          signal,
        })
        summary.rotation = { kept: rotation.kept, deleted: rotation.deleted }
        summary.warnings.push(...rotation.warnings)
        done.push('rotate old snapshots')
        summary.actions.push('rotate')
      }
    }
  } catch (error) {
    if (notifier.enabled)
      await notifier.send(
        `Backup failed after ${formatDuration(performance.now() - timer)}! Review the system logs for details.`,
        'critical',
      )
    throw error
  }
  if (actions.backup) await notifier.send(`Finished backup in ${formatDuration(performance.now() - timer)}.`)
  if (done.length > 0) logger.log('info', `Took ${formatDuration(performance.now() - timer)} to ${joinWords(done)}.`)
}

async function backupStep(
  options: RunOptions,
  io: WorkflowIo,
  target: Target,
  source: Context,
  destination: Context | undefined,
  summary: RunSummary,
  paths: Inspection | undefined,
  mirror: MirrorRecord | undefined,
  daemonSources: readonly string[] | undefined,
  wholePaths: boolean,
): Promise<number> {
  const { logger, signal } = io
  const directory = paths?.plan.destination ?? target.destination.directory
  let mirrorExists = false
  if (destination) {
    mirrorExists = await destination.isDirectory(directory, { ionice: undefined })
    if (!mirrorExists) {
      if (options.dryRun) {
        logger.log('info', `Not creating missing destination directory in a dry run: ${directory}`)
      } else {
        logger.log('info', `Creating missing destination directory: ${directory}`)
        await destination.run(['mkdir', '-p', directory], { ionice: undefined, signal })
      }
    }
  }
  const gateway = options.tunnel
    ? new SshContext({
        host: options.tunnel.host,
        user: options.tunnel.user,
        port: options.tunnel.port,
        ...sshSettings(io.env),
      })
    : undefined
  const excludedRoots =
    paths && storeNeedsExclude(paths) ? [...DEFAULT_EXCLUDED_ROOTS, `${literalFilterPath(paths.plan.store)}/`] : undefined
  let exact: ExactRun | undefined
  try {
    // the files rsync may change in place get new inodes first, so that no snapshot changes (exact.ts)
    exact =
      destination && paths?.plan.source !== undefined && mirror && target.destination.kind !== 'daemon'
        ? await prepareExact({
            sourceContext: source,
            destinationContext: destination,
            logger,
            store: paths.plan.store,
            directory,
            mirror,
            state: paths.state,
            source: paths.plan.source,
            sources: paths.plan.sources,
            wholePaths,
            shape: { excludes: options.exclude, excludedRoots, rsyncOptions: options.rsyncOptions, multiFs: options.multiFs },
            prune: [
              ...DEFAULT_EXCLUDED_ROOTS.filter((root) => !/[*?[]/.test(root)).map((root) => root.replace(/\/+$/, '')),
              paths.plan.store,
            ],
            mirrorExists,
            dryRun: options.dryRun,
            signal,
          })
        : undefined
    const result = await runTransfer({
      context: source,
      logger,
      options,
      destination: paths && target.rsync.kind !== 'daemon' ? { ...target.rsync, directory: paths.plan.destination } : target.rsync,
      source: paths?.plan.source ?? options.source,
      sources: paths?.plan.sources ?? daemonSources,
      wholePaths,
      excludedRoots,
      linkDest: exact?.linkDest ?? [],
      tunnel: gateway,
      signal,
      stderr: io.stderr,
      env: io.env,
    })
    summary.rsync = { exitCode: result.exitCode, statistics: result.stats }
    if (result.warning !== undefined) summary.warnings.push(`rsync exited with ${result.exitCode}: ${result.warning}`)
    const cleanup = await exact?.finish(result.exitCode)
    if (cleanup !== undefined) {
      logger.log('warning', cleanup)
      summary.warnings.push(cleanup)
    }
  } finally {
    await exact?.settled()
    await gateway?.close()
  }
  return exact?.renewed ?? 0
}

/**
 * A snapshot alone (no backup in this run) of a mirror that an interrupted backup left incomplete would miss the
 * files that backup moved aside (exact.ts): refused, the next backup puts them back.
 */
function refuseIncompleteMirror(paths: Inspection, mirror: MirrorRecord): void {
  const stage = paths.state.staged?.find((name) => name.startsWith(stagePrefix(mirror)))
  if (stage === undefined) return
  throw new CliError(
    'ERR_RSB_CLI_MIRROR_INCOMPLETE',
    `${paths.plan.destination} is incomplete: an interrupted backup moved some of its files aside into ${metadataPath(paths.plan.store, 'staged', stage)} and did not finish.`,
    { hint: 'Run the backup again (without --snapshot alone): it puts them back and then makes the snapshot.' },
  )
}

/**
 * Makes the checked destination's store ready: registers the mirror and adopts the snapshots made before the
 * store kept records (not in a dry run, which plans with a stand-in mirror), and logs what the checks decided.
 */
async function prepareStore(
  paths: Inspection,
  destination: Context,
  options: RunOptions,
  logger: Logger,
  signal: AbortSignal | undefined,
): Promise<MirrorRecord> {
  const { plan, state } = paths
  if (storeNeedsExclude(paths)) logger.log('info', `The backup store ${plan.store} is inside SOURCE: it is excluded from the backup.`)
  if (plan.accepted)
    logger.log(
      'warning',
      `Accepting the non-empty DESTINATION ${plan.destination} (--accept-destination): rsync makes it a copy of SOURCE.`,
    )
  if (plan.mirror && plan.adopt.length === 0) return plan.mirror
  if (options.dryRun) {
    if (plan.adopt.length > 0) logger.log('info', `Would adopt ${plan.adopt.length} snapshot(s) made before ${plan.store} kept records.`)
    return plan.mirror ?? { version: STORE_VERSION, name: plan.mirrorName, id: '00000000', created: new Date().toISOString() }
  }
  if (!plan.mirror) await checkHardLinks(destination, plan.store, signal)
  const mirror = plan.mirror ?? (await registerMirror(destination, state, plan.mirrorName, signal))
  if (!plan.mirror) logger.log('info', `Registered ${plan.destination} as a mirror of the backup store ${plan.store}.`)
  if (plan.adopt.length > 0) {
    await adoptSnapshots(destination, plan.store, mirror, plan.adopt, signal)
    logger.log('info', `Adopted ${plan.adopt.length} snapshot(s) of ${plan.destination} made before the store kept records.`)
  }
  return mirror
}

// Makes a file and a hard link to it in a private directory of the store (mktemp), then removes that directory.
// Exit 0: linked; 5: the filesystem refused the link (its type and ln's error are printed); 4: nothing could be made
// (the store's first write reports that).
const LINK_PROBE = `
set -u
t=$(mktemp -d "$1/.rsb-probe.XXXXXXXX" 2>/dev/null) || exit 4
if : > "$t/a" 2>/dev/null; then
  if e=$(ln -- "$t/a" "$t/b" 2>&1); then s=0; else s=5; fi
else
  s=4
fi
rm -rf -- "$t"
[ "$s" -eq 5 ] && printf '%s\\t%s' "$(stat -f -c %T -- "$1" 2>/dev/null)" "$e"
exit "$s"
`

/**
 * Refuses a new mirror on a filesystem that cannot make hard links (vfat, exFAT, some network shares): its snapshots
 * would each be a full copy, and the store's records are claimed with links. Tested by making one, before the store's
 * first write.
 *
 * @throws {CliError} ERR_RSB_CLI_NO_HARD_LINKS
 */
async function checkHardLinks(context: Context, store: string, signal: AbortSignal | undefined): Promise<void> {
  const probe = await context.run(['sh', '-c', LINK_PROBE, 'sh', store], { check: false, signal, ionice: undefined })
  if (probe.exitCode !== 5) return
  const [type = '', error = ''] = probe.stdout.split('\t')
  throw new CliError(
    'ERR_RSB_CLI_NO_HARD_LINKS',
    `The filesystem of ${store}${type ? ` (${type})` : ''} cannot make hard links${error ? ` (${error.slice(error.lastIndexOf(': ') + 2).trim()})` : ''}: every snapshot would be a full copy of SOURCE.`,
    {
      path: store,
      hint: "Back up to a Linux filesystem (ext4, xfs, btrfs) or an SSH server or rsync daemon that has one; 'rsb doctor' checks a destination.",
    },
  )
}

/**
 * A store inside SOURCE that rsync's system excludes do not leave out already: a root such as `/mnt/` is left
 * out only when it lies inside SOURCE (it is then an entry of the transfer), as with `rsb / /mnt/backups/latest`.
 * With several SOURCEs, the one that holds the store.
 */
function storeNeedsExclude({ plan }: Inspection): boolean {
  if (!plan.excludeStore || plan.sources === undefined) return false
  const source = plan.sources.find((s) => isInside(plan.store, s))
  if (source === undefined) return false
  return !DEFAULT_EXCLUDED_ROOTS.some((root) => `${plan.store}/`.startsWith(root) && isInside(root.replace(/\/+$/, ''), source))
}

/**
 * Whether this run keeps the mirror's SOURCEs under their whole paths (rsync `--relative`): with several SOURCEs, and
 * with one into a mirror whose record says it keeps them so (it had several, exact.ts `keepsWholePaths`). Then a run
 * of one SOURCE never goes back to the layout of one SOURCE at the top of the mirror, whose `--delete` would remove
 * the other SOURCEs' copies: it lands at its whole path, the others stay (warnDroppedSources says so). The summary
 * (and so the run record) then names `/` as SOURCE and lists the one, as the manifest does.
 *
 * @throws {UsageError} ERR_RSB_CLI_USAGE for `--rsync-option=--no-relative` (or `--no-R`) with that layout: rsync would
 *   put the SOURCEs' files at the top of the mirror and delete what lies there
 */
function keepsLayout(paths: Inspection, mirror: MirrorRecord, options: RunOptions, summary: RunSummary): boolean {
  const sources = paths.plan.sources
  if (sources === undefined) return false
  const record = paths.state.synced?.get(mirror.id)
  const wholePaths = sources.length > 1 || (record !== undefined && keepsWholePaths(record.source))
  if (!wholePaths) return false
  const undo = options.rsyncOptions.find((option) => option === '--no-relative' || option === '--no-R')
  if (undo !== undefined)
    throw new UsageError(
      `--rsync-option=${undo} cannot be used with ${paths.plan.destination}: it keeps its SOURCEs under their whole paths (rsync --relative), and without them rsync would put the files at its top and delete what lies there.`,
      { hint: `Leave out --rsync-option=${undo}, or back up into a new DESTINATION.` },
    )
  if (sources.length === 1) {
    summary.source = '/'
    summary.sources = [...options.sources]
  }
  return true
}

/**
 * A SOURCE that this mirror's last backup had and this run has not is never deleted from the mirror: rsync `--delete`
 * acts only inside the SOURCEs it is given (each under its whole path, also when one SOURCE is left: keepsLayout).
 * Its copy stays as it was (and in every snapshot); this says so, once per run, with the command that removes it. A
 * SOURCE inside one of this run's is not left out (its copy is updated with it). Likewise a mirror of one SOURCE (its
 * files at the top) that now gets several (each under its whole path): the old files stay beside them.
 */
function warnDroppedSources(paths: Inspection, mirror: MirrorRecord, logger: Logger, summary: RunSummary): void {
  const now = paths.plan.sources
  const record = paths.state.synced?.get(mirror.id)
  if (now === undefined || record === undefined) return
  const before = recordedSources(record.source)
  if (before === undefined) return
  const wholePaths = keepsWholePaths(record.source)
  let message: string | undefined
  if (now.length > 1 && !wholePaths) {
    message =
      `The last backup into ${paths.plan.destination} was of the one SOURCE ${before[0]}, whose files lie at its top: they are kept there ` +
      `beside the SOURCEs' whole paths (never updated again). Back up into a new DESTINATION for a clean layout, or remove them by hand.`
  } else if (wholePaths) {
    const dropped = before.filter((s) => !now.some((n) => s === n || isInside(s, n)))
    // one that holds a SOURCE of this run: its copy holds this run's, so no rm of it
    const removable = dropped.filter((s) => !now.some((n) => isInside(n, s)))
    if (dropped.length > 0) {
      const one = dropped.length === 1
      message =
        `${dropped.join(', ')} ${one ? 'was a SOURCE' : 'were SOURCEs'} of the last backup into ${paths.plan.destination} and ${one ? 'is' : 'are'} not now: ` +
        `${one ? 'its copy is' : 'their copies are'} kept in the mirror as ${one ? 'it was' : 'they were'} (never updated, never deleted; the snapshots keep theirs)` +
        (now.length === 1 ? `, and ${now[0]} is backed up under its whole path beside ${one ? 'it' : 'them'}, as before.` : '.') +
        (removable.length > 0
          ? ` To drop ${removable.length === 1 && one ? 'it' : removable.join(', ')}: rm -r -- ${removable.map((s) => quoteArgument(path.posix.join(paths.plan.destination, s))).join(' ')}`
          : '')
    }
  }
  if (message === undefined) return
  logger.log('warning', message)
  summary.warnings.push(message)
}

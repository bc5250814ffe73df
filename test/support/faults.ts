import { createHash, randomBytes } from 'node:crypto';
import {
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import { basename, join, normalize, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { execa, type ResultPromise } from 'execa';
import { COMPOSE_ID_ANNOTATION } from '../../src/domain/types.js';
import { storageArgs, type ContainerStorage } from '../../src/tools/storage.js';
import { cli } from './cli.js';
import type { MadeCompose, MadeImage } from './compose-factory.js';

/** Polls `check` until it returns something other than undefined/false; fails naming `what` after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Runs `body` with `defer`, which registers a cleanup; the cleanups run last registered first when body ends, also
 * when it throws, each even when an earlier one failed (their errors are printed, body's error is the one thrown).
 */
export async function withCleanups<T>(body: (defer: (cleanup: () => unknown) => void) => Promise<T>): Promise<T> {
  const cleanups: Array<() => unknown> = [];
  try {
    return await body((cleanup) => void cleanups.push(cleanup));
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await Promise.resolve()
        .then(cleanup)
        .catch((error: unknown) => console.error('cleanup failed:', error));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Processes

/** Pids of the processes (other than this one) whose command line contains every one of `parts`. */
export function pidsRunning(...parts: string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let commandLine: string;
    try {
      commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue; // gone meanwhile
    }
    if (parts.every((part) => commandLine.includes(part))) pids.push(Number(entry));
  }
  return pids;
}

/**
 * Pids of the node processes that hold open a blob of at least `minBytes` under `workDir`'s OCI layouts: a worker
 * sending an image's blob to a registry (tar, which writes the blobs while unpacking, is not node).
 */
export function pidsSendingBlobs(workDir: string, minBytes = 1 << 20): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'node') continue;
      const sending = readdirSync(`/proc/${entry}/fd`).some((fd) => {
        try {
          const target = readlinkSync(`/proc/${entry}/fd/${fd}`);
          return (
            target.startsWith(`${workDir}/`) && target.includes('/blobs/sha256/') && statSync(target).size >= minBytes
          );
        } catch {
          return false; // closed meanwhile
        }
      });
      if (sending) pids.push(Number(entry));
    } catch {
      continue; // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

/** Whether `pid` is `ancestor` or runs under it (a tool a worker started, through any launcher between them). */
export function descendsFrom(pid: number, ancestor: number): boolean {
  for (let current = pid, hops = 0; current > 1 && hops < 16; hops++) {
    if (current === ancestor) return true;
    try {
      // Field 4 of /proc/<pid>/stat, after the command name in parentheses (which may hold spaces).
      current = Number(
        readFileSync(`/proc/${current}/stat`, 'utf8')
          .replace(/^.*\) /s, '')
          .split(' ')[1],
      );
    } catch {
      return false;
    }
  }
  return false;
}

function alive(pid: number): boolean {
  try {
    // A zombie (killed, not yet reaped) counts as gone: it holds no port and no file any more.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** SIGKILLs one process we started, found by a part of its command line that only it has; resolves once it is gone. */
export async function killRunning(marker: string): Promise<number> {
  const pids = pidsRunning(marker);
  if (pids.length !== 1) throw new Error(`expected one process running with ${marker}, found ${pids.length}`);
  const pid = pids[0]!;
  process.kill(pid, 'SIGKILL');
  await until(`process ${pid} to die`, () => !alive(pid), 10_000, 20);
  return pid;
}

export interface WorkerProcess {
  child: ResultPromise;
  pid: number;
  lines: string[];
}

/** `compose-publisher worker` as a real process, as operators run it (`env` added to this one's); resolves once it polls. */
export async function startWorkerProcess(configFile: string, env?: Record<string, string>): Promise<WorkerProcess> {
  const child = cli(['worker'], configFile, { stdin: 'ignore', ...(env ? { env } : {}) });
  const lines: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  try {
    await until('the worker to poll', () => {
      if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}:\n${lines.join('\n')}`);
      return lines.some((line) => line.includes('"worker polling"'));
    });
  } catch (error) {
    await stopWorkerProcess({ child, pid: child.pid!, lines });
    throw error;
  }
  return { child, pid: child.pid!, lines };
}

/** SIGKILLs a worker process (a no-op for one that already exited) and reaps it. */
export async function stopWorkerProcess(worker: WorkerProcess | undefined): Promise<void> {
  if (!worker) return;
  worker.child.kill('SIGKILL');
  await worker.child;
}

/** The warnings a `compose-publisher worker` logs until it polls (its JSON log lines at level warn); it is then stopped. */
export async function workerStartWarnings(configFile: string): Promise<string[]> {
  const worker = await startWorkerProcess(configFile);
  worker.child.kill('SIGTERM');
  await worker.child;
  return worker.lines.flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as { level?: string; message?: string };
      return parsed.level === 'warn' && parsed.message ? [parsed.message] : [];
    } catch {
      return [];
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Images large enough that a push takes a moment

type ImagesJson = {
  payload: {
    images: Record<
      string,
      Record<
        string,
        Array<{ path: string; size: number; format: string; type: string; checksums: Record<string, string> }>
      >
    >;
  };
};

/**
 * Replaces every image of a made compose (format 1.2) by one whose layer is `megabytes` MiB of random bytes, so a
 * push of it lasts long enough to be interrupted. Random bytes do not compress: the file is a gzip-compressed OCI
 * archive (format tar.gz, type docker, as Fedora ≤ 41 may list them), since xz would take seconds per MiB. The
 * archives are built once per arch and size (in `options.dir`) and shared by the composes that ask for them.
 */
export async function withLargeImages(
  compose: MadeCompose,
  megabytes: number,
  options: { dir: string; storage: ContainerStorage },
): Promise<MadeCompose> {
  const imagesFile = join(compose.root, 'metadata', 'images.json');
  const document = JSON.parse(readFileSync(imagesFile, 'utf8')) as ImagesJson;
  const images = await Promise.all(
    compose.images.map(async (image) => {
      const path = image.path.replace(/\.tar\.xz$/, '.tar.gz');
      copyFileSync(await largeArchive(image, megabytes, options), path);
      rmSync(image.path);
      const bytes = readFileSync(path);
      const large: MadeImage = {
        ...image,
        path,
        fileName: basename(path),
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      };
      const entry = Object.values(document.payload.images)
        .flatMap((byArch) => byArch[image.composeArch] ?? [])
        .find((e) => join(compose.root, e.path) === image.path);
      if (!entry) throw new Error(`${image.path} is not in ${imagesFile}`);
      Object.assign(entry, {
        path: path.slice(compose.root.length + 1),
        size: large.size,
        format: 'tar.gz',
        type: 'docker',
        checksums: { sha256: large.sha256 },
      });
      return large;
    }),
  );
  writeFileSync(imagesFile, JSON.stringify(document, null, 2));
  return { ...compose, images };
}

const largeArchives = new Map<string, Promise<string>>();

function largeArchive(
  image: MadeImage,
  megabytes: number,
  options: { dir: string; storage: ContainerStorage },
): Promise<string> {
  const target = join(options.dir, 'large-images', `${image.composeArch}-${megabytes}MiB.oci.tar.gz`);
  let built = largeArchives.get(target);
  if (!built) {
    built = buildLargeArchive(image, megabytes, target, options).then(() => target);
    largeArchives.set(target, built);
  }
  return built;
}

async function buildLargeArchive(
  image: MadeImage,
  megabytes: number,
  target: string,
  options: { dir: string; storage: ContainerStorage },
): Promise<void> {
  const work = `${target}.work`;
  mkdirSync(work, { recursive: true });
  const buildah = (args: string[]) => execa('buildah', [...storageArgs(options.storage), ...args]);
  const name = `localhost/server-faults/large:${image.composeArch}-${megabytes}`;
  try {
    writeFileSync(join(work, 'payload'), randomBytes(megabytes * 1024 * 1024));
    const container = (await buildah(['from', '--quiet', 'scratch'])).stdout.trim();
    try {
      await buildah(['copy', '--quiet', container, join(work, 'payload'), '/payload']);
      await buildah(['config', '--arch', image.ociArch, '--os', 'linux', container]);
      await buildah(['commit', '--quiet', '--format', 'oci', container, name]);
    } finally {
      await buildah(['rm', container]);
    }
    await buildah(['push', '--quiet', name, `oci-archive:${join(work, 'image.tar')}`]);
    await execa('gzip', ['-1', '--stdout', join(work, 'image.tar')], { stdout: { file: `${target}.part` } });
    renameSync(`${target}.part`, target);
  } finally {
    await buildah(['rmi', name]).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The manifest digest an image of the compose must have in a registry, read from the archive itself (its
 * index.json), not by the code under test: skopeo copies an OCI archive's manifest as it is.
 */
export async function manifestDigestInArchive(file: string): Promise<string> {
  const { stdout } = await execa('tar', ['--extract', '--to-stdout', '--file', file, 'index.json']);
  const index = JSON.parse(stdout) as { manifests: Array<{ digest: string }> };
  if (index.manifests.length !== 1) throw new Error(`${file}: index.json lists ${index.manifests.length} manifests`);
  return index.manifests[0]!.digest;
}

// ---------------------------------------------------------------------------------------------------------------
// What a registry holds

export type TagContent =
  | { kind: 'absent' }
  | { kind: 'image'; digest: string; mediaType: string }
  | {
      kind: 'index';
      digest: string;
      mediaType: string;
      instances: Array<{ architecture: string; os: string; digest: string; composeId: string | undefined }>;
    };

/** `skopeo inspect --raw` of one tag over plain HTTP: its digest (sha256 of the bytes served) and, for an index, its instances. */
export async function readTag(registryUrl: string, repository: string, tag: string): Promise<TagContent> {
  const result = await execa(
    'skopeo',
    ['inspect', '--raw', '--tls-verify=false', `docker://${registryUrl}/${repository}:${tag}`],
    { reject: false, stripFinalNewline: false },
  );
  if (result.failed) {
    if (/manifest unknown|name unknown|not found/i.test(result.stderr)) return { kind: 'absent' };
    throw new Error(`skopeo inspect ${registryUrl}/${repository}:${tag} failed: ${result.stderr}`);
  }
  const digest = `sha256:${createHash('sha256').update(result.stdout, 'utf8').digest('hex')}`;
  const document = JSON.parse(result.stdout) as {
    mediaType: string;
    manifests?: Array<{
      digest: string;
      platform?: { architecture: string; os: string };
      annotations?: Record<string, string>;
    }>;
  };
  if (!document.manifests) return { kind: 'image', digest, mediaType: document.mediaType };
  const instances = document.manifests.map((m) => ({
    architecture: m.platform?.architecture ?? '?',
    os: m.platform?.os ?? '?',
    digest: m.digest,
    composeId: m.annotations?.[COMPOSE_ID_ANNOTATION],
  }));
  return {
    kind: 'index',
    digest,
    mediaType: document.mediaType,
    instances: instances.sort((a, b) => a.architecture.localeCompare(b.architecture)),
  };
}

/** Blob uploads the distribution registry has open in `storageDir` (filesystem driver) for one repository. */
export function openUploads(storageDir: string, repositoryPath: string): string[] {
  const uploads = join(storageDir, 'docker', 'registry', 'v2', 'repositories', repositoryPath, '_uploads');
  return existsSync(uploads) ? readdirSync(uploads) : [];
}

// ---------------------------------------------------------------------------------------------------------------
// A compose host that misbehaves

export interface ComposeHostFaults {
  /** The first `times` GETs of every file whose path matches are answered with `status`. */
  failFirst?: Array<{ match: RegExp; times: number; status: number }>;
  /** Image GETs are cut off after half the file (the connection drops, Content-Length promised all of it): the first `times`, or always. */
  truncateImages?: { times: number | 'always' };
}

export interface FaultyComposeHost {
  url: string;
  /** "GET /path 200", "GET /path 500", "GET /path truncated", … */
  log: string[];
  close(): Promise<void>;
}

/** Writes the head (and body, cut in half when `cut`) of one file; resolves with the status it answered. */
async function serveFile(root: string, pathname: string, cut: boolean, response: ServerResponse): Promise<number> {
  const path = normalize(join(root, pathname));
  const info = path.startsWith(root + sep) ? await stat(path).catch(() => undefined) : undefined;
  if (!info?.isFile()) {
    response.writeHead(404).end();
    return 404;
  }
  response.writeHead(200, { 'content-length': info.size });
  if (response.req.method === 'HEAD') {
    response.end();
    return 200;
  }
  if (!cut) {
    createReadStream(path).pipe(response);
    return 200;
  }
  // Half the promised bytes, then the connection drops: what a mirror or a proxy that dies mid-file does.
  const half = createReadStream(path, { end: Math.floor(info.size / 2) - 1 });
  half.pipe(response, { end: false });
  half.on('end', () => response.socket?.destroySoon());
  return 200;
}

/** Serves a compose directory over HTTP on 127.0.0.1 with the given faults, counted per file. */
export async function serveFaultyCompose(root: string, faults: ComposeHostFaults): Promise<FaultyComposeHost> {
  const log: string[] = [];
  const gets = new Map<string, number>();
  const server = createServer((request, response) => {
    const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    const seen = request.method === 'GET' ? (gets.get(pathname) ?? 0) + 1 : 0;
    if (request.method === 'GET') gets.set(pathname, seen);
    const answered = (outcome: string | number) => log.push(`${request.method} ${pathname} ${outcome}`);
    const failure = faults.failFirst?.find((rule) => rule.match.test(pathname) && seen >= 1 && seen <= rule.times);
    if (failure) {
      answered(failure.status);
      response.writeHead(failure.status).end('try again later\n');
      return;
    }
    const truncate = faults.truncateImages;
    const cut = Boolean(
      truncate &&
      seen >= 1 &&
      /\.tar\.(xz|gz)$/.test(pathname) &&
      (truncate.times === 'always' || seen <= truncate.times),
    );
    serveFile(root, pathname, cut, response).then(
      (status) => answered(cut && status === 200 ? 'truncated' : status),
      () => response.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address for the compose server');
  return {
    url: `http://127.0.0.1:${address.port}`,
    log,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// A run's activities, from its history and its pending activities

export interface ActivityAttempt {
  type: string;
  attempt: number;
  /** The worker that ran it ("<pid>@<host>"). */
  identity: string;
  /** Why the attempt before this one failed. */
  lastFailure?: string;
}

/**
 * The attempt that ended each activity of one of `types`. Temporal writes no event for attempts that failed and were
 * retried: the final ActivityTaskStarted carries the attempt number and the failure of the attempt before it.
 */
export async function endedAttempts(handle: WorkflowHandle, types: string[]): Promise<ActivityAttempt[]> {
  const history = await handle.fetchHistory();
  const scheduled = new Map<number, string>();
  const attempts: ActivityAttempt[] = [];
  for (const event of history.events ?? []) {
    const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) scheduled.set(Number(event.eventId), name);
    const started = event.activityTaskStartedEventAttributes;
    const type = started ? scheduled.get(Number(started.scheduledEventId)) : undefined;
    if (started && type && types.includes(type)) {
      attempts.push({
        type,
        attempt: started.attempt ?? 1,
        identity: started.identity ?? '',
        ...(started.lastFailure ? { lastFailure: failureText(started.lastFailure) } : {}),
      });
    }
  }
  return attempts;
}

/** A failure's message followed by its causes'. */
function failureText(failure: { message?: string | null; cause?: unknown }): string {
  const parts: string[] = [];
  for (
    let current: typeof failure | undefined = failure;
    current;
    current = current.cause as typeof failure | undefined
  )
    parts.push(current.message ?? '');
  return parts.filter(Boolean).join(': ');
}

/** The run's pending activity of `type` once it matches `wanted` (e.g. started, or retried). */
export async function untilPending(
  handle: WorkflowHandle,
  type: string,
  wanted: (activity: {
    attempt: number;
    started: boolean;
    lastFailure: string | undefined;
    identity: string;
  }) => boolean,
  timeoutMs = 60_000,
) {
  return until(
    `a pending ${type} activity`,
    async () => {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING')
        throw new Error(`the run ended (${description.status.name}) before a matching ${type} was pending`);
      for (const activity of description.raw.pendingActivities ?? []) {
        if (activity.activityType?.name !== type) continue;
        const view = {
          attempt: activity.attempt ?? 1,
          // PendingActivityState 1 is SCHEDULED (waiting for a worker, or for its retry), 2 STARTED.
          started: Number(activity.state) === 2,
          lastFailure: activity.lastFailure ? failureText(activity.lastFailure) : undefined,
          identity: activity.lastWorkerIdentity ?? '',
        };
        if (wanted(view)) return view;
      }
      return undefined;
    },
    timeoutMs,
  );
}

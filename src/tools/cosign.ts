import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { RegistryAccess } from './registry-access.js';
import { toolCommand, toolNotStarted, type RunOptions } from './run-tool.js';
import { classifyToolFailure, ToolError } from './tool-error.js';

/** The cosign scripts/setup.sh builds (from its Go module) into .tools/cosign-<version>/. */
export const COSIGN_VERSION = '2.6.5';
const PROJECT_COSIGN = fileURLToPath(new URL(`../../.tools/cosign-${COSIGN_VERSION}/cosign`, import.meta.url));

/** cosign: COSIGN_PATH of the worker's environment, else the one scripts/setup.sh builds under .tools/. */
export function cosignPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.COSIGN_PATH || PROJECT_COSIGN;
}

/** Why cosign cannot be used, with the fix; undefined when the binary is there. */
export function cosignMissing(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const path = cosignPath(env);
  if (existsSync(path)) return undefined;
  return env.COSIGN_PATH
    ? `COSIGN_PATH=${path} does not exist: point it at a cosign ${COSIGN_VERSION} binary, or unset it to use the one scripts/setup.sh builds`
    : `cosign ${COSIGN_VERSION} is not installed at ${path}: run scripts/setup.sh (it builds cosign from its Go module; Go 1.25 or newer), or set COSIGN_PATH to a cosign binary`;
}

/**
 * How cosign reaches one registry. cosign has no --authfile: it reads the docker config.json of DOCKER_CONFIG, so a
 * private directory holds a copy of the 0600 authfile as config.json (an empty one for anonymous access, so a
 * ~/.docker/config.json of the worker's user is never used). cert_dir becomes --registry-cacert (the system CAs plus
 * the directory's *.crt, as containers/image reads them) and --registry-client-cert/--registry-client-key.
 */
export interface CosignAccess {
  /** A private directory (removed by the caller) with config.json and the files below. */
  dir: string;
  tlsVerify: boolean;
  caBundle?: string;
  clientCert?: string;
  clientKey?: string;
  /** An empty sigstore trusted root: verification is by key only, and cosign asks no TUF server for one. */
  trustedRoot: string;
}

const SYSTEM_CA_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];

/** Writes what cosign needs to reach a registry into `dir` (a fresh 0700 directory the caller removes afterwards). */
export async function cosignAccess(access: RegistryAccess, dir: string): Promise<CosignAccess> {
  const config = join(dir, 'config.json');
  const auths = access.authfile ? await readFile(access.authfile) : JSON.stringify({ auths: {} });
  await writeFile(config, auths, { mode: 0o600 });
  const trustedRoot = join(dir, 'trusted-root.json');
  await writeFile(
    trustedRoot,
    JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' }),
  );
  const result: CosignAccess = { dir, tlsVerify: access.tlsVerify, trustedRoot };
  if (!access.certDir) return result;
  const files = (await readdir(access.certDir)).sort();
  const cas = files.filter((file) => file.endsWith('.crt'));
  if (cas.length > 0) {
    const system = SYSTEM_CA_BUNDLES.find((bundle) => existsSync(bundle));
    const parts = await Promise.all(
      [...(system ? [system] : []), ...cas.map((file) => join(access.certDir!, file))].map((file) =>
        readFile(file, 'utf8'),
      ),
    );
    result.caBundle = join(dir, 'ca-bundle.crt');
    await writeFile(result.caBundle, parts.join('\n'));
  }
  const cert = files.find((file) => file.endsWith('.cert') && files.includes(`${file.slice(0, -'.cert'.length)}.key`));
  if (cert) {
    result.clientCert = join(access.certDir, cert);
    result.clientKey = join(access.certDir, `${cert.slice(0, -'.cert'.length)}.key`);
  }
  return result;
}

function registryArgs(access: CosignAccess): string[] {
  return [
    ...(access.tlsVerify ? [] : ['--allow-insecure-registry', '--allow-http-registry']),
    ...(access.caBundle ? ['--registry-cacert', access.caBundle] : []),
    ...(access.clientCert && access.clientKey
      ? ['--registry-client-cert', access.clientCert, '--registry-client-key', access.clientKey]
      : []),
  ];
}

interface CosignRun extends RunOptions {
  /** Written to cosign's stdin: the private key's passphrase (cosign reads a piped passphrase when COSIGN_PASSWORD is unset). */
  input?: string;
  access?: CosignAccess;
  env?: NodeJS.ProcessEnv;
}

interface CosignResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  command: string;
}

/**
 * Runs cosign as runTool runs every tool (setpriv --pdeathsig, the minimal tool environment), plus DOCKER_CONFIG when
 * it talks to a registry. The passphrase goes to its stdin: never on its command line, in its environment or a log.
 * Returns the exit code: verify's 10 (no signature) and 12 (no signature by this key) are answers, not failures.
 */
async function runCosign(args: string[], options: CosignRun = {}): Promise<CosignResult> {
  const file = cosignPath(options.env);
  const command = toolCommand(file, args);
  const env = { ...command.env, ...(options.access ? { DOCKER_CONFIG: options.access.dir } : {}) };
  const result = await execa(command.file, command.args, {
    reject: false,
    input: options.input ?? '',
    cancelSignal: options.signal,
    env,
    extendEnv: false,
    stripFinalNewline: false,
    stdout: 'pipe',
    stderr: options.onOutput ? ['pipe', lineSink(options.onOutput)] : 'pipe',
  });
  if (result.isCanceled) throw options.signal?.reason ?? new Error('cosign was cancelled');
  const stderr =
    String(result.stderr ?? '') || (result.failed && result.exitCode === undefined ? (result.message ?? '') : '');
  const missing = result.failed ? toolNotStarted(file, result, stderr) : undefined;
  if (missing) throw missing;
  return {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout ?? ''),
    stderr,
    command: ['cosign', ...args].join(' '),
  };
}

function lineSink(onLine: (line: string) => void) {
  return function* (line: unknown) {
    onLine(String(line));
    yield line;
  };
}

function failure(result: CosignResult): ToolError {
  return new ToolError(
    classifyToolFailure(result.stderr),
    'cosign',
    result.command,
    withoutWarnings(result.stderr),
    result.exitCode,
  );
}

/** cosign's WARNING lines (skipping the transparency log is intended here) hide the error line in messages. */
function withoutWarnings(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => !line.startsWith('WARNING:'))
    .join('\n');
}

/**
 * The public key (PEM) of an encrypted cosign private key: proves the passphrase decrypts it. Throws a ToolError
 * whose stderr says why not ("decrypt: encrypted: decryption failed" for a wrong passphrase).
 */
export async function cosignPublicKey(
  privateKey: string,
  passphrase: string,
  options: CosignRun = {},
): Promise<string> {
  const result = await runCosign(['public-key', '--key', privateKey], { ...options, input: passphrase });
  if (result.exitCode !== 0) throw failure(result);
  return result.stdout;
}

/**
 * Signs one digest (`registry/repository@sha256:…`) with the private key and stores the signature in the registry
 * as the sigstore attachment `sha256-<hex>.sig`. No transparency log: key-based, offline.
 */
export async function cosignSign(
  reference: string,
  privateKey: string,
  passphrase: string,
  access: CosignAccess,
  options: CosignRun = {},
): Promise<void> {
  const result = await runCosign(
    ['sign', '--yes', '--key', privateKey, '--tlog-upload=false', ...registryArgs(access), reference],
    { ...options, input: passphrase, access },
  );
  if (result.exitCode !== 0) throw failure(result);
}

/** What `cosign verify --key` says of a reference (a tag or a digest). */
export type CosignVerification =
  /** A signature by this key over the digest the reference resolves to (each payload's docker-manifest-digest). */
  | { outcome: 'verified'; digests: string[]; identities: string[] }
  /** The digest has no sigstore signature at all (exit 10). */
  | { outcome: 'unsigned'; detail: string }
  /** It has signatures, none by this key (exit 12). */
  | { outcome: 'not-by-this-key'; detail: string }
  /** The tag does not exist (exit 11). */
  | { outcome: 'no-such-tag'; detail: string };

const VERIFY_EXIT_CODES: Record<number, Exclude<CosignVerification['outcome'], 'verified'>> = {
  10: 'unsigned',
  11: 'no-such-tag',
  12: 'not-by-this-key',
};

/**
 * Verifies the signatures of a reference from the registry against one public key, as a user's `cosign verify --key`
 * does, minus the transparency log (none is used). Registry trouble throws a classified ToolError.
 */
export async function cosignVerify(
  reference: string,
  publicKey: string,
  access: CosignAccess,
  options: CosignRun = {},
): Promise<CosignVerification> {
  const result = await runCosign(
    [
      'verify',
      '--key',
      publicKey,
      '--insecure-ignore-tlog',
      '--trusted-root',
      access.trustedRoot,
      '--output',
      'json',
      ...registryArgs(access),
      reference,
    ],
    { ...options, access },
  );
  if (result.exitCode === 0) {
    const payloads = parseVerified(result.stdout);
    return {
      outcome: 'verified',
      digests: [...new Set(payloads.map((p) => p.critical?.image?.['docker-manifest-digest'] ?? ''))],
      identities: [...new Set(payloads.map((p) => p.critical?.identity?.['docker-reference'] ?? ''))],
    };
  }
  const outcome = VERIFY_EXIT_CODES[result.exitCode];
  if (outcome) return { outcome, detail: lastError(result.stderr) };
  throw failure(result);
}

interface SimpleSigningPayload {
  critical?: { identity?: { 'docker-reference'?: string }; image?: { 'docker-manifest-digest'?: string } };
}

function parseVerified(stdout: string): SimpleSigningPayload[] {
  try {
    const parsed: unknown = JSON.parse(stdout);
    if (Array.isArray(parsed)) return parsed as SimpleSigningPayload[];
  } catch {
    // Reported below.
  }
  throw new ToolError('unknown', 'cosign', 'cosign verify', `unexpected output: ${stdout.slice(0, 300)}`, 0);
}

function lastError(stderr: string): string {
  const lines = withoutWarnings(stderr)
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return (lines.find((line) => line.startsWith('Error: ')) ?? lines.at(-1) ?? '').replace(/^Error: /, '');
}

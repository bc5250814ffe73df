import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { DomainError } from '../domain/errors.js';
import type { RegistrySettings } from '../domain/settings.js';
import { DIGEST } from '../domain/signing.js';
import { cosignAccess, cosignSign, cosignVerify, type CosignAccess, type CosignVerification } from '../tools/cosign.js';
import { ToolError } from '../tools/tool-error.js';
import type { ActivityEnvironment } from './environment.js';
import { translatingFailures } from './failures.js';
import { withHeartbeats } from './heartbeat.js';
import { logContext } from './log-context.js';
import { AUTHFILE_DIR_PREFIX, withRegistryAccess } from './registry-credentials.js';
import type { SigningKey } from './signing-key.js';
import { withWorkDirFaults } from './work-dir-faults.js';

export interface SignImagesInput {
  /** A repository of the worker's [repositories], e.g. "fedora". */
  repository: string;
  /** The registries of the run (as in writeIndex); each is looked up in the worker's own [[registries]]. */
  registries: RegistrySettings[];
  /**
   * What was published: each digest (an arch image or an index) on one registry, and the tags it is published as
   * there. A digest gets one signature per registry (cosign signs the digest; the payload names the repository, no
   * tag); each tag is then verified to resolve to that signed digest, as a user's `cosign verify --key` sees it.
   */
  images: Array<{ registry: string; digest: string; tags: string[] }>;
}

export interface ImageSignature {
  registry: string;
  digest: string;
  /** The tags verified to resolve to this digest and its signature. */
  tags: string[];
  /** A signature was added now; false: one by the signing key was there already (an identical respin adds none). */
  signed: boolean;
  verified: true;
  /** The files of [signing] public_keys a signature of this digest verifies with, in config order. */
  keys: string[];
}

export interface SignImagesResult {
  /** false: this worker has no [signing]; nothing was signed or verified (and `signatures` is empty). */
  enabled: boolean;
  signatures: ImageSignature[];
}

const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Signs each published digest with the worker's [signing] key, unless a signature by that key is already there, and
 * verifies it from the registry against [signing] public_keys with cosign, as users verify; then verifies that each
 * tag resolves to it. A signature that does not verify is a final SignatureNotVerified naming the image, the registry
 * and the keys. The keys come from the worker's config only; the run names what to sign, never how.
 */
export function makeSignImages(environment: ActivityEnvironment) {
  return function signImages(input: SignImagesInput): Promise<SignImagesResult> {
    const doing = `signing the images of ${String(input?.repository).slice(0, 100)}`;
    return translatingFailures(doing, async () => {
      checkInput(input, environment);
      const key = environment.signing;
      if (!key) return { enabled: false, signatures: [] };
      const passphrase = environment.env[key.passphraseEnv];
      if (passphrase === undefined) {
        throw new DomainError(
          'SigningKeyUnusable',
          `[signing] passphrase_env = "${key.passphraseEnv}" is no longer set in this worker's environment; restart the worker with it set. Retried, in case another worker has it`,
        );
      }
      return withWorkDirFaults(environment, doing, undefined, () =>
        withHeartbeats(async (heartbeat) => {
          const context = Context.current();
          const signal = context.cancellationSignal;
          const signatures: ImageSignature[] = [];
          for (const registry of input.registries) {
            const images = input.images.filter((image) => image.registry === registry.url);
            if (images.length === 0) continue;
            const where = `${registry.url}/${input.repository}`;
            await withRegistryAccess(registry.url, environment, async (access) => {
              const dir = await mkdtemp(join(environment.scratchDir, AUTHFILE_DIR_PREFIX));
              try {
                const cosign = await cosignAccess(access, dir);
                for (const image of images) {
                  const started = Date.now();
                  const signature = await signOne(
                    where,
                    image,
                    key,
                    passphrase,
                    cosign,
                    { signal, env: environment.env },
                    heartbeat,
                  );
                  signatures.push({ registry: registry.url, ...signature });
                  context.log.info(signature.signed ? 'image signed' : 'image already signed', {
                    ...logContext(context),
                    repository: input.repository,
                    registry: registry.url,
                    digest: image.digest,
                    tags: image.tags,
                    keys: signature.keys,
                    ms: Date.now() - started,
                  });
                }
              } finally {
                await rm(dir, { recursive: true, force: true });
              }
            });
          }
          return { enabled: true, signatures };
        }),
      );
    });
  };
}

async function signOne(
  where: string,
  image: { digest: string; tags: string[] },
  key: SigningKey,
  passphrase: string,
  cosign: CosignAccess,
  { signal, env }: { signal: AbortSignal; env: NodeJS.ProcessEnv },
  heartbeat: (progress: unknown) => void,
): Promise<Omit<ImageSignature, 'registry'>> {
  const reference = `${where}@${image.digest}`;
  const run = { signal, env };
  heartbeat({ verifying: reference });
  const before = await cosignVerify(reference, key.ownPublicKey, cosign, run);
  const alreadySigned = verifies(before, image.digest, where);
  if (!alreadySigned) {
    heartbeat({ signing: reference });
    await cosignSign(reference, key.privateKey, passphrase, cosign, run).catch((error: unknown) => {
      throw keyFault(error, key) ?? error;
    });
  }
  heartbeat({ verifying: reference });
  const keys: string[] = [];
  for (const publicKey of key.publicKeys) {
    const found =
      alreadySigned && publicKey === key.ownPublicKey ? before : await cosignVerify(reference, publicKey, cosign, run);
    if (verifies(found, image.digest, where)) keys.push(publicKey);
    else if (publicKey === key.ownPublicKey) throw notVerified(reference, [publicKey], found);
  }
  for (const tag of image.tags) {
    const tagged = `${where}:${tag}`;
    heartbeat({ verifying: tagged });
    const found = await cosignVerify(tagged, key.ownPublicKey, cosign, run);
    if (found.outcome === 'verified' && !found.digests.includes(image.digest)) {
      throw new DomainError(
        'ConcurrentPublisher',
        `${tagged} resolves to ${found.digests.join(', ')}, not to ${image.digest}, which this run published and signed there: another publisher wrote the tag since`,
      );
    }
    if (!verifies(found, image.digest, where)) throw notVerified(tagged, [key.ownPublicKey], found, image.digest);
  }
  return { digest: image.digest, tags: image.tags, signed: !alreadySigned, verified: true, keys };
}

/**
 * A signature over this digest whose signed identity is this registry's repository: what podman's matchRepository
 * requires (a signature copied from another registry along with the image would not do there).
 */
function verifies(found: CosignVerification, digest: string, repository: string): boolean {
  return (
    found.outcome === 'verified' &&
    found.digests.length > 0 &&
    found.digests.every((d) => d === digest) &&
    found.identities.some((identity) => sameRepository(identity, repository))
  );
}

/** cosign writes Docker Hub's repositories as index.docker.io/…; the config names them docker.io/…. */
function sameRepository(a: string, b: string): boolean {
  const hub = (name: string) => name.replace(/^(index|registry-1)\.docker\.io\//, 'docker.io/');
  return hub(a) === hub(b);
}

function notVerified(reference: string, keys: string[], found: CosignVerification, digest?: string): DomainError {
  const what =
    found.outcome === 'verified'
      ? `its signatures are over ${found.digests.join(', ')} for ${found.identities.join(', ')}`
      : found.outcome === 'unsigned'
        ? 'it has no sigstore signature'
        : found.outcome === 'no-such-tag'
          ? 'the tag does not exist'
          : `it has signatures, none by this key (${found.detail})`;
  const registry = reference.split('/')[0]!;
  return new DomainError(
    'SignatureNotVerified',
    `${reference}${digest ? ` (published as ${digest})` : ''} does not verify on registry ${registry} with ${keys.join(', ')}: ${what}. ` +
      `What the registry serves there is not what this run signed; nothing more is published for it. Check who else writes to the repository, then publish the compose again`,
  );
}

/** cosign failed on the key, not the registry: the key file changed since the worker checked it at start. */
function keyFault(error: unknown, key: SigningKey): DomainError | undefined {
  if (!(error instanceof ToolError) || !/decrypt|open .*\.key|pem|private key/i.test(error.stderr)) return undefined;
  return new DomainError(
    'SigningKeyUnusable',
    `[signing] private_key = "${key.privateKey}" cannot be used any more (${error.message}); it was usable when this worker started. Fix the file, or restart the worker to have it checked. Retried, in case another worker has it`,
  );
}

/** The run's input is untrusted: names it gives must be names, and the registries and repository the worker's own. */
function checkInput(input: SignImagesInput, environment: ActivityEnvironment): void {
  const bad = (what: string) =>
    new DomainError('InvalidInput', `signImages: ${what}; the workflow passes what it published`);
  if (typeof input !== 'object' || input === null) throw bad('the input is not an object');
  if (typeof input.repository !== 'string' || !REPOSITORY.test(input.repository))
    throw bad(`repository ${JSON.stringify(String(input.repository).slice(0, 100))} is not a repository name`);
  const repositories = new Set(Object.values(environment.settings.repositories));
  if (!repositories.has(input.repository)) {
    throw new DomainError(
      'UntrustedInput',
      `repository "${input.repository}" is not one of this worker's [repositories] (${[...repositories].join(', ')}); a run signs only what the worker's config publishes`,
    );
  }
  if (!Array.isArray(input.registries) || !Array.isArray(input.images)) throw bad('registries and images are lists');
  for (const image of input.images) {
    if (typeof image?.digest !== 'string' || !DIGEST.test(image.digest))
      throw bad(`${JSON.stringify(String(image?.digest).slice(0, 100))} is not a sha256 digest`);
    if (!Array.isArray(image.tags) || !image.tags.every((tag) => typeof tag === 'string' && TAG.test(tag)))
      throw bad(`the tags of ${image.digest} are not tag names`);
    if (!input.registries.some((registry) => registry?.url === image.registry))
      throw bad(
        `${image.digest} names registry ${JSON.stringify(String(image.registry).slice(0, 200))}, not in registries`,
      );
  }
}

/**
 * Signing what a run publishes ([signing] in the worker's config): pure helpers. The keys themselves never leave the
 * worker: a run learns only the public key files that verified each signature.
 */

/**
 * [signing] of a worker's config. Key-based only (cosign's encrypted private key format); keyless signing (Fulcio and
 * Rekor) would be another kind of table, so the key-based fields are named for what they are, not made optional.
 */
export interface SigningSettings {
  /** Path of cosign's encrypted private key ("ENCRYPTED SIGSTORE PRIVATE KEY"). */
  privateKey: string;
  /** Name of the environment variable of the worker that holds the private key's passphrase. */
  passphraseEnv: string;
  /** Public keys (PEM files) a signature may verify with: the private key's own, and during a rotation the other. */
  publicKeys: string[];
}

/** A digest as registries and cosign write it. */
export const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * The tag cosign and containers/image store a digest's sigstore signatures under (the "sigstore attachment"):
 * `sha256-<hex>.sig` in the same repository. One tag per digest, whatever tags the digest is published as.
 */
export function signatureTag(digest: string): string {
  if (!DIGEST.test(digest)) throw new Error(`not a sha256 digest: ${JSON.stringify(digest.slice(0, 80))}`);
  return `${digest.replace(':', '-')}.sig`;
}

/**
 * A PEM document reduced to what identifies it: its type and base64 body, without line breaks, surrounding text or
 * trailing whitespace. Undefined when the text holds no PEM block.
 */
export function normalizePem(text: string): string | undefined {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (!match) return undefined;
  return `${match[1]}:${match[2]!.replace(/\s+/g, '')}`;
}

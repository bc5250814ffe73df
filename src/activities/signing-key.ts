import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { normalizePem, type SigningSettings } from '../domain/signing.js';
import { unreadableFileReason } from '../domain/unreadable-file.js';
import { cosignMissing, cosignPublicKey } from '../tools/cosign.js';
import { ToolError } from '../tools/tool-error.js';

/** [signing] as a worker checked it at start: the key decrypts, and `ownPublicKey` (one of public_keys) is its own. */
export interface SigningKey extends SigningSettings {
  /** The file of public_keys that holds the private key's public key: "already signed by this key" is asked with it. */
  ownPublicKey: string;
}

/** [signing] cannot be used: the message names the key, the file and the fix. The worker command makes it a ConfigError. */
export class SigningKeyError extends Error {
  override readonly name = 'SigningKeyError';
}

/**
 * Checks [signing] for real before a worker starts: cosign is there, private_key can be read and is a cosign key,
 * the environment variable passphrase_env is set and its passphrase decrypts the key (cosign public-key), and
 * public_keys holds the key's public key (compared as PEM, whatever the line breaks). `where` is the config file,
 * for messages.
 */
export async function checkSigningKey(
  signing: SigningSettings,
  env: NodeJS.ProcessEnv,
  where: string,
): Promise<SigningKey> {
  const key = `${where}: [signing] private_key = "${signing.privateKey}"`;
  const missing = cosignMissing(env);
  if (missing) throw new SigningKeyError(`${where}: [signing] is set, but ${missing}`);
  const text = await readKeyFile(
    signing.privateKey,
    key,
    'a cosign private key (`cosign generate-key-pair` writes one)',
  );
  if (!/-----BEGIN (ENCRYPTED SIGSTORE|ENCRYPTED COSIGN) PRIVATE KEY-----/.test(text)) {
    throw new SigningKeyError(
      `${key} (${resolve(signing.privateKey)}) is not a cosign private key (no "ENCRYPTED SIGSTORE PRIVATE KEY" block). Fix: point private_key at the cosign.key that \`cosign generate-key-pair\` wrote`,
    );
  }
  const passphrase = env[signing.passphraseEnv];
  if (passphrase === undefined) {
    throw new SigningKeyError(
      `${where}: [signing] passphrase_env = "${signing.passphraseEnv}", but ${signing.passphraseEnv} is not set in the worker's environment. Fix: set ${signing.passphraseEnv} to the passphrase of ${signing.privateKey}`,
    );
  }
  let publicPem: string;
  try {
    publicPem = await cosignPublicKey(signing.privateKey, passphrase, { env });
  } catch (error) {
    if (!(error instanceof ToolError)) throw error;
    const decrypt = /decrypt/i.test(error.stderr);
    throw new SigningKeyError(
      decrypt
        ? `${key} does not decrypt with the passphrase in ${signing.passphraseEnv} (cosign: ${error.message}). Fix: set ${signing.passphraseEnv} to the passphrase the key was generated with, or point private_key at the key that passphrase is for`
        : `${key} cannot be used (cosign: ${error.message}). Fix: point private_key at the cosign.key that \`cosign generate-key-pair\` wrote`,
    );
  }
  const own = normalizePem(publicPem);
  if (!own) throw new SigningKeyError(`${key}: cosign public-key printed no public key: ${publicPem.slice(0, 200)}`);
  let ownPublicKey: string | undefined;
  for (const [index, file] of signing.publicKeys.entries()) {
    const label = `${where}: [signing] public_keys[${index}] = "${file}"`;
    const pem = normalizePem(await readKeyFile(file, label, 'a PEM public key (cosign.pub)'));
    if (!pem)
      throw new SigningKeyError(
        `${label} (${resolve(file)}) holds no PEM public key. Fix: point it at a cosign.pub (\`cosign public-key --key <private key>\` prints one)`,
      );
    if (pem === own) ownPublicKey ??= file;
  }
  if (!ownPublicKey) {
    throw new SigningKeyError(
      `${where}: [signing] public_keys (${signing.publicKeys.join(', ')}) does not hold the public key of private_key = "${signing.privateKey}": what it signs would not verify. ` +
        `Fix: add the key's own public key (\`cosign public-key --key ${signing.privateKey}\` prints it) to public_keys, or point private_key at the key of one of them. Its public key is:\n${publicPem.trim()}`,
    );
  }
  return { ...signing, ownPublicKey };
}

async function readKeyFile(file: string, label: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const reason = unreadableFileReason(error, "permission denied for the worker's user");
    throw new SigningKeyError(
      `${label} cannot be read (${resolve(file)}: ${reason}). Fix: put ${what} there, readable by the worker's user, or change the path`,
    );
  }
}

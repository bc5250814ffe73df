// cosign as an operator and a user run it: making a key pair, and verifying what a registry serves.
import { join } from 'node:path';
import { execa } from 'execa';
import { inject } from 'vitest';
import { cosignPath } from '../../src/tools/cosign.js';

const COSIGN = cosignPath();

/** `cosign generate-key-pair` into dir/<name>.key and .pub, as an operator makes the key. */
export async function cosignKeyPair(
  dir: string,
  name: string,
  passphrase: string,
): Promise<{ key: string; pub: string }> {
  await execa(COSIGN, ['generate-key-pair', '--output-key-prefix', join(dir, name)], {
    env: { COSIGN_PASSWORD: passphrase },
  });
  return { key: join(dir, `${name}.key`), pub: join(dir, `${name}.pub`) };
}

/** What a user's `cosign verify --key` (JSON output) says of a reference in a plain-HTTP registry. */
export function userVerifies(reference: string, publicKey: string) {
  return execa(
    COSIGN,
    [
      'verify',
      '--key',
      publicKey,
      '--insecure-ignore-tlog',
      '--allow-insecure-registry',
      '--allow-http-registry',
      '--output',
      'json',
      reference,
    ],
    { reject: false, env: { HOME: join(inject('scratchDir'), 'cosign-home') } },
  );
}

import { DomainError } from './errors.js';
import type { ComposeArch, OciArch } from './types.js';

/**
 * Maps a compose arch (x86_64) to its OCI name (amd64) using the [architectures] config table.
 * An arch the table does not map fails loudly: publishing under a guessed name would create an
 * index entry nobody can pull. `seenAt` names where the arch was found, for the message.
 */
export function toOciArch(composeArch: ComposeArch, architectures: Record<string, string>, seenAt?: string): OciArch {
  const mapped = Object.hasOwn(architectures, composeArch) ? architectures[composeArch] : undefined;
  if (mapped) return mapped;
  const where = seenAt ? `${seenAt}: the` : 'The';
  throw new DomainError(
    'UnmappedArchitecture',
    `${where} compose has a container image for architecture ${JSON.stringify(composeArch.slice(0, 40))}${composeArch.length > 40 ? '…' : ''}, which the configuration does not map to an OCI architecture, so nothing of this compose is published. ` +
      `Fix: map it in the config: [architectures] ${composeArch.slice(0, 40)} = "<OCI arch name>"`,
  );
}

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

/**
 * The compose arch name (x86_64) of an OCI arch (amd64): the first compose arch the [architectures] table maps to
 * it, or the OCI name itself when none does (an arch carried from an index published under another table).
 */
export function composeArchOf(ociArch: OciArch, architectures: Record<string, string>): ComposeArch {
  return Object.keys(architectures).find((composeArch) => architectures[composeArch] === ociArch) ?? ociArch;
}

import type { PreparedImage } from './types.js';

/** A prepareImage result as a history holds it: the digest alone (recorded before the platform), or both. */
export type RecordedPreparation = string | PreparedImage;

export function preparedDigest(prepared: RecordedPreparation): string {
  return typeof prepared === 'string' ? prepared : prepared.digest;
}

/** The image's platform, when the result carries it (an index write then reads no image config). */
export function preparedPlatform(prepared: RecordedPreparation): PreparedImage['platform'] | undefined {
  return typeof prepared === 'string' ? undefined : prepared.platform;
}

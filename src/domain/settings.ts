import type { ImageSelectionSettings } from './image-selection.js';
import type { ReleaseSettings } from './tags.js';

/** The part of the configuration a run needs, carried in the workflow input so every run records what it used. No secrets. */
export interface RegistrySettings {
  /** host[:port]/namespace, e.g. quay.io/fedora */
  url: string;
  /** Environment variable prefix: <prefix>USER / <prefix>PASSWORD, read by activities at run time. */
  credentialPrefix?: string;
  tlsVerify: boolean;
  certDir?: string;
}

/** What a blocked repository does when its wait for an override runs out. */
export const WAIT_END_POLICIES = ['stay-blocked', 'hybrid'] as const;

export interface PublishSettings {
  registries: RegistrySettings[];
  /** subvariant → repository */
  repositories: Record<string, string>;
  /** compose arch → OCI arch */
  architectures: Record<string, string>;
  releases: ReleaseSettings;
  /** How long a blocked repository waits for an operator, as a duration like "72h". */
  waitForOverride: string;
  /** [images]: which images.json entries are container images. Absent in runs started before it existed: the defaults. */
  images?: ImageSelectionSettings;
  /**
   * Repositories that, when the wait for an override runs out, publish hybrid by policy ([gate] when_wait_ends):
   * the new arches, and the previous image of each missing arch. Absent: every repository stays blocked.
   */
  hybridOnWaitEnd?: string[];
  /** [staleness] warn_after: an arch lagging this long is announced (staleness report). Absent: 3d. */
  stalenessWarnAfter?: string;
  /** How many arch images are pushed at once. */
  maxParallelPushes: number;
  /**
   * The worker signs what runs publish ([signing]): each arch image and index, verified from the registry before
   * the index moves. The key stays with the worker; absent: nothing is signed.
   */
  signing?: true;
  /** Announce decisions on this topic exchange ([amqp] in the config); absent: no notifications. */
  notifications?: {
    exchange: string;
    topicPrefix: string;
    /** Also announce each published index on fedora_image_uploader.published.v1.container. Absent (older runs): no. */
    seedAnnouncements?: boolean;
  };
}

import { defineQuery } from '@temporalio/workflow';
import type { PublishSettings } from '../domain/settings.js';
import type { OciArch, RepositoryDecision } from '../domain/types.js';

export interface PublishComposeInput {
  /** Compose top directory: http(s) URL or absolute local path. */
  location: string;
  composeId: string;
  settings: PublishSettings;
}

export type PublishPhase =
  | 'fetching'
  | 'preparing-images'
  | 'inspecting'
  | 'pushing-images'
  | 'publishing-manifests'
  | 'done'
  | 'failed';

export interface RepositoryStatus extends RepositoryDecision {
  /** Arch images of this compose with their digests, once pushed. */
  pushed: Array<{ ociArch: OciArch; digest: string }>;
  /** Indexes this run published. */
  manifests: Array<{ registry: string; tag: string; digest: string }>;
}

export interface PublishStatus {
  composeId: string;
  release?: string;
  manifestTags: string[];
  phase: PublishPhase;
  repositories: RepositoryStatus[];
  error?: string;
}

export type PublishComposeResult = PublishStatus;

export const statusQuery = defineQuery<PublishStatus>('status');

// Typed search attribute keys (the shape defineSearchAttributeKey returns; workflow code imports only @temporalio/workflow).
export const COMPOSE_ID = { name: 'ComposeId', type: 'KEYWORD' } as const;
export const RELEASE = { name: 'Release', type: 'KEYWORD' } as const;
export const GATE_DECISION = { name: 'GateDecision', type: 'KEYWORD_LIST' } as const;

export function publishWorkflowId(composeId: string): string {
  return `publish:${composeId}`;
}

import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { OverrideRecord, OverrideRequest } from '../domain/override.js';
import type { PublishStatus } from '../domain/run-contract/index.js';

export const statusQuery = defineQuery<PublishStatus>('status');

/** From the Temporal UI ("Send Signal", name override) or `temporal workflow signal`. */
export const overrideSignal = defineSignal<[OverrideRequest]>('override');
/** From the CLI: validated before anything is written; the caller gets the rejection. */
export const overrideUpdate = defineUpdate<OverrideRecord[], [OverrideRequest]>('override');

import type { Client } from '@temporalio/client';
import type { ConsumeMessage } from 'amqplib';
import { locateCompose } from '../compose/read-compose.js';
import { startRunForCompose } from '../client/publish-runs.js';
import type { Config } from '../config.js';
import { DomainError } from '../domain/errors.js';
import { isRetryable } from '../domain/failure-types.js';
import { checkRunRequest } from '../domain/run-input.js';
import type { DeliveryLog } from './log.js';
import { readStatusMessage, type MessageFilter } from './message.js';

export type Settlement = 'ack' | 'dead-letter' | 'requeue';

/** Bounds on the two remote calls per message, so a hung compose host or Temporal cannot hold a message forever. */
const COMPOSE_READ_TIMEOUT_MS = 30_000;
const START_DEADLINE_MS = 30_000;

export interface DeliveryDecision {
  settle: Settlement;
  log: DeliveryLog;
}

export interface DeliveryContext {
  client: Client;
  config: Config;
  filter: MessageFilter;
  /** Runs tasks with the same key one after the other (two copies of a message must not race to start a run). */
  serialize<T>(key: string, task: () => Promise<T>): Promise<T>;
}

/**
 * Decides what to do with one delivery; never throws. A run is only reported started (and the message acked)
 * once Temporal has confirmed it; anything the message itself gets wrong is dead-lettered; trouble that a
 * later attempt may not have (Temporal or the compose host unreachable) requeues it.
 */
export async function decideDelivery(message: ConsumeMessage, context: DeliveryContext): Promise<DeliveryDecision> {
  const delivery = { routingKey: message.fields.routingKey, redelivered: message.fields.redelivered };
  const verdict = readStatusMessage(message.content, context.filter);
  if (verdict.kind === 'invalid') {
    return {
      settle: 'dead-letter',
      log: { ...delivery, outcome: 'dead-lettered', composeId: verdict.composeId, reason: verdict.reason },
    };
  }
  if (verdict.kind === 'ignored') {
    return {
      settle: 'ack',
      log: { ...delivery, outcome: 'ignored', composeId: verdict.composeId, reason: verdict.reason },
    };
  }
  const about = { ...delivery, composeId: verdict.composeId, location: verdict.location };
  let root: string;
  let actualId: string;
  try {
    ({
      root,
      info: { composeId: actualId },
    } = await locateCompose(verdict.location, {
      signal: AbortSignal.timeout(COMPOSE_READ_TIMEOUT_MS),
      allowed: context.filter.allowedLocations,
    }));
  } catch (error) {
    const reason = `cannot read the compose at the location: ${(error as Error).message}`;
    if (isPermanent(error)) return { settle: 'dead-letter', log: { ...about, outcome: 'dead-lettered', reason } };
    return { settle: 'requeue', log: { ...about, outcome: 'requeued', reason } };
  }
  if (actualId !== verdict.composeId) {
    const reason = `compose_id does not match the compose at the location: its metadata/composeinfo.json says ${actualId}`;
    return { settle: 'dead-letter', log: { ...about, outcome: 'dead-lettered', reason } };
  }

  try {
    checkRunRequest({ location: root, composeId: actualId }, Date.now());
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { settle: 'dead-letter', log: { ...about, outcome: 'dead-lettered', reason: error.message } };
  }

  try {
    const start = () => startRunForCompose(context.client, context.config, root, actualId);
    const run = await context.serialize(actualId, () =>
      context.client.withDeadline(Date.now() + START_DEADLINE_MS, start),
    );
    if (run.started) return { settle: 'ack', log: { ...about, outcome: 'started', workflowId: run.workflowId } };
    return {
      settle: 'ack',
      log: { ...about, outcome: 'already-started', workflowId: run.workflowId, run: run.existingStatus },
    };
  } catch (error) {
    return {
      settle: 'requeue',
      log: { ...about, outcome: 'requeued', reason: `Temporal did not confirm the start: ${withCauses(error)}` },
    };
  }
}

/** Missing or malformed compose metadata: the same message will fail the same way. */
function isPermanent(error: unknown): boolean {
  return error instanceof DomainError && !isRetryable(error.type);
}

/** "Failed to start Workflow: 14 UNAVAILABLE: …": the client's errors keep the useful part in their causes. */
function withCauses(error: unknown): string {
  const messages: string[] = [];
  for (let current = error; current instanceof Error && messages.length < 5; current = current.cause)
    messages.push(current.message);
  return messages.length > 0 ? messages.join(': ') : String(error);
}

import type { Logger } from '@temporalio/common';

/** What the listener did with one delivery. */
export type DeliveryOutcome = 'started' | 'already-started' | 'ignored' | 'dead-lettered' | 'requeued';

export interface DeliveryLog {
  outcome: DeliveryOutcome;
  composeId?: string;
  workflowId?: string;
  /** For already-started: the existing run's status (RUNNING, COMPLETED, …) when known. */
  run?: string;
  location?: string;
  reason?: string;
  routingKey: string;
  redelivered: boolean;
  /** Set when the ack or reject could not be sent (channel closed): the broker will deliver the message again. */
  unsettled?: string;
}

export interface ConnectionLog {
  event: 'connected' | 'disconnected' | 'connect-failed' | 'stopped';
  broker: string;
  queue: string;
  reason?: string;
  retryInMs?: number;
}

export type ListenerLogEntry = DeliveryLog | ConnectionLog;
export type ListenerLog = (entry: ListenerLogEntry) => void;

/** One JSON object per line on stdout: the time, then the outcome (or event), then the details. */
export const jsonLines: ListenerLog = (entry) => {
  const headline = 'outcome' in entry ? { outcome: entry.outcome } : { event: entry.event };
  console.log(JSON.stringify({ time: new Date().toISOString(), ...headline, ...entry }));
};

/** The broker URL as it may appear in logs: the password replaced. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable [amqp].url)';
  }
}

const WARNINGS = new Set(['dead-lettered', 'requeued', 'disconnected', 'connect-failed']);

/** Routes listener entries through a levelled logger (the CLI's JSON logger and --log-level): trouble as warn, the rest as info. */
export function leveledLog(logger: Pick<Logger, 'info' | 'warn'>): ListenerLog {
  return (entry) => {
    const name = 'outcome' in entry ? entry.outcome : entry.event;
    if (WARNINGS.has(name)) logger.warn(name, { ...entry });
    else logger.info(name, { ...entry });
  };
}

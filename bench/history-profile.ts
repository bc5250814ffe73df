/**
 * Where a run's time went, read from its workflow history: per activity type the count and the summed durations
 * (ActivityTaskScheduled → Started → Completed/Failed), the workflow tasks, and the events by type.
 */
import proto, { type temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
// @temporalio/proto is CommonJS: its namespace comes through the default export under plain node.
const EventType = proto.temporal.api.enums.v1.EventType;

export interface ActivityTypeProfile {
  type: string;
  /** Activities scheduled. */
  count: number;
  /** Attempts, retries included. */
  attempts: number;
  /** Activities that ended other than completed (failed, timed out, cancelled). */
  failed: number;
  /** Σ scheduled → started (of the last attempt): waiting for a worker slot, plus earlier attempts. */
  waitMs: number;
  /** Σ started → closed: the activity running (its last attempt). */
  runMs: number;
  /** First scheduled → last closed: wall time this type was in flight. */
  spanMs: number;
}

export interface HistoryProfile {
  events: number;
  /** First event → last event. */
  wallMs: number;
  activities: ActivityTypeProfile[];
  workflowTasks: { count: number; scheduledToCompletedMs: number; startedToCompletedMs: number };
  /** Events by type name, most frequent first. */
  eventTypes: Array<{ type: string; count: number }>;
}

export function profileHistory(history: History): HistoryProfile {
  const events = history.events ?? [];
  const scheduled = new Map<number, { type: string; at: number }>();
  const started = new Map<number, { at: number; attempt: number }>();
  const byType = new Map<string, ActivityTypeProfile & { first: number; last: number }>();
  const workflowTaskScheduled = new Map<number, number>();
  const workflowTaskStarted = new Map<number, number>();
  const workflowTasks = { count: 0, scheduledToCompletedMs: 0, startedToCompletedMs: 0 };
  const eventTypes = new Map<string, number>();

  for (const event of events) {
    const at = eventTime(event);
    const id = num(event.eventId);
    const typeName = (EventType[event.eventType ?? 0] ?? 'unknown').replace(/^EVENT_TYPE_/, '');
    eventTypes.set(typeName, (eventTypes.get(typeName) ?? 0) + 1);
    switch (event.eventType) {
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const type = event.activityTaskScheduledEventAttributes?.activityType?.name ?? 'unknown';
        scheduled.set(id, { type, at });
        const row = byType.get(type) ?? {
          type,
          count: 0,
          attempts: 0,
          failed: 0,
          waitMs: 0,
          runMs: 0,
          spanMs: 0,
          first: at,
          last: at,
        };
        row.count++;
        row.first = Math.min(row.first, at);
        byType.set(type, row);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const attributes = event.activityTaskStartedEventAttributes;
        started.set(num(attributes?.scheduledEventId), { at, attempt: attributes?.attempt ?? 1 });
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: {
        const attributes =
          event.activityTaskCompletedEventAttributes ??
          event.activityTaskFailedEventAttributes ??
          event.activityTaskTimedOutEventAttributes ??
          event.activityTaskCanceledEventAttributes;
        const scheduledId = num(attributes?.scheduledEventId);
        const origin = scheduled.get(scheduledId);
        if (!origin) break;
        const row = byType.get(origin.type)!;
        const start = started.get(scheduledId);
        row.attempts += start?.attempt ?? 1;
        if (event.eventType !== EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) row.failed++;
        row.waitMs += (start?.at ?? at) - origin.at;
        row.runMs += start ? at - start.at : 0;
        row.last = Math.max(row.last, at);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        workflowTaskScheduled.set(id, at);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        workflowTaskStarted.set(id, at);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
        const attributes = event.workflowTaskCompletedEventAttributes;
        const scheduledAt = workflowTaskScheduled.get(num(attributes?.scheduledEventId));
        const startedAt = workflowTaskStarted.get(num(attributes?.startedEventId));
        workflowTasks.count++;
        if (scheduledAt !== undefined) workflowTasks.scheduledToCompletedMs += at - scheduledAt;
        if (startedAt !== undefined) workflowTasks.startedToCompletedMs += at - startedAt;
        break;
      }
    }
  }
  const times = events.map(eventTime);
  return {
    events: events.length,
    wallMs: times.length > 0 ? Math.max(...times) - Math.min(...times) : 0,
    activities: [...byType.values()]
      .map(({ first, last, ...row }) => ({ ...row, spanMs: last - first }))
      .sort((a, b) => b.runMs - a.runMs),
    workflowTasks,
    eventTypes: [...eventTypes.entries()].map(([type, count]) => ({ type, count })).sort((a, b) => b.count - a.count),
  };
}

/** Events of `history` that happened within [fromMs, toMs] (for workflows, like the repository locks, that outlive a run). */
export function eventsWithin(history: History, fromMs: number, toMs: number): number {
  return (history.events ?? []).filter((event) => {
    const at = eventTime(event);
    return at >= fromMs && at <= toMs;
  }).length;
}

function eventTime(event: HistoryEvent): number {
  const time = event.eventTime;
  if (!time) return 0;
  return num(time.seconds) * 1000 + (time.nanos ?? 0) / 1e6;
}

/** History numbers are Longs (or numbers, or absent). */
function num(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value && typeof (value as { toNumber?: unknown }).toNumber === 'function')
    return (value as { toNumber: () => number }).toNumber();
  return Number(value ?? 0);
}

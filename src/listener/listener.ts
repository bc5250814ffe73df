import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { allowedLocations, brokerSettings, ConfigError, type Config } from '../config.js';
import { ALLOWED_LOCATIONS_KEY, type AllowedLocations } from '../domain/allowed-location.js';
import { connectBroker } from '../tools/broker-connection.js';
import { refusal } from './broker-errors.js';
import { decideDelivery, type DeliveryContext, type DeliveryDecision } from './deliveries.js';
import { jsonLines, redactedUrl, type ConnectionLog, type ListenerLog } from './log.js';
import { declareTopology, type AmqpSettings } from './topology.js';

export interface ListenerOptions {
  client: Client;
  /** Needs an [amqp] table. */
  config: Config;
  /** Default: JSON lines on stdout. */
  log?: ListenerLog;
  /** How long a message waits before it is requeued after Temporal or the compose host failed. Default 5 s. */
  requeueDelayMs?: number;
  /** Reconnect back-off: doubles from initialMs up to maxMs, back to initialMs once connected. Default 0.5 s → 10 s. */
  reconnect?: { initialMs: number; maxMs: number };
}

export interface Listener {
  /** Resolves once stopped; rejects with a ConfigError when the broker refuses the setup (login, exchange, queue). */
  readonly done: Promise<void>;
  /** Stops consuming, lets deliveries in progress settle (unsettled ones return to the queue) and disconnects. */
  stop(): Promise<void>;
}

/** Consumes compose status messages and starts a publish run for each wanted compose; reconnects until stopped. */
export function startListener(options: ListenerOptions): Listener {
  const { amqp } = options.config;
  if (!amqp)
    throw new ConfigError(
      `${options.config.source}: no [amqp] table; the listener needs at least [amqp] url = "amqp://user:password@host:5672/%2F"`,
    );
  const allowed = allowedLocations(options.config);
  if (!allowed) {
    throw new ConfigError(
      `${options.config.source}: ${ALLOWED_LOCATIONS_KEY} is not set; the listener starts runs only for composes under these prefixes, e.g. [compose] allowed_locations = ["https://kojipkgs.fedoraproject.org/compose/"]`,
    );
  }
  const listener = new AmqpListener(amqp, allowed, options);
  const done = listener.run();
  // Whoever awaits `done` still sees a rejection; this only keeps it from being an unhandled one meanwhile.
  done.catch(() => {});
  return { done, stop: () => listener.stop(done) };
}

interface Session {
  connection: ChannelModel;
  channel?: Channel;
  consumerTag?: string;
  /** Resolves with the reason the session ended: connection or channel closed, consumer cancelled. */
  ended: Promise<string>;
  end(reason: string): void;
}

/** Messages whose failed attempts are counted at once; the oldest is forgotten beyond this. */
const MAX_TRACKED_MESSAGES = 10_000;

/** How long stopping waits for each step (cancel, deliveries in progress, close) of a broker or Temporal that hangs. */
const STOP_GRACE_MS = 10_000;

async function bounded(step: Promise<unknown>): Promise<void> {
  await Promise.race([step.catch(() => {}), sleep(STOP_GRACE_MS, undefined, { ref: false })]);
}

class AmqpListener {
  private readonly log: ListenerLog;
  private readonly context: DeliveryContext;
  private readonly stopSignal = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly chains = new Map<string, Promise<void>>();
  /** Failed attempts per message (by content), for [amqp] max_redeliveries. */
  private readonly attempts = new Map<string, number>();
  private session: Session | undefined;

  constructor(
    private readonly amqp: AmqpSettings,
    allowed: AllowedLocations,
    private readonly options: ListenerOptions,
  ) {
    this.log = options.log ?? jsonLines;
    this.context = {
      client: options.client,
      config: options.config,
      filter: {
        statuses: amqp.statuses,
        composeIdPatterns: amqp.compose_id_patterns.map((source) => new RegExp(source)),
        allowedLocations: allowed,
      },
      serialize: (key, task) => this.serialize(key, task),
    };
  }

  private get stopping(): boolean {
    return this.stopSignal.signal.aborted;
  }

  async run(): Promise<void> {
    const { initialMs, maxMs } = this.options.reconnect ?? { initialMs: 500, maxMs: 10_000 };
    let failures = 0;
    while (!this.stopping) {
      let event: ConnectionLog['event'];
      let reason: string;
      try {
        const session = await this.openSession();
        if (this.stopping) break;
        failures = 0;
        this.connectionLog({ event: 'connected' });
        reason = await session.ended;
        event = 'disconnected';
      } catch (error) {
        await this.closeSession();
        const fatal = refusal(error, this.amqp, this.options.config.source);
        if (fatal) throw fatal;
        event = 'connect-failed';
        reason = (error as Error).message;
      }
      await this.closeSession();
      if (this.stopping) break;
      const retryInMs = Math.min(initialMs * 2 ** failures, maxMs);
      failures += 1;
      this.connectionLog({ event, reason, retryInMs });
      await sleep(retryInMs, undefined, { signal: this.stopSignal.signal }).catch(() => {});
    }
    await this.closeSession();
    this.connectionLog({ event: 'stopped' });
  }

  async stop(done: Promise<void>): Promise<void> {
    if (!this.stopping) {
      this.stopSignal.abort();
      const session = this.session;
      if (session?.channel && session.consumerTag) await bounded(session.channel.cancel(session.consumerTag));
      await bounded(Promise.allSettled([...this.inFlight]));
      await this.closeSession();
    }
    await done.catch(() => {});
  }

  private async openSession(): Promise<Session> {
    const connection = await connectBroker(brokerSettings(this.amqp));
    let end!: (reason: string) => void;
    const ended = new Promise<string>((resolve) => (end = resolve));
    const session: Session = { connection, ended, end };
    this.session = session;
    // amqplib emits 'error' before 'close' on a broker-side close; without a listener 'error' would crash us.
    connection.on('error', (error: Error) => end(error.message));
    connection.on('close', (error?: Error) => end(error ? error.message : 'connection closed'));
    const channel = await connection.createChannel();
    // A channel closes on its own only with an 'error' (else the connection closed, and says why).
    channel.on('error', (error: Error) => end(error.message));
    session.channel = channel;
    await declareTopology(channel, this.amqp);
    if (this.stopping) return session;
    const consumer = await channel.consume(this.amqp.queue, (message) => this.onDelivery(session, channel, message), {
      noAck: false,
    });
    session.consumerTag = consumer.consumerTag;
    return session;
  }

  private async closeSession(): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    session.end('closed by the listener');
    await bounded(session.connection.close());
  }

  private onDelivery(session: Session, channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      session.end(`the broker cancelled the consumer (was queue "${this.amqp.queue}" deleted?)`);
      return;
    }
    const task = this.handle(channel, message);
    this.inFlight.add(task);
    const forget = () => this.inFlight.delete(task);
    void task.then(forget, forget);
  }

  private async handle(channel: Channel, message: ConsumeMessage): Promise<void> {
    const decision = await decideDelivery(message, this.context).catch((error: unknown): DeliveryDecision => ({
      settle: 'dead-letter',
      log: {
        outcome: 'dead-lettered',
        routingKey: message.fields.routingKey,
        redelivered: message.fields.redelivered,
        reason: `listener error: ${String(error)}`,
      },
    }));
    const settled = this.capRedeliveries(message, decision);
    if (settled.settle === 'requeue')
      await sleep(this.options.requeueDelayMs ?? 5_000, undefined, { signal: this.stopSignal.signal }).catch(() => {});
    this.log({ ...settled.log, ...this.settle(channel, message, settled) });
  }

  /**
   * A message that keeps failing (compose host or Temporal down for good) is requeued at most [amqp] max_redeliveries
   * times by this listener, then dead-lettered with its last error: never requeued forever.
   */
  private capRedeliveries(message: ConsumeMessage, decision: DeliveryDecision): DeliveryDecision {
    const key = createHash('sha256').update(message.content).digest('hex');
    if (decision.settle !== 'requeue') {
      this.attempts.delete(key);
      return decision;
    }
    const attempts = (this.attempts.get(key) ?? 0) + 1;
    if (attempts <= this.amqp.max_redeliveries) {
      this.attempts.delete(key);
      this.attempts.set(key, attempts);
      if (this.attempts.size > MAX_TRACKED_MESSAGES) this.attempts.delete(this.attempts.keys().next().value!);
      return decision;
    }
    this.attempts.delete(key);
    const reason = `gave up after ${attempts} attempts ([amqp] max_redeliveries = ${this.amqp.max_redeliveries}); the last: ${decision.log.reason ?? 'unknown'}`;
    return { settle: 'dead-letter', log: { ...decision.log, outcome: 'dead-lettered', reason } };
  }

  /** Acks or rejects on the channel the message came on; a closed channel means the broker will redeliver it. */
  private settle(channel: Channel, message: ConsumeMessage, decision: DeliveryDecision): { unsettled?: string } {
    try {
      if (decision.settle === 'ack') channel.ack(message);
      else channel.nack(message, false, decision.settle === 'requeue');
      return {};
    } catch (error) {
      return { unsettled: `${(error as Error).message}: the broker will deliver the message again` };
    }
  }

  private serialize<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.chains.set(key, tail);
    void tail.then(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
    return result;
  }

  private connectionLog(entry: Omit<ConnectionLog, 'broker' | 'queue'>): void {
    this.log({ ...entry, broker: redactedUrl(this.amqp.url), queue: this.amqp.queue });
  }
}

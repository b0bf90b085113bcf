import { Logger } from '@nestjs/common';
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { Streams, type StreamKey } from '@tenantry/contracts';
import { contextFromHeaders, type MessageContext } from '../context/message-context.js';
import type { NatsService } from '../nats/nats.service.js';

export interface FollowedEvent {
  /** The subject without the namespace, e.g. `evt.identity.session.revoked`. */
  subject: string;
  /** The payload parsed as JSON; undefined when it is not JSON. Validate it against its contract. */
  data: unknown;
  streamSequence: number;
  /** When the stream stored it. */
  storedAt: Date;
  context: MessageContext;
}

export interface EventFollowerOptions {
  stream: StreamKey;
  /** Subject filter without the namespace, e.g. `evt.identity.>`. */
  filterSubject: string;
  /** The first consumer starts this far back (deliver by start time); later ones where it left off. */
  startBackMs: number;
  /**
   * Called once per event, in stream order, one at a time. A throw is logged and the event
   * skipped: a follower has no redelivery.
   */
  onEvent: (event: FollowedEvent) => void | Promise<void>;
  /** Names the follower in logs. */
  name?: string;
  /** First delay before a failed consumer is made again (doubles up to 5 s). */
  retryMs?: number;
}

/** Consumer notifications after which the consumer no longer delivers: make a new one. */
const LOST = new Set([
  'consumer_deleted',
  'consumer_not_found',
  'stream_not_found',
  'heartbeats_missed',
  'reset',
]);
const MAX_RETRY_MS = 5_000;
const decoder = new TextDecoder();

/**
 * Follows a stream's subjects with an ordered consumer, in every process that runs one
 * (no durable, no queue group: each instance sees every event), e.g. every gateway
 * instance following identity's revocations. The first consumer starts `startBackMs`
 * back; whenever the consumer is lost (deleted, heartbeats missed, a gap, NATS
 * reconnected) a new one starts right after the last event handed over, so nothing is
 * skipped or repeated. `caughtUp` tells when it has handed over everything the stream
 * held when it started.
 */
export class EventFollower {
  private readonly logger: Logger;
  private stopped = false;
  private lastSequence = 0;
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private isCaughtUp = false;
  private readonly waiting: (() => void)[] = [];
  private consumersMade = 0;

  constructor(
    private readonly nats: NatsService,
    private readonly options: EventFollowerOptions,
  ) {
    this.logger = new Logger(`Follower ${options.name ?? options.filterSubject}`);
  }

  get streamName(): string {
    return this.nats.options.namespace.stream(Streams[this.options.stream].name);
  }

  /** It has handed over every event the stream held when it started (and keeps following). */
  get caughtUp(): boolean {
    return this.isCaughtUp;
  }

  /** How many consumers it has made so far (1 unless one was lost). */
  get consumerCount(): number {
    return this.consumersMade;
  }

  whenCaughtUp(): Promise<void> {
    if (this.isCaughtUp) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Starts following in the background; returns at once. */
  start(): void {
    if (this.loop) return;
    this.loop = this.run();
    void this.watchConnection();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.messages?.stop();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        await this.follow();
        failures = 0;
        // Lost (or stopped): start over after the last event, without spinning.
        if (!this.stopped) await delay(this.options.retryMs ?? 250);
      } catch (error) {
        if (this.stopped) break;
        const wait = Math.min((this.options.retryMs ?? 250) * 2 ** failures, MAX_RETRY_MS);
        failures++;
        this.logger.warn(
          `following ${this.options.filterSubject} failed, again in ${wait} ms: ${(error as Error).message}`,
        );
        await delay(wait);
      }
    }
  }

  /** One consumer, from where the last one left off, until it is lost or the follower stops. */
  private async follow(): Promise<void> {
    const filter = this.nats.options.namespace.subject(this.options.filterSubject);
    const start =
      this.lastSequence > 0
        ? { opt_start_seq: this.lastSequence + 1 }
        : { opt_start_time: new Date(Date.now() - this.options.startBackMs).toISOString() };
    const consumer: Consumer = await this.nats.js.consumers.get(this.streamName, {
      filter_subjects: filter,
      ...start,
    });
    this.consumersMade++;
    try {
      const info = await consumer.info(true);
      if (info.num_pending === 0) this.markCaughtUp();
      const messages = await consumer.consume();
      this.messages = messages;
      if (this.stopped) messages.stop();
      void this.watchConsumer(messages);
      for await (const msg of messages) {
        this.lastSequence = msg.seq;
        await this.deliver(msg);
        if (msg.info.pending === 0) this.markCaughtUp();
      }
    } finally {
      this.messages = undefined;
      // Ordered consumers are ephemeral and expire on their own; this only frees it sooner.
      consumer.delete().catch(() => undefined);
    }
  }

  private async deliver(msg: JsMsg): Promise<void> {
    let data: unknown;
    try {
      data = JSON.parse(decoder.decode(msg.data));
    } catch {
      data = undefined;
    }
    try {
      await this.options.onEvent({
        subject: this.nats.options.namespace.unprefix(msg.subject),
        data,
        streamSequence: msg.seq,
        storedAt: msg.time,
        context: contextFromHeaders(msg.headers),
      });
    } catch (error) {
      this.logger.warn(
        `event ${msg.seq} on ${msg.subject} was not handled: ${(error as Error).message}`,
      );
    }
  }

  /** The client's own recovery of an ordered consumer does not survive every loss: do it here. */
  private async watchConsumer(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const status of messages.status()) {
        if (LOST.has(status.type)) {
          this.logger.warn(`consumer lost (${status.type}): making a new one`);
          messages.stop();
          return;
        }
      }
    } catch {
      // The messages ended; the loop makes a new consumer.
    }
  }

  /** After a reconnect the server may have lost the (in-memory) consumer: make a new one. */
  private async watchConnection(): Promise<void> {
    try {
      for await (const status of this.nats.nc.status()) {
        if (this.stopped) return;
        if (status.type === 'reconnect') this.messages?.stop();
      }
    } catch {
      // The connection closed.
    }
  }

  private markCaughtUp(): void {
    if (this.isCaughtUp) return;
    this.isCaughtUp = true;
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

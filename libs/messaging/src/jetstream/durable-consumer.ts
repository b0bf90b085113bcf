import { Logger } from '@nestjs/common';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerConfig,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import { headers as natsHeaders, nanos } from '@nats-io/transport-node';
import { Headers, Streams, parseContract, type StreamKey } from '@tenantry/contracts';
import type { z } from 'zod';
import { contextFromHeaders, type MessageContext } from '../context/message-context.js';
import type { NatsService } from '../nats/nats.service.js';
import { backoffMs, batches, decideFailure } from './batching.js';
import { consumerMetrics } from './consumer.metrics.js';

export interface DurableConsumerOptions<S extends z.ZodType> {
  stream: StreamKey;
  /** Durable consumer name; replicas of the service share it and split the messages. */
  durable: string;
  /** Subject filter without namespace, e.g. `audit.>`; defaults to the whole stream. */
  filterSubject?: string;
  schema: S;
  /** Most messages handed to one `handleBatch` call (one transaction). */
  batchSize?: number;
  /** Deliveries after which a message that keeps failing is parked. */
  maxDeliver?: number;
  ackWaitMs?: number;
  /** Errors that say "the database (or another dependency) is down" rather than "this message is bad". */
  isTransient?: (error: unknown) => boolean;
}

export interface ConsumedMessage<T> {
  /** `Nats-Msg-Id` header, or `<stream>:<sequence>` when the publisher set none. */
  id: string;
  /** The `Nats-Msg-Id` header as published; undefined when the publisher set none. */
  msgId?: string;
  subject: string;
  data: T;
  context: MessageContext;
  streamSequence: number;
  deliveryCount: number;
}

/** Thrown by a handler (or a validator) for a message that will never succeed: parked at once. */
export class PoisonMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoisonMessageError';
  }
}

const decoder = new TextDecoder();

/**
 * Base of every JetStream consumer. Pulls from a durable consumer, hands valid
 * messages to `handleBatch` in batches (as many as have arrived, up to
 * `batchSize`), and acks them only after `handleBatch` resolves, that is after
 * its write committed. A message that fails validation is parked at once; one
 * that keeps failing is parked after `maxDeliver` deliveries; a transient
 * failure (database down) is retried in place without counting against it.
 * `handleBatch` must be idempotent by message id: a crash between commit and
 * ack redelivers the batch.
 */
export abstract class DurableConsumer<S extends z.ZodType> {
  protected readonly logger: Logger;
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private stopped = false;
  private readonly batchSize: number;
  private readonly maxDeliver: number;
  private readonly ackWaitMs: number;
  private readonly labels: { stream: string; consumer: string };

  protected constructor(
    protected readonly nats: NatsService,
    protected readonly options: DurableConsumerOptions<S>,
  ) {
    this.logger = new Logger(`Consumer ${options.durable}`);
    this.batchSize = options.batchSize ?? 500;
    this.maxDeliver = options.maxDeliver ?? 5;
    this.ackWaitMs = options.ackWaitMs ?? 10_000;
    this.labels = { stream: options.stream, consumer: options.durable };
  }

  /** Writes a batch in one transaction; resolves once it committed. */
  protected abstract handleBatch(batch: ConsumedMessage<z.output<S>>[]): Promise<void>;

  /** Per-message checks beyond the schema (e.g. subject matches payload); throw PoisonMessageError to park. */
  protected check(_message: ConsumedMessage<z.output<S>>): void {}

  get streamName(): string {
    return this.nats.options.namespace.stream(Streams[this.options.stream].name);
  }

  async start(): Promise<void> {
    await this.ensureConsumer();
    this.loop = this.run();
  }

  /** Stops pulling, lets the batch in hand commit and ack, then returns. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.messages?.stop();
    await this.loop;
  }

  private consumerConfig(): Partial<ConsumerConfig> {
    const ns = this.nats.options.namespace;
    return {
      durable_name: this.options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.ackWaitMs),
      // The server's bound sits above ours, so our code parks first and nothing stalls silently.
      max_deliver: this.maxDeliver + 2,
      max_ack_pending: this.batchSize * 4,
      filter_subject: ns.subject(
        this.options.filterSubject ?? Streams[this.options.stream].subjects[0],
      ),
    };
  }

  private async ensureConsumer(): Promise<void> {
    const config = this.consumerConfig();
    try {
      await this.nats.jsm.consumers.info(this.streamName, this.options.durable);
      await this.nats.jsm.consumers.update(this.streamName, this.options.durable, {
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
        max_ack_pending: config.max_ack_pending,
        filter_subject: config.filter_subject,
      });
    } catch (error) {
      if (!(
        error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound
      ))
        throw error;
      await this.nats.jsm.consumers.add(this.streamName, config);
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const consumer = await this.nats.js.consumers.get(this.streamName, this.options.durable);
        this.messages = await consumer.consume({ max_messages: this.batchSize * 2 });
        if (this.stopped) this.messages.stop();
        await this.drain(this.messages);
      } catch (error) {
        if (this.stopped) break;
        this.logger.warn(`consume loop failed, restarting in 1 s: ${(error as Error).message}`);
        await delay(1_000);
        await this.ensureConsumer().catch(() => undefined);
      }
    }
  }

  private async drain(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const batch of batches(messages, this.batchSize)) await this.process(batch);
    } finally {
      // After a failed batch the loop starts a new consume: this one must not go on pulling
      // (and holding) messages nobody reads.
      messages.stop();
    }
  }

  /** Handles one batch: park the invalid, commit the rest together, or find the bad one alone. */
  protected async process(msgs: JsMsg[]): Promise<void> {
    const valid: { msg: JsMsg; item: ConsumedMessage<z.output<S>> }[] = [];
    for (const msg of msgs) {
      try {
        valid.push({ msg, item: this.decode(msg) });
      } catch (error) {
        await this.park(msg, (error as Error).message, 'invalid');
      }
    }
    if (!valid.length) return;
    try {
      await this.commitWithRetry(
        valid.map((v) => v.item),
        valid.map((v) => v.msg),
      );
      for (const { msg } of valid) msg.ack();
      consumerMetrics.processed.inc(this.labels, valid.length);
      consumerMetrics.batchSize.observe(this.labels, valid.length);
    } catch (error) {
      if (this.stopped && this.isTransient(error)) {
        for (const { msg } of valid) msg.nak(); // redelivered at once to whoever runs next
        return;
      }
      // A message in the batch is bad: find it by handling them one at a time.
      for (const [index, { msg, item }] of valid.entries()) {
        try {
          await this.commitWithRetry([item], [msg]);
          msg.ack();
          consumerMetrics.processed.inc(this.labels);
        } catch (single) {
          if (this.stopped && this.isTransient(single)) {
            for (const rest of valid.slice(index)) rest.msg.nak();
            return;
          }
          const decision = decideFailure(
            single instanceof PoisonMessageError,
            msg.info.deliveryCount,
            this.maxDeliver,
          );
          if (decision.action === 'park') {
            await this.park(msg, (single as Error).message, decision.kind);
          } else {
            this.logger.warn(
              `message ${item.id} failed (delivery ${msg.info.deliveryCount} of ${this.maxDeliver}): ${(single as Error).message}`,
            );
            msg.nak(decision.delayMs);
          }
        }
      }
    }
  }

  /**
   * Transient failures are retried here, in place, until they pass or the consumer stops.
   * Meanwhile the messages are reported in progress every half ack wait, so the server
   * does not redeliver them however long the write or the outage takes.
   */
  private async commitWithRetry(
    items: ConsumedMessage<z.output<S>>[],
    msgs: JsMsg[],
  ): Promise<void> {
    const inProgress = setInterval(
      () => {
        for (const msg of msgs) msg.working();
      },
      Math.max(1, Math.floor(this.ackWaitMs / 2)),
    );
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.handleBatch(items);
          return;
        } catch (error) {
          if (!this.isTransient(error) || this.stopped) throw error;
          consumerMetrics.retries.inc(this.labels);
          if (attempt % 10 === 0) {
            this.logger.warn(
              `batch of ${items.length} waits for a dependency: ${(error as Error).message}`,
            );
          }
          await delay(backoffMs(attempt));
        }
      }
    } finally {
      clearInterval(inProgress);
    }
  }

  private isTransient(error: unknown): boolean {
    return this.options.isTransient?.(error) ?? false;
  }

  private decode(msg: JsMsg): ConsumedMessage<z.output<S>> {
    let raw: unknown;
    try {
      raw = JSON.parse(decoder.decode(msg.data));
    } catch {
      throw new PoisonMessageError('payload is not valid JSON');
    }
    const ns = this.nats.options.namespace;
    const msgId = msg.headers?.get(Headers.msgId) || undefined;
    const item: ConsumedMessage<z.output<S>> = {
      id: msgId ?? `${this.streamName}:${msg.seq}`,
      msgId,
      subject: ns.unprefix(msg.subject),
      data: parseContract(this.options.schema, raw, 'event'),
      context: contextFromHeaders(msg.headers),
      streamSequence: msg.seq,
      deliveryCount: msg.info.deliveryCount,
    };
    this.check(item);
    return item;
  }

  /** Copies the message to `parked.<stream>.<consumer>` with its reason, then terminates it. */
  private async park(
    msg: JsMsg,
    reason: string,
    kind: 'invalid' | 'rejected' | 'failing',
  ): Promise<void> {
    const h = natsHeaders();
    for (const [key, values] of msg.headers ?? []) {
      if (key !== Headers.msgId) for (const v of values) h.append(key, v);
    }
    h.set(Headers.parkedReason, reason.slice(0, 1_000));
    h.set(Headers.parkedSubject, msg.subject);
    h.set(Headers.parkedStream, this.streamName);
    h.set(Headers.parkedConsumer, this.options.durable);
    h.set(Headers.parkedDeliveries, String(msg.info.deliveryCount));
    const ns = this.nats.options.namespace;
    await this.nats.js.publish(
      ns.subject(`parked.${this.options.stream.toLowerCase()}.${this.options.durable}`),
      msg.data,
      {
        headers: h,
        msgID: `${this.streamName}:${msg.seq}`,
      },
    );
    // term() without a reason: nats-server 2.9 does not know `+TERM <reason>` and redelivers
    // the message after ack_wait, so it was parked again every 10 s. The reason is in the copy.
    msg.term();
    consumerMetrics.parked.inc({ ...this.labels, reason: kind });
    this.logger.warn(`parked message ${msg.seq} from ${msg.subject}: ${reason}`);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

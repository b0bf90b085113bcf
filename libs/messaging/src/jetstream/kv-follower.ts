import { Logger } from '@nestjs/common';
import {
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type Consumer,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import type { NatsService } from '../nats/nats.service.js';

/**
 * What a follower needs of a NATS connection: the platform's `NatsService` has it; a plain
 * `@nats-io/transport-node` connection can be given its JetStream clients and connection state.
 */
export type KvFollowerConnection = Pick<NatsService, 'nc' | 'js' | 'jsm' | 'isConnected'>;

/** A key's current value, as the follower hands it over. */
export interface KvFollowedEntry {
  key: string;
  value: Uint8Array;
  /** The bucket's revision of this value (its stream sequence). */
  revision: number;
  /** When the bucket stored it. */
  storedAt: Date;
}

export interface KvFollowerOptions {
  /**
   * The bucket's full name, namespace included (`nats.options.namespace.bucket(base)`, or
   * `KvFollower.forBucket`).
   */
  bucket: string;
  /** A key's new value (or, after a re-watch, the value it has now if it changed meanwhile). */
  onPut: (entry: KvFollowedEntry) => void | Promise<void>;
  /** A key was deleted or purged (also found out after a re-watch: the key is no longer there). */
  onDelete: (key: string) => void | Promise<void>;
  /** Called with true when the watch becomes live, false when it stops being live. */
  onLiveChange?: (live: boolean) => void;
  /** Names the follower in logs. */
  name?: string;
  /** First delay before a failed watch is made again (doubles up to `maxRetryMs`). Default 250. */
  retryMs?: number;
  /** Default 2 000: a bucket that does not exist yet is looked for at least this often. */
  maxRetryMs?: number;
  /** How long a pull waits on the server; its idle heartbeats come at half of it. Default 10 000. */
  pullExpiresMs?: number;
}

/** Consumer notifications after which the consumer no longer delivers: watch again. */
const LOST = new Set([
  'consumer_deleted',
  'consumer_not_found',
  'stream_not_found',
  'heartbeats_missed',
  'reset',
]);
const KV_OPERATION = 'KV-Operation';

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isStreamNotFound(error: unknown): boolean {
  return (
    (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) ||
    /stream not found/i.test((error as Error)?.message ?? '')
  );
}

/**
 * Follows a JetStream key-value bucket in every process that runs one (each has its own ordered
 * consumer): first every key's current value, then every change, in order. `onPut` gets a key's
 * value, `onDelete` a key that is gone.
 *
 * It is **live** once it has handed over every value the bucket held when the watch started, for
 * as long as that watch runs on a connected client; `lastLiveAt` says when it last was. Whenever
 * the watch is lost (NATS restarted or unreachable, the consumer deleted, heartbeats missed, the
 * bucket deleted) it is not live, and it watches again, from the current values: a key whose
 * revision it already handed over is not handed over again, a key that disappeared meanwhile is
 * deleted, so it catches up on what it missed without repeating itself. A bucket that does not
 * exist yet is looked for again and again (at most `maxRetryMs` apart) until it does.
 */
export class KvFollower {
  private readonly logger: Logger;
  private stopped = false;
  private loop?: Promise<void>;
  private messages?: ConsumerMessages;
  private isLive = false;
  private lastLive?: number;
  /** Each key handed over, with its revision. */
  private readonly held = new Map<string, number>();
  /** When the bucket's stream was made: another time means another bucket (revisions restart). */
  private bucketCreated?: string;
  private readonly waiting: (() => void)[] = [];
  private watchesMade = 0;
  private watchingConnection = false;

  constructor(
    private readonly nats: KvFollowerConnection,
    private readonly options: KvFollowerOptions,
  ) {
    this.logger = new Logger(`KvFollower ${options.name ?? options.bucket}`);
  }

  /** The stream behind the bucket (`KV_<bucket>`). */
  get streamName(): string {
    return `KV_${this.options.bucket}`;
  }

  /** It has handed over every current value and is watching for changes right now. */
  get live(): boolean {
    return this.isLive;
  }

  /** When it was last live (epoch ms): now while it is; undefined if it never was. */
  get lastLiveAt(): number | undefined {
    return this.isLive ? Date.now() : this.lastLive;
  }

  /** How many watches it has made (1 unless one was lost). */
  get watchCount(): number {
    return this.watchesMade;
  }

  /** The keys it holds (handed over and not deleted), with their revisions. */
  keys(): ReadonlyMap<string, number> {
    return this.held;
  }

  whenLive(): Promise<void> {
    if (this.isLive) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Starts following in the background; returns at once. */
  start(): void {
    if (this.loop) return;
    this.stopped = false;
    this.loop = this.run();
    if (!this.watchingConnection) void this.watchConnection();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.setLive(false);
    this.messages?.stop();
    await this.loop;
    this.loop = undefined;
  }

  private async run(): Promise<void> {
    const first = this.options.retryMs ?? 250;
    const max = this.options.maxRetryMs ?? 2_000;
    let failures = 0;
    while (!this.stopped) {
      try {
        await this.watch();
        failures = 0;
        if (!this.stopped) await delay(first);
      } catch (error) {
        this.setLive(false);
        if (this.stopped) break;
        const wait = Math.min(first * 2 ** failures, max);
        failures++;
        const message = isStreamNotFound(error)
          ? `bucket ${this.options.bucket} does not exist (yet)`
          : (error as Error).message;
        // The first failure in a row is worth a warning; the retries of the same outage are not.
        if (failures === 1) this.logger.warn(`watch failed, again in ${wait} ms: ${message}`);
        else this.logger.debug(`watch failed, again in ${wait} ms: ${message}`);
        await delay(wait);
      }
    }
  }

  /** One watch, from the current values, until it is lost or the follower stops. */
  private async watch(): Promise<void> {
    const info = await this.nats.jsm.streams.info(this.streamName);
    if (this.bucketCreated !== undefined && this.bucketCreated !== info.created) {
      // Another bucket under the same name: its revisions say nothing about what was handed over.
      for (const key of this.held.keys()) this.held.set(key, -1);
    }
    this.bucketCreated = info.created;
    const prefix = `$KV.${this.options.bucket}.`;
    const consumer: Consumer = await this.nats.js.consumers.get(this.streamName, {
      filter_subjects: `${prefix}>`,
      deliver_policy: DeliverPolicy.LastPerSubject,
    });
    this.watchesMade++;
    const seen = new Set<string>();
    let initial = true;
    const finishInitial = async () => {
      initial = false;
      // Keys it held that the bucket no longer has: deleted (or purged) while it was not watching.
      for (const key of [...this.held.keys()]) {
        if (!seen.has(key)) await this.remove(key);
      }
      seen.clear();
      if (this.nats.isConnected) this.setLive(true);
    };
    try {
      const pending = (await consumer.info(true)).num_pending;
      if (pending === 0) await finishInitial();
      const messages = await consumer.consume({
        expires: this.options.pullExpiresMs ?? 10_000,
      });
      this.messages = messages;
      if (this.stopped) messages.stop();
      void this.watchConsumer(messages);
      for await (const msg of messages) {
        const key = msg.subject.slice(prefix.length);
        if (initial) seen.add(key);
        await this.deliver(key, msg);
        if (initial && msg.info.pending === 0) await finishInitial();
      }
    } finally {
      this.setLive(false);
      this.messages = undefined;
      consumer.delete().catch(() => undefined);
    }
  }

  private async deliver(key: string, msg: JsMsg): Promise<void> {
    const operation = msg.headers?.get(KV_OPERATION);
    if (operation === 'DEL' || operation === 'PURGE') {
      await this.remove(key);
      return;
    }
    if (this.held.get(key) === msg.seq) return;
    this.held.set(key, msg.seq);
    try {
      await this.options.onPut({ key, value: msg.data, revision: msg.seq, storedAt: msg.time });
    } catch (error) {
      this.logger.warn(
        `the value of ${key} (revision ${msg.seq}) was not handled: ${(error as Error).message}`,
      );
    }
  }

  private async remove(key: string): Promise<void> {
    if (!this.held.delete(key)) return;
    try {
      await this.options.onDelete(key);
    } catch (error) {
      this.logger.warn(`the deletion of ${key} was not handled: ${(error as Error).message}`);
    }
  }

  private async watchConsumer(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const status of messages.status()) {
        if (LOST.has(status.type)) {
          this.logger.warn(`watch lost (${status.type}): watching again`);
          messages.stop();
          return;
        }
      }
    } catch {
      // The messages ended; the loop watches again.
    }
  }

  /** Not live from the moment the connection drops; after a reconnect, watch again. */
  private async watchConnection(): Promise<void> {
    this.watchingConnection = true;
    try {
      for await (const status of this.nats.nc.status()) {
        if (this.stopped) continue;
        if (status.type === 'disconnect') this.setLive(false);
        if (status.type === 'disconnect' || status.type === 'reconnect') this.messages?.stop();
      }
    } catch {
      // The connection closed.
    } finally {
      this.watchingConnection = false;
    }
  }

  private setLive(live: boolean): void {
    if (live === this.isLive) return;
    this.isLive = live;
    if (!live) this.lastLive = Date.now();
    this.options.onLiveChange?.(live);
    if (live) for (const resolve of this.waiting.splice(0)) resolve();
  }
}

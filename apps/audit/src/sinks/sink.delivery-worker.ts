import { uuidv7 } from '@tenantry/runtime';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { SinkDeadLetterEntity } from './sink.entity.js';
import { deliver, judge, retryDelaySeconds } from './sink.format.js';
import { SinkRepository, type DueSink } from './sink.repository.js';
import { InjectSinkSettings, type SinkSettings } from './sink.settings.js';

/** What one turn of a lane did. */
type Turn = 'none-due' | 'worked';

/**
 * Delivers every enabled sink's ledger, in seq order, from the sink's cursor
 * (`delivered_through_seq`): reading the ledger, not a second consumer of the stream.
 *
 * `AUDIT_SINK_CONCURRENCY` lanes each claim one due sink at a time (its queue row locked
 * `FOR UPDATE SKIP LOCKED` for the whole attempt, so one instance, one lane, delivers a
 * sink at a time, and several audit instances share the sinks), take the next batch
 * (≤ batchSize entries of the sink's categories after the cursor), POST it, and in the same
 * transaction move the cursor (2xx), schedule a retry with backoff (network error, 408,
 * 429, 5xx) or, after maxAttempts or at once for any other answer, move the batch to the
 * dead-letter list and the cursor past it. Delivery is at least once: a 2xx whose commit
 * then fails is sent again. The lanes run every `AUDIT_SINK_POLL_MS` and on `wake()`.
 */
@Injectable()
export class SinkDeliveryWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('AuditSinks');
  private timer?: NodeJS.Timeout;
  private lanes: Promise<void>[] = [];
  private running = false;
  private again = false;
  private stopped = false;
  private failures = 0;

  constructor(
    @Inject(SinkRepository) private readonly sinks: SinkRepository,
    @InjectSinkSettings() private readonly settings: SinkSettings,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.kick(), this.settings.pollMs);
    this.timer.unref();
    this.kick();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.all(this.lanes);
  }

  /**
   * Makes the sinks of `tenantId` (or all) that are not backing off due now and runs the
   * lanes: for the ledger to call after it committed an append, so that delivery does not
   * wait for the next poll.
   */
  async wake(tenantId?: string): Promise<void> {
    await this.sinks.wake(tenantId);
    this.kick();
  }

  /** Runs the lanes unless they are running; if they are, they go round once more. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.lanes = Array.from({ length: this.settings.concurrency }, () => this.lane());
    void Promise.all(this.lanes).then(() => {
      this.running = false;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Claims and works due sinks until none is due (or the service stops). */
  private async lane(): Promise<void> {
    while (!this.stopped) {
      try {
        if ((await this.turn()) === 'none-due') return;
        this.failures = 0;
      } catch (error) {
        if (this.failures++ % 20 === 0)
          this.logger.warn(`audit sink delivery paused: ${(error as Error).message}`);
        return;
      }
    }
  }

  /** One claimed sink: its next batch attempted, its cursor and schedule written. */
  async turn(): Promise<Turn> {
    const claimed = await this.sinks.withDueSink((manager, due) => this.work(manager, due));
    return claimed ? 'worked' : 'none-due';
  }

  private async work(manager: EntityManager, due: DueSink): Promise<void> {
    const sink = await this.sinks.sinkOf(manager, due);
    if (!sink || !sink.enabled) {
      await this.sinks.unqueue(manager, due);
      return;
    }
    const head = await this.sinks.head(manager, sink.tenantId);
    const entries =
      head > sink.deliveredThroughSeq ? await this.sinks.nextBatch(manager, sink, head) : [];
    if (!entries.length) {
      // Nothing new, or nothing of the sink's categories up to the head: skip past it.
      await this.sinks.advance(manager, sink, head, false, this.settings.pollMs);
      return;
    }
    // A full batch ends at its last entry; a short one covers everything up to the head.
    const through = entries.length < sink.batchSize ? head : entries[entries.length - 1]!.seq;
    const { outcome } = await deliver(sink, entries, this.settings.allowOrigins);
    const verdict = judge(outcome);
    if (verdict.kind === 'delivered') {
      await this.sinks.advance(
        manager,
        sink,
        through,
        true,
        through < head ? 0 : this.settings.pollMs,
      );
      return;
    }
    const attempts = sink.attempts + 1;
    if (verdict.kind === 'retry' && attempts < sink.maxAttempts) {
      const delay = retryDelaySeconds(attempts, verdict.retryAfterSeconds);
      this.logger.warn(
        `audit sink ${sink.id} (tenant ${sink.tenantId}): seq ${entries[0]!.seq}–${entries[entries.length - 1]!.seq} ` +
          `not delivered (attempt ${attempts} of ${sink.maxAttempts}; next in ${delay.toFixed(1)} s): ${verdict.error}`,
      );
      await this.sinks.retryLater(manager, sink, verdict.error, Math.round(delay * 1000));
      return;
    }
    const letter = Object.assign(new SinkDeadLetterEntity(), {
      id: uuidv7(),
      tenantId: sink.tenantId,
      sinkId: sink.id,
      firstSeq: entries[0]!.seq,
      lastSeq: entries[entries.length - 1]!.seq,
      events: entries.length,
      attempts,
      lastError: verdict.error,
      lastStatus: verdict.status,
    });
    this.logger.warn(
      `audit sink ${sink.id} (tenant ${sink.tenantId}): seq ${letter.firstSeq}–${letter.lastSeq} ` +
        `dead-lettered after ${attempts} attempt(s): ${verdict.error}`,
    );
    await this.sinks.deadLetter(manager, sink, letter, through);
  }
}

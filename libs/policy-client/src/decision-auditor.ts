import { uuidv7 } from '@tenantry/runtime';
import { Logger } from '@nestjs/common';
import { ContractValidationError, type AuditEvent } from '@tenantry/contracts';
import type { MessageContext } from '@tenantry/messaging';
import { decisionAuditEvent, shouldAudit, type Decision } from '@tenantry/policy-engine';
import { Counter, Gauge, register } from 'prom-client';

export interface DecisionAuditorOptions {
  /** Events held while NATS does not take them; beyond, new ones are dropped (counted). Default 10 000. */
  capacity?: number;
  /** Events published at once. Default 64. */
  batchSize?: number;
  /** First pause after a failed publish (doubles up to maxRetryMs). Default 250. */
  retryMs?: number;
  maxRetryMs?: number;
}

/** Publishes one event (`EventPublisher.publishAudit`: the AUDIT stream, message id = event id). */
export type PublishAudit = (
  event: AuditEvent,
  context: MessageContext | undefined,
) => Promise<unknown>;

/** A decision that may go to the audit log, and what its event says beyond the decision. */
export interface DecisionToAudit {
  /** The tenant whose policy decided: the event is that tenant's. */
  tenantId: string;
  /** Whose access was decided, as the audit log names actors. */
  actor: AuditEvent['actor'];
  action: string;
  resource: string;
  decision: Decision;
  /** The tenant document's `auditAllowSampleRate` (0 when it has none). */
  allowSampleRate: number;
  /** The request's context: its request id goes into the event, and it travels with it. */
  context?: MessageContext;
  /** More to record (route, IP, who asked); free-form JSON. */
  extra?: Readonly<Record<string, unknown>>;
}

interface Pending {
  event: AuditEvent;
  context?: MessageContext;
}

const auditors = new Set<DecisionAuditor>();

function metric<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

const metrics = {
  events: metric(
    'tenantry_authz_audit_events_total',
    () =>
      new Counter({
        name: 'tenantry_authz_audit_events_total',
        help: 'Authorization decisions sent to the audit log: published, dropped (buffer full while NATS did not take them), invalid',
        labelNames: ['result'],
      }),
  ),
  buffered: metric(
    'tenantry_authz_audit_buffered',
    () =>
      new Gauge({
        name: 'tenantry_authz_audit_buffered',
        help: 'Authorization audit events waiting to be published',
        collect() {
          let n = 0;
          for (const a of auditors) n += a.buffered;
          this.set(n);
        },
      }),
  ),
};

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for `work`, at most `ms`. */
async function within(work: Promise<void> | undefined, ms: number): Promise<void> {
  if (!work) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * Sends authorization decisions to the audit log without ever holding up or failing a request:
 * `record` only queues the event; a background loop publishes the queue (to the AUDIT stream,
 * `audit.<tenantId>.authz`, message id = event id, so a retry is stored once). While NATS does
 * not take them the events wait, up to `capacity`; beyond that new ones are dropped and counted
 * (`tenantry_authz_audit_events_total{result="dropped"}`).
 */
export class DecisionAuditor {
  private readonly logger = new Logger('DecisionAudit');
  private readonly queue: Pending[] = [];
  private flushing?: Promise<void>;
  private stopped = false;
  private droppedSinceLog = 0;
  private readonly capacity: number;
  private readonly batchSize: number;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;

  constructor(
    private readonly publish: PublishAudit,
    options: DecisionAuditorOptions = {},
  ) {
    this.capacity = options.capacity ?? 10_000;
    this.batchSize = options.batchSize ?? 64;
    this.retryMs = options.retryMs ?? 250;
    this.maxRetryMs = options.maxRetryMs ?? 5_000;
    auditors.add(this);
  }

  get buffered(): number {
    return this.queue.length;
  }

  /**
   * A decision, queued for the audit log when `shouldAudit` says so: every deny, allows at the
   * tenant's sample rate (`random` in [0, 1), as Math.random). A `policy-unavailable` deny is
   * an outage, not the policy's decision: never audited. Returns at once; true when queued.
   */
  audit(input: DecisionToAudit, random?: () => number): boolean {
    if (!this.sampled(input.decision, input.allowSampleRate, random)) return false;
    return this.recordDecision(input);
  }

  /**
   * Whether a decision goes to the audit log (draws the allow sample): the hot path asks this
   * first and builds the rest of the event (`recordDecision`) only for the few that do.
   */
  sampled(decision: Decision, allowSampleRate: number, random?: () => number): boolean {
    if (decision.reason.kind === 'policy-unavailable') return false;
    return shouldAudit(decision, allowSampleRate, random);
  }

  /** Queues a decision `sampled` chose (no second draw). */
  recordDecision(input: DecisionToAudit): boolean {
    const { decision, context } = input;
    const event = decisionAuditEvent({
      id: uuidv7(),
      tenantId: input.tenantId,
      actor: input.actor,
      action: input.action,
      resource: input.resource,
      decision,
      allowSampleRate: input.allowSampleRate,
      ...(context?.requestId ? { requestId: context.requestId } : {}),
      ...(input.extra ? { extra: input.extra } : {}),
    });
    return this.record(event, context ? { ...context, tenantId: input.tenantId } : undefined);
  }

  /** Queues an event; returns at once. False when it was dropped (the buffer is full). */
  record(event: AuditEvent, context?: MessageContext): boolean {
    if (this.stopped || this.queue.length >= this.capacity) {
      metrics.events.inc({ result: 'dropped' });
      if (this.droppedSinceLog++ === 0)
        this.logger.warn(
          `the authorization audit buffer is full (${this.capacity} events): dropping decisions until NATS takes them again`,
        );
      return false;
    }
    this.queue.push({ event, context });
    this.kick();
    return true;
  }

  private kick(): void {
    if (this.flushing || this.stopped) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      // Queued between the loop's last look and now.
      if (this.queue.length) this.kick();
    });
  }

  /** Publishes what is queued, for at most `timeoutMs`; what is left is dropped (counted). */
  async stop(timeoutMs = 2_000): Promise<void> {
    await within(this.flushing, timeoutMs);
    this.stopped = true;
    await within(this.flushing, 100);
    if (this.queue.length) {
      metrics.events.inc({ result: 'dropped' }, this.queue.length);
      this.logger.warn(
        `${this.queue.length} authorization audit event(s) not published at shutdown`,
      );
      this.queue.length = 0;
    }
    auditors.delete(this);
  }

  private async flush(): Promise<void> {
    let failures = 0;
    while (this.queue.length && !this.stopped) {
      const batch = this.queue.slice(0, this.batchSize);
      const results = await Promise.allSettled(
        batch.map(({ event, context }) => this.publish(event, context)),
      );
      const retry: Pending[] = [];
      let lastError: unknown;
      results.forEach((result, i) => {
        if (result.status === 'fulfilled') {
          metrics.events.inc({ result: 'published' });
        } else if (result.reason instanceof ContractValidationError) {
          metrics.events.inc({ result: 'invalid' });
          this.logger.error(`an authorization audit event is invalid: ${result.reason.message}`);
        } else {
          retry.push(batch[i]!);
          lastError = result.reason;
        }
      });
      this.queue.splice(0, batch.length, ...retry);
      if (!retry.length) {
        if (failures && this.droppedSinceLog)
          this.logger.log(`publishing again; ${this.droppedSinceLog} decision(s) were dropped`);
        failures = 0;
        this.droppedSinceLog = 0;
        continue;
      }
      const wait = Math.min(this.retryMs * 2 ** failures, this.maxRetryMs);
      if (failures++ === 0)
        this.logger.warn(
          `authorization audit events not published, retrying (${this.queue.length} waiting): ${(lastError as Error)?.message}`,
        );
      await delay(wait);
    }
  }
}

import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { RequestError, type Msg, type Subscription } from '@nats-io/transport-node';
import {
  AUDIT_FORWARD_MAX_EVENTS,
  AuditLedgerPeers,
  ForwardedAuditAppendReplySchema,
  ForwardedAuditAppendSchema,
  type ForwardedAuditAppendReply,
} from '@tenantry/contracts';
import { NatsService } from '@tenantry/messaging';
import { Counter, register } from 'prom-client';
import { isTransientDbError } from '@tenantry/persistence';
import { LedgerMembers } from './ledger.members.js';
import { LedgerWriter, type EventToAppend } from './ledger.writer.js';

/** How long a forwarded append may take before this instance appends the events itself. */
export const FORWARD_TIMEOUT_MS = 4_000;

const ROUTED = 'tenantry_audit_ledger_routed_events_total';
/** Consumed events by where they were appended. */
const routed =
  (register.getSingleMetric(ROUTED) as Counter<string> | undefined) ??
  new Counter({
    name: ROUTED,
    help: 'Audit events by where they were appended: here (this instance owns the tenant), forwarded (to the owner), received (forwarded here), taken_over (the owner did not answer)',
    labelNames: ['route'],
  });

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The owner of forwarded events answered that its database is unavailable (retry, as for ours). */
export class PeerUnavailableError extends Error {
  readonly transient = true;
  constructor(message: string) {
    super(message);
    this.name = 'PeerUnavailableError';
  }
}

interface Job {
  events: EventToAppend[];
  resolve: (refused: string[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Where consumed events are appended. The audit instances share one durable consumer, so
 * each receives events of every tenant; each tenant's chain is written by its owner
 * (LedgerMembers): the events of this instance's tenants are appended here, those of
 * another's are sent to it (`rpc.audit.ledger.append.<member>`, one request per owner per
 * batch) and acked once it answered that it committed them. So two instances never wait for
 * each other's chain locks, and each commits its own tenants' batches in parallel with the
 * others: adding an instance adds throughput across tenants.
 *
 * Here, appends are written one transaction at a time, and the events that arrived meanwhile
 * (this instance's next batch, forwarded ones) go together into the next: one commit for
 * all of them. A failed combined write is retried one part at a time, so that one part's bad
 * event never fails another's. An owner that does not answer (gone, stuck) is replaced by
 * this instance for those events: the chain lock makes the two take turns should it still be
 * writing, and the event-id check keeps every event once.
 */
@Injectable()
export class LedgerRouter implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('LedgerRouter');
  private readonly queue: Job[] = [];
  private writing = false;
  private subscription?: Subscription;

  constructor(
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(LedgerMembers) private readonly members: LedgerMembers,
    @Inject(LedgerWriter) private readonly writer: LedgerWriter,
  ) {}

  onApplicationBootstrap(): void {
    this.subscription = this.nats.nc.subscribe(this.appendSubject(this.members.id), {
      callback: (error, msg) => {
        if (!error) void this.serve(msg);
      },
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  /**
   * Appends `events` to their tenants' chains, here or at their owners; resolves once all are
   * committed, with the ids of the events refused because their chain was purged.
   */
  async append(events: EventToAppend[]): Promise<string[]> {
    const byOwner = new Map<string, EventToAppend[]>();
    for (const item of events) {
      const owner = this.members.ownerOf(item.event.tenantId.toLowerCase());
      const list = byOwner.get(owner);
      if (list) list.push(item);
      else byOwner.set(owner, [item]);
    }
    const parts = await Promise.all(
      [...byOwner].map(([owner, part]) => {
        if (owner !== this.members.id) return this.forward(owner, part);
        routed.inc({ route: 'here' }, part.length);
        return this.appendHere(part);
      }),
    );
    return parts.flat();
  }

  /** Queues events for this instance's next transaction. */
  private appendHere(events: EventToAppend[]): Promise<string[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      if (!this.writing) void this.write();
    });
  }

  private async write(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length) {
        const jobs = this.takeJobs();
        try {
          const { refused } = await this.writer.append(jobs.flatMap((job) => job.events));
          for (const job of jobs) job.resolve(refusedOf(job, refused));
        } catch (error) {
          if (jobs.length === 1) {
            jobs[0]!.reject(error);
            continue;
          }
          for (const job of jobs) {
            try {
              job.resolve((await this.writer.append(job.events)).refused);
            } catch (alone) {
              job.reject(alone);
            }
          }
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /** The queued jobs, up to AUDIT_FORWARD_MAX_EVENTS events (at least one job). */
  private takeJobs(): Job[] {
    let events = 0;
    let count = 0;
    while (count < this.queue.length) {
      events += this.queue[count]!.events.length;
      if (count > 0 && events > AUDIT_FORWARD_MAX_EVENTS) break;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private async forward(owner: string, events: EventToAppend[]): Promise<string[]> {
    let reply: ForwardedAuditAppendReply;
    try {
      const msg = await this.nats.nc.request(
        this.appendSubject(owner),
        encoder.encode(JSON.stringify({ events })),
        { timeout: FORWARD_TIMEOUT_MS },
      );
      reply = ForwardedAuditAppendReplySchema.parse(JSON.parse(decoder.decode(msg.data)));
    } catch (error) {
      // gone (no responders) or not answering: append them here
      if (error instanceof RequestError && error.isNoResponders()) this.members.forget(owner);
      routed.inc({ route: 'taken_over' }, events.length);
      this.logger.warn(
        `audit instance ${owner} did not take ${events.length} event(s) of its tenants (${(error as Error).message}): appending them here`,
      );
      return this.appendHere(events);
    }
    if (reply.ok) {
      routed.inc({ route: 'forwarded' }, events.length);
      return reply.refused;
    }
    if (reply.transient) throw new PeerUnavailableError(reply.message);
    // the owner could not append them for another reason: here, each part is tried alone
    return this.appendHere(events);
  }

  /** Appends events another instance consumed for this one's tenants; answers after the commit. */
  private async serve(msg: Msg): Promise<void> {
    let reply: ForwardedAuditAppendReply;
    try {
      const request = ForwardedAuditAppendSchema.parse(JSON.parse(decoder.decode(msg.data)));
      routed.inc({ route: 'received' }, request.events.length);
      reply = { ok: true, refused: await this.appendHere(request.events) };
    } catch (error) {
      reply = {
        ok: false,
        transient: isTransientDbError(error),
        message: (error as Error).message.slice(0, 1_000),
      };
    }
    msg.respond(encoder.encode(JSON.stringify(reply)));
  }

  private appendSubject(memberId: string): string {
    return this.nats.options.namespace.rpcSubject(AuditLedgerPeers.append(memberId));
  }
}

function refusedOf(job: Job, refused: string[]): string[] {
  if (!refused.length) return [];
  const ids = new Set(job.events.map((e) => e.event.id));
  return refused.filter((id) => ids.has(id));
}

import { hash } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';
import { AuditLedgerMemberBeaconSchema, AuditLedgerPeers } from '@tenantry/contracts';
import { NatsService } from '@tenantry/messaging';
import { uuidv7 } from '@tenantry/runtime';

/** How often an instance announces itself. */
export const BEACON_INTERVAL_MS = 1_000;
/** An instance not heard of for this long is taken for gone. */
export const MEMBER_TIMEOUT_MS = 3_500;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The running audit instances, and which of them owns a tenant's chain. Every instance
 * announces itself on `rpc.audit.ledger.members` every second; the members are those heard
 * of within the last 3.5 s (and this one). A tenant's owner is the member with the highest
 * SHA-256(member id ‖ tenant id) — rendezvous hashing: when an instance comes or goes, only
 * the tenants it owned (or comes to own) move, and every instance computes the same owner
 * from the same members without asking anyone.
 *
 * Ownership decides where a chain is written, for throughput (each instance writes its own
 * tenants' chains in its own transactions, nobody waits for another's chain locks); it is
 * not what keeps a chain consistent. While two instances briefly disagree about the members
 * (one just started, one just died), both may write one chain: the chain's advisory lock
 * makes them take turns, and the event-id check keeps every event once.
 */
@Injectable()
export class LedgerMembers implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('LedgerMembers');
  /** This instance's member id (a subject token, so a UUID rather than the host name). */
  readonly id = uuidv7();
  private readonly lastSeen = new Map<string, number>();
  private members: string[] = [this.id];
  private readonly owners = new Map<string, string>();
  private subscription?: Subscription;
  private timer?: NodeJS.Timeout;

  constructor(@Inject(NatsService) private readonly nats: NatsService) {}

  onApplicationBootstrap(): void {
    this.subscription = this.nats.nc.subscribe(this.subject, {
      callback: (error, msg) => {
        if (error) return;
        this.heard(msg.data);
      },
    });
    this.announce();
    this.timer = setInterval(() => {
      this.announce();
      this.refresh();
    }, BEACON_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.subscription?.unsubscribe();
    this.announce(true);
  }

  /** The live members, sorted (this instance included). */
  get current(): readonly string[] {
    return this.members;
  }

  /** The member that writes `tenantId`'s chain (lowercase id). */
  ownerOf(tenantId: string): string {
    if (this.members.length === 1) return this.id;
    let owner = this.owners.get(tenantId);
    if (owner === undefined) {
      owner = rendezvousOwner(this.members, tenantId);
      this.owners.set(tenantId, owner);
    }
    return owner;
  }

  /** Takes a member for gone at once (its requests find no responder). */
  forget(memberId: string): void {
    if (memberId === this.id || !this.lastSeen.delete(memberId)) return;
    this.refresh();
  }

  private get subject(): string {
    return this.nats.options.namespace.rpcSubject(AuditLedgerPeers.members);
  }

  private announce(leaving = false): void {
    if (!this.nats.isConnected) return;
    const beacon = leaving ? { id: this.id, leaving } : { id: this.id };
    this.nats.nc.publish(this.subject, encoder.encode(JSON.stringify(beacon)));
  }

  private heard(data: Uint8Array): void {
    let beacon;
    try {
      beacon = AuditLedgerMemberBeaconSchema.parse(JSON.parse(decoder.decode(data)));
    } catch {
      return; // not a beacon of ours
    }
    if (beacon.id === this.id) return;
    if (beacon.leaving) {
      this.forget(beacon.id);
      return;
    }
    const known = this.lastSeen.has(beacon.id);
    this.lastSeen.set(beacon.id, Date.now());
    if (!known) this.refresh();
  }

  /** Recomputes the members from what was heard; a change forgets the owners computed so far. */
  private refresh(): void {
    const now = Date.now();
    for (const [id, at] of this.lastSeen)
      if (now - at > MEMBER_TIMEOUT_MS) this.lastSeen.delete(id);
    const members = [this.id, ...this.lastSeen.keys()].sort();
    if (members.join() === this.members.join()) return;
    this.members = members;
    this.owners.clear();
    this.logger.log(`${members.length} audit instance(s) share the chains: ${members.join(', ')}`);
  }
}

/**
 * The member with the highest SHA-256(member ‖ ":" ‖ key) (its first 60 bits): the same for
 * everyone who knows the same members, and when a member comes or goes only the keys it
 * gains or loses move.
 */
export function rendezvousOwner(members: readonly string[], key: string): string {
  let owner = members[0]!;
  let best = -1n;
  for (const member of members) {
    const score = BigInt(`0x${hash('sha256', `${member}:${key}`).slice(0, 15)}`);
    if (score > best) {
      best = score;
      owner = member;
    }
  }
  return owner;
}

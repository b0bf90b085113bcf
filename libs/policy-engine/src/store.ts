/**
 * `PolicyStore`: the compiled snapshots a process holds (the gateway, a service), one per tenant,
 * with their version and when they were last known to be current. A tenant with no snapshot, or
 * with one older than `maxAgeMs` since it was put or confirmed, gets a deny with reason
 * `policy-unavailable`: decisions fail closed.
 */
import { compile, type CompiledPolicy } from './compile.js';
import {
  decision,
  type Check,
  type Decision,
  type PolicyPrincipal,
  type RequestContext,
} from './decision.js';
import type { PolicyDocument } from './document.js';
import type { Explanation } from './reference.js';

export interface PolicyStoreOptions {
  /**
   * How long a snapshot stays usable after it was put or last confirmed (ms). The publisher
   * confirms each tenant's current version more often than this (a heartbeat).
   */
  readonly maxAgeMs: number;
  /** Wall clock for ages (ms); Date.now by default. */
  readonly clock?: () => number;
}

export interface SnapshotStatus {
  readonly tenantId: string;
  readonly version: number;
  readonly ageMs: number;
  readonly fresh: boolean;
}

interface Entry {
  readonly policy: CompiledPolicy;
  confirmedAt: number;
}

export class PolicyStore {
  private readonly entries = new Map<string, Entry>();
  /** When every snapshot held was last confirmed at once (`confirmAll`). */
  private allConfirmedAt = -Infinity;
  private readonly maxAgeMs: number;
  private readonly clock: () => number;

  constructor(options: PolicyStoreOptions) {
    if (!(options.maxAgeMs > 0)) throw new Error('PolicyStore: maxAgeMs must be a positive number');
    this.maxAgeMs = options.maxAgeMs;
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Holds `policy` as its tenant's snapshot, current as of now. Refused (false) when the store
   * already holds a newer version of that tenant; the same version replaces it.
   */
  put(policy: CompiledPolicy): boolean {
    const held = this.entries.get(policy.tenantId);
    if (held && held.policy.version > policy.version) return false;
    this.entries.set(policy.tenantId, { policy, confirmedAt: this.clock() });
    return true;
  }

  /** Compiles a document and puts it (throws ContractValidationError on an invalid one). */
  load(document: PolicyDocument | unknown): boolean {
    return this.put(compile(document));
  }

  /**
   * The publisher says `version` is still the tenant's current one: its age starts again. False
   * when the store holds no snapshot of that version (fetch the current one).
   */
  confirm(tenantId: string, version: number): boolean {
    const held = this.entries.get(tenantId);
    if (!held || held.policy.version !== version) return false;
    held.confirmedAt = this.clock();
    return true;
  }

  /**
   * Every snapshot held is still its tenant's current one (a holder watching the publisher
   * without a gap): their ages start again, in one step whatever their number.
   */
  confirmAll(): void {
    this.allConfirmedAt = this.clock();
  }

  remove(tenantId: string): void {
    this.entries.delete(tenantId);
  }

  /** The tenant's snapshot, fresh or not. */
  get(tenantId: string): CompiledPolicy | undefined {
    return this.entries.get(tenantId)?.policy;
  }

  status(tenantId: string): SnapshotStatus | undefined {
    const held = this.entries.get(tenantId);
    if (!held) return undefined;
    const ageMs = this.ageOf(held);
    return { tenantId, version: held.policy.version, ageMs, fresh: ageMs <= this.maxAgeMs };
  }

  /** Every tenant held, with its version and age (for health checks and metrics). */
  list(): SnapshotStatus[] {
    return [...this.entries.keys()].map((t) => this.status(t)!);
  }

  decide(
    tenantId: string,
    principal: PolicyPrincipal,
    action: string,
    resource: string,
    context?: RequestContext,
  ): Decision {
    const held = this.entries.get(tenantId);
    if (held === undefined || this.ageOf(held) > this.maxAgeMs) {
      return this.unavailable(tenantId, held);
    }
    try {
      return held.policy.decide(principal, action, resource, context);
    } catch (error) {
      return evaluationError(error, held.policy.version);
    }
  }

  decideBatch(
    tenantId: string,
    principal: PolicyPrincipal,
    checks: readonly Check[],
    context?: RequestContext,
  ): Decision[] {
    const held = this.entries.get(tenantId);
    if (held === undefined || this.ageOf(held) > this.maxAgeMs) {
      const d = this.unavailable(tenantId, held);
      return checks.map(() => d);
    }
    try {
      return held.policy.decideBatch(principal, checks, context);
    } catch (error) {
      const d = evaluationError(error, held.policy.version);
      return checks.map(() => d);
    }
  }

  explain(
    tenantId: string,
    principal: PolicyPrincipal,
    action: string,
    resource: string,
    context?: RequestContext,
  ): Explanation {
    const held = this.entries.get(tenantId);
    if (held === undefined || this.ageOf(held) > this.maxAgeMs) {
      const d = this.unavailable(tenantId, held);
      return { decision: d, steps: [`Decision: deny: ${d.reason.message}.`] };
    }
    return held.policy.explain(principal, action, resource, context);
  }

  /** Since the snapshot was put or confirmed, alone or with all the others. */
  private ageOf(held: Entry): number {
    return this.clock() - Math.max(held.confirmedAt, this.allConfirmedAt);
  }

  private unavailable(tenantId: string, held: Entry | undefined): Decision {
    const message = held
      ? `the policy of tenant ${tenantId} (version ${held.policy.version}) was last confirmed ${Math.round(
          this.ageOf(held) / 1000,
        )} s ago, more than the ${Math.round(this.maxAgeMs / 1000)} s allowed`
      : `no policy of tenant ${tenantId} is loaded`;
    return decision(
      false,
      { kind: 'policy-unavailable', message },
      held ? held.policy.version : null,
    );
  }
}

function evaluationError(error: unknown, version: number): Decision {
  return decision(
    false,
    {
      kind: 'evaluation-error',
      message: `the evaluation failed: ${error instanceof Error ? error.message : String(error)}`,
    },
    version,
  );
}

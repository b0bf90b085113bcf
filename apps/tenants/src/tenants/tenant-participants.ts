import { Inject, Injectable } from '@nestjs/common';
import {
  TENANT_PARTICIPANTS,
  TenantLifecycleRpc,
  type TenantParticipant,
  type TenantProfile,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { mergeUsage } from './tenant-limits.js';
import { TenantErrors } from './tenant.errors.js';

/** A participant that did not answer, or answered with an error. */
export interface ParticipantFailure {
  service: TenantParticipant;
  message: string;
}

/**
 * The other services' side of a tenant's life (TenantLifecycleRpc), as the registry needs it:
 * what the tenant uses (`usage`, for plan changes) and telling them its new profile
 * (`configure`, after a change of settings, limits or plan).
 */
@Injectable()
export class TenantParticipants {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  /**
   * What the tenant uses, counted by every participant and added up. Throws
   * SERVICE_UNAVAILABLE naming each participant that did not answer: a usage check with a
   * service missing would let a downgrade through that it would have refused.
   */
  async usage(tenantId: string): Promise<Record<string, number>> {
    const results = await Promise.allSettled(
      TENANT_PARTICIPANTS.map((service) =>
        this.rpc.request(TenantLifecycleRpc[service].usage, { tenantId }),
      ),
    );
    const failures = failuresOf(results);
    if (failures.length) throw TenantErrors.participantsUnavailable(failures);
    return mergeUsage(
      results.map(
        (r) => (r as PromiseFulfilledResult<{ usage: Record<string, number> }>).value.usage,
      ),
    );
  }

  /** Tells every participant the tenant's profile; the participants that failed (none: all configured). */
  async configure(profile: TenantProfile): Promise<ParticipantFailure[]> {
    const results = await Promise.allSettled(
      TENANT_PARTICIPANTS.map((service) =>
        this.rpc.request(TenantLifecycleRpc[service].configure, profile),
      ),
    );
    return failuresOf(results);
  }
}

function failuresOf(results: PromiseSettledResult<unknown>[]): ParticipantFailure[] {
  return results.flatMap((result, i) =>
    result.status === 'rejected'
      ? [{ service: TENANT_PARTICIPANTS[i]!, message: (result.reason as Error).message }]
      : [],
  );
}

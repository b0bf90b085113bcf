import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { AppError, ErrorCode, type Tenant, type TenantStatus } from '@tenantry/contracts';
import { Outbox } from '@tenantry/persistence';
import { double } from '@tenantry/testing';
import type { Queue } from 'bullmq';
import { ParticipantClient } from '../provisioning/participant.client.js';
import {
  ProvisioningRunEntity,
  ProvisioningStepEntity,
} from '../provisioning/provisioning-run.entity.js';
import { ProvisioningRepository } from '../provisioning/provisioning.repository.js';
import { ProvisioningService } from '../provisioning/provisioning.service.js';
import { TenantQueues } from '../queues/tenant-queues.js';
import { TenantErrors } from '../tenants/tenant.errors.js';
import { TenantService } from '../tenants/tenant.service.js';
import { LifecycleService } from './lifecycle.service.js';
import type { TenantsSettings } from '../tenants.settings.js';

beforeAll(() => Logger.overrideLogger(false));

const ID = '0193a0f0-0000-7000-8000-0000000000b1';
const RUN = '0193a0f0-0000-7000-8000-0000000000a1';

function tenant(status: TenantStatus, runId: string | null = null): Tenant {
  return { id: ID, slug: 'acme', status, runId } as Tenant;
}

function setup(current: Tenant, options: { refuse?: boolean; runStatus?: string } = {}) {
  const transitions: {
    to: TenantStatus;
    from: readonly TenantStatus[];
    deleteAfter?: Date | null;
  }[] = [];
  const cancelled: string[] = [];
  const removed: string[] = [];
  const suspendCalls: unknown[] = [];
  const run = Object.assign(new ProvisioningRunEntity(), {
    id: RUN,
    tenantId: ID,
    kind: 'deprovision',
    status: options.runStatus ?? 'pending',
    input: { previousStatus: 'suspended' },
  }) as ProvisioningRunEntity;
  const service = new LifecycleService(
    double(TenantService, {
      get: async () => current,
      transition: async (_id, to, opts) => {
        if (options.refuse)
          throw TenantErrors.statusConflict(current, `moving it to ${to}`, opts.from);
        transitions.push({ to, from: opts.from, deleteAfter: opts.deleteAfter });
        return { ...current, status: to };
      },
    }),
    double(ProvisioningService, {
      createDeprovisionRun: async () => RUN,
      enqueueQuietly: async () => undefined,
    }),
    double(ProvisioningRepository, {
      cancelPending: async (id) => {
        cancelled.push(id);
        return run.status === 'pending';
      },
      findRun: async () => run,
      findSteps: async () =>
        ['export', 'delete'].map((name) => Object.assign(new ProvisioningStepEntity(), { name })),
    }),
    double(ParticipantClient, {
      call: (async (_contract: unknown, payload: unknown) => {
        suspendCalls.push(payload);
        return { output: {} };
      }) as ParticipantClient['call'],
    }),
    double(TenantQueues, {
      queue: () =>
        ({
          remove: async (jobId: string) => {
            removed.push(jobId);
            return 1;
          },
        }) as unknown as Queue,
      within: <T>(work: Promise<T>) => work,
    }),
    double(Outbox, { kick: jest.fn<() => void>() }),
    { deprovisionGraceHours: 24 } as TenantsSettings,
  );
  return { service, transitions, cancelled, removed, suspendCalls };
}

describe('LifecycleService', () => {
  it('suspends the tenant and has identity revoke its sessions', async () => {
    const { service, transitions, suspendCalls } = setup(tenant('active'));
    await service.suspend({ id: ID, reason: 'unpaid' });
    expect(transitions).toEqual([{ to: 'suspended', from: ['active'], deleteAfter: undefined }]);
    expect(suspendCalls).toEqual([{ tenantId: ID, reason: 'unpaid' }]);
  });

  it('schedules the deletion at the end of the grace period', async () => {
    const { service, transitions } = setup(tenant('suspended'));
    const before = Date.now();
    await service.deprovision({ id: ID, graceHours: 72 });
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({ to: 'deprovisioning', from: ['suspended'] });
    const at = transitions[0]!.deleteAfter!.getTime();
    expect(at - before).toBeGreaterThanOrEqual(72 * 3_600_000);
    expect(at - Date.now()).toBeLessThanOrEqual(72 * 3_600_000);
  });

  it("schedules it after the service's default grace when the request names none", async () => {
    const { service, transitions } = setup(tenant('active'));
    const before = Date.now();
    await service.deprovision({ id: ID });
    const at = transitions[0]!.deleteAfter!.getTime();
    expect(at - before).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(at - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);
  });

  it('refuses to schedule the deletion of a tenant still provisioning, naming its status', async () => {
    const { service } = setup(tenant('provisioning'));
    await expect(service.deprovision({ id: ID, graceHours: 1 })).rejects.toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'TENANT_STATUS_CONFLICT',
      message: expect.stringContaining('is provisioning'),
    });
  });

  it('cancels the stored run when the tenant moved on meanwhile', async () => {
    const { service, cancelled } = setup(tenant('active'), { refuse: true });
    await expect(service.deprovision({ id: ID, graceHours: 1 })).rejects.toBeInstanceOf(AppError);
    expect(cancelled).toEqual([RUN]);
  });

  it('cancels a scheduled deletion: run cancelled, its jobs removed, the tenant back to where it was', async () => {
    const { service, transitions, cancelled, removed } = setup(tenant('deprovisioning', RUN));
    const back = await service.cancelDeprovision({ id: ID });
    expect(back.status).toBe('suspended');
    expect(cancelled).toEqual([RUN]);
    expect(removed).toEqual([`${RUN}.delete`]);
    expect(transitions).toEqual([{ to: 'suspended', from: ['deprovisioning'], deleteAfter: null }]);
  });

  it('refuses to cancel a deletion that already started', async () => {
    const { service, transitions } = setup(tenant('deprovisioning', RUN), { runStatus: 'running' });
    await expect(service.cancelDeprovision({ id: ID })).rejects.toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'TENANT_DEPROVISION_NOT_CANCELLABLE',
      message: expect.stringContaining('has already started'),
    });
    expect(transitions).toEqual([]);
  });
});

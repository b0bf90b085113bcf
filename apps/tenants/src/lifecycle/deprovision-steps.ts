import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import {
  AppError,
  ErrorCode,
  PLATFORM_TENANT_ID,
  TENANT_PARTICIPANTS,
  TenantLifecycleRpc,
  type TenantParticipant,
} from '@tenantry/contracts';
import { addToOutbox, outboxAuditFact } from '@tenantry/persistence';
import { ParticipantClient } from '../provisioning/participant.client.js';
import { PermanentStepError } from '../provisioning/provisioning.errors.js';
import {
  StepRegistry,
  type StepContext,
  type StepDefinition,
  type StepOutput,
} from '../provisioning/step-registry.js';
import { TenantService } from '../tenants/tenant.service.js';
import { TenantExporter } from './tenant-export.js';

/** The participants' removal steps, in the order the deprovision pipeline runs them. */
export const REMOVAL_STEPS: readonly { name: string; service: TenantParticipant }[] =
  TENANT_PARTICIPANTS.map((service) => ({ name: `remove-${service}`, service }));

/** The deprovision pipeline's steps, in order. */
export const DEPROVISION_STEPS = [
  'export',
  ...REMOVAL_STEPS.map((s) => s.name),
  'remove-tenant-data',
  'deletion-certificate',
  'delete',
] as const;

/**
 * The deprovision pipeline: export (every participant's data and the tenant's record, one
 * JSON file with its sha256) → remove in every participant → remove the tenant's rows in
 * the tenants database → the deletion certificate (an audit fact in the platform's chain,
 * listing what was removed where) → `deleted`. Nothing here is compensated: a step that
 * finally fails stops the run, for an operator to retry (ProvisioningRpc.retry).
 */
@Injectable()
export class DeprovisionSteps implements OnModuleInit {
  constructor(
    @Inject(StepRegistry) private readonly registry: StepRegistry,
    @Inject(TenantService) private readonly tenants: TenantService,
    @Inject(ParticipantClient) private readonly participants: ParticipantClient,
    @Inject(TenantExporter) private readonly exporter: TenantExporter,
  ) {}

  onModuleInit(): void {
    for (const step of this.definitions()) this.registry.register('deprovision', step);
  }

  definitions(): StepDefinition[] {
    return [
      this.export(),
      ...REMOVAL_STEPS.map(({ name, service }) => this.remove(name, service)),
      this.removeTenantData(),
      this.certificate(),
      this.delete(),
    ];
  }

  private export(): StepDefinition {
    return {
      name: 'export',
      service: 'tenants',
      run: async (context) => {
        const tenant = await this.tenants.get(context.tenantId);
        // A cancelled run never gets here (its jobs find it cancelled); a retried one carries on.
        if (tenant.status !== 'deprovisioning') {
          throw new PermanentStepError(
            `tenant ${tenant.slug} is ${tenant.status}, not deprovisioning: this deletion no longer applies`,
          );
        }
        const services: Record<string, Record<string, unknown[]>> = {
          tenants: { tenants: [tenant], ...(await this.tenants.exportTenantData(tenant.id)) },
        };
        for (const service of TENANT_PARTICIPANTS) {
          services[service] = (
            await this.participants.call(TenantLifecycleRpc[service].export, {
              tenantId: context.tenantId,
            })
          ).data;
        }
        const written = await this.exporter.write(context.tenantId, context.runId, {
          format: 'tenantry.tenant-export.v1',
          tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
          runId: context.runId,
          exportedAt: new Date().toISOString(),
          services,
        });
        const rows = Object.fromEntries(
          Object.entries(services).map(([service, tables]) => [
            service,
            Object.fromEntries(Object.entries(tables).map(([table, list]) => [table, list.length])),
          ]),
        );
        return { output: { ...written, rows } };
      },
    };
  }

  private remove(name: string, service: TenantParticipant): StepDefinition {
    return {
      name,
      service,
      run: async (context) => ({
        output: {
          removed: (
            await this.participants.call(TenantLifecycleRpc[service].remove, {
              tenantId: context.tenantId,
            })
          ).removed,
        },
      }),
    };
  }

  /** The tenant's rows in the tenants database (the tenant row stays, `deleted`): in the step's own transaction. */
  private removeTenantData(): StepDefinition {
    return {
      name: 'remove-tenant-data',
      service: 'tenants',
      run: async (context) => ({
        commit: async (manager) => ({
          removed: await this.tenants.removeTenantData(manager, context.tenantId),
        }),
      }),
    };
  }

  /**
   * The deletion certificate: an audit fact in the platform tenant's chain (the tenant's own
   * chain is gone), written through the outbox in the transaction that records the step, so
   * there is exactly one.
   */
  private certificate(): StepDefinition {
    return {
      name: 'deletion-certificate',
      service: 'tenants',
      run: async (context) => {
        const tenant = await this.tenants.get(context.tenantId);
        const exported = context.outputs['export'] ?? {};
        const data = {
          tenantId: tenant.id,
          slug: tenant.slug,
          name: tenant.name,
          runId: context.runId,
          exportFile: exported['file'] ?? null,
          exportSha256: exported['sha256'] ?? null,
          removed: this.removedByService(context),
          deletedAt: new Date().toISOString(),
        };
        return {
          commit: async (manager) => {
            const fact = outboxAuditFact({
              tenantId: PLATFORM_TENANT_ID,
              category: 'tenants',
              action: 'tenant.deletion-certificate',
              target: { type: 'tenant', id: tenant.id },
              data,
              service: 'tenants',
            });
            await addToOutbox(manager, [fact]);
            return { auditEventId: (fact.payload as { id: string }).id, removed: data.removed };
          },
        };
      },
    };
  }

  /** What every earlier step removed, by service and table. */
  private removedByService(context: StepContext): Record<string, Record<string, number>> {
    const removed: Record<string, Record<string, number>> = {};
    for (const step of this.registry.steps('deprovision')) {
      const output = context.outputs[step.name] as StepOutput | null | undefined;
      const tables = output?.['removed'] as Record<string, number> | undefined;
      if (!tables) continue;
      removed[step.service] = { ...removed[step.service], ...tables };
    }
    return removed;
  }

  private delete(): StepDefinition {
    return {
      name: 'delete',
      service: 'tenants',
      run: async (context) => {
        try {
          const tenant = await this.tenants.transition(context.tenantId, 'deleted', {
            from: ['deprovisioning'],
            runId: context.runId,
            deleteAfter: null,
          });
          return { output: { status: tenant.status } };
        } catch (error) {
          if (!(error instanceof AppError && error.code === ErrorCode.Conflict)) throw error;
          const tenant = await this.tenants.get(context.tenantId);
          if (tenant.status === 'deleted') return { output: { status: tenant.status } };
          throw new PermanentStepError(error.message);
        }
      },
    };
  }
}

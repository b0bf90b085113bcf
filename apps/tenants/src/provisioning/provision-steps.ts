import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import {
  AppError,
  ErrorCode,
  TenantLifecycleRpc,
  type BootstrapTenantRequest,
  type TenantParticipant,
} from '@tenantry/contracts';
import { TenantService } from '../tenants/tenant.service.js';
import { ParticipantClient } from './participant.client.js';
import { PermanentStepError } from './provisioning.errors.js';
import { ProvisioningRepository } from './provisioning.repository.js';
import {
  StepRegistry,
  type ProvisionInput,
  type StepContext,
  type StepDefinition,
} from './step-registry.js';

/** The participants' bootstrap steps, in the order the pipeline runs them. */
export const PARTICIPANT_STEPS: readonly { name: string; service: TenantParticipant }[] = [
  { name: 'identity-bootstrap', service: 'identity' },
  { name: 'policy-bootstrap', service: 'policy' },
  { name: 'audit-genesis', service: 'audit' },
];

/** The provision pipeline's steps, in order (a later service adds its own between them). */
export const PROVISION_STEPS = [
  'validate',
  'allocate-storage',
  ...PARTICIPANT_STEPS.map((s) => s.name),
  'verify',
  'activate',
] as const;

/**
 * The default steps of the provision pipeline: validate → allocate-storage →
 * identity-bootstrap → policy-bootstrap → audit-genesis → verify → activate. Registered in
 * the StepRegistry when the module starts.
 */
@Injectable()
export class ProvisionSteps implements OnModuleInit {
  constructor(
    @Inject(StepRegistry) private readonly registry: StepRegistry,
    @Inject(TenantService) private readonly tenants: TenantService,
    @Inject(ParticipantClient) private readonly participants: ParticipantClient,
    @Inject(ProvisioningRepository) private readonly runs: ProvisioningRepository,
  ) {}

  onModuleInit(): void {
    for (const step of this.definitions()) this.registry.register('provision', step);
  }

  definitions(): StepDefinition[] {
    return [
      this.validate(),
      this.allocateStorage(),
      ...PARTICIPANT_STEPS.map(({ name, service }) => this.bootstrap(name, service)),
      this.verify(),
      this.activate(),
    ];
  }

  /** The tenant is still this run's, in `provisioning`, and its plan resolves to a profile. */
  private validate(): StepDefinition {
    return {
      name: 'validate',
      service: 'tenants',
      run: async (context) => {
        const tenant = await this.tenants.get(context.tenantId);
        if (tenant.status !== 'provisioning') {
          throw new PermanentStepError(
            `tenant ${tenant.slug} is ${tenant.status}, not provisioning: nothing to provision`,
          );
        }
        if (tenant.runId !== context.runId) {
          throw new PermanentStepError(
            `tenant ${tenant.slug} is being provisioned by run ${tenant.runId}, not by this one`,
          );
        }
        const profile = await this.tenants.profile(context.tenantId);
        return {
          output: {
            slug: tenant.slug,
            plan: tenant.plan,
            region: tenant.region,
            isolation: tenant.isolation,
            features: profile.features,
            roles: profile.roles,
          },
        };
      },
    };
  }

  /**
   * Where the tenant's rows go. Under `rls` (every tenant of this installation) they share
   * the tables: the step checks that every table of tenant data has row-level security
   * enabled, forced and a policy, and records them. `schema` and `database` are refused
   * when the tenant is created; a tenant that has one anyway fails here.
   */
  private allocateStorage(): StepDefinition {
    return {
      name: 'allocate-storage',
      service: 'tenants',
      run: async (context) => {
        const tenant = await this.tenants.get(context.tenantId);
        if (tenant.isolation !== 'rls') {
          throw new PermanentStepError(
            `isolation "${tenant.isolation}" is not available: this installation keeps every tenant in shared tables under row-level security`,
          );
        }
        const tables = await this.runs.tenantTables();
        const unprotected = tables.filter((t) => !t.rls || !t.forced || !t.policy);
        if (unprotected.length) {
          throw new PermanentStepError(
            `tables without forced row-level security hold tenant data: ${unprotected.map((t) => t.table).join(', ')}`,
          );
        }
        return {
          output: { isolation: 'rls', region: tenant.region, tables: tables.map((t) => t.table) },
        };
      },
    };
  }

  /** A participant sets the tenant up (`bootstrap`), undoes it (`compensate`), checks it (`verify`). */
  private bootstrap(name: string, service: TenantParticipant): StepDefinition {
    const rpc = TenantLifecycleRpc[service];
    return {
      name,
      service,
      run: async (context) => ({
        output: (await this.participants.call(rpc.bootstrap, await this.request(context))).output,
      }),
      compensate: async (context) =>
        (await this.participants.call(rpc.compensate, await this.request(context))).output,
      verify: async (context) =>
        (await this.participants.call(rpc.verify, await this.request(context))).output,
    };
  }

  /** Every step that can check its work does (the participants' `verify`); any failure fails the step. */
  private verify(): StepDefinition {
    return {
      name: 'verify',
      service: 'tenants',
      run: async (context) => {
        const checks = this.registry
          .steps('provision')
          .filter((step) => step.verify && step.name !== 'verify');
        const results = await Promise.allSettled(checks.map((step) => step.verify!(context)));
        const failures = results.flatMap((result, i) =>
          result.status === 'rejected'
            ? [`${checks[i]!.name}: ${(result.reason as Error).message}`]
            : [],
        );
        if (failures.length) {
          const error = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
          // Keep the participant's code (a timeout is retried, a refusal is not).
          if (error.reason instanceof AppError) {
            throw new AppError(error.reason.code, `verification failed: ${failures.join('; ')}`, {
              reason: error.reason.reason,
            });
          }
          throw new Error(`verification failed: ${failures.join('; ')}`);
        }
        return {
          output: Object.fromEntries(
            checks.map((step, i) => [
              step.name,
              (results[i] as PromiseFulfilledResult<unknown>).value ?? {},
            ]),
          ),
        };
      },
    };
  }

  /** The tenant turns `active`; run again after it did, it finds it so. */
  private activate(): StepDefinition {
    return {
      name: 'activate',
      service: 'tenants',
      run: async (context) => {
        try {
          const tenant = await this.tenants.transition(context.tenantId, 'active', {
            from: ['provisioning'],
            runId: context.runId,
          });
          return { output: { status: tenant.status } };
        } catch (error) {
          if (!(error instanceof AppError && error.code === ErrorCode.Conflict)) throw error;
          const tenant = await this.tenants.get(context.tenantId);
          if (tenant.status === 'active' && tenant.runId === context.runId) {
            return { output: { status: tenant.status } };
          }
          throw new PermanentStepError(error.message);
        }
      },
    };
  }

  /** What a participant is told: the tenant's profile, the run, and the first admin. */
  private async request(context: StepContext): Promise<BootstrapTenantRequest> {
    const profile = await this.tenants.profile(context.tenantId);
    const input = context.input as Partial<ProvisionInput>;
    return {
      tenantId: profile.tenantId,
      slug: profile.slug,
      name: profile.name,
      plan: profile.plan,
      settings: profile.settings,
      limits: profile.limits,
      features: profile.features,
      roles: profile.roles,
      runId: context.runId,
      admin: input.request?.admin ?? null,
    };
  }
}

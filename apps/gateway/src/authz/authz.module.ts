import {
  Global,
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { EventPublisher, NatsService } from '@tenantry/messaging';
import { DecisionAuditor, PolicySnapshotFollower } from '@tenantry/policy-client';
import { READINESS_CHECKS, type ReadinessCheck } from '@tenantry/runtime';
import { Authorizer } from './authorizer.js';
import { AuthzController } from './authz.controller.js';

/**
 * Starts following the policy snapshots with the gateway, stops with it (publishing what the
 * audit buffer still holds), and adds `policies` to the readiness: down until the platform
 * tenant's snapshot is loaded and the bucket is watched live, and whenever the watch is lost.
 */
@Injectable()
class AuthzLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(PolicySnapshotFollower) private readonly snapshots: PolicySnapshotFollower,
    @Inject(DecisionAuditor) private readonly auditor: DecisionAuditor,
    @Inject(READINESS_CHECKS) checks: ReadinessCheck[],
  ) {
    checks.push({ name: 'policies', probe: async () => this.snapshots.assertReady() });
  }

  onApplicationBootstrap(): void {
    this.snapshots.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.snapshots.stop();
    await this.auditor.stop();
  }
}

/**
 * Authorization in the gateway: the tenants' policy snapshots (followed from the
 * POLICY_SNAPSHOTS bucket), the decisions made with them (routes' @Permission, `/v1/authz`),
 * and the audit of those decisions.
 */
@Global()
@Module({
  controllers: [AuthzController],
  providers: [
    {
      provide: PolicySnapshotFollower,
      inject: [NatsService],
      useFactory: (nats: NatsService) => new PolicySnapshotFollower(nats),
    },
    {
      provide: DecisionAuditor,
      inject: [EventPublisher],
      useFactory: (publisher: EventPublisher) =>
        new DecisionAuditor((event, context) => publisher.publishAudit(event, context)),
    },
    {
      provide: Authorizer,
      inject: [PolicySnapshotFollower, DecisionAuditor],
      useFactory: (snapshots: PolicySnapshotFollower, auditor: DecisionAuditor) =>
        new Authorizer(snapshots, auditor),
    },
    AuthzLifecycle,
  ],
  exports: [Authorizer, PolicySnapshotFollower],
})
export class AuthzModule {}

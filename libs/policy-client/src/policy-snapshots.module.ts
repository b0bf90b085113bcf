import {
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { EventPublisher, NatsService } from '@tenantry/messaging';
import { READINESS_CHECKS, type ReadinessCheck } from '@tenantry/runtime';
import { DecisionAuditor } from './decision-auditor.js';
import { PolicySnapshotFollower } from './policy-snapshot.follower.js';

/**
 * Starts following the policy snapshots with the service, stops with it (publishing what the
 * audit buffer still holds), and adds `policies` to the readiness: down until the platform
 * tenant's snapshot is loaded and the bucket is watched live, and whenever the watch is lost.
 */
@Injectable()
class PolicySnapshotsLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
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
 * What a Tenantry service needs to decide with the tenants' policies (the gateway, the policy
 * service): the `PolicySnapshotFollower` of the POLICY_SNAPSHOTS bucket on the service's NATS
 * connection and namespace, the `DecisionAuditor` publishing to its AUDIT stream, both started
 * and stopped with the service, and the `policies` readiness check.
 */
@Module({
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
    PolicySnapshotsLifecycle,
  ],
  exports: [PolicySnapshotFollower, DecisionAuditor],
})
export class PolicySnapshotsModule {}

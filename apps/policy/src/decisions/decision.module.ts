import {
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { EventPublisher, NatsService } from '@tenantry/messaging';
import { DecisionAuditor, PolicySnapshotFollower } from '@tenantry/policy-client';
import { READINESS_CHECKS, type ReadinessCheck } from '@tenantry/runtime';
import { DecisionNatsController } from './decision.nats-controller.js';
import { DecisionService } from './decision.service.js';

/**
 * Starts following the policy snapshots with the service, stops with it (publishing what the
 * audit buffer still holds), and adds `policies` to the readiness, as in the gateway: down until
 * the platform tenant's snapshot is loaded and the bucket is watched live, and whenever the
 * watch is lost.
 */
@Injectable()
class DecisionLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
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
 * Decisions over NATS (`policy.decisions.decide`, `decide-batch`, `explain`), made with the
 * snapshots this service follows from its own POLICY_SNAPSHOTS bucket (what every replica and
 * the gateway hold, not this replica's database), audited as the gateway's.
 */
@Module({
  controllers: [DecisionNatsController],
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
      provide: DecisionService,
      inject: [PolicySnapshotFollower, DecisionAuditor],
      useFactory: (snapshots: PolicySnapshotFollower, auditor: DecisionAuditor) =>
        new DecisionService(snapshots, auditor),
    },
    DecisionLifecycle,
  ],
  exports: [PolicySnapshotFollower],
})
export class DecisionModule {}

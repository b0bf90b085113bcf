import { Module } from '@nestjs/common';
import {
  DecisionAuditor,
  PolicySnapshotFollower,
  PolicySnapshotsModule,
} from '@tenantry/policy-client';
import { DecisionNatsController } from './decision.nats-controller.js';
import { DecisionService } from './decision.service.js';

/**
 * Decisions over NATS (`policy.decisions.decide`, `decide-batch`, `explain`), made with the
 * snapshots this service follows from its own POLICY_SNAPSHOTS bucket (what every replica and
 * the gateway hold, not this replica's database), audited as the gateway's.
 */
@Module({
  imports: [PolicySnapshotsModule],
  controllers: [DecisionNatsController],
  providers: [
    {
      provide: DecisionService,
      inject: [PolicySnapshotFollower, DecisionAuditor],
      useFactory: (snapshots: PolicySnapshotFollower, auditor: DecisionAuditor) =>
        new DecisionService(snapshots, auditor),
    },
  ],
  exports: [PolicySnapshotsModule],
})
export class DecisionModule {}

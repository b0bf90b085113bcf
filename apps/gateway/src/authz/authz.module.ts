import { Global, Module } from '@nestjs/common';
import {
  DecisionAuditor,
  PolicySnapshotFollower,
  PolicySnapshotsModule,
} from '@tenantry/policy-client';
import { Authorizer } from './authorizer.js';
import { AuthzController } from './authz.controller.js';

/**
 * Authorization in the gateway: the tenants' policy snapshots (followed from the
 * POLICY_SNAPSHOTS bucket), the decisions made with them (routes' @Permission, `/v1/authz`),
 * and the audit of those decisions.
 */
@Global()
@Module({
  imports: [PolicySnapshotsModule],
  controllers: [AuthzController],
  providers: [
    {
      provide: Authorizer,
      inject: [PolicySnapshotFollower, DecisionAuditor],
      useFactory: (snapshots: PolicySnapshotFollower, auditor: DecisionAuditor) =>
        new Authorizer(snapshots, auditor),
    },
  ],
  exports: [Authorizer, PolicySnapshotsModule],
})
export class AuthzModule {}

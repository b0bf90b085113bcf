export {
  DecisionAuditor,
  type DecisionAuditorOptions,
  type DecisionToAudit,
  type PublishAudit,
} from './decision-auditor.js';
export {
  decisionResult,
  toAuthzDecision,
  toAuthzExplanation,
  toEngineContext,
  toEnginePrincipal,
  type AuthzExplanation,
  type DecisionResult,
} from './decision-mapping.js';
export { PolicyDecisionClient } from './policy-decision.client.js';
export {
  PolicySnapshotFollower,
  type PolicySnapshotConnection,
  type PolicySnapshotFollowerOptions,
  type SnapshotUpdate,
} from './policy-snapshot.follower.js';
export { PolicySnapshotsModule } from './policy-snapshots.module.js';

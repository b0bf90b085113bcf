export { compile, CompiledPolicy } from './compile.js';
export {
  NO_OBLIGATIONS,
  type Check,
  type Decision,
  type Obligation,
  type PolicyPrincipal,
  type PrincipalKind,
  type Reason,
  type ReasonKind,
  type RequestContext,
  type StepUpObligation,
} from './decision.js';
export {
  ATTRIBUTE_OPS,
  AttributeConditionSchema,
  BindingSchema,
  CidrConditionSchema,
  ConditionSchema,
  CountryConditionSchema,
  DAYS,
  DEFAULT_AUDIT_ALLOW_SAMPLE_RATE,
  DenyRuleSchema,
  DenySubjectSchema,
  DEVICE_TRUST_LEVELS,
  DeviceTrustConditionSchema,
  MfaWithinConditionSchema,
  normalizePolicy,
  POLICY_SCHEMA_VERSION,
  PolicyDocumentSchema,
  RoleSchema,
  RoleTemplateSchema,
  SUBJECT_TYPES,
  SubjectSchema,
  TimeWindowConditionSchema,
  type AttributeOp,
  type Binding,
  type Condition,
  type ConditionType,
  type Day,
  type DenyRule,
  type DenySubject,
  type DeviceTrustLevel,
  type NormalizedBinding,
  type NormalizedDenyRule,
  type NormalizedPolicy,
  type NormalizedRole,
  type PolicyDocument,
  type Role,
  type RoleTemplate,
  type Subject,
  type SubjectType,
} from './document.js';
export { DEFAULT_STEP_UP_MINUTES, describeCondition } from './conditions.js';
export { covers, narrow, parsePattern, type Pattern } from './permission.js';
export {
  API_KEYS_GROUP,
  fromPrincipal,
  identityRoleGroup,
  isReserved,
  mfaAtOf,
} from './principal.js';
export { explainDecision, referenceDecide, type Explanation } from './reference.js';
export { PolicyStore, type PolicyStoreOptions, type SnapshotStatus } from './store.js';
export { defaultPolicy, SYSTEM_ROLE_TEMPLATES, systemRoles } from './templates.js';
export {
  DECISION_AUDIT_CATEGORY,
  DecisionAuditActions,
  decisionAuditEvent,
  shouldAudit,
  type DecisionAuditInput,
} from './audit.js';

export {
  AppError,
  ERROR_HTTP_MAP,
  ErrorBodySchema,
  ErrorCode,
  FieldErrorSchema,
  MAX_FIELD_ERRORS,
  PROBLEM_TYPE_BASE,
  ProblemSchema,
  problemType,
  type AppErrorOptions,
  type ErrorBody,
  type ErrorCodeInfo,
  type FieldError,
  type Problem,
} from './common/errors.js';
export { ContractValidationError, parseContract, toFieldErrors } from './common/validation.js';
export { SAFE_TEXT_CHECKS, jsonObject, text, token, type TextOptions } from './common/text.js';
export { Cursor } from './common/cursor.js';
export {
  Headers,
  RpcReplySchema,
  defineRpc,
  type RpcContract,
  type RpcPayload,
  type RpcReply,
  type RpcRequest,
  type RpcResponse,
} from './common/rpc.js';
export { Namespace } from './common/namespace.js';
export {
  DUPLICATE_WINDOW_SECONDS,
  Streams,
  type StreamKey,
  type StreamSpec,
} from './common/streams.js';
export {
  BACKEND_SERVICES,
  DEFAULT_HTTP_PORTS,
  HealthPaths,
  SERVICES,
  type BackendServiceName,
  type ServiceName,
} from './common/services.js';
export {
  CURSOR_PATTERN,
  INTEGER_RANGES,
  PageQuerySchema,
  TimestampSchema,
  UuidSchema,
  integer,
  pageOf,
  strictObject,
  type PageQuery,
} from './common/primitives.js';
export {
  CheckResultSchema,
  HealthCheckRequestSchema,
  PlatformHealthSchema,
  ServiceHealthSchema,
  healthCheckRpc,
  type PlatformHealth,
  type ServiceHealth,
} from './health/health.contract.js';
export {
  CreateTenantRequestSchema,
  GetTenantRequestSchema,
  ListTenantsRequestSchema,
  SLUG_PATTERN,
  TENANT_STATUSES,
  TenantEvents,
  TenantPageSchema,
  TenantRpc,
  TenantSchema,
  type CreateTenantRequest,
  type Tenant,
  type TenantPage,
} from './tenants/tenant.contract.js';
export {
  AUDIT_CATEGORY_PATTERN,
  AuditActorSchema,
  AuditEventPageSchema,
  AuditEventRpc,
  AuditEventSchema,
  AuditEventV1Schema,
  AuditTargetSchema,
  ListAuditEventsRequestSchema,
  StoredAuditEventSchema,
  auditSubject,
  parseAuditSubject,
  type AuditEvent,
  type AuditEventV1,
  type StoredAuditEvent,
} from './audit/audit-event.contract.js';

import { randomUUID } from 'node:crypto';
import {
  DEFAULT_TENANT_SETTINGS,
  PLAN_FEATURES,
  QUOTA_KEYS,
  TenantAcceptedSchema,
  TenantSchema,
  type Tenant,
} from '@tenantry/contracts';

export interface CreateTenantOptions {
  /** Headers sent with every call (e.g. `x-api-key` instead of a token, an `idempotency-key`). */
  headers?: Record<string, string>;
  /** How long the tenant may take to become `active` (default 30 s). */
  timeoutMs?: number;
  /** How often `GET /v1/tenants/{id}` is asked (default 100 ms). */
  intervalMs?: number;
}

interface Reply {
  status: number;
  body: unknown;
}

async function send(
  gatewayUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<Reply> {
  const response = await fetch(`${gatewayUrl}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: kept as text for the error message
  }
  return { status: response.status, body: parsed };
}

function authHeaders(token: string | null, options: CreateTenantOptions): Record<string, string> {
  return { ...(token ? { authorization: `Bearer ${token}` } : {}), ...options.headers };
}

/**
 * Waits until the tenant is `active` (`GET /v1/tenants/{id}`), and answers it. Throws, with
 * the tenant's provisioning run (`GET /v1/tenants/{id}/provisioning`: each step's state,
 * attempts and error) in the message, when it ends in another status (`failed`, …) or is
 * still not active after `timeoutMs`.
 */
export async function waitForActiveTenant(
  gatewayUrl: string,
  token: string | null,
  tenantId: string,
  options: CreateTenantOptions = {},
): Promise<Tenant> {
  const headers = authHeaders(token, options);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let last: Reply | undefined;
  for (;;) {
    last = await send(gatewayUrl, 'GET', `/v1/tenants/${tenantId}`, headers);
    if (last.status === 200) {
      const tenant = TenantSchema.parse(last.body);
      if (tenant.status === 'active') return tenant;
      if (tenant.status !== 'provisioning') break;
    } else if (last.status !== 503) {
      // 503: a service restarting, asked again; anything else is an answer.
      break;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const run = await send(gatewayUrl, 'GET', `/v1/tenants/${tenantId}/provisioning`, headers).catch(
    (error: Error) => ({ status: 0, body: error.message }),
  );
  const status =
    last.status === 200
      ? `status ${(last.body as { status: string }).status}`
      : `HTTP ${last.status}`;
  throw new Error(
    `tenant ${tenantId} did not become active within ${timeoutMs} ms (last: ${status}: ` +
      `${JSON.stringify(last.body)}); its provisioning run (HTTP ${run.status}): ` +
      JSON.stringify(run.body, null, 2),
  );
}

/**
 * Creates a tenant through the gateway as a client would (`POST /v1/tenants`, answered 202
 * with the tenant in `provisioning` and its run id) and waits until its provisioning has
 * brought it to `active` across the services; answers the active tenant. `token` is a platform
 * operator's access token (or null with `options.headers` carrying e.g. a platform API key).
 * A refusal, a run that ends `failed`, or a timeout throws with the answer or the run's steps.
 */
export async function createActiveTenant(
  gatewayUrl: string,
  token: string | null,
  body: Record<string, unknown>,
  options: CreateTenantOptions = {},
): Promise<Tenant> {
  const accepted = await send(gatewayUrl, 'POST', '/v1/tenants', authHeaders(token, options), body);
  if (accepted.status !== 202) {
    throw new Error(
      `POST /v1/tenants ${JSON.stringify(body)} answered ${accepted.status}, not 202: ` +
        JSON.stringify(accepted.body),
    );
  }
  const { tenant } = TenantAcceptedSchema.parse(accepted.body);
  return waitForActiveTenant(gatewayUrl, token, tenant.id, options);
}

/**
 * A tenant as the tenants service answers it, for stand-ins (`serveTenants`) and unit specs:
 * active, on the `enterprise` plan (every limit unlimited, every feature), default settings,
 * but for `over`.
 */
export function testTenant(over: Partial<Tenant> = {}): Tenant {
  const now = new Date().toISOString();
  const slug = over.slug ?? `t${randomUUID().slice(0, 8)}`;
  return TenantSchema.parse({
    id: randomUUID(),
    name: `Tenant ${slug}`,
    slug,
    status: 'active',
    statusReason: null,
    plan: 'enterprise',
    region: 'local',
    isolation: 'rls',
    settings: { ...DEFAULT_TENANT_SETTINGS },
    limitOverrides: {},
    limits: Object.fromEntries(QUOTA_KEYS.map((key) => [key, null])),
    features: [...PLAN_FEATURES],
    pendingPlanChange: null,
    runId: null,
    trialEndsAt: null,
    deleteAfter: null,
    createdAt: now,
    updatedAt: now,
    ...over,
  });
}

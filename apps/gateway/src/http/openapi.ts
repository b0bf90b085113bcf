import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { INTEGER_RANGES, PLATFORM_TENANT_ID, ProblemSchema, Roles } from '@tenantry/contracts';
import { compile, defaultPolicy, identityRoleGroup } from '@tenantry/policy-engine';
import { z } from 'zod';
import { AccessRegistry, type RouteAccess } from '../auth/access-registry.js';
import type { PermissionRequirement } from '../auth/access.decorators.js';

/** JSON Schema (2020-12, which OpenAPI 3.1 uses) of a contract schema: one schema drives validation and docs. */
export function jsonSchema(
  schema: z.ZodType,
  io: 'input' | 'output' = 'output',
): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      // The integer itself, or the `.default()` around it.
      const inner = (zodSchema._zod.def as { innerType?: unknown }).innerType;
      const range =
        INTEGER_RANGES.get(zodSchema as unknown as z.ZodType) ??
        (inner ? INTEGER_RANGES.get(inner as z.ZodType) : undefined);
      if (!range) return;
      const schema = jsonSchema as Record<string, unknown>;
      delete schema.anyOf;
      const fallback = (zodSchema._zod.def as { defaultValue?: unknown }).defaultValue;
      Object.assign(schema, {
        type: 'integer',
        ...range,
        ...(inner && fallback !== undefined ? { default: fallback } : {}),
      });
    },
  }) as Record<string, unknown>;
  return rest;
}

export const PROBLEM_RESPONSE = {
  description: 'RFC 9457 problem details',
  content: { 'application/problem+json': { schema: jsonSchema(ProblemSchema) } },
};

export const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'An access token from POST /v1/auth/login (or /v1/auth/refresh), as `Authorization: Bearer <token>`. ' +
      'It lives 5 to 15 minutes; a revoked session is refused at once.',
  },
  apiKey: {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description:
      'An API key (`tnty_…`), as `X-API-Key: tnty_…` or as `Authorization: Bearer tnty_…`. ' +
      'The requirement lists the scopes the key needs (`resource:action`; `*` on either side covers any).',
  },
  scimToken: {
    type: 'http',
    scheme: 'bearer',
    description:
      "A SCIM directory's token (shown once by POST /v1/tenants/{tenantId}/scim-directories), as " +
      '`Authorization: Bearer <token>`; it names the directory and so the tenant.',
  },
  setupSession: {
    type: 'http',
    scheme: 'bearer',
    description:
      'An SSO setup session (POST /v1/sso-setup/session with a setup link), as `Authorization: Bearer <sessionToken>`: ' +
      "the tenant's SSO connections and SCIM directories only.",
  },
} as const;

/** A tenant's and the platform's default policies: who a permission is for until an admin changes it. */
const DEFAULTS = {
  tenant: compile(defaultPolicy('00000000-0000-7000-8000-000000000001')),
  platform: compile(defaultPolicy(PLATFORM_TENANT_ID)),
};

/** Who the default policies give a permission to, in words: "tenant admins, members and operators". */
function byDefault(requirement: PermissionRequirement): string[] {
  const resource = requirement.resource.replace(/\{[^}]+\}/g, 'x');
  const grants = (policy: typeof DEFAULTS.tenant, role: string) =>
    policy.decide(
      { kind: 'user', id: 'x', groups: [identityRoleGroup(role)] },
      requirement.action,
      resource,
    ).allowed;
  const kinds = requirement.principals;
  const who: string[] = [];
  if (!requirement.platform && (!kinds || kinds.includes('user'))) {
    if (grants(DEFAULTS.tenant, Roles.tenantAdmin)) who.push('tenant admins');
    if (grants(DEFAULTS.tenant, Roles.member)) who.push('members');
  }
  if ((!kinds || kinds.includes('operator')) && grants(DEFAULTS.platform, Roles.platformOperator))
    who.push('platform operators');
  if (!kinds || kinds.includes('api_key'))
    who.push(`API keys ${requirement.platform ? 'of the platform ' : ''}with a scope covering it`);
  return who;
}

const words = (list: string[]) =>
  list.length > 1 ? `${list.slice(0, -1).join(', ')} and ${list.at(-1)}` : (list[0] ?? 'nobody');

/** What a @Permission route takes, in sentences for the operation's description. */
function permissionText(requirement: PermissionRequirement, tenantScoped: boolean): string {
  const whose = requirement.platform
    ? "in the platform tenant's policy"
    : "in the caller's tenant's policy (operators' and platform API keys': the platform's)";
  const only = requirement.principals
    ? ` For ${words(requirement.principals.map((k) => ({ user: 'users', operator: 'operators', api_key: 'API keys' })[k]))} only.`
    : '';
  return (
    `**Access:** the permission \`${requirement.permission}\` ${whose}; by default ${words(byDefault(requirement))}.${only}` +
    (tenantScoped
      ? " A tenant that is not the caller's is a 404, as one that does not exist."
      : '') +
    ' A permission that needs a recent MFA is a 403 `STEP_UP_REQUIRED` with `obligations`; ' +
    "while the tenant's policy is not available, a 503 with Retry-After."
  );
}

/**
 * Each operation's security from its @Public/@Authenticated/@Permission (public: `security: []`;
 * otherwise a bearer and an API key requirement, each naming the permission), a sentence on who
 * may call, its 401 and 403 responses (and 503: the policy not available), and the 404 of a
 * tenant-scoped route (another tenant's, or none).
 */
export function documentAccess(document: OpenAPIObject, routes: readonly RouteAccess[]): void {
  document.components = {
    ...document.components,
    securitySchemes: { ...document.components?.securitySchemes, ...SECURITY_SCHEMES },
  };
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const item = document.paths[path] as Record<string, Record<string, unknown>> | undefined;
    const operation = item?.[route.method.toLowerCase()] as
      { security?: unknown; responses: Record<string, unknown>; description?: string } | undefined;
    if (!operation) continue;
    const access = route.access;
    if (!access || access.kind === 'public') {
      operation.security = access?.credential ? [{ [access.credential]: [] }] : [];
      if (access?.credential)
        operation.responses['401'] ??= {
          ...PROBLEM_RESPONSE,
          description: 'No valid token for this route',
        };
      continue;
    }
    const tenantParam = access.kind === 'permission' ? access.requirement.tenantParam : undefined;
    const tenantScoped =
      route.path.includes('/:tenantId') ||
      (!!tenantParam && route.path.includes(`/:${tenantParam}`));
    const security: Record<string, string[]>[] = [];
    let sentence: string;
    if (access.kind === 'permission') {
      const { permission, principals } = access.requirement;
      if (!principals || principals.some((k) => k !== 'api_key'))
        security.push({ bearer: [permission] });
      if (!principals || principals.includes('api_key')) security.push({ apiKey: [permission] });
      sentence = permissionText(access.requirement, tenantScoped);
      operation.responses['503'] ??= {
        ...PROBLEM_RESPONSE,
        description: "The tenant's policy is not available right now (with Retry-After)",
      };
    } else {
      security.push({ bearer: [] }, { apiKey: [] });
      sentence =
        '**Access:** any authenticated caller; the answer is about what the caller may see.';
    }
    operation.security = security;
    operation.responses['401'] ??= {
      ...PROBLEM_RESPONSE,
      description: 'No valid credentials (with `WWW-Authenticate: Bearer`)',
    };
    operation.responses['403'] ??= {
      ...PROBLEM_RESPONSE,
      description:
        "The credentials do not allow this, or the caller's tenant refuses it (suspended, unavailable, or the client's address not on its IP allow list)",
    };
    operation.responses['429'] ??= {
      ...PROBLEM_RESPONSE,
      description:
        "The caller's tenant has used up its API calls per minute or per day (`QUOTA_EXCEEDED`, with Retry-After)",
    };
    if (tenantScoped)
      operation.responses['404'] ??= {
        ...PROBLEM_RESPONSE,
        description: "No such tenant (also for a tenant that is not the caller's)",
      };
    operation.description = operation.description
      ? `${operation.description}\n\n${sentence}`
      : sentence;
  }
}

/** Serves the OpenAPI document at /openapi.json and Swagger UI at /docs. */
export function setupOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Tenantry API')
    .setDescription(
      'The HTTP front door of Tenantry. Errors are RFC 9457 problem details (application/problem+json); ' +
        'every response carries an x-request-id header. Every operation but the public ones needs an ' +
        'access token (POST /v1/auth/login) or an API key; each lists what it accepts under security. ' +
        'The users and API keys of a tenant are refused while it is suspended (403 `TENANT_SUSPENDED`) or ' +
        'being deleted, deleted or failed (403 `TENANT_UNAVAILABLE`), from an address outside its ' +
        '`settings.ipAllowList` (403 `TENANT_IP_NOT_ALLOWED`), and past its API call limits (`apiCallsPerMinute` / ' +
        '`apiCallsPerDay`: 429 `QUOTA_EXCEEDED` naming the limit, with Retry-After); platform operators never are.',
    )
    .setVersion('0.1.0')
    .setOpenAPIVersion('3.1.0')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  documentAccess(document, app.get(AccessRegistry).routes());
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    yamlDocumentUrl: 'openapi.yaml',
  });
}

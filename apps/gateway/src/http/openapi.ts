import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { INTEGER_RANGES, ProblemSchema, Roles } from '@tenantry/contracts';
import { z } from 'zod';
import { AccessRegistry, type RouteAccess } from '../auth/access-registry.js';
import type { AccessRule } from '../auth/access.decorators.js';

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
} as const;

/** Who may call, in a sentence for the operation's description. */
function whoMayCall(rule: AccessRule, tenantScoped: boolean): string {
  const who: string[] = [];
  if (rule.operator) who.push('platform operators');
  const users = tenantScoped ? 'users of the tenant' : 'signed-in users';
  if (rule.tenantRoles === '*') who.push(users);
  else if (rule.tenantRoles?.length)
    who.push(`${users} with the role ${rule.tenantRoles.join(' or ')}`);
  if (rule.scopes?.length)
    who.push(
      `API keys${tenantScoped ? ' of the tenant' : ''} with the scope ${rule.scopes.join(' and ')}`,
    );
  return `**Access:** ${who.join('; ')}.`;
}

/**
 * Each operation's security from its @Public/@Allow (public: `security: []`; otherwise a
 * bearer requirement listing the roles, an API key requirement listing the scopes), its
 * 401 and 403 responses, and the 404 of a tenant-scoped route (another tenant's, or none).
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
    if (!route.access || route.access.public) {
      operation.security = [];
      continue;
    }
    const rule = route.access.rule;
    const tenantScoped =
      route.path.includes('/:tenantId') ||
      (!!rule.tenantParam && route.path.includes(`/:${rule.tenantParam}`));
    const security: Record<string, string[]>[] = [];
    if (rule.operator || rule.tenantRoles) {
      const roles =
        rule.tenantRoles === '*'
          ? []
          : [...(rule.operator ? [Roles.platformOperator] : []), ...(rule.tenantRoles ?? [])];
      security.push({ bearer: roles });
    }
    if (rule.scopes?.length) security.push({ apiKey: [...rule.scopes] });
    operation.security = security;
    operation.responses['401'] ??= {
      ...PROBLEM_RESPONSE,
      description: 'No valid credentials (with `WWW-Authenticate: Bearer`)',
    };
    operation.responses['403'] ??= {
      ...PROBLEM_RESPONSE,
      description: 'The credentials do not allow this',
    };
    if (tenantScoped)
      operation.responses['404'] ??= {
        ...PROBLEM_RESPONSE,
        description: "No such tenant (also for a tenant that is not the caller's)",
      };
    const sentence = whoMayCall(rule, tenantScoped);
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
        'access token (POST /v1/auth/login) or an API key; each lists what it accepts under security.',
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

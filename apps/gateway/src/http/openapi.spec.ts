import type { OpenAPIObject } from '@nestjs/swagger';
import type { RouteAccess } from '../auth/access-registry.js';
import {
  parsePermission,
  PLATFORM_ADMINISTRATION,
  OWN_ACCOUNT,
} from '../auth/access.decorators.js';
import { documentAccess } from './openapi.js';

type Operation = {
  security?: unknown;
  description?: string;
  responses: Record<string, unknown>;
};

function documented(routes: RouteAccess[]) {
  const paths: Record<string, Record<string, Operation>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    (paths[path] ??= {})[route.method.toLowerCase()] = { responses: {} };
  }
  const document = { openapi: '3.1.0', info: { title: 't', version: '1' }, paths } as OpenAPIObject;
  documentAccess(document, routes);
  return (method: string, path: string) =>
    (document.paths[path] as Record<string, Operation>)[method.toLowerCase()]!;
}

const route = (method: string, path: string, access: RouteAccess['access']): RouteAccess => ({
  method,
  path,
  name: `X.${method}`,
  access,
  infrastructure: false,
});

describe('documentAccess', () => {
  const op = documented([
    route('GET', '/v1/open', { kind: 'public' }),
    route('POST', '/v1/tenants/:tenantId/users', {
      kind: 'permission',
      requirement: parsePermission('users:write'),
    }),
    route('GET', '/v1/me', {
      kind: 'permission',
      requirement: parsePermission('profile:read', OWN_ACCOUNT),
    }),
    route('POST', '/v1/tenants', {
      kind: 'permission',
      requirement: parsePermission('tenants:write', PLATFORM_ADMINISTRATION),
    }),
    route('POST', '/v1/authz/check', { kind: 'authenticated' }),
    route('PATCH', '/v1/tenants/:id', {
      kind: 'permission',
      requirement: parsePermission('tenants:write', { tenantParam: 'id' }),
    }),
    route('POST', '/v1/tenants/:id/suspend', {
      kind: 'permission',
      requirement: parsePermission('tenants:write', {
        ...PLATFORM_ADMINISTRATION,
        tenantParam: 'id',
      }),
    }),
  ]);

  it('names the permission in each security requirement, and no requirement for public routes', () => {
    expect(op('GET', '/v1/open').security).toEqual([]);
    expect(op('POST', '/v1/tenants/{tenantId}/users').security).toEqual([
      { bearer: ['users:write'] },
      { apiKey: ['users:write'] },
    ]);
    // Not for API keys.
    expect(op('GET', '/v1/me').security).toEqual([{ bearer: ['profile:read'] }]);
    expect(op('POST', '/v1/authz/check').security).toEqual([{ bearer: [] }, { apiKey: [] }]);
  });

  it('says who may call, as the default policies have it, and documents 401, 403, 404 and 503', () => {
    const users = op('POST', '/v1/tenants/{tenantId}/users');
    expect(users.description).toContain(
      "**Access:** the permission `users:write` in the caller's tenant's policy",
    );
    expect(users.description).toContain(
      'by default tenant admins, platform operators and API keys with a scope covering it.',
    );
    // 403 and 429 also for the tenant's own refusals (suspended, IP allow list, API call limits).
    expect(Object.keys(users.responses).sort()).toEqual(['401', '403', '404', '429', '503']);
    expect(users.responses['429']).toMatchObject({
      description: expect.stringContaining('QUOTA_EXCEEDED'),
    });
    expect(users.responses['403']).toMatchObject({
      description: expect.stringContaining('suspended'),
    });
    expect(op('GET', '/v1/me').description).toContain(
      'by default tenant admins, members and platform operators. For users and operators only.',
    );
    expect(op('POST', '/v1/tenants').description).toContain(
      "the permission `tenants:write` in the platform tenant's policy; by default platform operators. For operators only.",
    );
    expect(Object.keys(op('POST', '/v1/tenants').responses)).not.toContain('404');
  });

  it("documents a tenant's own routes (`:id`) as its admins', and its lifecycle as operators'", () => {
    const patch = op('PATCH', '/v1/tenants/{id}');
    expect(patch.description).toContain(
      'by default tenant admins, platform operators and API keys with a scope covering it.',
    );
    expect(patch.description).toContain("A tenant that is not the caller's is a 404");
    expect(Object.keys(patch.responses)).toContain('404');
    const suspend = op('POST', '/v1/tenants/{id}/suspend');
    expect(suspend.description).toContain(
      "the permission `tenants:write` in the platform tenant's policy; by default platform operators. For operators only.",
    );
    expect(suspend.security).toEqual([{ bearer: ['tenants:write'] }]);
  });
});

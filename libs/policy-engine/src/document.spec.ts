// Validation of policy documents: every error names its field; templates are instantiated.
import { ContractValidationError } from '@tenantry/contracts';
import { compile } from './compile.js';
import { normalizePolicy, type PolicyDocument } from './document.js';
import { covers, narrow, parsePattern, pattern } from './permission.js';
import { SYSTEM_ROLE_TEMPLATES, systemRoles } from './templates.js';

const base = (over: Partial<PolicyDocument> = {}): PolicyDocument => ({
  schemaVersion: 1,
  tenantId: 'acme',
  version: 1,
  roles: [{ id: 'clerk', name: 'Clerk', permissions: ['invoices:read'] }],
  bindings: [],
  ...over,
});

/** The field errors of an invalid document, as "field: message". */
function errorsOf(doc: unknown): string[] {
  try {
    normalizePolicy(doc);
  } catch (error) {
    expect(error).toBeInstanceOf(ContractValidationError);
    return ((error as ContractValidationError).errors ?? []).map((e) => `${e.field}: ${e.message}`);
  }
  throw new Error('the document was accepted');
}

describe('policy documents', () => {
  it('accepts a minimal document and the system roles', () => {
    const p = normalizePolicy(base({ roles: systemRoles() }));
    expect([...p.roles.keys()]).toEqual([
      'tenant-admin',
      'developer',
      'analyst',
      'auditor',
      'member',
      'viewer',
      'service-account',
    ]);
    expect(p.roles.get('viewer')!.permissions.map((x) => x.text)).toEqual(['*:read', '*:list']);
    expect(systemRoles('platform').map((r) => r.id)).toContain('platform-operator');
  });

  it('has valid system templates', () => {
    for (const t of SYSTEM_ROLE_TEMPLATES) {
      const variables = Object.fromEntries((t.variables ?? []).map((v) => [v, 'x']));
      expect(() =>
        normalizePolicy(base({ roles: [{ id: t.id, template: t.id, variables }] })),
      ).not.toThrow();
    }
  });

  it('names the field of every schema error', () => {
    expect(
      errorsOf({
        ...base(),
        version: 0,
        extra: true,
        roles: [{ id: 'r', permissions: ['invoices'] }],
        bindings: [{ id: 'b', roleId: 'r', subject: { type: 'robot', id: 'x' } }],
      }),
    ).toEqual([
      'version: Too small: expected number to be >=1',
      'roles.0.permissions.0: permission must be `resource:action`, e.g. `invoices:read`, `projects/42:write`, `*:read`',
      'bindings.0.subject.type: Invalid option: expected one of "user"|"group"|"api_key"|"service_account"',
      '(root): Unrecognized key: "extra"',
    ]);
  });

  it.each([
    ['projects/*/tasks:read', 'may use * only as its whole last segment'],
    ['Invoices:read', 'must start with a resource type'],
    ['invoices:Read', 'has an action "Read"'],
    ['invoices//7:read', 'has an empty segment'],
    ['invoices/7 8:read', 'has a segment "7 8"'],
    [':read', 'must be `resource:action`'],
    ['invoices:', 'must be `resource:action`'],
  ])('refuses the permission %s', (text, message) => {
    expect(errorsOf(base({ roles: [{ id: 'r', permissions: [text] }] })).join()).toContain(message);
  });

  it('refuses unknown roles, duplicates and bad references, naming them', () => {
    expect(
      errorsOf(
        base({
          roles: [
            { id: 'a', permissions: [], inherits: ['ghost'] },
            { id: 'a', permissions: [] },
          ],
          bindings: [
            { id: 'b1', roleId: 'nope', subject: { type: 'user', id: 'u' } },
            { id: 'b1', roleId: 'a', subject: { type: 'user', id: 'u' } },
          ],
          denyRules: [
            { id: 'd', permissions: ['*:*'], subjects: [{ type: 'role', id: 'ghost' }] },
            { id: 'd', permissions: ['*:*'] },
          ],
        }),
      ),
    ).toEqual([
      'roles.1.id: duplicate role id "a" (also roles.0)',
      'roles.0.inherits.0: unknown role "ghost"',
      'bindings.0.roleId: unknown role "nope"',
      'bindings.1.id: duplicate binding id "b1" (also bindings.0)',
      'denyRules.0.subjects.0.id: unknown role "ghost"',
      'denyRules.1.id: duplicate deny rule id "d" (also denyRules.0)',
    ]);
  });

  it('names an inheritance cycle', () => {
    expect(
      errorsOf(
        base({
          roles: [
            { id: 'a', inherits: ['b'] },
            { id: 'b', inherits: ['c'] },
            { id: 'c', inherits: ['a'] },
            { id: 'self', inherits: ['self'] },
            { id: 'ok', inherits: ['a'] },
          ],
        }),
      ),
    ).toEqual([
      'roles.2.inherits: inheritance cycle: a → b → c → a',
      'roles.3.inherits: inheritance cycle: self → self',
    ]);
  });

  it('instantiates templates with variables, and refuses bad instantiations', () => {
    const p = normalizePolicy(
      base({
        templates: [
          {
            id: 'dept-editor',
            name: 'Editor of {department}',
            variables: ['department', 'region'],
            permissions: ['departments/{department}:*', 'regions/{region}/*:read'],
          },
        ],
        roles: [
          {
            id: 'fin',
            template: 'dept-editor',
            variables: { department: 'finance', region: 'emea/paris' },
            permissions: ['reports:read'],
          },
          { id: 'fr', template: 'department-reader', variables: { department: 'fr' } },
        ],
      }),
    );
    expect(p.roles.get('fin')).toMatchObject({
      name: 'Editor of finance',
      template: 'dept-editor',
    });
    expect(p.roles.get('fin')!.permissions.map((x) => x.text)).toEqual([
      'departments/finance:*',
      'regions/emea/paris/*:read',
      'reports:read',
    ]);
    expect(p.roles.get('fr')!.name).toBe('Reader of fr');

    expect(
      errorsOf(
        base({
          templates: [
            { id: 't', name: '{x} {y}', variables: ['x'], permissions: ['{x}:read', 'a:{z}'] },
            { id: 'viewer', name: 'Mine', permissions: [] },
          ],
          roles: [
            { id: 'r1', template: 't' },
            { id: 'r2', template: 't', variables: { x: '*' } },
            { id: 'r3', template: 't', variables: { x: 'ok', extra: '1' } },
            { id: 'r4', template: 'ghost' },
            { id: 'r5', variables: { x: '1' } },
            { id: 'r6', template: 't', variables: { x: 'Upper' } },
            { id: 'r7', template: 't', variables: { constructor: 'x' } },
          ],
        }),
      ),
    ).toEqual([
      'templates.0.name: uses {y}, which is not among the variables',
      'templates.0.permissions.1: uses {z}, which is not among the variables',
      'templates.0.permissions.1: permission has an action "{z}" that is neither * nor a name (lowercase letters, digits and -, starting with a letter)',
      'templates.1.id: "viewer" is a system template\'s id',
      'roles.0.variables: template "t" needs the variable "x"',
      'roles.1.variables.x: must be a resource path segment or path (A-Z a-z 0-9 . _ ~ @ -, segments joined by /), no * or :',
      'roles.2.variables.extra: template "t" has no variable "extra"',
      'roles.3.template: unknown template "ghost"',
      'roles.4.variables: only with a template',
      'roles.5.variables: template "t" gives the permission "Upper:read", which has a resource "Upper" that must start with a resource type (lowercase letters, digits and -, starting with a letter, at most 64), not "Upper"',
      'roles.5.variables: template "t" gives the permission "a:{z}", which has an action "{z}" that is neither * nor a name (lowercase letters, digits and -, starting with a letter)',
      'roles.6.variables: template "t" needs the variable "x"',
      'roles.6.variables.constructor: template "t" has no variable "constructor"',
    ]);
  });

  it('checks conditions: ranges, time zones, windows, step-up fields, attributes', () => {
    const binding = (conditions: unknown[]) => ({
      id: 'b',
      roleId: 'clerk',
      subject: { type: 'user', id: 'u' },
      conditions,
    });
    expect(
      errorsOf({
        ...base(),
        bindings: [
          binding([
            {
              type: 'cidr',
              ranges: ['10.1.0.0/8', '10.0.0.0/33', '300.0.0.0/8', '2001:db8::/129', 'x'],
            },
            { type: 'time-window', timeZone: 'Mars/Olympus', from: '09:00', to: '09:00' },
            { type: 'country', in: ['FR'], stepUpMinutes: 5 },
            { type: 'attribute', key: 'k', op: 'in', value: 'x' },
            { type: 'attribute', key: 'k', op: 'eq' },
            { type: 'cidr', ranges: ['::ffff:10.0.0.0/104'] },
          ]),
        ],
        denyRules: [
          {
            id: 'd',
            permissions: ['*:*'],
            conditions: [{ type: 'country', in: ['KP'], onFail: 'step-up' }],
          },
        ],
      }),
    ).toEqual([
      'bindings.0.conditions.0.ranges.0: "10.1.0.0/8" has bits set after the /8 prefix',
      'bindings.0.conditions.0.ranges.1: prefix length /33 is longer than 32 bits',
      'bindings.0.conditions.0.ranges.2: must be an IPv4 or IPv6 range, e.g. 10.0.0.0/8 or 2001:db8::/32 (got "300.0.0.0/8")',
      'bindings.0.conditions.0.ranges.3: prefix length /129 is longer than 128 bits',
      'bindings.0.conditions.0.ranges.4: must be an IPv4 or IPv6 range, e.g. 10.0.0.0/8 or 2001:db8::/32 (got "x")',
      'bindings.0.conditions.1.timeZone: unknown IANA time zone "Mars/Olympus"',
      'bindings.0.conditions.1.to: must differ from `from` (for a whole day: from 00:00 to 24:00)',
      "bindings.0.conditions.2.stepUpMinutes: only with onFail: 'step-up'",
      'bindings.0.conditions.3.value: must be an array for in',
      'bindings.0.conditions.4: needs exactly one of `value` and `valueFrom`',
      'bindings.0.conditions.5.ranges.0: "::ffff:10.0.0.0" is an IPv4-mapped IPv6 address: write it as IPv4',
      'denyRules.0.conditions.0: a deny rule applies when its conditions hold: onFail and stepUpMinutes belong in `unless`',
    ]);
  });

  it('lists at most 20 errors and counts them all', () => {
    try {
      compile(
        base({
          bindings: Array.from({ length: 30 }, (_, i) => ({
            id: `b${i}`,
            roleId: 'ghost',
            subject: { type: 'user' as const, id: 'u' },
          })),
        }),
      );
      throw new Error('accepted');
    } catch (error) {
      const e = error as ContractValidationError;
      expect(e.errors).toHaveLength(20);
      expect(e.errorCount).toBe(30);
      expect(e.message).toContain('and 10 more');
    }
  });
});

describe('permissions', () => {
  it('parses and matches segment-wise', () => {
    expect(parsePattern('orgs/emea/*:read')).toEqual({
      resource: 'orgs/emea',
      below: true,
      action: 'read',
      text: 'orgs/emea/*:read',
    });
    const p = pattern('projects/42:write');
    expect(covers(p, 'projects/42', 'write')).toBe(true);
    expect(covers(p, 'projects/42/x', 'write')).toBe(true);
    expect(covers(p, 'projects/421', 'write')).toBe(false);
    expect(covers(p, 'projects', 'write')).toBe(false);
    expect(covers(pattern('*:*'), 'a/b', 'c')).toBe(true);
  });

  it('narrows a permission to a scope', () => {
    const text = (p: string, scope: string) => narrow(pattern(p), scope)?.text ?? null;
    expect(text('*:read', 'projects/42')).toBe('projects/42:read');
    expect(text('projects:*', 'projects/42')).toBe('projects/42:*');
    expect(text('projects/*:*', 'projects/42')).toBe('projects/42:*');
    expect(text('projects/42/*:read', 'projects/42')).toBe('projects/42/*:read');
    expect(text('projects/42/tasks:read', 'projects')).toBe('projects/42/tasks:read');
    expect(text('invoices:write', 'projects/42')).toBe(null);
    expect(text('projects/421:write', 'projects/42')).toBe(null);
    expect(text('projects/*:read', 'projects')).toBe('projects/*:read');
  });
});

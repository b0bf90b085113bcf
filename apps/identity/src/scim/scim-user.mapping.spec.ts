import { ScimErrorReason, ScimSchemas } from '@tenantry/contracts';
import { isSelected, sameJson, selectAttributes } from './scim-attributes.js';
import { scimGroupInput, scimGroupResource } from './scim-group.mapping.js';
import { directoryRoles, sameRoles } from './scim-roles.js';
import { scimUserInput, scimUserResource, type ScimUserView } from './scim-user.mapping.js';

const BASE = 'https://tenantry.test/scim/v2';

function failure(work: () => unknown) {
  try {
    work();
  } catch (error) {
    return error as { reason: string; message: string; errors?: { field: string }[] };
  }
  throw new Error('expected an error');
}

describe('a SCIM User document as a user', () => {
  it('takes userName as the normalized email, displayName, active, externalId, and keeps the rest as sent', () => {
    const input = scimUserInput({
      schemas: [ScimSchemas.user, ScimSchemas.enterpriseUser],
      id: 'ignored',
      userName: ' Zoë.Lima@Example.COM ',
      displayName: 'Zoë Lima',
      externalId: '00u1',
      active: true,
      password: 'never stored',
      groups: [{ value: 'ignored' }],
      meta: { resourceType: 'User' },
      name: { givenName: 'Zoë', familyName: 'Lima' },
      emails: [{ value: 'zoe@example.com', type: 'work', primary: 'True' }],
      title: 'Engineer',
      [ScimSchemas.enterpriseUser]: { department: 'R&D' },
    });
    expect(input).toEqual({
      email: 'zoë.lima@example.com',
      displayName: 'Zoë Lima',
      active: true,
      externalId: '00u1',
      attributes: {
        name: { givenName: 'Zoë', familyName: 'Lima' },
        emails: [{ value: 'zoe@example.com', type: 'work', primary: true }],
        title: 'Engineer',
        [ScimSchemas.enterpriseUser]: { department: 'R&D' },
      },
    });
  });

  it('reads attribute names in any case and Entra’s string booleans', () => {
    expect(
      scimUserInput({ UserName: 'a@b.c', Active: 'False', Name: { GivenName: 'A' } }),
    ).toMatchObject({ email: 'a@b.c', active: false, attributes: { name: { givenName: 'A' } } });
    expect(scimUserInput({ userName: 'a@b.c', active: 'TRUE' }).active).toBe(true);
    expect(scimUserInput({ userName: 'a@b.c' }).active).toBe(true);
  });

  it('makes the display name from name.formatted, else given and family name, else userName', () => {
    const name = (doc: Record<string, unknown>) =>
      scimUserInput({ userName: 'a@b.c', ...doc }).displayName;
    expect(name({ name: { formatted: 'Dr. A B', givenName: 'A', familyName: 'B' } })).toBe(
      'Dr. A B',
    );
    expect(name({ name: { givenName: 'A', familyName: 'B' } })).toBe('A B');
    expect(name({ name: { familyName: 'B' } })).toBe('B');
    expect(name({})).toBe('a@b.c');
    expect(name({ name: { givenName: 'x'.repeat(300) } })).toHaveLength(200);
  });

  it('refuses bad values with 400 invalidValue naming the attribute', () => {
    for (const [doc, field] of [
      [{}, 'userName'],
      [{ userName: 'not an email' }, 'userName'],
      [{ userName: 'a@b.c', active: 'maybe' }, 'active'],
      [{ userName: 'a@b.c', displayName: 'x'.repeat(201) }, 'displayName'],
      [{ userName: 'a@b.c', displayName: 'a\u0000b' }, 'displayName'],
      [{ userName: 'a@b.c', externalId: 42 }, 'externalId'],
      [{ userName: 'a@b.c', name: 'A B' }, 'name'],
      [{ userName: 'a@b.c', name: { givenName: 1 } }, 'name.givenName'],
      [{ userName: 'a@b.c', emails: 'a@b.c' }, 'emails'],
      [{ userName: 'a@b.c', emails: [{ type: 'work' }] }, 'emails[0].value'],
      [{ userName: 'a@b.c', emails: [{ value: 'a@b.c', primary: 'yes' }] }, 'emails[0].primary'],
      [{ userName: 'a@b.c', title: 'x'.repeat(70_000) }, '(resource)'],
    ] as const) {
      expect({
        doc: JSON.stringify(doc).slice(0, 80),
        error: failure(() => scimUserInput(doc)),
      }).toMatchObject({
        error: { reason: ScimErrorReason.InvalidValue, errors: [{ field }] },
      });
    }
  });
});

describe('a user as a SCIM User resource', () => {
  const view: ScimUserView = {
    id: '0193a000-0000-7000-8000-000000000001',
    email: 'ana@example.com',
    displayName: 'Ana',
    status: 'disabled',
    externalId: null,
    attributes: { title: 'CTO', [ScimSchemas.enterpriseUser]: { department: 'X' } },
    createdAt: new Date('2025-01-01T00:00:00Z'),
    updatedAt: new Date('2025-01-02T00:00:00Z'),
  };

  it('shows the columns, the stored attributes, the login email as the default email, and meta', () => {
    expect(scimUserResource(view, BASE)).toEqual({
      schemas: [ScimSchemas.user, ScimSchemas.enterpriseUser],
      id: view.id,
      userName: 'ana@example.com',
      displayName: 'Ana',
      active: false,
      emails: [{ value: 'ana@example.com', type: 'work', primary: true }],
      title: 'CTO',
      [ScimSchemas.enterpriseUser]: { department: 'X' },
      meta: {
        resourceType: 'User',
        created: '2025-01-01T00:00:00.000Z',
        lastModified: '2025-01-02T00:00:00.000Z',
        location: `${BASE}/Users/${view.id}`,
      },
    });
  });

  it('lists its groups when known, and round-trips through scimUserInput', () => {
    const resource = scimUserResource(
      { ...view, status: 'active', externalId: 'e', groups: [{ id: 'g1', displayName: 'G' }] },
      BASE,
    );
    expect(resource.groups).toEqual([
      { value: 'g1', display: 'G', $ref: `${BASE}/Groups/g1`, type: 'direct' },
    ]);
    const input = scimUserInput(resource);
    expect(input).toMatchObject({ email: view.email, displayName: 'Ana', externalId: 'e' });
    expect(sameJson(input.attributes, { ...view.attributes, emails: resource.emails })).toBe(true);
  });
});

describe('SCIM groups', () => {
  it('reads displayName, externalId and member ids; refuses a group without a name', () => {
    expect(
      scimGroupInput({
        displayName: ' Eng ',
        externalId: 'x',
        members: [{ value: 'ABC' }, { value: 'abc', display: 'dup' }],
      }),
    ).toEqual({ displayName: 'Eng', externalId: 'x', members: ['abc'] });
    expect(scimGroupInput({ displayName: 'Eng' }).members).toBeUndefined();
    expect(failure(() => scimGroupInput({ members: [] }))).toMatchObject({
      reason: ScimErrorReason.InvalidValue,
      errors: [{ field: 'displayName' }],
    });
    expect(failure(() => scimGroupInput({ displayName: 'x', members: [{}] }))).toMatchObject({
      errors: [{ field: 'members[0].value' }],
    });
  });

  it('shows members with links to them', () => {
    const at = new Date('2025-01-01T00:00:00Z');
    expect(
      scimGroupResource(
        {
          id: 'g',
          displayName: 'Eng',
          externalId: null,
          createdAt: at,
          updatedAt: at,
          members: [{ id: 'u', displayName: 'Ana' }],
        },
        BASE,
      ),
    ).toEqual({
      schemas: [ScimSchemas.group],
      id: 'g',
      displayName: 'Eng',
      members: [{ value: 'u', display: 'Ana', $ref: `${BASE}/Users/u`, type: 'User' }],
      meta: {
        resourceType: 'Group',
        created: at.toISOString(),
        lastModified: at.toISOString(),
        location: `${BASE}/Groups/g`,
      },
    });
  });
});

describe('the role rule', () => {
  const eng = {
    id: '0193a000-0000-7000-8000-0000000000e1',
    displayName: 'Engineering',
    externalId: 'okta-00g1',
  };
  const ops = { id: '0193a000-0000-7000-8000-0000000000e2', displayName: 'Ops', externalId: null };
  const directory = {
    defaultRole: 'member',
    groupRoles: [
      { group: 'engineering', roles: ['developer'] },
      { group: 'okta-00g1', roles: ['developer', 'reviewer'] },
      { group: ops.id, roles: ['operator'] },
      { group: 'Nobody', roles: ['ghost'] },
    ],
  };

  it('is the default role plus the roles of every mapped group the user is in (by name ignoring case, externalId or id)', () => {
    expect(directoryRoles(directory, [])).toEqual(['member']);
    expect(directoryRoles(directory, [eng])).toEqual(['member', 'developer', 'reviewer']);
    expect(directoryRoles(directory, [ops, eng])).toEqual([
      'member',
      'developer',
      'reviewer',
      'operator',
    ]);
    expect(directoryRoles({ ...directory, defaultRole: null }, [ops])).toEqual(['operator']);
  });

  it('compares role sets in any order', () => {
    expect(sameRoles(['a', 'b'], ['b', 'a'])).toBe(true);
    expect(sameRoles(['a'], ['a', 'b'])).toBe(false);
  });
});

describe('attributes and excludedAttributes', () => {
  const resource = {
    schemas: ['s'],
    id: 'i',
    userName: 'u',
    name: { givenName: 'g' },
    members: [],
    [ScimSchemas.enterpriseUser]: { department: 'd' },
  };

  it('keeps the asked top attributes (always id and schemas), or drops the excluded ones', () => {
    expect(selectAttributes(resource, 'UserName,name.givenName', undefined)).toEqual({
      schemas: ['s'],
      id: 'i',
      userName: 'u',
      name: { givenName: 'g' },
    });
    expect(
      Object.keys(
        selectAttributes(resource, `${ScimSchemas.enterpriseUser}:department`, undefined),
      ),
    ).toEqual(['schemas', 'id', ScimSchemas.enterpriseUser]);
    expect(Object.keys(selectAttributes(resource, undefined, 'members,id'))).toEqual([
      'schemas',
      'id',
      'userName',
      'name',
      ScimSchemas.enterpriseUser,
    ]);
    expect(isSelected('members', undefined, 'members')).toBe(false);
    expect(isSelected('members', 'displayName', undefined)).toBe(false);
    expect(isSelected('members', undefined, undefined)).toBe(true);
  });
});

import { ScimErrorReason, ScimSchemas } from '@tenantry/contracts';
import {
  applyMemberChanges,
  applyPatch,
  parsePatchPath,
  readPatchRequest,
  splitGroupOperations,
} from './scim-patch-request.js';

const PATCH_OP = ScimSchemas.patchOp;
const request = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });
const USER_READ_ONLY = ['id', 'meta', 'groups', 'schemas'];

function failure(work: () => unknown) {
  try {
    work();
  } catch (error) {
    return error as { reason: string; message: string; errors?: { field: string }[] };
  }
  throw new Error('expected an error');
}

/** A user's resource as the server shows it before a PATCH. */
const user = () => ({
  schemas: [ScimSchemas.user],
  id: '0193a000-0000-7000-8000-000000000001',
  userName: 'ana@example.com',
  name: { givenName: 'Ana', familyName: 'Lima' },
  displayName: 'Ana Lima',
  active: true,
  emails: [{ value: 'ana@example.com', type: 'work', primary: true }],
  meta: { resourceType: 'User', created: '2025-01-01T00:00:00.000Z' },
});

const patched = (...operations: unknown[]) =>
  applyPatch(user(), readPatchRequest(request(...operations)), USER_READ_ONLY);

describe('PATCH paths', () => {
  it('parses attribute, sub-attribute, value filter and extension paths, canonicalizing names', () => {
    expect(parsePatchPath('name.givenName', 'op')).toMatchObject({
      attribute: 'name',
      subAttribute: 'givenName',
      text: 'name.givenName',
    });
    expect(parsePatchPath('Emails[Type eq "work"].Value', 'op')).toMatchObject({
      attribute: 'emails',
      filterSubAttribute: 'value',
      filter: { op: 'eq', attrPath: 'type', compValue: 'work' },
      text: 'emails[type eq "work"].value',
    });
    expect(parsePatchPath(`${ScimSchemas.user}:userName`, 'op')).toMatchObject({
      urn: undefined,
      attribute: 'userName',
      text: 'userName',
    });
    expect(parsePatchPath(`${ScimSchemas.enterpriseUser}:manager`, 'op')).toMatchObject({
      urn: ScimSchemas.enterpriseUser,
      attribute: 'manager',
      text: `${ScimSchemas.enterpriseUser}:manager`,
    });
    expect(parsePatchPath('members[value eq "x"]', 'op').filter).toEqual({
      op: 'eq',
      attrPath: 'value',
      compValue: 'x',
    });
  });

  it('refuses what is not a path with 400 invalidPath naming the operation', () => {
    for (const path of [
      'emails[type eq',
      'a.b.c',
      'name.given name',
      'x:y',
      'emails[type eq "w"]x',
    ]) {
      expect({ path, error: failure(() => parsePatchPath(path, 'Operations[2]')) }).toMatchObject({
        path,
        error: { reason: ScimErrorReason.InvalidPath, errors: [{ field: 'Operations[2].path' }] },
      });
    }
  });
});

describe('PatchOp requests', () => {
  it('takes op in any case and needs a path to remove, a value to add or replace', () => {
    expect(
      readPatchRequest(
        request({ Op: 'Replace', Path: 'active', Value: 'False' }, { op: 'ADD', value: {} }),
      ).map((o) => o.op),
    ).toEqual(['replace', 'add']);
    expect(failure(() => readPatchRequest(request({ op: 'remove' })))).toMatchObject({
      reason: ScimErrorReason.NoTarget,
    });
    expect(failure(() => readPatchRequest(request({ op: 'add', path: 'title' })))).toMatchObject({
      reason: ScimErrorReason.InvalidSyntax,
      errors: [{ field: 'Operations[0].value' }],
    });
    expect(failure(() => readPatchRequest(request({ op: 'copy', path: 'x' })))).toMatchObject({
      reason: ScimErrorReason.InvalidSyntax,
      errors: [{ field: 'Operations[0].op' }],
    });
    expect(failure(() => readPatchRequest({ Operations: [] }))).toMatchObject({
      reason: ScimErrorReason.InvalidSyntax,
      errors: [{ field: 'schemas' }],
    });
    expect(failure(() => readPatchRequest(request()))).toMatchObject({
      reason: ScimErrorReason.InvalidSyntax,
      errors: [{ field: 'Operations' }],
    });
    expect(failure(() => readPatchRequest(request({ op: 'replace', value: 'x' })))).toMatchObject({
      reason: ScimErrorReason.InvalidValue,
    });
  });
});

describe('applying a PATCH to a user', () => {
  it("applies Okta's no-path replace", () => {
    expect(patched({ op: 'replace', value: { active: false } })).toMatchObject({ active: false });
  });

  it("applies Entra's forms: string booleans stay for the mapping to read, filtered and nested paths", () => {
    expect(patched({ op: 'Replace', path: 'active', value: 'False' }).active).toBe('False');
    expect(
      patched(
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'new@example.com' },
        { op: 'Replace', path: 'name.familyName', value: 'Souza' },
      ),
    ).toMatchObject({
      emails: [{ value: 'new@example.com', type: 'work', primary: true }],
      name: { givenName: 'Ana', familyName: 'Souza' },
    });
    // A replace whose filter matches nothing adds (RFC 7644 §3.5.2.3, as Entra expects).
    expect(
      patched({ op: 'Replace', path: 'emails[type eq "home"].value', value: 'h@example.com' })
        .emails,
    ).toEqual([
      { value: 'ana@example.com', type: 'work', primary: true },
      { type: 'home', value: 'h@example.com' },
    ]);
    expect(
      patched({
        op: 'Add',
        path: `${ScimSchemas.enterpriseUser}:department`,
        value: 'Sales',
      })[ScimSchemas.enterpriseUser],
    ).toEqual({ department: 'Sales' });
  });

  it('takes dotted and extension keys in a no-path value, in any case', () => {
    expect(
      patched({
        op: 'replace',
        value: {
          'Name.GivenName': 'Bia',
          DisplayName: 'Bia L.',
          [`${ScimSchemas.enterpriseUser}:employeeNumber`]: '42',
        },
      }),
    ).toMatchObject({
      name: { givenName: 'Bia', familyName: 'Lima' },
      displayName: 'Bia L.',
      [ScimSchemas.enterpriseUser]: { employeeNumber: '42' },
    });
  });

  it('removes by path and by filter', () => {
    const result = patched(
      { op: 'remove', path: 'name.familyName' },
      { op: 'remove', path: 'emails[type eq "work"]' },
    );
    expect(result.name).toEqual({ givenName: 'Ana' });
    expect(result).not.toHaveProperty('emails');
  });

  it('keeps read-only attributes: a path to one is a 400 mutability, a no-path value cannot change one', () => {
    expect(
      failure(() => patched({ op: 'replace', path: 'meta.created', value: 'x' })),
    ).toMatchObject({ reason: ScimErrorReason.Mutability });
    expect(failure(() => patched({ op: 'replace', path: 'id', value: 'x' }))).toMatchObject({
      reason: ScimErrorReason.Mutability,
    });
    const result = patched({ op: 'replace', value: { id: 'other', displayName: 'A' } });
    expect(result).toMatchObject({ id: user().id, displayName: 'A', meta: user().meta });
  });

  it('reports a replace whose filter matches nothing, and that cannot add, as 400 noTarget', () => {
    for (const path of ['emails[type co "home"]', 'emails[type co "home"].value']) {
      expect({
        path,
        error: failure(() => patched({ op: 'replace', path, value: 'x@example.com' })),
      }).toMatchObject({ path, error: { reason: ScimErrorReason.NoTarget } });
    }
  });
});

describe("a group's PATCH", () => {
  const A = '0193a000-0000-7000-8000-00000000000a';
  const B = '0193a000-0000-7000-8000-00000000000b';
  const C = '0193a000-0000-7000-8000-00000000000c';
  const split = (...operations: unknown[]) =>
    splitGroupOperations(readPatchRequest(request(...operations)));
  const current = new Map([
    [A, 'Ana'],
    [B, 'Bo'],
  ]);

  it("reads Okta's member changes: add with display, remove by members[value eq]", () => {
    const { members, others } = split(
      { op: 'add', path: 'members', value: [{ value: C.toUpperCase(), display: 'c@x.y' }] },
      { op: 'remove', path: `members[value eq "${A}"]` },
    );
    expect(others).toEqual([]);
    expect([...applyMemberChanges(current, members)].sort()).toEqual([B, C]);
  });

  it("reads Entra's member changes: Add and Remove with path members and value arrays", () => {
    const { members } = split(
      { op: 'Add', path: 'members', value: [{ $ref: null, value: C }] },
      { op: 'Remove', path: 'members', value: [{ $ref: null, value: A }, { value: B }] },
    );
    expect([...applyMemberChanges(current, members)]).toEqual([C]);
  });

  it('replaces or clears the members, and removes by display name', () => {
    expect([
      ...applyMemberChanges(
        current,
        split({ op: 'replace', path: 'members', value: [{ value: C }] }).members,
      ),
    ]).toEqual([C]);
    expect([
      ...applyMemberChanges(current, split({ op: 'remove', path: 'members' }).members),
    ]).toEqual([]);
    expect([
      ...applyMemberChanges(
        current,
        split({ op: 'remove', path: 'members[display eq "Bo"]' }).members,
      ),
    ]).toEqual([A]);
  });

  it('splits a no-path value into members and the rest (a rename)', () => {
    const { members, others } = split({
      op: 'replace',
      value: { id: 'x', displayName: 'New', members: [{ value: A }] },
    });
    expect(members).toEqual([{ kind: 'set', ids: [A] }]);
    expect(others).toMatchObject([{ op: 'replace', value: { id: 'x', displayName: 'New' } }]);
    expect(split({ op: 'replace', path: 'displayName', value: 'N' }).others).toHaveLength(1);
  });

  it('refuses members without a value, and member paths it does not take', () => {
    expect(
      failure(() => split({ op: 'add', path: 'members', value: [{ display: 'x' }] })),
    ).toMatchObject({
      reason: ScimErrorReason.InvalidValue,
      errors: [{ field: 'Operations[0].value[0].value' }],
    });
    expect(
      failure(() => split({ op: 'replace', path: `members[value eq "${A}"].display`, value: 'x' })),
    ).toMatchObject({ reason: ScimErrorReason.InvalidPath });
    expect(
      failure(() => split({ op: 'add', path: `members[value eq "${A}"]`, value: [{ value: A }] })),
    ).toMatchObject({ reason: ScimErrorReason.InvalidPath });
  });
});

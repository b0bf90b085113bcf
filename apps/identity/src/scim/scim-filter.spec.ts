import { ErrorCode, ScimErrorReason, ScimSchemas } from '@tenantry/contracts';
import {
  compileScimFilter,
  MAX_FILTER_NODES,
  parseScimFilter,
  USER_EMAILS_SQL,
  type ScimResourceType,
} from './scim-filter.js';

const compile = (resource: ScimResourceType, filter: string, first = 3) =>
  compileScimFilter(resource, parseScimFilter(filter), first);

function failure(resource: ScimResourceType, filter: string) {
  try {
    compile(resource, filter);
  } catch (error) {
    return error as { code: string; reason: string; message: string };
  }
  throw new Error(`"${filter}" compiled`);
}

describe('SCIM filters to SQL', () => {
  it('compiles userName eq case-insensitively on the normalized email, numbering parameters from the first given', () => {
    expect(compile('User', 'userName eq "Ana@Example.COM"', 3)).toEqual({
      text: 'lower(u.email) = lower($3)',
      params: ['ana@example.com'],
    });
    expect(compile('User', 'UserName EQ "x@y.z"', 7).text).toBe('lower(u.email) = lower($7)');
    // The core schema's URN may prefix an attribute.
    expect(compile('User', `${ScimSchemas.user}:userName eq "a@b.c"`).text).toBe(
      'lower(u.email) = lower($3)',
    );
  });

  it('compares externalId and id exactly (caseExact), displayName ignoring case', () => {
    expect(compile('User', 'externalId eq "00uAbC"')).toEqual({
      text: 'u.scim_external_id = $3',
      params: ['00uAbC'],
    });
    expect(compile('Group', 'displayName eq "Engineering"')).toEqual({
      text: 'lower(g.display_name) = lower($3)',
      params: ['Engineering'],
    });
  });

  it('combines and, or and not with their precedence, parameters in order', () => {
    expect(
      compile('User', 'userName eq "a@b.c" and (externalId eq "x" or not (displayName sw "A_"))'),
    ).toEqual({
      text: "(lower(u.email) = lower($3) AND (u.scim_external_id = $4 OR NOT (lower(u.display_name) LIKE lower($5) ESCAPE '\\')))",
      params: ['a@b.c', 'x', 'A\\_%'],
    });
  });

  it('escapes LIKE wildcards in co, sw and ew', () => {
    expect(compile('User', 'displayName co "50%_off"').params).toEqual(['%50\\%\\_off%']);
    expect(compile('User', 'displayName ew "x"').params).toEqual(['%x']);
  });

  it('looks into emails: emails.value, emails[type eq "work" and value co "x"], and emails alone', () => {
    const exists = (condition: string) =>
      `EXISTS (SELECT 1 FROM jsonb_array_elements(${USER_EMAILS_SQL}) AS e(v) WHERE ${condition})`;
    expect(compile('User', 'emails.value eq "a@b.c"').text).toBe(
      exists(`lower((e.v->>'value')) = lower($3)`),
    );
    expect(compile('User', 'emails eq "a@b.c"').text).toBe(
      exists(`lower((e.v->>'value')) = lower($3)`),
    );
    expect(compile('User', 'emails[type eq "work" and value co "@b"]')).toEqual({
      text: exists(
        `(lower((e.v->>'type')) = lower($3) AND lower((e.v->>'value')) LIKE lower($4) ESCAPE '\\')`,
      ),
      params: ['work', '%@b%'],
    });
    expect(compile('User', 'emails[primary eq true]').text).toBe(
      exists(`COALESCE((e.v->'primary') = 'true'::jsonb, false) = $3::boolean`),
    );
  });

  it('takes booleans for active, date-times for meta, pr for presence, null for absence', () => {
    expect(compile('User', 'active eq false')).toEqual({
      text: `(u.status <> 'disabled') = $3::boolean`,
      params: [false],
    });
    expect(compile('User', 'meta.lastModified gt "2025-01-31T12:00:00+01:00"')).toEqual({
      text: 'u.updated_at > $3::timestamptz',
      params: ['2025-01-31T11:00:00.000Z'],
    });
    expect(compile('User', 'externalId pr').text).toBe(
      "(u.scim_external_id IS NOT NULL AND u.scim_external_id <> '')",
    );
    expect(compile('User', 'externalId eq null').text).toBe('u.scim_external_id IS NULL');
  });

  it('filters groups by member', () => {
    const member =
      'EXISTS (SELECT 1 FROM scim_group_members m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id AND m.user_id::text = $3)';
    expect(compile('Group', 'members[value eq "0193A000-0000-7000-8000-00000000000A"]')).toEqual({
      text: member,
      params: ['0193a000-0000-7000-8000-00000000000a'],
    });
    expect(compile('Group', 'members.value eq "x"').text).toBe(member);
  });

  it('refuses what it cannot parse or filter on with 400 invalidFilter, naming the attribute', () => {
    for (const [resource, filter, message] of [
      ['User', 'userName eq', /is not a SCIM filter/],
      ['User', 'userName eq "a" garbage', /is not a SCIM filter/],
      ['User', 'nickName eq "x"', /cannot filter Users on "nickName"/],
      ['Group', 'userName eq "x"', /cannot filter Groups on "userName"/],
      ['User', 'userName eq 42', /"userName eq": compare it with a string/],
      ['User', 'active eq "yes"', /"active eq": compare it with true or false/],
      ['User', 'active gt true', /a boolean takes eq, ne or pr/],
      ['User', 'meta.created gt "yesterday"', /compare it with a date-time/],
      ['User', 'emails[nope eq "x"]', /cannot filter on "emails.nope"/],
      ['User', 'userName[value eq "x"]', /only multi-valued attributes take a \[filter\]/],
      ['Group', 'members[display eq "x"]', /only members' value can be filtered on/],
      ['Group', 'members co "x"', /members can only be filtered with eq/],
    ] as const) {
      expect({ filter, error: failure(resource, filter) }).toMatchObject({
        filter,
        error: {
          code: ErrorCode.ValidationFailed,
          reason: ScimErrorReason.InvalidFilter,
          message: expect.stringMatching(message),
        },
      });
    }
  });

  it(`refuses a filter of more than ${MAX_FILTER_NODES} parts`, () => {
    const long = Array.from({ length: MAX_FILTER_NODES }, (_, i) => `userName eq "u${i}@x.y"`).join(
      ' or ',
    );
    expect(failure('User', long)).toMatchObject({
      reason: ScimErrorReason.InvalidFilter,
      message: expect.stringMatching(/more than 50/),
    });
  });
});

import { mappedRoles, oidcProfile, samlProfile } from './federated-profile.js';

const assertion = (nameId: string, attributes: Record<string, string[]>) => ({
  issuer: 'https://idp.example.com',
  assertionId: '_a1',
  nameId,
  nameIdFormat: null,
  sessionIndex: null,
  attributes,
});

describe('samlProfile', () => {
  it('reads the mapped attributes', () => {
    const profile = samlProfile(
      assertion('00u1', { mail: ['ada@example.com'], cn: ['Ada L'], memberOf: ['eng', 'ops'] }),
      { email: 'mail', displayName: 'cn', groups: 'memberOf' },
    );
    expect(profile).toEqual({
      email: 'ada@example.com',
      displayName: 'Ada L',
      groups: ['eng', 'ops'],
      subject: '00u1',
    });
  });

  it('falls back to the attribute names Entra ID and Okta send, then to an email NameID', () => {
    const entra = samlProfile(
      assertion('x', {
        'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress': ['bo@example.com'],
        'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname': ['Bo'],
        'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname': ['Li'],
        'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups': ['g-1'],
      }),
      {},
    );
    expect(entra).toMatchObject({ email: 'bo@example.com', displayName: 'Bo Li', groups: ['g-1'] });
    expect(samlProfile(assertion('cy@example.com', {}), {}).email).toBe('cy@example.com');
  });

  it('gives no email when the mapped attribute is absent or not an email, even with an email NameID', () => {
    expect(samlProfile(assertion('not-an-email', {}), {}).email).toBeNull();
    expect(samlProfile(assertion('x', { mail: ['nope'] }), { email: 'mail' }).email).toBeNull();
  });
});

describe('oidcProfile', () => {
  it('reads the standard claims', () => {
    const profile = oidcProfile(
      {
        issuer: 'https://op',
        subject: 's1',
        claims: { email: 'di@example.com', given_name: 'Di', family_name: 'Ng', groups: ['a'] },
      },
      {},
    );
    expect(profile).toEqual({
      email: 'di@example.com',
      displayName: 'Di Ng',
      groups: ['a'],
      subject: 's1',
    });
  });

  it('does not take an email the provider says is unverified', () => {
    const identity = {
      issuer: 'https://op',
      subject: 's1',
      claims: { email: 'di@example.com', email_verified: false },
    };
    expect(oidcProfile(identity, {}).email).toBeNull();
  });
});

describe('mappedRoles', () => {
  const groupRoles = [
    { group: 'Engineering', roles: ['developer'] },
    { group: 'admins', roles: ['tenant-admin', 'developer'] },
  ];

  it('gives the default role and the roles of every mapped group, once each, groups ignoring case', () => {
    expect(mappedRoles('member', groupRoles, ['engineering', 'ADMINS', 'other'])).toEqual([
      'member',
      'developer',
      'tenant-admin',
    ]);
  });

  it('gives nothing without a default role or a matching group', () => {
    expect(mappedRoles(null, groupRoles, ['other'])).toEqual([]);
  });
});

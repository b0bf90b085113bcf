import type { AttributeMapping, GroupRole } from '@tenantry/contracts';
import type { OidcIdentity, SamlAssertion } from './sso.types.js';

/** A person as an IdP described them, in Tenantry's terms. */
export interface FederatedProfile {
  /** As the IdP gave it (normalized later); null when it gave none that looks like an email. */
  email: string | null;
  displayName: string | null;
  groups: string[];
  /** The IdP's id of the person (SAML NameID, OIDC `sub`), for the audit. */
  subject: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Common attribute names of the IdPs users connect, tried when the mapping names none. */
const SAML_DEFAULTS = {
  email: [
    'email',
    'mail',
    'emailAddress',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
    'urn:oid:0.9.2342.19200300.100.1.3',
  ],
  displayName: [
    'displayName',
    'name',
    'http://schemas.microsoft.com/identity/claims/displayname',
    'urn:oid:2.16.840.1.113730.3.1.241',
  ],
  firstName: [
    'firstName',
    'givenName',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname',
    'urn:oid:2.5.4.42',
  ],
  lastName: [
    'lastName',
    'surname',
    'sn',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname',
    'urn:oid:2.5.4.4',
  ],
  groups: [
    'groups',
    'memberOf',
    'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups',
    'http://schemas.xmlsoap.org/claims/Group',
  ],
} as const;

const OIDC_DEFAULTS = {
  email: ['email'],
  displayName: ['name'],
  firstName: ['given_name'],
  lastName: ['family_name'],
  groups: ['groups', 'roles'],
} as const;

type Field = keyof typeof SAML_DEFAULTS;

function valuesOf(source: Record<string, unknown>, name: string): string[] {
  const value = source[name];
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list
    .filter((v): v is string | number => typeof v === 'string' || typeof v === 'number')
    .map(String)
    .map((v) => v.trim())
    .filter(Boolean);
}

/** The values of `field`: from the mapped attribute if the mapping names one, else the first default present. */
function pick(
  source: Record<string, unknown>,
  mapping: AttributeMapping,
  defaults: Readonly<Record<Field, readonly string[]>>,
  field: Field,
): string[] {
  const mapped = mapping[field];
  if (mapped) return valuesOf(source, mapped);
  for (const name of defaults[field]) {
    const values = valuesOf(source, name);
    if (values.length) return values;
  }
  return [];
}

function profile(
  source: Record<string, unknown>,
  mapping: AttributeMapping,
  defaults: Readonly<Record<Field, readonly string[]>>,
  subject: string,
  fallbackEmail: string | null,
): FederatedProfile {
  const email = pick(source, mapping, defaults, 'email')[0] ?? fallbackEmail;
  const first = pick(source, mapping, defaults, 'firstName')[0];
  const last = pick(source, mapping, defaults, 'lastName')[0];
  const displayName =
    pick(source, mapping, defaults, 'displayName')[0] ??
    ([first, last].filter(Boolean).join(' ') || null);
  return {
    email: email && EMAIL.test(email) ? email : null,
    displayName: displayName ? displayName.slice(0, 200) : null,
    groups: [...new Set(pick(source, mapping, defaults, 'groups'))],
    subject,
  };
}

/** A SAML assertion's person; the NameID stands in for the email when it is one. */
export function samlProfile(assertion: SamlAssertion, mapping: AttributeMapping): FederatedProfile {
  const nameIdEmail = EMAIL.test(assertion.nameId) ? assertion.nameId : null;
  return profile(assertion.attributes, mapping, SAML_DEFAULTS, assertion.nameId, nameIdEmail);
}

/** An OIDC sign-in's person. An `email_verified: false` email is not taken. */
export function oidcProfile(identity: OidcIdentity, mapping: AttributeMapping): FederatedProfile {
  const found = profile(identity.claims, mapping, OIDC_DEFAULTS, identity.subject, null);
  const unverified = identity.claims['email_verified'] === false && !mapping.email;
  return unverified ? { ...found, email: null } : found;
}

/** The roles a connection gives: its default role and those of every mapped group the person is in. */
export function mappedRoles(
  defaultRole: string | null,
  groupRoles: readonly GroupRole[],
  groups: readonly string[],
): string[] {
  const member = new Set(groups.map((g) => g.toLowerCase()));
  const roles = new Set<string>(defaultRole ? [defaultRole] : []);
  for (const mapping of groupRoles)
    if (member.has(mapping.group.toLowerCase())) for (const role of mapping.roles) roles.add(role);
  return [...roles];
}

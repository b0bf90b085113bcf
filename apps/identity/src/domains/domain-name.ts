import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { DomainErrors } from './domain.errors.js';

/**
 * Public email providers: anyone can have an address there, so no tenant may claim them
 * (a subdomain of one neither). The brands in FREE_MAIL_BRANDS are refused under any
 * country domain as well (yahoo.co.jp, gmx.de, hotmail.fr, yandex.com.tr).
 */
export const FREE_MAIL_DOMAINS: ReadonlySet<string> = new Set([
  '126.com',
  '139.com',
  '163.com',
  'aim.com',
  'aliyun.com',
  'bk.ru',
  'btinternet.com',
  'comcast.net',
  'daum.net',
  'duck.com',
  'email.com',
  'fastmail.com',
  'fastmail.fm',
  'foxmail.com',
  'free.fr',
  'freenet.de',
  'gmail.com',
  'googlemail.com',
  'hanmail.net',
  'hey.com',
  'hushmail.com',
  'icloud.com',
  'inbox.com',
  'inbox.ru',
  'interia.pl',
  'laposte.net',
  'libero.it',
  'list.ru',
  'mac.com',
  'mail.com',
  'mail.ru',
  'mailbox.org',
  'mailfence.com',
  'me.com',
  'msn.com',
  'naver.com',
  'o2.pl',
  'orange.fr',
  'pm.me',
  'posteo.de',
  'proton.me',
  'protonmail.ch',
  'protonmail.com',
  'qq.com',
  'rambler.ru',
  'rediffmail.com',
  'rocketmail.com',
  'seznam.cz',
  'sina.com',
  'sohu.com',
  't-online.de',
  'tuta.com',
  'tuta.io',
  'tutamail.com',
  'tutanota.com',
  'tutanota.de',
  'usa.com',
  'virgilio.it',
  'wanadoo.fr',
  'web.de',
  'wp.pl',
  'ya.ru',
  'yeah.net',
  'ymail.com',
  'zoho.com',
  'zohomail.com',
]);

/** Providers refused under every generic or country domain: `<brand>.com`, `<brand>.de`, `<brand>.co.uk`… */
export const FREE_MAIL_BRANDS: readonly string[] = [
  'aol',
  'gmx',
  'hotmail',
  'live',
  'outlook',
  'yahoo',
  'yandex',
];
const BRAND_DOMAIN = new RegExp(
  `^(?:${FREE_MAIL_BRANDS.join('|')})\\.(?:com|net|org|[a-z]{2}|(?:co|com|net|org|ne|or)\\.[a-z]{2})$`,
);

/** A label of a host name (LDH: letters, digits, hyphens inside), 1 to 63 characters. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** A top-level domain: letters, or an internationalized one in punycode; never all digits. */
const TOP_LEVEL = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;
/** What a URL, an email address or a port would bring along. */
const NOT_A_HOST = /[\s/\\?#@:%[\]]/u;

/**
 * A domain as tenants claim it and as it is stored: trimmed, lowercased, internationalized
 * labels in punycode (`bücher.de` → `xn--bcher-kva.de`). Throws DOMAIN_INVALID (field
 * `domain`) for anything but a host name with at least two labels: an IP address, a
 * wildcard, a trailing dot, a URL, an email address, a bad label.
 */
export function normalizeDomain(input: string): string {
  const value = input.trim();
  if (value === '') throw DomainErrors.invalid('must be a domain name such as example.com');
  if (value.includes('*'))
    throw DomainErrors.invalid('must not be a wildcard: give the domain itself (example.com)');
  if (value.endsWith('.') || value.endsWith('。'))
    throw DomainErrors.invalid('must not end with a dot (give example.com, not example.com.)');
  if (isIP(value) || isIP(value.replace(/^\[|\]$/g, '')))
    throw DomainErrors.invalid('must be a domain name, not an IP address');
  if (NOT_A_HOST.test(value))
    throw DomainErrors.invalid(
      'must be a host name only, such as example.com (no scheme, path, port, @ or spaces)',
    );
  const ascii = domainToASCII(value);
  if (ascii === '' || isIP(ascii))
    throw DomainErrors.invalid(`${JSON.stringify(value)} is not a valid domain name`);
  if (ascii.length > 253) throw DomainErrors.invalid('must be at most 253 characters long');
  const labels = ascii.split('.');
  if (labels.length < 2)
    throw DomainErrors.invalid('must have at least two labels, such as example.com');
  const bad = labels.find((label) => !LABEL.test(label));
  if (bad !== undefined)
    throw DomainErrors.invalid(
      `has an invalid label ${JSON.stringify(bad)}: labels are 1 to 63 letters, digits or inner hyphens`,
    );
  if (!TOP_LEVEL.test(labels[labels.length - 1]!))
    throw DomainErrors.invalid(`does not end in a valid top-level domain (${ascii})`);
  return ascii;
}

/** The domain in the form it is stored, or null when it is not a valid one (for lookups). */
export function domainOrNull(input: string): string | null {
  try {
    return normalizeDomain(input);
  } catch {
    return null;
  }
}

/** Whether a normalized domain is, or is under, a public email provider's domain. */
export function isFreeMailDomain(domain: string): boolean {
  const labels = domain.split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const suffix = labels.slice(i).join('.');
    if (FREE_MAIL_DOMAINS.has(suffix) || BRAND_DOMAIN.test(suffix)) return true;
  }
  return false;
}

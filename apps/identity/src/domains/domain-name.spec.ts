import { AppError, ErrorCode } from '@tenantry/contracts';
import {
  domainOrNull,
  FREE_MAIL_DOMAINS,
  isFreeMailDomain,
  normalizeDomain,
} from './domain-name.js';

/** The DOMAIN_INVALID error normalizeDomain throws for `input`. */
function refusal(input: string): AppError {
  try {
    normalizeDomain(input);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(input)} was accepted`);
}

describe('normalizeDomain', () => {
  it.each([
    ['example.com', 'example.com'],
    ['  Example.COM ', 'example.com'],
    ['Sub.Example.co.uk', 'sub.example.co.uk'],
    ['bücher.de', 'xn--bcher-kva.de'],
    ['BÜCHER.de', 'xn--bcher-kva.de'],
    ['xn--bcher-kva.de', 'xn--bcher-kva.de'],
    ['ＥＸＡＭＰＬＥ.com', 'example.com'],
    ['例え.テスト', 'xn--r8jz45g.xn--zckzah'],
    ['a-b.example', 'a-b.example'],
    ['123.example.org', '123.example.org'],
  ])('stores %j as %j', (input, stored) => {
    expect(normalizeDomain(input)).toBe(stored);
  });

  it.each([
    ['', 'must be a domain name such as example.com'],
    ['*.example.com', 'must not be a wildcard'],
    ['example.com.', 'must not end with a dot'],
    ['192.168.1.10', 'not an IP address'],
    ['::1', 'not an IP address'],
    ['[2001:db8::1]', 'not an IP address'],
    ['https://example.com', 'must be a host name only'],
    ['example.com/path', 'must be a host name only'],
    ['example.com:443', 'must be a host name only'],
    ['someone@example.com', 'must be a host name only'],
    ['exa mple.com', 'must be a host name only'],
    ['ex%41mple.com', 'must be a host name only'],
    ['localhost', 'at least two labels'],
    ['example', 'at least two labels'],
    ['a..b', 'invalid label ""'],
    ['-a.example.com', 'invalid label "-a"'],
    ['a-.example.com', 'invalid label "a-"'],
    ['under_score.example.com', 'invalid label "under_score"'],
    [`${'a'.repeat(64)}.com`, 'invalid label'],
    [`${'a.'.repeat(127)}com`, 'at most 253 characters'],
    ['example.123', 'not a valid domain name'],
    ['example.c0m', 'valid top-level domain'],
  ])('refuses %j: %s', (input, problem) => {
    const error = refusal(input);
    expect(error).toMatchObject({
      code: ErrorCode.ValidationFailed,
      reason: 'DOMAIN_INVALID',
      errors: [{ field: 'domain' }],
    });
    expect(error.message).toContain(problem);
    expect(error.message.startsWith('domain ')).toBe(true);
  });

  it('has a non-throwing form for lookups', () => {
    expect(domainOrNull('Bücher.DE')).toBe('xn--bcher-kva.de');
    expect(domainOrNull('not a domain')).toBeNull();
    expect(domainOrNull('')).toBeNull();
  });
});

describe('isFreeMailDomain', () => {
  it('lists about sixty public email providers, all valid normalized domains', () => {
    expect(FREE_MAIL_DOMAINS.size).toBeGreaterThanOrEqual(60);
    for (const domain of FREE_MAIL_DOMAINS) expect(normalizeDomain(domain)).toBe(domain);
  });

  it.each([
    'gmail.com',
    'googlemail.com',
    'outlook.com',
    'hotmail.com',
    'live.com',
    'msn.com',
    'yahoo.com',
    'icloud.com',
    'me.com',
    'mac.com',
    'aol.com',
    'proton.me',
    'protonmail.com',
    'web.de',
    'mail.ru',
    'qq.com',
    '163.com',
    '126.com',
    'zoho.com',
    'fastmail.com',
    'hey.com',
    'tutanota.com',
  ])('refuses %s', (domain) => {
    expect(isFreeMailDomain(domain)).toBe(true);
  });

  it.each([
    'yahoo.co.jp',
    'yahoo.com.br',
    'yahoo.fr',
    'gmx.de',
    'gmx.net',
    'gmx.at',
    'yandex.ru',
    'yandex.com.tr',
    'hotmail.co.uk',
    'outlook.fr',
    'live.de',
  ])('refuses the country variant %s', (domain) => {
    expect(isFreeMailDomain(domain)).toBe(true);
  });

  it('refuses subdomains of a provider', () => {
    expect(isFreeMailDomain('mail.gmail.com')).toBe(true);
    expect(isFreeMailDomain('eu.mail.yahoo.co.jp')).toBe(true);
  });

  it.each([
    'example.com',
    'notgmail.com',
    'gmail.com.example.org',
    'gmail.example.com',
    'mygmx.de',
    'yahoo-inc.com',
    'yahoo.example.com',
    'acme.de',
  ])('accepts an organization domain like %s', (domain) => {
    expect(isFreeMailDomain(domain)).toBe(false);
  });
});

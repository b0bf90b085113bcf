import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons a domain request fails; clients may rely on them (`reason` in the problem). */
export enum DomainErrorReason {
  NotFound = 'DOMAIN_NOT_FOUND',
  Invalid = 'DOMAIN_INVALID',
  FreeMail = 'DOMAIN_FREE_MAIL',
  AlreadyClaimed = 'DOMAIN_ALREADY_CLAIMED',
  VerifiedElsewhere = 'DOMAIN_VERIFIED_ELSEWHERE',
  VerificationFailed = 'DOMAIN_VERIFICATION_FAILED',
  DnsUnavailable = 'DOMAIN_DNS_UNAVAILABLE',
}

/** How long a client should wait before asking again when DNS could not be asked. */
const DNS_RETRY_AFTER_SECONDS = 30;

/** `"a", "b"` for the message; at most five values, each shortened. */
function listed(values: string[]): string {
  const shown = values
    .slice(0, 5)
    .map((v) => JSON.stringify(v.length > 120 ? `${v.slice(0, 120)}…` : v));
  return values.length > 5 ? `${shown.join(', ')} and ${values.length - 5} more` : shown.join(', ');
}

export const DomainErrors = {
  /** Also the answer for another tenant's domain: row-level security hides it. */
  notFound: (id: string) =>
    new AppError(ErrorCode.NotFound, `domain ${id} does not exist`, {
      reason: DomainErrorReason.NotFound,
    }),

  /** `problem` says what is wrong with the name ("must not end with a dot"). */
  invalid: (problem: string) =>
    new AppError(ErrorCode.ValidationFailed, `domain ${problem}`, {
      reason: DomainErrorReason.Invalid,
      field: 'domain',
    }),

  freeMail: (domain: string) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `domain ${domain} belongs to a public email provider and cannot be claimed by a tenant; claim your organization's own domain`,
      { reason: DomainErrorReason.FreeMail, field: 'domain' },
    ),

  alreadyClaimed: (domain: string, id: string) =>
    new AppError(
      ErrorCode.Conflict,
      `this tenant already claimed ${domain} (domain ${id}); verify or delete that one`,
      { reason: DomainErrorReason.AlreadyClaimed, field: 'domain' },
    ),

  /** Another tenant holds the domain verified; it is free again once that tenant deletes it. */
  verifiedElsewhere: (domain: string) =>
    new AppError(
      ErrorCode.Conflict,
      `${domain} is already verified by another tenant; it can be verified here only after that tenant removes it`,
      { reason: DomainErrorReason.VerifiedElsewhere },
    ),

  /** The lookup worked, but the expected record is not there. */
  verificationFailed: (name: string, expected: string, found: string[]) =>
    new AppError(
      ErrorCode.Conflict,
      `the TXT record ${name} must have the value "${expected}", but ${
        found.length ? `DNS answered only ${listed(found)}` : 'DNS has no TXT record at that name'
      }; add the record at your DNS provider, wait for it to propagate, then verify again`,
      { reason: DomainErrorReason.VerificationFailed },
    ),

  /** Timeout, SERVFAIL, refused, unreachable: the answer is unknown, not negative. */
  dnsUnavailable: (name: string, code: string) =>
    new AppError(
      ErrorCode.ServiceUnavailable,
      `DNS could not be asked for the TXT record ${name} (${code}); try again in a moment`,
      { reason: DomainErrorReason.DnsUnavailable, retryAfterSeconds: DNS_RETRY_AFTER_SECONDS },
    ),
};

/**
 * The one form of an email address that is stored, looked up and compared: Unicode NFKC,
 * trimmed, lowercase. `Zoë@Example.COM` and `zoe\u0308@example.com` are the same account.
 */
export function normalizeEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}

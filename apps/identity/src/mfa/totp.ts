import { generateSecret, generateURI, verify } from 'otplib';

/** The issuer shown in authenticator apps. */
export const TOTP_ISSUER = 'Tenantry';
/** A code is accepted one step (30 s) early or late, for clock drift and typing time. */
const TOLERANCE_SECONDS = 30;
const SIX_DIGITS = /^[0-9]{6}$/;

/** Whether a code looks like a TOTP code (6 digits) rather than a recovery code. */
export function isTotpCode(code: string): boolean {
  return SIX_DIGITS.test(code);
}

/** A new TOTP secret: 20 random bytes in base32 (RFC 4226's recommended length). */
export function newTotpSecret(): string {
  return generateSecret();
}

/** The otpauth:// URI an authenticator app scans (issuer Tenantry, label the user's email). */
export function totpUri(secret: string, label: string): string {
  return generateURI({ issuer: TOTP_ISSUER, label, secret });
}

/** A code's time step may be used only once: it must come after the last one used. */
export function isFreshStep(step: number, lastUsedStep: number | null): boolean {
  return lastUsedStep === null || step > lastUsedStep;
}

/**
 * The time step of `code` when it is valid at `now` (±1 step) and later than
 * `lastUsedStep`; null otherwise. The caller records the step (atomically) to spend it.
 */
export async function acceptedStep(
  secret: string,
  code: string,
  lastUsedStep: number | null,
  now: Date = new Date(),
): Promise<number | null> {
  if (!isTotpCode(code)) return null;
  const result = await verify({
    secret,
    token: code,
    epoch: Math.floor(now.getTime() / 1000),
    epochTolerance: TOLERANCE_SECONDS,
  });
  if (!result.valid || !('timeStep' in result)) return null;
  return isFreshStep(result.timeStep, lastUsedStep) ? result.timeStep : null;
}

import { isCommonPassword } from './common-passwords.js';

/** Why a new password is refused before it is compared with the history. */
export type StrengthProblem = { kind: 'too_short'; minLength: number } | { kind: 'too_common' };

/**
 * The first rule a new password breaks: shorter than `minLength` characters (counted as
 * Unicode code points, so an emoji is one), or on the common-password list. Null when it
 * breaks none.
 */
export function strengthProblem(
  password: string,
  minLength: number,
  isCommon: (password: string) => boolean = isCommonPassword,
): StrengthProblem | null {
  if ([...password].length < minLength) return { kind: 'too_short', minLength };
  if (isCommon(password)) return { kind: 'too_common' };
  return null;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Whether a password set at `changedAt` is older than `maxAgeDays` (null: passwords never expire). */
export function passwordExpired(
  changedAt: Date | null,
  maxAgeDays: number | null,
  now: Date = new Date(),
): boolean {
  if (maxAgeDays === null || changedAt === null) return false;
  return now.getTime() - changedAt.getTime() > maxAgeDays * DAY_MS;
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { uuidv7 } from '@tenantry/runtime';

/** `<uuid>.<secret>`: the secret is 32 random bytes in base64url (43 characters). */
const SECRET_TOKEN =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;

/** A token as handed out once: the row id, the whole token for the user, and the hash that is stored. */
export interface IssuedSecretToken {
  id: string;
  token: string;
  hash: string;
}

/** 256 random bits in base64url: refresh, invitation and reset secrets, recovery codes, challenges. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 in hex: how random secrets are stored (a slow hash adds nothing to 256 random bits). */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A new `<id>.<secret>` token; only `hash` (SHA-256 of the secret) may be stored. */
export function issueSecretToken(id: string = uuidv7()): IssuedSecretToken {
  const secret = randomSecret();
  return { id, token: `${id}.${secret}`, hash: sha256Hex(secret) };
}

/** The id and secret of a well-formed `<id>.<secret>` token; null for anything else. */
export function parseSecretToken(token: string): { id: string; secret: string } | null {
  const match = SECRET_TOKEN.exec(token);
  return match ? { id: match[1]!, secret: match[2]! } : null;
}

/** Whether `secret` hashes to `storedHash`, compared in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(sha256Hex(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

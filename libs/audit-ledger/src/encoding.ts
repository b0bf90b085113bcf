// Byte helpers shared by the canonical encodings: length-prefixed fields and hex.

/** The length written for an absent (undefined or null) field: no bytes follow it. */
export const ABSENT_LENGTH = 0xffffffff;

/** A field of a canonical encoding: a string, or absent (undefined / null). */
export type CanonicalField = string | null | undefined;

/**
 * `magic` (ASCII) followed by each field as a 4-byte big-endian unsigned length and its UTF-8
 * bytes; an absent field is the length 0xFFFFFFFF and no bytes; then `trailer` (its bytes as
 * they are, no length: e.g. the previous entry's hash that an entry's hash covers). Written
 * into one buffer sized first, so an entry costs one allocation, not one per field.
 */
export function lengthPrefixed(
  magic: string,
  fields: readonly CanonicalField[],
  trailer?: Uint8Array,
): Uint8Array {
  const lengths = new Array<number>(fields.length);
  let size = magic.length + (trailer?.length ?? 0);
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    if (field === undefined || field === null) {
      lengths[i] = -1;
      size += 4;
      continue;
    }
    const length = Buffer.byteLength(field, 'utf8');
    if (length >= ABSENT_LENGTH) throw new RangeError('a canonical field is too long');
    lengths[i] = length;
    size += 4 + length;
  }
  const out = Buffer.allocUnsafe(size);
  let at = out.write(magic, 0, 'latin1');
  for (let i = 0; i < fields.length; i++) {
    const length = lengths[i]!;
    if (length < 0) {
      at = out.writeUInt32BE(ABSENT_LENGTH, at);
      continue;
    }
    at = out.writeUInt32BE(length, at);
    at += out.write(fields[i]!, at, length, 'utf8');
  }
  if (trailer) out.set(trailer, at);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

const HEX_32 = /^[0-9a-f]{64}$/;

/** True when `value` is 32 bytes as 64 lowercase hex digits. */
export function isHash(value: unknown): value is string {
  return typeof value === 'string' && HEX_32.test(value);
}

/** The 32 bytes of a 64-digit lowercase hex hash; throws naming `what` otherwise. */
export function hashBytes(value: string, what: string): Buffer {
  if (!isHash(value)) throw new TypeError(`${what} must be 64 lowercase hex digits (32 bytes)`);
  return Buffer.from(value, 'hex');
}

/** The bytes of an even-length lowercase or uppercase hex string; throws naming `what` otherwise. */
export function hexBytes(value: string, what: string): Buffer {
  if (typeof value !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(value))
    throw new TypeError(`${what} must be hex digits (an even number of them)`);
  return Buffer.from(value, 'hex');
}

/** `value` as a decimal string; throws naming `what` unless it is a safe integer ≥ `min`. */
export function decimal(value: number, what: string, min: number): string {
  if (!Number.isSafeInteger(value) || value < min)
    throw new TypeError(`${what} must be an integer ≥ ${min} (got ${String(value)})`);
  return String(value);
}

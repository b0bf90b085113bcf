import type { z } from 'zod';
import { ContractValidationError } from './validation.js';

const INVALID = 'must be a cursor returned by a previous page of this list';

// base64url without Buffer: contracts load in browsers too.
function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(encoded: string): string {
  const binary = atob(encoded.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder('utf-8', { fatal: true }).decode(
    Uint8Array.from(binary, (c) => c.charCodeAt(0)),
  );
}

/**
 * The one cursor format of every list: the sort key of the last item of a page, as a
 * JSON array in base64url. Opaque to clients; decoding validates it against the
 * list's key schema, so a forged cursor is a 400 naming `cursor`, never a query error.
 */
export const Cursor = {
  encode(key: readonly (string | number)[]): string {
    return toBase64Url(JSON.stringify(key));
  },

  decode<T extends z.ZodType>(cursor: string, key: T): z.output<T> {
    let raw: unknown;
    try {
      raw = JSON.parse(fromBase64Url(cursor));
    } catch {
      throw new ContractValidationError([{ field: 'cursor', message: INVALID }]);
    }
    const parsed = key.safeParse(raw);
    if (!parsed.success) throw new ContractValidationError([{ field: 'cursor', message: INVALID }]);
    return parsed.data;
  },
};

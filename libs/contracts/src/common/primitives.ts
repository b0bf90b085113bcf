import { z } from 'zod';
import { SAFE_TEXT_CHECKS, token } from './text.js';

export const UuidSchema = z.uuid({ error: 'must be a UUID' });
export const TimestampSchema = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time',
});

const MAX_KEYS_NAMED = 10;
const MAX_KEY_SHOWN = 40;

function unknownFields(keys: string[]): string {
  const shown = keys.slice(0, MAX_KEYS_NAMED).map((k) => {
    const printable = JSON.stringify(k).slice(1, -1);
    return printable.length > MAX_KEY_SHOWN ? `${printable.slice(0, MAX_KEY_SHOWN)}…` : printable;
  });
  const more = keys.length > shown.length ? ` and ${keys.length - shown.length} more` : '';
  return `unknown field(s): ${shown.join(', ')}${more}`;
}

/**
 * An object that refuses unknown fields, with messages that name them (the first
 * ten, escaped and shortened: a body with 20,000 unknown keys gives a short error).
 */
export function strictObject<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? unknownFields(issue.keys) : 'must be a JSON object',
  });
}

/** Integer schemas and their range, so documentation can show them as `integer` rather than a union. */
export const INTEGER_RANGES = new WeakMap<z.ZodType, { minimum: number; maximum: number }>();

/**
 * An integer from `min` to `max`: a JSON number, or (in a query string) ASCII decimal
 * digits only, so `1e2`, `0x10`, ` 10`, `10.0` and `١٠` are refused rather than coerced.
 */
export function integer(min: number, max: number) {
  const message = `must be an integer from ${min} to ${max}`;
  const schema = z
    .union(
      [
        z.number().int(),
        z
          .string()
          .regex(/^[0-9]{1,15}$/)
          .check(SAFE_TEXT_CHECKS.singleLine)
          .transform(Number),
      ],
      { error: message },
    )
    .pipe(z.number().min(min, { error: message }).max(max, { error: message }));
  INTEGER_RANGES.set(schema, { minimum: min, maximum: max });
  return schema;
}

export const CURSOR_PATTERN = /^[A-Za-z0-9_-]{1,500}$/;

export const PageQuerySchema = strictObject({
  limit: integer(1, 500).default(50),
  cursor: token(CURSOR_PATTERN, 'must be a cursor returned by a previous page', 500).optional(),
});
export type PageQuery = z.output<typeof PageQuerySchema>;

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

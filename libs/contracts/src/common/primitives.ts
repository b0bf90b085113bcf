import { z } from 'zod';

export const UuidSchema = z.uuid({ error: 'must be a UUID' });
export const TimestampSchema = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time',
});

export const PageQuerySchema = z.object({
  limit: z.coerce
    .number({ error: 'must be an integer from 1 to 500' })
    .int({ error: 'must be an integer from 1 to 500' })
    .min(1, { error: 'must be an integer from 1 to 500' })
    .max(500, { error: 'must be an integer from 1 to 500' })
    .default(50),
  cursor: z.string().max(200, { error: 'must be a cursor returned by a previous page' }).optional(),
});

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

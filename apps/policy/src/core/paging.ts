import { Cursor, type PageQuery } from '@tenantry/contracts';
import { z } from 'zod';

const IdCursor = z.tuple([z.string().min(1).max(256)]);

/**
 * One page of a document's items (roles, bindings, …), ordered by id (code-unit order, so
 * UUIDv7 ids come in creation order); the cursor is the last id of the previous page.
 */
export function pageById<T extends { id: string }, R>(
  items: readonly T[],
  { limit, cursor }: PageQuery,
  toContract: (item: T) => R,
): { items: R[]; nextCursor: string | null } {
  const after = cursor ? Cursor.decode(cursor, IdCursor)[0] : undefined;
  const sorted = items
    .filter((item) => after === undefined || item.id > after)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const page = sorted.slice(0, limit);
  return {
    items: page.map(toContract),
    nextCursor: sorted.length > limit ? Cursor.encode([page[page.length - 1]!.id]) : null,
  };
}

/** Copies `value` without its undefined properties (the document stores no undefined). */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

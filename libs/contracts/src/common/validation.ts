import type { z } from 'zod';
import { ErrorCode, type FieldError } from './errors.js';

/** Thrown when a value does not match its contract; names every bad field. */
export class ContractValidationError extends Error {
  readonly code = ErrorCode.ValidationFailed;
  constructor(
    readonly errors: FieldError[],
    readonly what = 'request',
  ) {
    super(`invalid ${what}: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
    this.name = 'ContractValidationError';
  }
}

export function toFieldErrors(error: z.ZodError, root = ''): FieldError[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return { field: [root, path].filter(Boolean).join('.') || '(root)', message: issue.message };
  });
}

/** Validates `value` against `schema` and returns the parsed value, or throws ContractValidationError. */
export function parseContract<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what = 'request',
  root = '',
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ContractValidationError(toFieldErrors(result.error, root), what);
  }
  return result.data;
}

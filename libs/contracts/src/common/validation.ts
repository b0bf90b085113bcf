import type { z } from 'zod';
import { AppError, ErrorCode, MAX_FIELD_ERRORS, type FieldError } from './errors.js';

const MAX_FIELD_NAME = 200;

/** Thrown when a value does not match its contract; names the bad fields (the first MAX_FIELD_ERRORS). */
export class ContractValidationError extends AppError {
  constructor(
    errors: FieldError[],
    readonly what = 'request',
    errorCount = errors.length,
  ) {
    const listed = errors.slice(0, MAX_FIELD_ERRORS);
    const more = errorCount > listed.length ? `; and ${errorCount - listed.length} more` : '';
    super(
      ErrorCode.ValidationFailed,
      `invalid ${what}: ${listed.map((e) => `${e.field}: ${e.message}`).join('; ')}${more}`,
      { errors: listed, errorCount },
    );
    this.name = 'ContractValidationError';
  }
}

/** A path as a dotted field name, bounded and printable whatever keys the input had. */
function fieldName(path: PropertyKey[], root: string): string {
  const joined = [root, path.map(String).join('.')].filter(Boolean).join('.') || '(root)';
  const printable = JSON.stringify(joined).slice(1, -1);
  return printable.length > MAX_FIELD_NAME ? `${printable.slice(0, MAX_FIELD_NAME)}…` : printable;
}

/** The first MAX_FIELD_ERRORS issues as field errors, and how many issues there were. */
export function toFieldErrors(
  error: z.ZodError,
  root = '',
): { errors: FieldError[]; count: number } {
  return {
    errors: error.issues
      .slice(0, MAX_FIELD_ERRORS)
      .map((issue) => ({ field: fieldName(issue.path, root), message: issue.message })),
    count: error.issues.length,
  };
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
    const { errors, count } = toFieldErrors(result.error, root);
    throw new ContractValidationError(errors, what, count);
  }
  return result.data;
}

import type { PipeTransform } from '@nestjs/common';
import { parseContract } from '@tenantry/contracts';
import type { z } from 'zod';

/**
 * Validates a body, query or param object against a contract schema; a failure names
 * every field. No body at all is validated as `{}` (so the error names the missing
 * fields); a JSON `null` body is refused as not an object.
 */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(
    private readonly schema: S,
    private readonly where: 'body' | 'query' | 'path',
  ) {}

  transform(value: unknown): z.output<S> {
    return parseContract(
      this.schema,
      value === undefined ? {} : value,
      this.where === 'body' ? 'request body' : `${this.where} parameters`,
    );
  }
}

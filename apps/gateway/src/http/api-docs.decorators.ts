import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiResponse } from '@nestjs/swagger';
import type { z } from 'zod';
import { jsonSchema, PROBLEM_RESPONSE } from './openapi.js';

/** Documents a route from its contract schemas, plus the problem responses it can give. */
export function ApiContract(options: {
  status: number;
  response: z.ZodType;
  body?: z.ZodType;
  problems: number[];
}): MethodDecorator {
  return applyDecorators(
    ...(options.body ? [ApiBody({ schema: jsonSchema(options.body, 'input') })] : []),
    ApiResponse({
      status: options.status,
      description: 'OK',
      schema: jsonSchema(options.response),
    }),
    ...options.problems.map((status) => ApiResponse({ status, ...PROBLEM_RESPONSE })),
  );
}

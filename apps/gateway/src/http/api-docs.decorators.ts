import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiParam, ApiQuery, ApiResponse } from '@nestjs/swagger';
import type { z } from 'zod';
import { jsonSchema, PROBLEM_RESPONSE } from './openapi.js';

type Parameter = { name: string; required: boolean; schema: Record<string, unknown> };

/** One OpenAPI parameter per property of a contract's object schema. */
function parametersOf(schema: z.ZodType): Parameter[] {
  const json = jsonSchema(schema, 'input') as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    required: json.required?.includes(name) ?? false,
    schema: property,
  }));
}

/**
 * Documents a route from its contract schemas (body, path and query parameters,
 * response) plus the problem responses it can give: the schemas that validate the
 * request are the ones in the OpenAPI document.
 */
export function ApiContract(options: {
  status: number;
  response: z.ZodType;
  body?: z.ZodType;
  path?: z.ZodType;
  query?: z.ZodType;
  problems: number[];
}): MethodDecorator {
  return applyDecorators(
    ...(options.body ? [ApiBody({ schema: jsonSchema(options.body, 'input') })] : []),
    ...(options.path
      ? parametersOf(options.path).map((p) => ApiParam({ ...p, required: true }))
      : []),
    ...(options.query ? parametersOf(options.query).map((p) => ApiQuery(p)) : []),
    ApiResponse({
      status: options.status,
      description: 'OK',
      schema: jsonSchema(options.response),
    }),
    ...options.problems.map((status) => ApiResponse({ status, ...PROBLEM_RESPONSE })),
  );
}

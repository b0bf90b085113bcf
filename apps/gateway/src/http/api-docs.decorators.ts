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

export interface ApiContractOptions {
  status: number;
  /** The body of a success; absent for a redirect (3xx: a `Location` header, no body). */
  response?: z.ZodType;
  body?: z.ZodType;
  path?: z.ZodType;
  query?: z.ZodType;
  /** The route asks a service over NATS (503 when it is down, 504 when it is slow). Default true. */
  forwarded?: boolean;
  /** Statuses the route's own logic can give (404, 409, ...). */
  problems?: number[];
  /** Other documented responses (e.g. a 503 with a body of its own). */
  responses?: { status: number; description: string; schema: z.ZodType }[];
}

/**
 * Documents a route from its contract schemas (body, path and query parameters,
 * response), plus every problem response it can give: 400 for any input, 414 for a
 * path parameter over its length limit, 413 and 415 for a body, 503 and 504 for a
 * forwarded call, 500 always, and the route's own. The
 * schemas that validate the request are the ones in the OpenAPI document.
 */
export function ApiContract(options: ApiContractOptions): MethodDecorator {
  const problems = new Set(options.problems ?? []);
  if (options.body || options.path || options.query) problems.add(400);
  if (options.path) problems.add(414);
  if (options.body) [413, 415].forEach((s) => problems.add(s));
  if (options.forwarded ?? true) [503, 504].forEach((s) => problems.add(s));
  problems.add(500);
  for (const { status } of options.responses ?? []) problems.delete(status);
  return applyDecorators(
    ...(options.body ? [ApiBody({ schema: jsonSchema(options.body, 'input') })] : []),
    ...(options.path
      ? parametersOf(options.path).map((p) => ApiParam({ ...p, required: true }))
      : []),
    ...(options.query ? parametersOf(options.query).map((p) => ApiQuery(p)) : []),
    options.response
      ? ApiResponse({
          status: options.status,
          description: 'OK',
          schema: jsonSchema(options.response),
        })
      : ApiResponse({
          status: options.status,
          description: 'Redirect: go to the `Location` header',
          headers: { Location: { schema: { type: 'string' } } },
        }),
    ...(options.responses ?? []).map((r) =>
      ApiResponse({ status: r.status, description: r.description, schema: jsonSchema(r.schema) }),
    ),
    ...[...problems].sort().map((status) => ApiResponse({ status, ...PROBLEM_RESPONSE })),
  );
}

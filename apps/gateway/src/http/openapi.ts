import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { INTEGER_RANGES, ProblemSchema } from '@tenantry/contracts';
import { z } from 'zod';

/** JSON Schema (2020-12, which OpenAPI 3.1 uses) of a contract schema: one schema drives validation and docs. */
export function jsonSchema(
  schema: z.ZodType,
  io: 'input' | 'output' = 'output',
): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      // The integer itself, or the `.default()` around it.
      const inner = (zodSchema._zod.def as { innerType?: unknown }).innerType;
      const range =
        INTEGER_RANGES.get(zodSchema as unknown as z.ZodType) ??
        (inner ? INTEGER_RANGES.get(inner as z.ZodType) : undefined);
      if (!range) return;
      const schema = jsonSchema as Record<string, unknown>;
      delete schema.anyOf;
      const fallback = (zodSchema._zod.def as { defaultValue?: unknown }).defaultValue;
      Object.assign(schema, {
        type: 'integer',
        ...range,
        ...(inner && fallback !== undefined ? { default: fallback } : {}),
      });
    },
  }) as Record<string, unknown>;
  return rest;
}

export const PROBLEM_RESPONSE = {
  description: 'RFC 9457 problem details',
  content: { 'application/problem+json': { schema: jsonSchema(ProblemSchema) } },
};

/** Serves the OpenAPI document at /openapi.json and Swagger UI at /docs. */
export function setupOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Tenantry API')
    .setDescription(
      'The HTTP front door of Tenantry. Errors are RFC 9457 problem details (application/problem+json); ' +
        'every response carries an x-request-id header.',
    )
    .setVersion('0.1.0')
    .setOpenAPIVersion('3.1.0')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    yamlDocumentUrl: 'openapi.yaml',
  });
}

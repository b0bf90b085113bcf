import { HttpException, MethodNotAllowedException, NotFoundException } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppError, ErrorCode, ProblemSchema } from '@tenantry/contracts';
import { errorCodes } from 'fastify';
import { toProblem, type ProblemRequest } from './problem-details.js';
import { RouteTable } from './route-table.js';

const request = (over: Partial<ProblemRequest> = {}): ProblemRequest => ({
  method: 'POST',
  url: '/v1/tenants',
  id: 'req-1',
  ...over,
});

/** A Fastify error as it reaches the exception filter: Nest wraps the 4xx ones in an HttpException. */
const adapter = new FastifyAdapter();
const asNestGivesIt = (error: Error) => adapter.mapException(error);

function routes(): RouteTable {
  const table = new RouteTable();
  table.add('GET', '/v1/tenants');
  table.add('POST', '/v1/tenants');
  table.add('GET', '/v1/tenants/:id');
  table.add('PATCH', '/v1/tenants/:id');
  table.add('POST', '/v1/tenants/:id/deprovision');
  table.add('DELETE', '/v1/tenants/:id/deprovision');
  table.add('GET', '/v1/tenants/:tenantId/audit-events');
  table.add('GET', '/docs/*');
  return table;
}

describe('toProblem', () => {
  it('is an RFC 9457 document with the request id, and the path as instance', () => {
    const { status, problem, headers, unexpected } = toProblem(
      new AppError(ErrorCode.Conflict, 'slug "acme" is already taken', {
        reason: 'TENANT_SLUG_TAKEN',
        field: 'slug',
      }),
      request({ url: '/v1/tenants?x=1' }),
    );
    expect(status).toBe(409);
    expect(headers).toEqual({});
    expect(unexpected).toBe(false);
    expect(ProblemSchema.parse(problem)).toEqual({
      type: 'https://tenantry.dev/problems/conflict',
      title: 'Conflict',
      status: 409,
      detail: 'slug "acme" is already taken',
      instance: '/v1/tenants',
      code: 'CONFLICT',
      reason: 'TENANT_SLUG_TAKEN',
      requestId: 'req-1',
      errors: [{ field: 'slug', message: 'slug "acme" is already taken' }],
    });
  });

  it('lists 20 of 25 field errors and counts them all', () => {
    const errors = Array.from({ length: 25 }, (_, i) => ({ field: `f${i}`, message: 'bad' }));
    const { status, problem } = toProblem(
      new AppError(ErrorCode.ValidationFailed, 'invalid request body', { errors }),
      request(),
    );
    expect(status).toBe(400);
    expect(problem.errors).toHaveLength(20);
    expect(problem.errors![19]!.field).toBe('f19');
    expect(problem.errorCount).toBe(25);
  });

  it('sends Retry-After when the error says when to retry', () => {
    const { status, headers } = toProblem(
      new AppError(ErrorCode.Conflict, 'still being processed', { retryAfterSeconds: 1 }),
      request(),
    );
    expect(status).toBe(409);
    expect(headers).toEqual({ 'retry-after': '1' });
    const unavailable = toProblem(
      new AppError(ErrorCode.ServiceUnavailable, 'down', { retryAfterSeconds: 5 }),
      request(),
    );
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers['retry-after']).toBe('5');
  });

  it('turns a 404 on a known path into a 405 with Allow', () => {
    const table = routes();
    const allowed = (path: string) => table.allowedMethods(path);
    const { status, headers, problem } = toProblem(
      new NotFoundException(),
      request({ method: 'DELETE', url: '/v1/tenants?limit=1' }),
      allowed,
    );
    expect(status).toBe(405);
    expect(headers).toEqual({ allow: 'GET, HEAD, POST' });
    expect(problem).toMatchObject({
      code: 'METHOD_NOT_ALLOWED',
      detail: 'DELETE is not allowed here; use GET, HEAD, POST',
    });

    const unknown = toProblem(new NotFoundException(), request({ url: '/v1/nothing' }), allowed);
    expect(unknown.status).toBe(404);
    expect(unknown.headers).toEqual({});
    expect(unknown.problem.detail).toBe('no route POST /v1/nothing');

    // A 404 on a method the path has (a handler's own "not found") stays a 404.
    const routed = toProblem(
      new NotFoundException(),
      request({ method: 'GET', url: '/v1/tenants' }),
      allowed,
    );
    expect(routed.status).toBe(404);
  });

  it('explains a 415 with and without a Content-Type', () => {
    const error = new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE();
    const form = toProblem(
      asNestGivesIt(error),
      request({ contentType: 'application/x-www-form-urlencoded' }),
    );
    expect(form.status).toBe(415);
    expect(form.problem.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(form.problem.detail).toContain(
      'send Content-Type: application/json, not "application/x-www-form-urlencoded"',
    );
    expect(form.problem.detail).toContain('curl -d');

    const none = toProblem(asNestGivesIt(error), request({ contentType: undefined }));
    expect(none.status).toBe(415);
    expect(none.problem.detail).toBe(
      'the request body must be JSON, and no Content-Type was sent: send Content-Type: application/json',
    );
    // Unwrapped (as Fastify's own error), the same.
    expect(toProblem(error, request({ contentType: 'text/plain' })).problem.detail).toContain(
      'not "text/plain"',
    );
  });

  it.each([
    [new errorCodes.FST_ERR_BAD_URL('/v1/tenants/%zz'), 400, 'the URL is malformed'],
    [new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), 413, 'too large (limit 1 MiB)'],
    [new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), 400, 'the request body is empty'],
    [new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), 400, 'not valid JSON'],
    [new errorCodes.FST_ERR_MAX_PARAM_LENGTH('/v1/tenants/xxx'), 414, 'longer than 100 characters'],
  ])("maps Fastify's %s", (error, status, detail) => {
    for (const exception of [error, asNestGivesIt(error)]) {
      const result = toProblem(exception, request({ url: '/v1/tenants/%zz' }));
      expect(result.status).toBe(status);
      expect(result.problem.detail).toContain(detail);
      expect(result.unexpected).toBe(false);
    }
  });

  it('does not echo a 2,000-character path', () => {
    const path = `/v1/tenants/${'a'.repeat(2_000)}`;
    for (const exception of [
      new errorCodes.FST_ERR_MAX_PARAM_LENGTH(path),
      new errorCodes.FST_ERR_BAD_URL(path),
      new NotFoundException(),
      new AppError(ErrorCode.ValidationFailed, 'bad'),
    ]) {
      const { problem } = toProblem(exception, request({ method: 'GET', url: path }));
      expect(problem.instance).toBeUndefined();
      expect(problem.detail).not.toContain('a'.repeat(50));
      expect(JSON.stringify(problem).length).toBeLessThan(400);
    }
    expect(toProblem(new NotFoundException(), request({ url: path })).problem.detail).toBe(
      'no route POST (a path of 2012 characters)',
    );
  });

  it('answers an unknown error with a 500 that does not reveal its message', () => {
    const { status, problem, unexpected } = toProblem(
      new Error('connection string postgres://secret@db'),
      request(),
    );
    expect(status).toBe(500);
    expect(unexpected).toBe(true);
    expect(problem.code).toBe('INTERNAL');
    expect(problem.detail).toBe('internal error (request id req-1)');
    expect(JSON.stringify(problem)).not.toContain('secret');
    for (const thrown of [null, undefined, 'a string', { statusCode: 400 }]) {
      expect(toProblem(thrown, request()).status).toBe(500);
    }
    const nest500 = toProblem(new HttpException('db password wrong', 500), request());
    expect(nest500.status).toBe(500);
    expect(nest500.problem.detail).not.toContain('password');
  });

  it('maps other Nest exceptions by status', () => {
    expect(toProblem(new MethodNotAllowedException(), request()).status).toBe(405);
    expect(toProblem(new HttpException('gone', 410), request()).status).toBe(400);
    expect(toProblem(new HttpException('slow', 504), request()).status).toBe(504);
  });
});

describe('RouteTable.allowedMethods', () => {
  const table = routes();

  it('lists the methods of a known path, with HEAD wherever GET', () => {
    expect(table.allowedMethods('/v1/tenants')).toEqual(['GET', 'HEAD', 'POST']);
    expect(table.allowedMethods('/v1/tenants/123')).toEqual(['GET', 'HEAD', 'PATCH']);
    expect(table.allowedMethods('/v1/tenants/123/deprovision')).toEqual(['DELETE', 'POST']);
    expect(table.allowedMethods('/v1/tenants/123/audit-events')).toEqual(['GET', 'HEAD']);
    expect(table.allowedMethods('/docs/swagger-ui.css')).toEqual(['GET', 'HEAD']);
  });

  it('knows nothing of other paths, as Fastify routes them', () => {
    expect(table.allowedMethods('/v1/nothing')).toEqual([]);
    expect(table.allowedMethods('/v1/tenants/')).toEqual([]);
    expect(table.allowedMethods('/v1/tenants/a/b')).toEqual([]);
    expect(table.allowedMethods('/V1/TENANTS')).toEqual([]);
    expect(table.allowedMethods('/v1/tenants.json')).toEqual([]);
  });
});

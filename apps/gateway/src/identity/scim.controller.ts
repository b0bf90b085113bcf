import {
  applyDecorators,
  Body,
  Controller,
  Delete,
  Get,
  Header,
  Headers,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import {
  AppError,
  ErrorCode,
  SCIM_CONTENT_TYPE,
  ScimBodySchema,
  ScimErrorReason,
  ScimErrorSchema,
  ScimListQuerySchema,
  ScimListResponseSchema,
  ScimReadQuerySchema,
  ScimResourceSchema,
  ScimRpc,
  type ScimResource,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { Public } from '../auth/access.decorators.js';
import { jsonSchema } from '../http/openapi.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { SCIM_JSON } from '../http/scim-errors.js';

type ScimBody = z.output<typeof ScimBodySchema>;
type ListQuery = z.output<typeof ScimListQuerySchema>;
type ReadQuery = z.output<typeof ScimReadQuerySchema>;

const BEARER = /^Bearer[ \t]+(\S{1,200})[ \t]*$/i;

/**
 * The SCIM bearer token of `Authorization: Bearer <token>`; a missing or malformed one is
 * the same 401 identity gives an unknown token.
 */
export function scimToken(authorization: string | undefined): string {
  const match = BEARER.exec(authorization ?? '');
  if (!match)
    throw new AppError(
      ErrorCode.Unauthenticated,
      'send the SCIM directory’s bearer token: Authorization: Bearer <token>',
      { reason: ScimErrorReason.TokenInvalid },
    );
  return match[1]!;
}

const ACCESS =
  '**Access:** public at the gateway (no access token or API key): every request carries the SCIM ' +
  'directory’s bearer token (`Authorization: Bearer <token>`, from POST /v1/tenants/{tenantId}/scim-directories), ' +
  'which identity verifies on every request; the token names the directory and so the tenant. ' +
  'Errors are SCIM errors (RFC 7644 §3.12, application/scim+json): a missing, unknown, rotated or revoked token is a 401.';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad request: scimType invalidFilter, invalidValue (detail names the attribute), invalidSyntax, invalidPath, noTarget or mutability',
  401: 'No valid SCIM bearer token',
  404: 'No such resource in this SCIM directory',
  409: 'scimType uniqueness: the userName or group displayName is taken',
  503: 'Identity is not available (with Retry-After)',
};

const scimContent = (schema: z.ZodType) => ({
  [SCIM_CONTENT_TYPE]: { schema: jsonSchema(schema) },
});

/** A SCIM route's access (@Public: identity checks the token) and its OpenAPI description. */
function ScimRoute(options: {
  summary: string;
  description?: string;
  status: number;
  response?: z.ZodType;
  body?: boolean;
  id?: boolean;
  query?: 'list' | 'read';
  errors: number[];
  /** false: the route needs no token (the static discovery documents). */
  token?: boolean;
}): MethodDecorator {
  return applyDecorators(
    Public(options.token === false ? {} : { credential: 'scimToken' }),
    ApiOperation({
      summary: options.summary,
      description: options.description ? `${options.description}\n\n${ACCESS}` : ACCESS,
    }),
    ApiProduces(SCIM_CONTENT_TYPE),
    ...(options.body
      ? [
          ApiConsumes(SCIM_CONTENT_TYPE, 'application/json'),
          ApiBody({ schema: jsonSchema(ScimBodySchema, 'input') }),
        ]
      : []),
    ...(options.id ? [ApiParam({ name: 'id', required: true, schema: { type: 'string' } })] : []),
    ...(options.query === 'list'
      ? [
          ApiQuery({
            name: 'filter',
            required: false,
            schema: { type: 'string' },
            description: 'e.g. userName eq "ana@example.com"',
          }),
          ApiQuery({ name: 'startIndex', required: false, schema: { type: 'integer' } }),
          ApiQuery({ name: 'count', required: false, schema: { type: 'integer' } }),
        ]
      : []),
    ...(options.query
      ? [
          ApiQuery({ name: 'attributes', required: false, schema: { type: 'string' } }),
          ApiQuery({ name: 'excludedAttributes', required: false, schema: { type: 'string' } }),
        ]
      : []),
    ApiResponse({
      status: options.status,
      description: options.status === 204 ? 'Deleted' : 'OK',
      ...(options.response ? { content: scimContent(options.response) } : {}),
    }),
    ...[...options.errors, 503].map((status) =>
      ApiResponse({
        status,
        description: ERROR_DESCRIPTIONS[status] ?? 'SCIM error',
        content: scimContent(ScimErrorSchema),
      }),
    ),
  );
}

/** Sets `Location` (RFC 7644 §3.3) to the created resource's `meta.location`. */
function located(reply: FastifyReply, resource: ScimResource): ScimResource {
  const location = (resource.meta as { location?: unknown } | undefined)?.location;
  if (typeof location === 'string') void reply.header('location', location);
  return resource;
}

/**
 * SCIM 2.0 (RFC 7643, RFC 7644) for IdPs (Okta, Entra ID, ...): Users and Groups of the
 * tenant whose SCIM directory the bearer token names, and the discovery documents. The
 * gateway passes each request with its token to identity, which verifies the token on
 * every request and does the work; every answer is application/scim+json (errors too,
 * through ProblemDetailsFilter). Bodies may be application/scim+json or application/json.
 */
@ApiTags('scim')
@Controller('scim/v2')
export class ScimController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Get('ServiceProviderConfig')
  @Header('content-type', SCIM_JSON)
  @ScimRoute({
    summary: 'What this SCIM server supports (PATCH and filters; not bulk, sorting or ETags)',
    description: 'Needs no token: a static document.',
    token: false,
    status: 200,
    response: ScimResourceSchema,
    errors: [],
  })
  serviceProviderConfig() {
    return this.rpc.request(ScimRpc.discovery, { document: 'ServiceProviderConfig' });
  }

  @Get('Schemas')
  @Header('content-type', SCIM_JSON)
  @ScimRoute({
    summary: 'The SCIM schemas: User, Group, EnterpriseUser',
    description: 'Needs no token: static documents.',
    token: false,
    status: 200,
    response: ScimListResponseSchema,
    errors: [],
  })
  schemas() {
    return this.rpc.request(ScimRpc.discovery, { document: 'Schemas' });
  }

  @Get('Schemas/:id')
  @Header('content-type', SCIM_JSON)
  @ScimRoute({
    summary: 'One SCIM schema, by its URN',
    description: 'Needs no token: a static document.',
    token: false,
    status: 200,
    response: ScimResourceSchema,
    id: true,
    errors: [404],
  })
  schema(@Param('id') id: string) {
    return this.rpc.request(ScimRpc.discovery, { document: 'Schemas', id });
  }

  @Get('ResourceTypes')
  @Header('content-type', SCIM_JSON)
  @ScimRoute({
    summary: 'The SCIM resource types: User, Group',
    description: 'Needs no token: static documents.',
    token: false,
    status: 200,
    response: ScimListResponseSchema,
    errors: [],
  })
  resourceTypes() {
    return this.rpc.request(ScimRpc.discovery, { document: 'ResourceTypes' });
  }

  @Get('ResourceTypes/:id')
  @Header('content-type', SCIM_JSON)
  @ScimRoute({
    summary: 'One SCIM resource type (User or Group)',
    description: 'Needs no token: a static document.',
    token: false,
    status: 200,
    response: ScimResourceSchema,
    id: true,
    errors: [404],
  })
  resourceType(@Param('id') id: string) {
    return this.rpc.request(ScimRpc.discovery, { document: 'ResourceTypes', id });
  }

  @Post('Users')
  @HttpCode(201)
  @Header('content-type', SCIM_JSON)
  @ScimRoute({
    summary: 'Provision a user (active, without a password: they sign in through SSO)',
    description:
      'userName is the user’s email (their login). Roles: the directory’s default role. 409 uniqueness when the tenant has that user already.',
    status: 201,
    response: ScimResourceSchema,
    body: true,
    errors: [400, 401, 409],
  })
  async createUser(
    @Headers('authorization') authorization: string | undefined,
    @Body(new ZodPipe(ScimBodySchema, 'body')) body: ScimBody,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const token = scimToken(authorization);
    return located(reply, await this.rpc.request(ScimRpc.createUser, { token, body }));
  }

  @Get('Users')
  @Header('content-type', SCIM_JSON)
  @ScimRoute({
    summary: "The directory's users, filtered and paged (ListResponse)",
    description:
      'Filters: userName, externalId, displayName, emails (emails.value, emails[type eq "work"]), name.givenName, name.familyName, active, id, meta.created, meta.lastModified; and, or, not. 1-based startIndex; count at most 200.',
    status: 200,
    response: ScimListResponseSchema,
    query: 'list',
    errors: [400, 401],
  })
  listUsers(
    @Headers('authorization') authorization: string | undefined,
    @Query(new ZodPipe(ScimListQuerySchema, 'query')) query: ListQuery,
  ) {
    return this.rpc.request(ScimRpc.listUsers, { ...query, token: scimToken(authorization) });
  }

  @Get('Users/:id')
  @Header('content-type', SCIM_JSON)
  @ScimRoute({
    summary: 'One user of the directory',
    status: 200,
    response: ScimResourceSchema,
    id: true,
    query: 'read',
    errors: [401, 404],
  })
  getUser(
    @Headers('authorization') authorization: string | undefined,
    @Param('id') id: string,
    @Query(new ZodPipe(ScimReadQuerySchema, 'query')) query: ReadQuery,
  ) {
    return this.rpc.request(ScimRpc.getUser, { ...query, id, token: scimToken(authorization) });
  }

  @Put('Users/:id')
  @Header('content-type', SCIM_JSON)
  @ScimRoute({
    summary: 'Replace a user (what the document does not have is removed)',
    description: 'active false disables the user and revokes all their sessions.',
    status: 200,
    response: ScimResourceSchema,
    body: true,
    id: true,
    errors: [400, 401, 404, 409],
  })
  replaceUser(
    @Headers('authorization') authorization: string | undefined,
    @Param('id') id: string,
    @Body(new ZodPipe(ScimBodySchema, 'body')) body: ScimBody,
  ) {
    return this.rpc.request(ScimRpc.replaceUser, { id, body, token: scimToken(authorization) });
  }

  @Patch('Users/:id')
  @Header('content-type', SCIM_JSON)
  @ScimRoute({
    summary: 'Patch a user (PatchOp, as Okta and Entra ID send it)',
    description:
      'add, remove, replace (any case), with or without a path; Entra’s "True"/"False" accepted for active. active false disables the user and revokes all their sessions; true enables them.',
    status: 200,
    response: ScimResourceSchema,
    body: true,
    id: true,
    errors: [400, 401, 404, 409],
  })
  patchUser(
    @Headers('authorization') authorization: string | undefined,
    @Param('id') id: string,
    @Body(new ZodPipe(ScimBodySchema, 'body')) body: ScimBody,
  ) {
    return this.rpc.request(ScimRpc.patchUser, { id, body, token: scimToken(authorization) });
  }

  @Delete('Users/:id')
  @HttpCode(204)
  @ScimRoute({
    summary: 'Delete a user, with their sessions',
    status: 204,
    id: true,
    errors: [401, 404],
  })
  async deleteUser(
    @Headers('authorization') authorization: string | undefined,
    @Param('id') id: string,
  ): Promise<void> {
    await this.rpc.request(ScimRpc.deleteUser, { id, token: scimToken(authorization) });
  }

  @Post('Groups')
  @HttpCode(201)
  @Header('content-type', SCIM_JSON)
  @ScimRoute({
    summary: 'Create a group (with members, users of the directory)',
    description:
      'Members get the roles the directory maps to the group. 409 uniqueness when the directory has a group of that name.',
    status: 201,
    response: ScimResourceSchema,
    body: true,
    errors: [400, 401, 409],
  })
  async createGroup(
    @Headers('authorization') authorization: string | undefined,
    @Body(new ZodPipe(ScimBodySchema, 'body')) body: ScimBody,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const token = scimToken(authorization);
    return located(reply, await this.rpc.request(ScimRpc.createGroup, { token, body }));
  }

  @Get('Groups')
  @Header('content-type', SCIM_JSON)
  @ScimRoute({
    summary: "The directory's groups, filtered and paged (ListResponse)",
    description:
      'Filters: displayName, externalId, id, members (members[value eq "<user id>"]), meta.created, meta.lastModified. excludedAttributes=members leaves members out.',
    status: 200,
    response: ScimListResponseSchema,
    query: 'list',
    errors: [400, 401],
  })
  listGroups(
    @Headers('authorization') authorization: string | undefined,
    @Query(new ZodPipe(ScimListQuerySchema, 'query')) query: ListQuery,
  ) {
    return this.rpc.request(ScimRpc.listGroups, { ...query, token: scimToken(authorization) });
  }

  @Get('Groups/:id')
  @Header('content-type', SCIM_JSON)
  @ScimRoute({
    summary: 'One group of the directory, with its members',
    status: 200,
    response: ScimResourceSchema,
    id: true,
    query: 'read',
    errors: [401, 404],
  })
  getGroup(
    @Headers('authorization') authorization: string | undefined,
    @Param('id') id: string,
    @Query(new ZodPipe(ScimReadQuerySchema, 'query')) query: ReadQuery,
  ) {
    return this.rpc.request(ScimRpc.getGroup, { ...query, id, token: scimToken(authorization) });
  }

  @Put('Groups/:id')
  @Header('content-type', SCIM_JSON)
  @ScimRoute({
    summary: 'Replace a group: its name, externalId and whole member list',
    status: 200,
    response: ScimResourceSchema,
    body: true,
    id: true,
    errors: [400, 401, 404, 409],
  })
  replaceGroup(
    @Headers('authorization') authorization: string | undefined,
    @Param('id') id: string,
    @Body(new ZodPipe(ScimBodySchema, 'body')) body: ScimBody,
  ) {
    return this.rpc.request(ScimRpc.replaceGroup, { id, body, token: scimToken(authorization) });
  }

  @Patch('Groups/:id')
  @Header('content-type', SCIM_JSON)
  @ScimRoute({
    summary: 'Patch a group: rename, add or remove members (PatchOp, as Okta and Entra ID send it)',
    description:
      'Members: add/remove with path "members" and [{"value": "<user id>"}], remove with path members[value eq "<user id>"]. Changed members’ roles are recomputed at once.',
    status: 200,
    response: ScimResourceSchema,
    body: true,
    id: true,
    errors: [400, 401, 404, 409],
  })
  patchGroup(
    @Headers('authorization') authorization: string | undefined,
    @Param('id') id: string,
    @Body(new ZodPipe(ScimBodySchema, 'body')) body: ScimBody,
  ) {
    return this.rpc.request(ScimRpc.patchGroup, { id, body, token: scimToken(authorization) });
  }

  @Delete('Groups/:id')
  @HttpCode(204)
  @ScimRoute({
    summary: "Delete a group; its members' roles are recomputed without it",
    status: 204,
    id: true,
    errors: [401, 404],
  })
  async deleteGroup(
    @Headers('authorization') authorization: string | undefined,
    @Param('id') id: string,
  ): Promise<void> {
    await this.rpc.request(ScimRpc.deleteGroup, { id, token: scimToken(authorization) });
  }
}

import {
  applyDecorators,
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Injectable,
  Param,
  Patch,
  Post,
  Query,
  Req,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AppError,
  CreatedScimDirectorySchema,
  CreatedSsoSetupLinkSchema,
  CreateScimDirectoryBodySchema,
  CreateSsoConnectionBodySchema,
  CreateSsoSetupLinkBodySchema,
  ErrorCode,
  OpenSsoSetupSessionBodySchema,
  PageQuerySchema,
  ScimDirectoryPageSchema,
  SsoConnectionPageSchema,
  SsoConnectionSchema,
  SsoSetupErrorReason,
  SsoSetupLinkPageSchema,
  SsoSetupLinkRpc,
  SsoSetupLinkSchema,
  SsoSetupRpc,
  SsoSetupSessionSchema,
  strictObject,
  UpdateSsoConnectionBodySchema,
  UuidSchema,
  type PageQuery,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Permission, Public } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { clientInfo } from '../http/client-info.js';

const TenantPath = strictObject({ tenantId: UuidSchema });
const LinkPath = strictObject({ tenantId: UuidSchema, linkId: UuidSchema });
const ConnectionPath = strictObject({ connectionId: UuidSchema });
const DirectoryPath = strictObject({ directoryId: UuidSchema });
const DeletedSchema = z.object({ deleted: z.literal(true) });

/** As the tenant routes of SSO connections: the IdP's metadata may be fetched (up to 10 s). */
const IDP_FETCHING_TIMEOUT_MS = 20_000;

const BEARER = /^Bearer[ \t]+(\S{1,4096})[ \t]*$/i;

const SESSION_ACCESS =
  '**Access:** public at the gateway (no access token or API key): every request carries the setup ' +
  'session token (`Authorization: Bearer <sessionToken>`, from POST /v1/sso-setup/session), which ' +
  "identity verifies on every request (the session must not have ended, nor its link been revoked). The tenant is the session's. " +
  'A setup session reaches only these routes: a normal access token is refused here, and a setup ' +
  'session token is refused by every other route (401).';

/** The setup session token of `Authorization: Bearer <token>`; missing or malformed: the session's 401. */
export function setupSessionToken(authorization: string | undefined): string {
  const match = BEARER.exec(authorization ?? '');
  if (!match)
    throw new AppError(
      ErrorCode.Unauthenticated,
      'send the SSO setup session token: Authorization: Bearer <sessionToken> (from POST /v1/sso-setup/session)',
      { reason: SsoSetupErrorReason.SessionInvalid },
    );
  return match[1]!;
}

/**
 * Refuses a request without a good setup session (401) before its body or query is read,
 * so that nobody without a session learns anything from validation errors. Identity checks
 * the session again when it does the work.
 */
@Injectable()
class SetupSessionGuard implements CanActivate {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    await this.rpc.request(SsoSetupRpc.checkSession, {
      sessionToken: setupSessionToken(request.headers.authorization),
    });
    return true;
  }
}

/** A route for the holder of a setup session (`Authorization: Bearer <sessionToken>`). */
const SetupSession = () =>
  applyDecorators(Public({ credential: 'setupSession' }), UseGuards(SetupSessionGuard));

/**
 * A tenant's SSO setup links: one-time, expiring links its admin hands to their IT
 * department to set up the tenant's SSO connections and SCIM directories without a
 * Tenantry account (/v1/sso-setup).
 */
@ApiTags('sso-setup')
@Controller('v1/tenants/:tenantId/sso-setup-links')
export class SsoSetupLinkController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @Permission('sso-connections:write')
  @ApiOperation({
    summary: 'Make an SSO setup link (its token and URL are in the answer, and only there)',
    description:
      'Valid for `expiresInHours` (1 to 168, default 72) and opened once: its holder gets a setup ' +
      "session of at most an hour that can manage the tenant's SSO connections and SCIM directories, " +
      'and nothing else. `url` is `<TENANTRY_APP_URL>/sso-setup#token=<token>` (the token in the ' +
      'fragment never reaches a server log).',
  })
  @ApiContract({
    status: 201,
    path: TenantPath,
    body: CreateSsoSetupLinkBodySchema,
    response: CreatedSsoSetupLinkSchema,
  })
  create(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Body(new ZodPipe(CreateSsoSetupLinkBodySchema, 'body'))
    body: z.output<typeof CreateSsoSetupLinkBodySchema>,
  ) {
    return this.rpc.request(SsoSetupLinkRpc.create, { ...body, tenantId: path.tenantId });
  }

  @Get()
  @Permission('sso-connections:read')
  @ApiOperation({
    summary: "The tenant's SSO setup links, newest first (without tokens)",
    description: 'Status: `pending`, `opened`, `expired` (never opened) or `revoked`.',
  })
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: PageQuerySchema,
    response: SsoSetupLinkPageSchema,
  })
  list(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Query(new ZodPipe(PageQuerySchema, 'query')) query: PageQuery,
  ) {
    return this.rpc.request(SsoSetupLinkRpc.list, { ...query, tenantId: path.tenantId });
  }

  @Get(':linkId')
  @Permission('sso-connections:read')
  @ApiOperation({ summary: 'Get an SSO setup link (without its token)' })
  @ApiContract({ status: 200, path: LinkPath, response: SsoSetupLinkSchema, problems: [404] })
  get(@Param(new ZodPipe(LinkPath, 'path')) path: z.output<typeof LinkPath>) {
    return this.rpc.request(SsoSetupLinkRpc.get, path);
  }

  @Delete(':linkId')
  @Permission('sso-connections:write')
  @ApiOperation({
    summary: 'Revoke an SSO setup link: it cannot be opened, and its setup session ends at once',
  })
  @ApiContract({ status: 200, path: LinkPath, response: SsoSetupLinkSchema, problems: [404] })
  revoke(@Param(new ZodPipe(LinkPath, 'path')) path: z.output<typeof LinkPath>) {
    return this.rpc.request(SsoSetupLinkRpc.revoke, path);
  }
}

/**
 * What the holder of an SSO setup link can do: open it (once) for a setup session, then,
 * with that session, manage the tenant's SSO connections (bodies as under
 * /v1/tenants/:tenantId/sso-connections) and SCIM directories. Public at the gateway:
 * identity checks the session token on every request.
 */
@ApiTags('sso-setup')
@Controller('v1/sso-setup')
export class SsoSetupController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post('session')
  @HttpCode(201)
  @Public()
  @ApiOperation({
    summary: 'Open an SSO setup link (once) for a setup session',
    description:
      'Send the `token` from the link (after `#token=`). The link works once: a second opening, an ' +
      'expired or a revoked link is a 401 saying which. The session lasts an hour, or until the ' +
      'link expires when that comes first; send `sessionToken` as `Authorization: Bearer` on the ' +
      'other /v1/sso-setup routes.',
  })
  @ApiContract({
    status: 201,
    body: OpenSsoSetupSessionBodySchema,
    response: SsoSetupSessionSchema,
    problems: [401],
  })
  open(
    @Body(new ZodPipe(OpenSsoSetupSessionBodySchema, 'body'))
    body: z.output<typeof OpenSsoSetupSessionBodySchema>,
    @Req() request: FastifyRequest,
  ) {
    return this.rpc.request(SsoSetupRpc.openSession, {
      token: body.token,
      client: clientInfo(request),
    });
  }

  @Get('connections')
  @SetupSession()
  @ApiOperation({
    summary: "The tenant's SSO connections (without secrets)",
    description: SESSION_ACCESS,
  })
  @ApiContract({
    status: 200,
    query: PageQuerySchema,
    response: SsoConnectionPageSchema,
    problems: [401],
  })
  listConnections(
    @Headers('authorization') authorization: string | undefined,
    @Query(new ZodPipe(PageQuerySchema, 'query')) query: PageQuery,
  ) {
    return this.rpc.request(SsoSetupRpc.listConnections, {
      ...query,
      sessionToken: setupSessionToken(authorization),
    });
  }

  @Post('connections')
  @HttpCode(201)
  @SetupSession()
  @ApiOperation({
    summary: 'Make an SSO connection (SAML 2.0 or OIDC) of the tenant',
    description: `As POST /v1/tenants/{tenantId}/sso-connections. ${SESSION_ACCESS}`,
  })
  @ApiContract({
    status: 201,
    body: CreateSsoConnectionBodySchema,
    response: SsoConnectionSchema,
    problems: [401],
  })
  createConnection(
    @Headers('authorization') authorization: string | undefined,
    @Body(new ZodPipe(CreateSsoConnectionBodySchema, 'body'))
    body: z.output<typeof CreateSsoConnectionBodySchema>,
  ) {
    return this.rpc.request(
      SsoSetupRpc.createConnection,
      { ...body, sessionToken: setupSessionToken(authorization) },
      { timeoutMs: IDP_FETCHING_TIMEOUT_MS },
    );
  }

  @Get('connections/:connectionId')
  @SetupSession()
  @ApiOperation({ summary: 'Get an SSO connection (without secrets)', description: SESSION_ACCESS })
  @ApiContract({
    status: 200,
    path: ConnectionPath,
    response: SsoConnectionSchema,
    problems: [401, 404],
  })
  getConnection(
    @Headers('authorization') authorization: string | undefined,
    @Param(new ZodPipe(ConnectionPath, 'path')) path: z.output<typeof ConnectionPath>,
  ) {
    return this.rpc.request(SsoSetupRpc.getConnection, {
      ...path,
      sessionToken: setupSessionToken(authorization),
    });
  }

  @Patch('connections/:connectionId')
  @SetupSession()
  @ApiOperation({
    summary: 'Change an SSO connection (only the fields sent)',
    description: `As PATCH /v1/tenants/{tenantId}/sso-connections/{connectionId}. ${SESSION_ACCESS}`,
  })
  @ApiContract({
    status: 200,
    path: ConnectionPath,
    body: UpdateSsoConnectionBodySchema,
    response: SsoConnectionSchema,
    problems: [401, 404],
  })
  updateConnection(
    @Headers('authorization') authorization: string | undefined,
    @Param(new ZodPipe(ConnectionPath, 'path')) path: z.output<typeof ConnectionPath>,
    @Body(new ZodPipe(UpdateSsoConnectionBodySchema, 'body'))
    body: z.output<typeof UpdateSsoConnectionBodySchema>,
  ) {
    return this.rpc.request(
      SsoSetupRpc.updateConnection,
      { ...body, ...path, sessionToken: setupSessionToken(authorization) },
      { timeoutMs: IDP_FETCHING_TIMEOUT_MS },
    );
  }

  @Delete('connections/:connectionId')
  @SetupSession()
  @ApiOperation({
    summary: 'Delete an SSO connection: sign-ins through it stop at once',
    description: SESSION_ACCESS,
  })
  @ApiContract({ status: 200, path: ConnectionPath, response: DeletedSchema, problems: [401, 404] })
  deleteConnection(
    @Headers('authorization') authorization: string | undefined,
    @Param(new ZodPipe(ConnectionPath, 'path')) path: z.output<typeof ConnectionPath>,
  ) {
    return this.rpc.request(SsoSetupRpc.deleteConnection, {
      ...path,
      sessionToken: setupSessionToken(authorization),
    });
  }

  @Get('scim-directories')
  @SetupSession()
  @ApiOperation({
    summary: "The tenant's SCIM directories (without tokens)",
    description: SESSION_ACCESS,
  })
  @ApiContract({
    status: 200,
    query: PageQuerySchema,
    response: ScimDirectoryPageSchema,
    problems: [401],
  })
  listScimDirectories(
    @Headers('authorization') authorization: string | undefined,
    @Query(new ZodPipe(PageQuerySchema, 'query')) query: PageQuery,
  ) {
    return this.rpc.request(SsoSetupRpc.listScimDirectories, {
      ...query,
      sessionToken: setupSessionToken(authorization),
    });
  }

  @Post('scim-directories')
  @HttpCode(201)
  @SetupSession()
  @ApiOperation({
    summary: 'Make a SCIM directory: its SCIM base URL and bearer token (shown here only)',
    description: `As POST /v1/tenants/{tenantId}/scim-directories. ${SESSION_ACCESS}`,
  })
  @ApiContract({
    status: 201,
    body: CreateScimDirectoryBodySchema,
    response: CreatedScimDirectorySchema,
    problems: [401],
  })
  createScimDirectory(
    @Headers('authorization') authorization: string | undefined,
    @Body(new ZodPipe(CreateScimDirectoryBodySchema, 'body'))
    body: z.output<typeof CreateScimDirectoryBodySchema>,
  ) {
    return this.rpc.request(SsoSetupRpc.createScimDirectory, {
      ...body,
      sessionToken: setupSessionToken(authorization),
    });
  }

  @Post('scim-directories/:directoryId/rotate-token')
  @HttpCode(200)
  @SetupSession()
  @ApiOperation({
    summary: 'A new bearer token for a SCIM directory (shown here only); the old one stops at once',
    description: SESSION_ACCESS,
  })
  @ApiContract({
    status: 200,
    path: DirectoryPath,
    response: CreatedScimDirectorySchema,
    problems: [401, 404],
  })
  rotateScimToken(
    @Headers('authorization') authorization: string | undefined,
    @Param(new ZodPipe(DirectoryPath, 'path')) path: z.output<typeof DirectoryPath>,
  ) {
    return this.rpc.request(SsoSetupRpc.rotateScimToken, {
      ...path,
      sessionToken: setupSessionToken(authorization),
    });
  }
}

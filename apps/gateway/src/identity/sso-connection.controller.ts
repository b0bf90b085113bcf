import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import {
  CreateSsoConnectionBodySchema,
  PageQuerySchema,
  SsoConnectionPageSchema,
  SsoConnectionRpc,
  SsoConnectionSchema,
  strictObject,
  UpdateSsoConnectionBodySchema,
  UuidSchema,
  type PageQuery,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { Permission, Public } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';

const TenantPath = strictObject({ tenantId: UuidSchema });
const ConnectionPath = strictObject({ tenantId: UuidSchema, connectionId: UuidSchema });
const MetadataPath = strictObject({ connectionId: UuidSchema });
const MetadataQuery = strictObject({
  /** `1`: served as a file to save (Content-Disposition: attachment). */
  download: z.enum(['0', '1'], { error: 'must be 1 (a file to save) or 0' }).optional(),
});
const DeletedSchema = z.object({ deleted: z.literal(true) });
/** The SP metadata, as XML. */
const SpMetadataXmlSchema = z.string().describe('SAML 2.0 SP metadata (EntityDescriptor)');

/**
 * Create and update may fetch the IdP's metadata (up to 10 s) and make an RSA key pair:
 * longer than the default RPC timeout, so the client is never told "timeout" about a
 * connection that is then created.
 */
const IDP_FETCHING_TIMEOUT_MS = 20_000;

/** The media type of SAML metadata (SAML 2.0 metadata, section 4.1.1). */
export const SAML_METADATA_TYPE = 'application/samlmetadata+xml';

type CreateBody = z.output<typeof CreateSsoConnectionBodySchema>;
type UpdateBody = z.output<typeof UpdateSsoConnectionBodySchema>;

/**
 * A tenant's SSO connections (SAML 2.0, OIDC), and the public SP metadata of a SAML
 * connection (what its IdP is configured with).
 */
@ApiTags('sso-connections')
@Controller('v1')
export class SsoConnectionController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post('tenants/:tenantId/sso-connections')
  @HttpCode(201)
  @Permission('sso-connections:write')
  @ApiOperation({
    summary: 'Make an SSO connection (SAML 2.0 or OIDC) of the tenant',
    description:
      'SAML: give the IdP as `saml.idp.metadataXml`, `saml.idp.metadataUrl` (fetched once, now) or ' +
      '`entityId` + `ssoUrl` + `certificates`; the answer has the SP entity id, ACS URL, metadata URL ' +
      'and certificate to configure the IdP with. OIDC: register `oidc.redirectUri` at the provider.',
  })
  @ApiContract({
    status: 201,
    path: TenantPath,
    body: CreateSsoConnectionBodySchema,
    response: SsoConnectionSchema,
  })
  create(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Body(new ZodPipe(CreateSsoConnectionBodySchema, 'body')) body: CreateBody,
  ) {
    return this.rpc.request(
      SsoConnectionRpc.create,
      { ...body, tenantId: path.tenantId },
      { timeoutMs: IDP_FETCHING_TIMEOUT_MS },
    );
  }

  @Get('tenants/:tenantId/sso-connections')
  @Permission('sso-connections:read')
  @ApiOperation({ summary: "The tenant's SSO connections (without secrets)" })
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: PageQuerySchema,
    response: SsoConnectionPageSchema,
  })
  list(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Query(new ZodPipe(PageQuerySchema, 'query')) query: PageQuery,
  ) {
    return this.rpc.request(SsoConnectionRpc.list, { ...query, tenantId: path.tenantId });
  }

  @Get('tenants/:tenantId/sso-connections/:connectionId')
  @Permission('sso-connections:read')
  @ApiOperation({ summary: 'Get an SSO connection (without secrets)' })
  @ApiContract({
    status: 200,
    path: ConnectionPath,
    response: SsoConnectionSchema,
    problems: [404],
  })
  get(@Param(new ZodPipe(ConnectionPath, 'path')) path: z.output<typeof ConnectionPath>) {
    return this.rpc.request(SsoConnectionRpc.get, path);
  }

  @Patch('tenants/:tenantId/sso-connections/:connectionId')
  @Permission('sso-connections:write')
  @ApiOperation({
    summary: 'Change an SSO connection (only the fields sent)',
    description:
      '`saml.idp` replaces the IdP (new metadata, rotated certificates); the protocol cannot change.',
  })
  @ApiContract({
    status: 200,
    path: ConnectionPath,
    body: UpdateSsoConnectionBodySchema,
    response: SsoConnectionSchema,
    problems: [404],
  })
  update(
    @Param(new ZodPipe(ConnectionPath, 'path')) path: z.output<typeof ConnectionPath>,
    @Body(new ZodPipe(UpdateSsoConnectionBodySchema, 'body')) body: UpdateBody,
  ) {
    return this.rpc.request(
      SsoConnectionRpc.update,
      { ...body, ...path },
      { timeoutMs: IDP_FETCHING_TIMEOUT_MS },
    );
  }

  @Delete('tenants/:tenantId/sso-connections/:connectionId')
  @Permission('sso-connections:write')
  @ApiOperation({ summary: 'Delete an SSO connection: sign-ins through it stop at once' })
  @ApiContract({ status: 200, path: ConnectionPath, response: DeletedSchema, problems: [404] })
  delete(@Param(new ZodPipe(ConnectionPath, 'path')) path: z.output<typeof ConnectionPath>) {
    return this.rpc.request(SsoConnectionRpc.delete, path);
  }

  @Get('auth/sso/saml/:connectionId/metadata')
  @Public()
  @ApiTags('auth')
  @ApiProduces(SAML_METADATA_TYPE)
  @ApiOperation({
    summary: 'The SP metadata of a SAML connection (XML), to configure its IdP with',
    description: 'Also the SP entity id. `?download=1` serves it as a file (tenantry-sp-<id>.xml).',
  })
  @ApiContract({
    status: 200,
    path: MetadataPath,
    query: MetadataQuery,
    response: SpMetadataXmlSchema,
    problems: [404],
  })
  async spMetadata(
    @Param(new ZodPipe(MetadataPath, 'path')) path: z.output<typeof MetadataPath>,
    @Query(new ZodPipe(MetadataQuery, 'query')) query: z.output<typeof MetadataQuery>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const { xml } = await this.rpc.request(SsoConnectionRpc.spMetadata, {
      connectionId: path.connectionId,
    });
    reply.header('content-type', `${SAML_METADATA_TYPE}; charset=utf-8`);
    reply.header('cache-control', 'public, max-age=300');
    if (query.download === '1')
      reply.header(
        'content-disposition',
        `attachment; filename="tenantry-sp-${path.connectionId}.xml"`,
      );
    return xml;
  }
}

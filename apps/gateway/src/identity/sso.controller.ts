import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  SsoDiscoverBodySchema,
  SsoDiscoverResultSchema,
  SsoRpc,
  strictObject,
  text,
  UuidSchema,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Public } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { clientInfo } from '../http/client-info.js';
import { refusalPage } from './sso-page.js';

const ConnectionPath = strictObject({ connectionId: UuidSchema });
type ConnectionRef = z.output<typeof ConnectionPath>;

const StartQuerySchema = strictObject({
  /** Where to come back to, with `?code=`: an URL on the tenant's allowed redirect origins. */
  returnTo: text({ min: 1, max: 2048 }).optional(),
});

/** The IdP's HTTP-POST binding: the fields of the browser's form. */
const AcsFormSchema = z.object({
  SAMLResponse: text({ min: 1, max: 1024 * 1024 }),
  RelayState: text({ max: 4096 }).optional(),
});

/** What an OpenID provider sends back: `code` and `state`, or `error` and its description. */
const CallbackQuerySchema = z.record(z.string(), text({ max: 8192 }));

/**
 * Single sign-on through a tenant's SAML and OIDC connections. All public: the browser
 * arrives without a session. A refused sign-in answers a browser (Accept: text/html) with a
 * page that says why, an API client with the problem document; either way no session.
 */
@ApiTags('sso')
@Controller('v1/auth/sso')
export class SsoController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post('discover')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'Home-realm discovery: where a person with this email signs in',
    description:
      "`method: sso` with the tenant's enabled connections when the email's domain is verified by a tenant that has some; `password` otherwise.",
  })
  @ApiContract({
    status: 200,
    body: SsoDiscoverBodySchema,
    response: SsoDiscoverResultSchema,
    problems: [429],
  })
  discover(
    @Body(new ZodPipe(SsoDiscoverBodySchema, 'body')) body: z.output<typeof SsoDiscoverBodySchema>,
    @Req() request: FastifyRequest,
  ) {
    return this.rpc.request(SsoRpc.discover, { ...body, client: clientInfo(request) });
  }

  @Get(':connectionId/login')
  @Public()
  @ApiOperation({
    summary: 'Start signing in through a connection (browser navigation)',
    description:
      'Redirects (302) to the identity provider. After the sign-in the browser comes back to `returnTo` (or the app URL) with `?code=`, to exchange at POST /v1/auth/sso/token.',
  })
  @ApiContract({
    status: 302,
    path: ConnectionPath,
    query: StartQuerySchema,
    problems: [400, 403, 404],
  })
  async login(
    @Param(new ZodPipe(ConnectionPath, 'path')) path: ConnectionRef,
    @Query(new ZodPipe(StartQuerySchema, 'query')) query: z.output<typeof StartQuerySchema>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    try {
      const { redirectUrl } = await this.rpc.request(SsoRpc.start, {
        connectionId: path.connectionId,
        ...(query.returnTo !== undefined ? { returnTo: query.returnTo } : {}),
        client: clientInfo(request),
      });
      reply.status(302).header('Location', redirectUrl).header('Cache-Control', 'no-store');
      return '';
    } catch (error) {
      return refusalPage(error, request, reply);
    }
  }

  @Post('saml/:connectionId/acs')
  @Public()
  @ApiOperation({
    summary: 'SAML assertion consumer service (HTTP-POST binding)',
    description:
      "The IdP's browser form posts `SAMLResponse` (and `RelayState`) here as application/x-www-form-urlencoded. Redirects (303) to the return URL with `?code=`.",
  })
  @ApiContract({ status: 303, path: ConnectionPath, problems: [400, 401, 403, 404, 429] })
  async acs(
    @Param(new ZodPipe(ConnectionPath, 'path')) path: ConnectionRef,
    @Body(new ZodPipe(AcsFormSchema, 'body')) form: z.output<typeof AcsFormSchema>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    try {
      const { redirectTo } = await this.rpc.request(SsoRpc.samlAcs, {
        connectionId: path.connectionId,
        samlResponse: form.SAMLResponse,
        ...(form.RelayState ? { relayState: form.RelayState } : {}),
        client: clientInfo(request),
      });
      reply.status(303).header('Location', redirectTo).header('Cache-Control', 'no-store');
      return '';
    } catch (error) {
      return refusalPage(error, request, reply);
    }
  }

  @Get('oidc/:connectionId/callback')
  @Public()
  @ApiOperation({
    summary: 'OpenID Connect redirect URI (authorization code + PKCE)',
    description: 'Redirects (303) to the return URL with `?code=`.',
  })
  @ApiContract({ status: 303, path: ConnectionPath, problems: [400, 401, 403, 404, 429] })
  async callback(
    @Param(new ZodPipe(ConnectionPath, 'path')) path: ConnectionRef,
    @Query(new ZodPipe(CallbackQuerySchema, 'query')) query: z.output<typeof CallbackQuerySchema>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    try {
      const { redirectTo } = await this.rpc.request(SsoRpc.oidcCallback, {
        connectionId: path.connectionId,
        query,
        client: clientInfo(request),
      });
      reply.status(303).header('Location', redirectTo).header('Cache-Control', 'no-store');
      return '';
    } catch (error) {
      return refusalPage(error, request, reply);
    }
  }
}

import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AcceptedSchema,
  AcceptInvitationBodySchema,
  AppError,
  AuthRpc,
  ErrorCode,
  LoginBodySchema,
  MfaChallengeEnrolRpc,
  MfaChallengeSchema,
  MfaPasskeyEnrolBodySchema,
  MfaPasskeyOptionsBodySchema,
  MfaVerifyBodySchema,
  PasskeyLoginBodySchema,
  PasskeyOptionsSchema,
  PasswordResetCompleteBodySchema,
  PasswordResetRequestBodySchema,
  RefreshBodySchema,
  SsoRpc,
  SsoTokenBodySchema,
  TokenSetSchema,
  TotpEnrolmentSchema,
  type Principal,
  type TokenSet,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Caller, OWN_ACCOUNT, Permission, Public } from '../auth/access.decorators.js';
import { AuthErrors } from '../auth/auth.errors.js';
import { Revocations } from '../auth/revocations.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { homeTenant, MAX_ACCESS_TOKEN_MS, sessionOf } from './caller.js';
import { clientInfo } from '../http/client-info.js';
import {
  clearRefreshCookie,
  hasCsrfHeader,
  isCookieSafe,
  refreshTokenFromCookie,
  refreshTtlSeconds,
  setRefreshCookie,
  wantsCookie,
} from './refresh-cookie.js';

/** Tokens as the gateway returns them: without the refresh token when it went into the cookie. */
const TokenResponseSchema = TokenSetSchema.extend({
  refreshToken: z
    .string()
    .optional()
    .describe('Left out when it was set as the tenantry_refresh cookie instead'),
});
const LoginResponseSchema = z.union([TokenResponseSchema, MfaChallengeSchema]);
const EnrolDuringChallengeSchema = MfaChallengeEnrolRpc.request;

const COOKIE_HEADER = {
  name: 'X-Tenantry-Refresh-Cookie',
  required: false,
  description:
    '`1`: set the refresh token as the cookie `tenantry_refresh` (HttpOnly; Secure; SameSite=Strict; Path=/v1/auth) and leave it out of the body (browser clients)',
} as const;

/**
 * Signing in and out, and the flows that start without a session (invitations, password
 * resets). Public but logout; the client's IP and user agent go to identity with each.
 */
@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(Revocations) private readonly revocations: Revocations,
  ) {}

  @Post('login')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'Sign in with email and password',
    description:
      'Answers with tokens, or with an MFA challenge to complete at POST /v1/auth/mfa/verify. `tenant` (a slug) is needed when the email exists in several tenants.',
  })
  @ApiHeader(COOKIE_HEADER)
  @ApiContract({
    status: 200,
    body: LoginBodySchema,
    response: LoginResponseSchema,
    problems: [401, 429],
  })
  async login(
    @Body(new ZodPipe(LoginBodySchema, 'body')) body: z.output<typeof LoginBodySchema>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const result = await this.rpc.request(AuthRpc.login, { ...body, client: clientInfo(request) });
    return this.deliver(result, reply, wantsCookie(request));
  }

  @Post('passkey/options')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'Sign in with a passkey alone: options for navigator.credentials.get()',
    description:
      'The browser offers the passkeys it holds for this site; the authenticator verifies its user (PIN, biometrics). Send the credential (`toJSON()`) to POST /v1/auth/passkey/login within 5 minutes.',
  })
  @ApiContract({ status: 200, response: PasskeyOptionsSchema, problems: [429] })
  passkeyLoginOptions(@Req() request: FastifyRequest) {
    return this.rpc.request(AuthRpc.passkeyLoginOptions, { client: clientInfo(request) });
  }

  @Post('passkey/login')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'Sign in with a passkey alone',
    description:
      'A passkey that verified its user is two factors on its own (`amr` pop, mfa): tokens, never an MFA challenge.',
  })
  @ApiHeader(COOKIE_HEADER)
  @ApiContract({
    status: 200,
    body: PasskeyLoginBodySchema,
    response: TokenResponseSchema,
    problems: [401, 403, 429],
  })
  async passkeyLogin(
    @Body(new ZodPipe(PasskeyLoginBodySchema, 'body'))
    body: z.output<typeof PasskeyLoginBodySchema>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const tokens = await this.rpc.request(AuthRpc.passkeyLogin, {
      ...body,
      client: clientInfo(request),
    });
    return this.deliver(tokens, reply, wantsCookie(request));
  }

  @Post('mfa/verify')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'Complete an MFA challenge with a TOTP code, a recovery code or a passkey',
  })
  @ApiHeader(COOKIE_HEADER)
  @ApiContract({
    status: 200,
    body: MfaVerifyBodySchema,
    response: TokenResponseSchema,
    problems: [401, 429],
  })
  async verifyMfa(
    @Body(new ZodPipe(MfaVerifyBodySchema, 'body')) body: z.output<typeof MfaVerifyBodySchema>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const tokens = await this.rpc.request(AuthRpc.verifyMfa, {
      ...body,
      client: clientInfo(request),
    });
    return this.deliver(tokens, reply, wantsCookie(request));
  }

  @Post('mfa/passkey-options')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'Answer an MFA challenge with a passkey: options for navigator.credentials.get()',
    description:
      'For a challenge whose `methods` include `webauthn`. Send the credential (`toJSON()`) as `passkey` to POST /v1/auth/mfa/verify, with the challenge token.',
  })
  @ApiContract({
    status: 200,
    body: MfaPasskeyOptionsBodySchema,
    response: PasskeyOptionsSchema,
    problems: [401, 409, 429],
  })
  passkeyOptions(
    @Body(new ZodPipe(MfaPasskeyOptionsBodySchema, 'body'))
    body: z.output<typeof MfaPasskeyOptionsBodySchema>,
    @Req() request: FastifyRequest,
  ) {
    return this.rpc.request(AuthRpc.passkeyOptions, { ...body, client: clientInfo(request) });
  }

  @Post('mfa/passkey-enrol/options')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'Enrol a passkey during a challenge (the tenant requires MFA and the user has none)',
    description:
      'Options for navigator.credentials.create(); send the credential (`toJSON()`) with the challenge token to POST /v1/auth/mfa/passkey-enrol.',
  })
  @ApiContract({
    status: 200,
    body: MfaPasskeyOptionsBodySchema,
    response: PasskeyOptionsSchema,
    problems: [401, 409, 429],
  })
  passkeyEnrolOptions(
    @Body(new ZodPipe(MfaPasskeyOptionsBodySchema, 'body'))
    body: z.output<typeof MfaPasskeyOptionsBodySchema>,
    @Req() request: FastifyRequest,
  ) {
    return this.rpc.request(AuthRpc.passkeyEnrolOptions, { ...body, client: clientInfo(request) });
  }

  @Post('mfa/passkey-enrol')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'Complete a challenge that requires enrolment with a new passkey',
    description:
      'MFA is then on: the answer holds the tokens and the recovery codes, shown this once.',
  })
  @ApiHeader(COOKIE_HEADER)
  @ApiContract({
    status: 200,
    body: MfaPasskeyEnrolBodySchema,
    response: TokenResponseSchema.extend({ recoveryCodes: z.array(z.string()).optional() }),
    problems: [401, 409, 429],
  })
  async enrolPasskey(
    @Body(new ZodPipe(MfaPasskeyEnrolBodySchema, 'body'))
    body: z.output<typeof MfaPasskeyEnrolBodySchema>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const tokens = await this.rpc.request(AuthRpc.enrolPasskey, {
      ...body,
      client: clientInfo(request),
    });
    return this.deliver(tokens, reply, wantsCookie(request));
  }

  @Post('mfa/enrol')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'Enrol TOTP during a challenge (the tenant requires MFA and the user has none)',
    description:
      'Then answer the same challenge at POST /v1/auth/mfa/verify with a code from the app.',
  })
  @ApiContract({
    status: 200,
    body: EnrolDuringChallengeSchema,
    response: TotpEnrolmentSchema,
    problems: [401],
  })
  enrolMfa(
    @Body(new ZodPipe(EnrolDuringChallengeSchema, 'body'))
    body: z.output<typeof EnrolDuringChallengeSchema>,
  ) {
    return this.rpc.request(MfaChallengeEnrolRpc, body);
  }

  @Post('refresh')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'New tokens for a refresh token (which is spent: use the new one next time)',
    description:
      'Send `refreshToken` in the body, or (browser clients) send no body with the `tenantry_refresh` cookie and the header `X-Tenantry-CSRF: 1`; the new refresh token then comes back as the cookie.',
  })
  @ApiHeader(COOKIE_HEADER)
  @ApiHeader({
    name: 'X-Tenantry-CSRF',
    required: false,
    description: '`1`: required when the refresh token comes from the cookie',
  })
  @ApiContract({
    status: 200,
    body: RefreshBodySchema,
    response: TokenResponseSchema,
    problems: [401, 403],
  })
  async refresh(
    @Body(new ZodPipe(RefreshBodySchema, 'body')) body: z.output<typeof RefreshBodySchema>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    let refreshToken = body.refreshToken;
    const fromCookie = !refreshToken;
    if (!refreshToken) {
      refreshToken = refreshTokenFromCookie(request);
      if (!refreshToken) throw AuthErrors.refreshTokenMissing();
      if (!hasCsrfHeader(request)) throw AuthErrors.csrfHeaderMissing();
    }
    let tokens: TokenSet;
    try {
      tokens = await this.rpc.request(AuthRpc.refresh, {
        refreshToken,
        client: clientInfo(request),
      });
    } catch (error) {
      // A spent or revoked cookie is of no use any more: drop it with the 401.
      if (fromCookie && error instanceof AppError && error.code === ErrorCode.Unauthenticated)
        clearRefreshCookie(reply);
      throw error;
    }
    // A cookie client always gets the rotated token back in the cookie (the old one is spent).
    return this.deliver(tokens, reply, fromCookie || wantsCookie(request));
  }

  @Post('sso/token')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'Exchange the one-time code of a completed SSO sign-in for tokens',
    description:
      'After signing in through an SSO connection the browser comes back with `?code=` (valid 60 s, once); the frontend sends it here.',
  })
  @ApiHeader(COOKIE_HEADER)
  @ApiContract({
    status: 200,
    body: SsoTokenBodySchema,
    response: TokenResponseSchema,
    problems: [401, 429],
  })
  async ssoToken(
    @Body(new ZodPipe(SsoTokenBodySchema, 'body')) body: z.output<typeof SsoTokenBodySchema>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const tokens = await this.rpc.request(SsoRpc.token, { ...body, client: clientInfo(request) });
    return this.deliver(tokens, reply, wantsCookie(request));
  }

  @Post('logout')
  @HttpCode(200)
  @Permission('profile:write', OWN_ACCOUNT)
  @ApiOperation({
    summary: "Sign out: ends the access token's session (its tokens are refused at once)",
  })
  @ApiContract({ status: 200, response: AcceptedSchema })
  async logout(@Caller() caller: Principal, @Res({ passthrough: true }) reply: FastifyReply) {
    const sessionId = sessionOf(caller);
    const result = await this.rpc.request(AuthRpc.logout, {
      sessionId,
      tenantId: homeTenant(caller),
    });
    // Refused here at once; every other instance as soon as the revocation event arrives.
    this.revocations.revokeSession(sessionId, Date.now() + MAX_ACCESS_TOKEN_MS);
    clearRefreshCookie(reply);
    return result;
  }

  @Post('invitations/accept')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'Accept an invitation: set a password, and be signed in',
    description:
      'Where the tenant requires MFA, the answer is the login challenge that enrols a second factor.',
  })
  @ApiHeader(COOKIE_HEADER)
  @ApiContract({
    status: 200,
    body: AcceptInvitationBodySchema,
    response: LoginResponseSchema,
    problems: [401, 404, 409],
  })
  async acceptInvitation(
    @Body(new ZodPipe(AcceptInvitationBodySchema, 'body'))
    body: z.output<typeof AcceptInvitationBodySchema>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const result = await this.rpc.request(AuthRpc.acceptInvitation, {
      ...body,
      client: clientInfo(request),
    });
    return this.deliver(result, reply, wantsCookie(request));
  }

  @Post('password-reset')
  @HttpCode(202)
  @Public()
  @ApiOperation({
    summary: 'Ask for a password reset mail',
    description: 'Accepted whether or not the account exists (nothing tells them apart).',
  })
  @ApiContract({
    status: 202,
    body: PasswordResetRequestBodySchema,
    response: AcceptedSchema,
    problems: [429],
  })
  requestPasswordReset(
    @Body(new ZodPipe(PasswordResetRequestBodySchema, 'body'))
    body: z.output<typeof PasswordResetRequestBodySchema>,
    @Req() request: FastifyRequest,
  ) {
    return this.rpc.request(AuthRpc.requestPasswordReset, {
      ...body,
      client: clientInfo(request),
    });
  }

  @Post('password-reset/complete')
  @HttpCode(200)
  @Public()
  @ApiOperation({ summary: "Set a new password with the reset mail's token" })
  @ApiContract({
    status: 200,
    body: PasswordResetCompleteBodySchema,
    response: AcceptedSchema,
    problems: [401],
  })
  completePasswordReset(
    @Body(new ZodPipe(PasswordResetCompleteBodySchema, 'body'))
    body: z.output<typeof PasswordResetCompleteBodySchema>,
    @Req() request: FastifyRequest,
  ) {
    return this.rpc.request(AuthRpc.completePasswordReset, {
      ...body,
      client: clientInfo(request),
    });
  }

  /**
   * The tokens in the body, or the refresh token in the cookie and the rest in the body.
   * Anything else identity answers (an MFA challenge) goes back as it is.
   */
  private async deliver<T extends object>(result: T, reply: FastifyReply, viaCookie: boolean) {
    if (!viaCookie || !isTokenSet(result) || !isCookieSafe(result.refreshToken)) return result;
    const ttl = await refreshTtlSeconds(this.rpc, result.accessToken);
    setRefreshCookie(reply, result.refreshToken, ttl);
    const { refreshToken: _sent, ...rest } = result;
    return rest;
  }
}

function isTokenSet(result: object): result is TokenSet {
  return 'accessToken' in result && 'refreshToken' in result;
}

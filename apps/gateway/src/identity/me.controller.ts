import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AddedPasskeySchema,
  AddPasskeyBodySchema,
  ChangePasswordBodySchema,
  MeSchema,
  MfaCodeBodySchema,
  MfaRpc,
  PasskeyOptionsSchema,
  PasskeyRpc,
  PasskeySchema,
  RecoveryCodesSchema,
  SessionRpc,
  SessionSchema,
  strictObject,
  TotpEnrolmentSchema,
  UserRpc,
  UuidSchema,
  type Principal,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { z } from 'zod';
import { Caller, OWN_ACCOUNT, Permission } from '../auth/access.decorators.js';
import { Revocations } from '../auth/revocations.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { homeTenant, MAX_ACCESS_TOKEN_MS, sessionOf } from './caller.js';

const SessionPath = strictObject({ sessionId: UuidSchema });
const SessionListSchema = z.object({ items: z.array(SessionSchema) });
const PasskeyPath = strictObject({ passkeyId: UuidSchema });
const PasskeyListSchema = z.object({ passkeys: z.array(PasskeySchema) });

/** The signed-in user (or operator) themselves: profile, sessions, password, MFA. */
@ApiTags('me')
@Controller('v1/me')
export class MeController {
  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(Revocations) private readonly revocations: Revocations,
  ) {}

  @Get()
  @Permission('profile:read', OWN_ACCOUNT)
  @ApiOperation({ summary: 'Who I am: the principal, with email and display name' })
  @ApiContract({ status: 200, response: MeSchema })
  async me(@Caller() caller: Principal): Promise<z.output<typeof MeSchema>> {
    const user = await this.rpc.request(UserRpc.get, {
      tenantId: homeTenant(caller),
      userId: caller.id,
    });
    return { ...caller, email: user.email, displayName: user.displayName };
  }

  @Get('sessions')
  @Permission('profile:read', OWN_ACCOUNT)
  @ApiOperation({ summary: 'My sessions (signed-in devices)' })
  @ApiContract({ status: 200, response: SessionListSchema })
  sessions(@Caller() caller: Principal) {
    return this.rpc.request(SessionRpc.list, {
      tenantId: homeTenant(caller),
      userId: caller.id,
    });
  }

  @Delete('sessions/:sessionId')
  @Permission('profile:write', OWN_ACCOUNT)
  @ApiOperation({ summary: 'End one of my sessions' })
  @ApiContract({ status: 200, path: SessionPath, response: SessionSchema, problems: [404] })
  async revokeSession(
    @Caller() caller: Principal,
    @Param(new ZodPipe(SessionPath, 'path')) path: z.output<typeof SessionPath>,
  ) {
    const session = await this.rpc.request(SessionRpc.revoke, {
      tenantId: homeTenant(caller),
      userId: caller.id,
      sessionId: path.sessionId,
    });
    this.revocations.revokeSession(session.id, Date.now() + MAX_ACCESS_TOKEN_MS);
    return session;
  }

  @Post('sessions/revoke-all')
  @Permission('profile:write', OWN_ACCOUNT)
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign out everywhere else: end all my sessions but this one' })
  @ApiContract({ status: 200, response: z.object({ revoked: z.number().int() }) })
  revokeOtherSessions(@Caller() caller: Principal) {
    return this.rpc.request(SessionRpc.revokeAll, {
      tenantId: homeTenant(caller),
      userId: caller.id,
      exceptSessionId: sessionOf(caller),
    });
  }

  @Post('password')
  @Permission('profile:write', OWN_ACCOUNT)
  @HttpCode(200)
  @ApiOperation({ summary: 'Change my password (the current one is needed)' })
  @ApiContract({
    status: 200,
    body: ChangePasswordBodySchema,
    response: z.object({ changed: z.literal(true) }),
    problems: [401],
  })
  changePassword(
    @Caller() caller: Principal,
    @Body(new ZodPipe(ChangePasswordBodySchema, 'body'))
    body: z.output<typeof ChangePasswordBodySchema>,
  ) {
    return this.rpc.request(UserRpc.changePassword, {
      tenantId: homeTenant(caller),
      userId: caller.id,
      ...body,
    });
  }

  @Post('mfa/totp')
  @Permission('profile:write', OWN_ACCOUNT)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Start enrolling TOTP: a secret for the authenticator app',
    description: 'Confirm it with a code at POST /v1/me/mfa/totp/confirm.',
  })
  @ApiContract({ status: 200, response: TotpEnrolmentSchema, problems: [409] })
  enrolTotp(@Caller() caller: Principal) {
    return this.rpc.request(MfaRpc.enrolTotp, {
      tenantId: homeTenant(caller),
      userId: caller.id,
    });
  }

  @Post('mfa/totp/confirm')
  @Permission('profile:write', OWN_ACCOUNT)
  @HttpCode(200)
  @ApiOperation({ summary: 'Confirm TOTP with a code: MFA is on; recovery codes, shown once' })
  @ApiContract({
    status: 200,
    body: MfaCodeBodySchema,
    response: RecoveryCodesSchema,
    problems: [401, 409],
  })
  confirmTotp(
    @Caller() caller: Principal,
    @Body(new ZodPipe(MfaCodeBodySchema, 'body')) body: z.output<typeof MfaCodeBodySchema>,
  ) {
    return this.rpc.request(MfaRpc.confirmTotp, {
      tenantId: homeTenant(caller),
      userId: caller.id,
      ...body,
    });
  }

  @Post('mfa/totp/disable')
  @Permission('profile:write', OWN_ACCOUNT)
  @HttpCode(200)
  @ApiOperation({ summary: 'Turn TOTP off (a current code is needed)' })
  @ApiContract({
    status: 200,
    body: MfaCodeBodySchema,
    response: z.object({ disabled: z.literal(true) }),
    problems: [401, 409],
  })
  disableTotp(
    @Caller() caller: Principal,
    @Body(new ZodPipe(MfaCodeBodySchema, 'body')) body: z.output<typeof MfaCodeBodySchema>,
  ) {
    return this.rpc.request(MfaRpc.disableTotp, {
      tenantId: homeTenant(caller),
      userId: caller.id,
      ...body,
    });
  }

  @Post('mfa/passkeys/options')
  @Permission('profile:write', OWN_ACCOUNT)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Start adding a passkey: options for navigator.credentials.create()',
    description:
      'Pass them to `PublicKeyCredential.parseCreationOptionsFromJSON` (or `@simplewebauthn/browser`), then send the new credential (`toJSON()`) to POST /v1/me/mfa/passkeys within 5 minutes.',
  })
  @ApiContract({ status: 200, response: PasskeyOptionsSchema })
  passkeyOptions(@Caller() caller: Principal) {
    return this.rpc.request(PasskeyRpc.registrationOptions, {
      tenantId: homeTenant(caller),
      userId: caller.id,
    });
  }

  @Post('mfa/passkeys')
  @Permission('profile:write', OWN_ACCOUNT)
  @ApiOperation({
    summary: 'Add a passkey as a second factor',
    description:
      'The credential answers the options of POST /v1/me/mfa/passkeys/options (once). A first second factor turns MFA on and returns recovery codes, shown once.',
  })
  @ApiContract({
    status: 201,
    body: AddPasskeyBodySchema,
    response: AddedPasskeySchema,
    problems: [409],
  })
  addPasskey(
    @Caller() caller: Principal,
    @Body(new ZodPipe(AddPasskeyBodySchema, 'body')) body: z.output<typeof AddPasskeyBodySchema>,
  ) {
    return this.rpc.request(PasskeyRpc.add, {
      tenantId: homeTenant(caller),
      userId: caller.id,
      ...body,
    });
  }

  @Get('mfa/passkeys')
  @Permission('profile:read', OWN_ACCOUNT)
  @ApiOperation({ summary: 'My passkeys' })
  @ApiContract({ status: 200, response: PasskeyListSchema })
  passkeys(@Caller() caller: Principal) {
    return this.rpc.request(PasskeyRpc.list, { tenantId: homeTenant(caller), userId: caller.id });
  }

  @Delete('mfa/passkeys/:passkeyId')
  @Permission('profile:write', OWN_ACCOUNT)
  @ApiOperation({
    summary: 'Remove one of my passkeys',
    description: 'Removing the last second factor (no TOTP, no other passkey) turns MFA off.',
  })
  @ApiContract({
    status: 200,
    path: PasskeyPath,
    response: z.object({ removed: z.literal(true) }),
    problems: [404],
  })
  removePasskey(
    @Caller() caller: Principal,
    @Param(new ZodPipe(PasskeyPath, 'path')) path: z.output<typeof PasskeyPath>,
  ) {
    return this.rpc.request(PasskeyRpc.remove, {
      tenantId: homeTenant(caller),
      userId: caller.id,
      passkeyId: path.passkeyId,
    });
  }
}

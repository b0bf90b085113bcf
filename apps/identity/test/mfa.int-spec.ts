import { AuthRpc, ErrorCode, MfaChallengeEnrolRpc, MfaRpc, UserRpc } from '@tenantry/contracts';
import { decodeJwt } from 'jose';
import { generate } from 'otplib';
import { AuthSettingsService } from '../src/auth-settings/auth-settings.service.js';
import { challengeOf, client, IdentityHarness, tokenOf } from './identity.harness.js';

/** A TOTP code `stepsAhead` time steps from now (one step ahead is within the tolerance). */
const codeFor = (secret: string, stepsAhead = 0) =>
  generate({ secret, epoch: Math.floor(Date.now() / 1000) + stepsAhead * 30 });

/** TOTP, recovery codes and MFA challenges against real PostgreSQL, Redis and NATS. */
describe('multi-factor authentication', () => {
  let h: IdentityHarness;

  beforeAll(async () => {
    h = await IdentityHarness.start();
  });

  afterAll(async () => {
    await h?.close();
  });

  const login = (email: string, password: string) =>
    h.call(AuthRpc.login, { email, password, client: client() });
  const verify = (challengeToken: string, code: string) =>
    h.call(AuthRpc.verifyMfa, { challengeToken, code, client: client() });

  it('enrols TOTP, then turns logins into challenges completed with a code once per step, or a recovery code once', async () => {
    const tenant = h.addTenant('mfa');
    const email = 'careful@mfa.test';
    const password = 'careful users password';
    const { userId } = await h.activeUser(tenant.id, email, password);
    const actor = `user:${userId}`;

    const enrolment = await h.call(MfaRpc.enrolTotp, { tenantId: tenant.id, userId }, actor);
    expect(enrolment.otpauthUri).toBe(
      `otpauth://totp/Tenantry:careful%40mfa.test?secret=${enrolment.secret}&issuer=Tenantry`,
    );
    expect(enrolment.qrDataUrl).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
    expect(
      await h.failure(MfaRpc.confirmTotp, { tenantId: tenant.id, userId, code: '000000' }, actor),
    ).toMatchObject({ code: ErrorCode.ValidationFailed, reason: 'MFA_CODE_INVALID' });
    const firstCode = await codeFor(enrolment.secret);
    const { recoveryCodes } = await h.call(
      MfaRpc.confirmTotp,
      { tenantId: tenant.id, userId, code: firstCode },
      actor,
    );
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(await h.call(UserRpc.get, { tenantId: tenant.id, userId })).toMatchObject({
      mfaEnabled: true,
    });
    expect(await h.failure(MfaRpc.enrolTotp, { tenantId: tenant.id, userId }, actor)).toMatchObject(
      { code: ErrorCode.Conflict, reason: 'MFA_ALREADY_ENABLED' },
    );

    // Logging in now asks for the second factor.
    const challenge = challengeOf(await login(email, password));
    expect(challenge).toEqual({
      mfaRequired: true,
      challengeToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      methods: ['totp', 'recovery_code'],
      enrolmentRequired: false,
      expiresIn: 300,
    });
    // The code that confirmed the enrolment was spent with its time step.
    expect(
      await h.failure(AuthRpc.verifyMfa, {
        challengeToken: challenge.challengeToken,
        code: firstCode,
        client: client(),
      }),
    ).toMatchObject({
      code: ErrorCode.Unauthenticated,
      reason: 'MFA_CODE_INVALID',
    });
    const nextCode = await codeFor(enrolment.secret, 1);
    const tokens = await verify(challenge.challengeToken, nextCode);
    expect(decodeJwt(tokens.accessToken)).toMatchObject({ sub: userId, amr: ['pwd', 'otp'] });
    expect(tokens.recoveryCodes).toBeUndefined();
    // The challenge was used up; the code of that step too.
    expect(
      await h.failure(AuthRpc.verifyMfa, {
        challengeToken: challenge.challengeToken,
        code: nextCode,
        client: client(),
      }),
    ).toMatchObject({ reason: 'MFA_CHALLENGE_INVALID' });
    const again = challengeOf(await login(email, password));
    expect(
      await h.failure(AuthRpc.verifyMfa, {
        challengeToken: again.challengeToken,
        code: nextCode,
        client: client(),
      }),
    ).toMatchObject({ reason: 'MFA_CODE_INVALID' });

    // A recovery code works in place of a TOTP code, once.
    const recovered = await verify(again.challengeToken, recoveryCodes[3]!);
    expect(decodeJwt(recovered.accessToken).amr).toEqual(['pwd', 'recovery_code']);
    const third = challengeOf(await login(email, password));
    expect(
      await h.failure(AuthRpc.verifyMfa, {
        challengeToken: third.challengeToken,
        code: recoveryCodes[3]!,
        client: client(),
      }),
    ).toMatchObject({ reason: 'MFA_CODE_INVALID' });
    // The same challenge still takes a right code after a wrong one.
    await expect(verify(third.challengeToken, recoveryCodes[4]!)).resolves.toMatchObject({
      tokenType: 'Bearer',
    });

    const enrolled = await h.auditEvents(
      (e) => e.action === 'mfa.enrolled' && e.target?.id === userId,
    );
    expect(enrolled[0]!.actor).toEqual({ type: 'user', id: userId });
    const verified = await h.auditEvents(
      (e) => e.action === 'mfa.verified' && e.target?.id === userId,
      3,
    );
    expect(verified.map((e) => e.data?.amr)).toEqual([
      ['pwd', 'otp'],
      ['pwd', 'recovery_code'],
      ['pwd', 'recovery_code'],
    ]);
    const failed = await h.auditEvents(
      (e) => e.action === 'mfa.failed' && e.target?.id === userId,
      3,
    );
    expect(failed.every((e) => e.outcome === 'failure' && e.actor.id === userId)).toBe(true);

    // Disabling takes a valid code; then logins give tokens straight away.
    expect(
      await h.failure(MfaRpc.disableTotp, { tenantId: tenant.id, userId, code: '123456' }, actor),
    ).toMatchObject({ reason: 'MFA_CODE_INVALID' });
    await expect(
      h.call(MfaRpc.disableTotp, { tenantId: tenant.id, userId, code: recoveryCodes[0]! }, actor),
    ).resolves.toEqual({ disabled: true });
    await expect(login(email, password)).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('counts wrong codes toward the lockout', async () => {
    const tenant = h.addTenant('mfa-lockout');
    await h.get(AuthSettingsService).update(tenant.id, { lockoutThreshold: 3 });
    const { userId } = await h.activeUser(tenant.id, 'guessed@mfa.test', 'guessed users password');
    const { secret } = await h.call(MfaRpc.enrolTotp, { tenantId: tenant.id, userId });
    await h.call(MfaRpc.confirmTotp, { tenantId: tenant.id, userId, code: await codeFor(secret) });
    const challenge = challengeOf(await login('guessed@mfa.test', 'guessed users password'));
    for (const code of ['111111', '222222', '333333']) {
      await expect(verify(challenge.challengeToken, code)).rejects.toMatchObject({
        reason: 'MFA_CODE_INVALID',
      });
    }
    await expect(verify(challenge.challengeToken, await codeFor(secret, 1))).rejects.toMatchObject({
      reason: 'ACCOUNT_LOCKED',
    });
    await expect(login('guessed@mfa.test', 'guessed users password')).rejects.toMatchObject({
      reason: 'ACCOUNT_LOCKED',
    });
  });

  it('makes every login of a tenant that requires MFA a challenge, enrolling users who have none', async () => {
    const tenant = h.addTenant('mfa-required');
    const { userId } = await h.activeUser(tenant.id, 'plain@required.test', 'plain users password');
    await h.get(AuthSettingsService).update(tenant.id, { mfaRequired: true });

    const challenge = challengeOf(await login('plain@required.test', 'plain users password'));
    expect(challenge).toMatchObject({ enrolmentRequired: true, methods: ['totp', 'webauthn'] });
    expect(
      await h.failure(AuthRpc.verifyMfa, {
        challengeToken: challenge.challengeToken,
        code: '123456',
        client: client(),
      }),
    ).toMatchObject({ code: ErrorCode.Conflict, reason: 'MFA_NOT_ENROLLED' });
    const enrolment = await h.call(MfaChallengeEnrolRpc, {
      challengeToken: challenge.challengeToken,
    });
    const tokens = await verify(challenge.challengeToken, await codeFor(enrolment.secret));
    expect(decodeJwt(tokens.accessToken)).toMatchObject({ sub: userId, amr: ['pwd', 'otp'] });
    expect(tokens.recoveryCodes).toHaveLength(10);
    expect(await h.call(UserRpc.get, { tenantId: tenant.id, userId })).toMatchObject({
      mfaEnabled: true,
    });
    const next = challengeOf(await login('plain@required.test', 'plain users password'));
    expect(next).toMatchObject({ enrolmentRequired: false, methods: ['totp', 'recovery_code'] });
    expect(
      await h.failure(MfaChallengeEnrolRpc, { challengeToken: next.challengeToken }),
    ).toMatchObject({ reason: 'MFA_ALREADY_ENABLED' });
    await expect(verify(next.challengeToken, tokens.recoveryCodes![0]!)).resolves.toMatchObject({
      tokenType: 'Bearer',
    });

    // An invitation sets the password, but tokens come only with a second factor: the answer
    // is the challenge that enrols one.
    const invited = await h.call(UserRpc.create, {
      tenantId: tenant.id,
      email: 'new@required.test',
      displayName: 'New',
    });
    const token = tokenOf(await h.nextMail('new@required.test', 0));
    const accepted = await h.call(AuthRpc.acceptInvitation, {
      token,
      password: 'the new users password',
      client: client(),
    });
    expect(accepted).toMatchObject({ mfaRequired: true, enrolmentRequired: true });
    expect(accepted).not.toHaveProperty('accessToken');
    expect(await h.call(UserRpc.get, { tenantId: tenant.id, userId: invited.id })).toMatchObject({
      status: 'active',
    });
    expect(challengeOf(await login('new@required.test', 'the new users password'))).toMatchObject({
      enrolmentRequired: true,
    });
  });
});

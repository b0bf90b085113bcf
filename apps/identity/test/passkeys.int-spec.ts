import { AuthRpc, ErrorCode, MfaRpc, PasskeyRpc, UserRpc } from '@tenantry/contracts';
import { SoftPasskey } from '@tenantry/testing';
import { decodeJwt } from 'jose';
import { AuthSettingsService } from '../src/auth-settings/auth-settings.service.js';
import { generate } from 'otplib';
import { challengeOf, client, IdentityHarness } from './identity.harness.js';

/** The harness's TENANTRY_APP_URL: the passkeys' relying party and the origin of their ceremonies. */
const ORIGIN = 'https://app.tenantry.test';
const RP_ID = 'app.tenantry.test';

interface CreationOptions {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  excludeCredentials?: { id: string }[];
}
interface RequestOptions {
  challenge: string;
  rpId?: string;
  allowCredentials?: { id: string }[];
}

/** Passkeys as a second factor against real PostgreSQL, Redis and NATS, with a software authenticator. */
describe('passkeys (WebAuthn)', () => {
  let h: IdentityHarness;

  beforeAll(async () => {
    h = await IdentityHarness.start();
  });

  afterAll(async () => {
    await h?.close();
  });

  const login = (email: string, password: string) =>
    h.call(AuthRpc.login, { email, password, client: client() });

  /** Registers `passkey` for the user through the options and the answer, as a browser would. */
  async function register(tenantId: string, userId: string, passkey: SoftPasskey, name?: string) {
    const actor = `user:${userId}`;
    const options = (await h.call(
      PasskeyRpc.registrationOptions,
      { tenantId, userId },
      actor,
    )) as unknown as CreationOptions;
    return h.call(
      PasskeyRpc.add,
      { tenantId, userId, ...(name ? { name } : {}), credential: passkey.register(options) },
      actor,
    );
  }

  /** Signs in with the password, then answers the challenge with `passkey`. */
  async function signInWith(email: string, password: string, passkey: SoftPasskey) {
    const challenge = challengeOf(await login(email, password));
    const options = (await h.call(AuthRpc.passkeyOptions, {
      challengeToken: challenge.challengeToken,
      client: client(),
    })) as unknown as RequestOptions;
    return h.call(AuthRpc.verifyMfa, {
      challengeToken: challenge.challengeToken,
      passkey: passkey.authenticate(options),
      client: client(),
    });
  }

  it('registers a passkey (MFA on, recovery codes once), then completes sign-ins with it', async () => {
    const tenant = h.addTenant('passkeys');
    const email = 'holder@passkeys.test';
    const password = 'passkey holders password';
    const { userId } = await h.activeUser(tenant.id, email, password);
    const actor = `user:${userId}`;
    const passkey = new SoftPasskey(ORIGIN);

    const options = (await h.call(
      PasskeyRpc.registrationOptions,
      { tenantId: tenant.id, userId },
      actor,
    )) as unknown as CreationOptions;
    expect(options).toMatchObject({
      rp: { id: RP_ID, name: 'Tenantry' },
      user: { name: email, id: Buffer.from(userId.replace(/-/g, ''), 'hex').toString('base64url') },
      excludeCredentials: [],
      attestation: 'none',
    });
    const answer = passkey.register(options);
    const added = await h.call(
      PasskeyRpc.add,
      { tenantId: tenant.id, userId, name: 'Laptop', credential: answer },
      actor,
    );
    expect(added).toEqual({
      id: expect.any(String),
      name: 'Laptop',
      createdAt: expect.any(String),
      lastUsedAt: null,
      recoveryCodes: expect.arrayContaining([expect.stringMatching(/^[A-Za-z0-9_-]{43}$/)]),
    });
    expect(added.recoveryCodes).toHaveLength(10);
    expect(await h.call(UserRpc.get, { tenantId: tenant.id, userId })).toMatchObject({
      mfaEnabled: true,
    });
    // The options were taken by that answer: the same answer again finds none.
    expect(
      await h.failure(PasskeyRpc.add, { tenantId: tenant.id, userId, credential: answer }, actor),
    ).toMatchObject({ code: ErrorCode.Conflict, reason: 'PASSKEY_OPTIONS_MISSING' });
    // New options exclude it, and registering it again is refused.
    const again = (await h.call(
      PasskeyRpc.registrationOptions,
      { tenantId: tenant.id, userId },
      actor,
    )) as unknown as CreationOptions;
    expect(again.excludeCredentials?.map((c) => c.id)).toEqual([passkey.id]);
    expect(
      await h.failure(
        PasskeyRpc.add,
        { tenantId: tenant.id, userId, credential: passkey.register(again) },
        actor,
      ),
    ).toMatchObject({ code: ErrorCode.Conflict, reason: 'PASSKEY_EXISTS' });

    // A login is now a challenge that a passkey answers.
    const challenge = challengeOf(await login(email, password));
    expect(challenge).toMatchObject({
      enrolmentRequired: false,
      methods: ['recovery_code', 'webauthn'],
    });
    const request = (await h.call(AuthRpc.passkeyOptions, {
      challengeToken: challenge.challengeToken,
      client: client(),
    })) as unknown as RequestOptions;
    expect(request).toMatchObject({ rpId: RP_ID, allowCredentials: [{ id: passkey.id }] });
    const tokens = await h.call(AuthRpc.verifyMfa, {
      challengeToken: challenge.challengeToken,
      passkey: passkey.authenticate(request),
      client: client(),
    });
    expect(decodeJwt(tokens.accessToken)).toMatchObject({ sub: userId, amr: ['pwd', 'pop'] });
    const [listed] = (await h.call(PasskeyRpc.list, { tenantId: tenant.id, userId }, actor))
      .passkeys;
    expect(listed).toMatchObject({ id: added.id, name: 'Laptop', lastUsedAt: expect.any(String) });
    // A recovery code still works in its place.
    const recovered = challengeOf(await login(email, password));
    const byCode = await h.call(AuthRpc.verifyMfa, {
      challengeToken: recovered.challengeToken,
      code: added.recoveryCodes![0]!,
      client: client(),
    });
    expect(decodeJwt(byCode.accessToken).amr).toEqual(['pwd', 'recovery_code']);

    const enrolled = await h.auditEvents(
      (e) => e.action === 'mfa.enrolled' && e.target?.id === userId,
    );
    expect(enrolled[0]).toMatchObject({
      actor: { type: 'user', id: userId },
      data: { method: 'passkey', passkeyId: added.id, name: 'Laptop', recoveryCodes: 10 },
    });
    const verified = await h.auditEvents(
      (e) => e.action === 'mfa.verified' && e.target?.id === userId,
    );
    expect(verified[0]!.data?.amr).toEqual(['pwd', 'pop']);
  });

  it('refuses answers from another origin or relying party, replays, a cloned authenticator, and a second use of one set of options', async () => {
    const tenant = h.addTenant('passkey-attacks');
    const email = 'target@attacks.test';
    const password = 'the targets password';
    const { userId } = await h.activeUser(tenant.id, email, password);
    const actor = `user:${userId}`;
    const passkey = new SoftPasskey(ORIGIN);

    // Registration: a phishing page's origin, or another relying party, is refused.
    for (const place of [
      { origin: 'https://app.tenantry.test.evil.example' },
      { rpId: 'evil.example' },
    ]) {
      const options = (await h.call(
        PasskeyRpc.registrationOptions,
        { tenantId: tenant.id, userId },
        actor,
      )) as unknown as CreationOptions;
      expect(
        await h.failure(
          PasskeyRpc.add,
          { tenantId: tenant.id, userId, credential: passkey.register(options, place) },
          actor,
        ),
      ).toMatchObject({
        code: ErrorCode.ValidationFailed,
        reason: 'PASSKEY_INVALID',
        errors: [
          {
            field: 'credential',
            message: expect.stringMatching(/^the passkey's registration could not be verified: /),
          },
        ],
      });
    }
    await register(tenant.id, userId, passkey);

    const ask = async () => {
      const challenge = challengeOf(await login(email, password));
      const options = (await h.call(AuthRpc.passkeyOptions, {
        challengeToken: challenge.challengeToken,
        client: client(),
      })) as unknown as RequestOptions;
      return { challengeToken: challenge.challengeToken, options };
    };
    const refused = async (challengeToken: string, assertion: unknown) =>
      expect(
        await h.failure(AuthRpc.verifyMfa, {
          challengeToken,
          passkey: assertion as ReturnType<SoftPasskey['authenticate']>,
          client: client(),
        }),
      ).toMatchObject({ code: ErrorCode.Unauthenticated, reason: 'MFA_CODE_INVALID' });

    // Sign-in from a phishing page's origin, or for another relying party.
    for (const place of [{ origin: 'https://evil.example' }, { rpId: 'evil.example' }]) {
      const { challengeToken, options } = await ask();
      await refused(challengeToken, passkey.authenticate(options, place));
      // The options were spent by that answer: a right answer to them is refused too.
      await refused(challengeToken, passkey.authenticate(options));
    }
    // A replay: an answer that worked, sent again with a new challenge's token.
    const first = await ask();
    const used = passkey.authenticate(first.options);
    await expect(
      h.call(AuthRpc.verifyMfa, {
        challengeToken: first.challengeToken,
        passkey: used,
        client: client(),
      }),
    ).resolves.toMatchObject({ tokenType: 'Bearer' });
    const second = await ask();
    await refused(second.challengeToken, used);
    // A clone of the authenticator, its counter behind the original's.
    const third = await ask();
    passkey.counter -= 2;
    await refused(third.challengeToken, passkey.authenticate(third.options));
    passkey.counter += 5;
    await expect(signInWith(email, password, passkey)).resolves.toMatchObject({
      tokenType: 'Bearer',
    });
    // Another user's passkey does not answer this user's challenge.
    const other = await h.activeUser(tenant.id, 'other@attacks.test', 'the others password');
    const theirs = new SoftPasskey(ORIGIN);
    await register(tenant.id, other.userId, theirs);
    const fourth = await ask();
    await refused(fourth.challengeToken, theirs.authenticate({ ...fourth.options }));

    const failed = await h.auditEvents(
      (e) =>
        e.action === 'mfa.failed' && e.target?.id === userId && e.data?.failure === 'wrong_passkey',
      7,
    );
    expect(failed).toHaveLength(7);
  });

  it('keeps MFA on while a passkey or TOTP remains, and turns it off with the last', async () => {
    const tenant = h.addTenant('passkey-removal');
    const email = 'tidy@removal.test';
    const password = 'the tidy users password';
    const { userId } = await h.activeUser(tenant.id, email, password);
    const actor = `user:${userId}`;
    const one = new SoftPasskey(ORIGIN);
    const two = new SoftPasskey(ORIGIN);
    const first = await register(tenant.id, userId, one, 'One');
    const second = await register(tenant.id, userId, two, 'Two');
    expect(second.recoveryCodes).toBeUndefined(); // MFA was on already

    // TOTP beside the passkeys; turning it off leaves the passkeys (and MFA) on.
    const enrolment = await h.call(MfaRpc.enrolTotp, { tenantId: tenant.id, userId }, actor);
    const code = () => generate({ secret: enrolment.secret });
    await h.call(MfaRpc.confirmTotp, { tenantId: tenant.id, userId, code: await code() }, actor);
    expect(challengeOf(await login(email, password)).methods).toEqual([
      'totp',
      'recovery_code',
      'webauthn',
    ]);
    const step = Math.floor(Date.now() / 30_000);
    const nextCode = await generate({ secret: enrolment.secret, epoch: (step + 1) * 30 });
    await h.call(MfaRpc.disableTotp, { tenantId: tenant.id, userId, code: nextCode }, actor);
    expect(challengeOf(await login(email, password)).methods).toEqual([
      'recovery_code',
      'webauthn',
    ]);

    expect(
      await h.failure(
        PasskeyRpc.remove,
        { tenantId: tenant.id, userId, passkeyId: '00000000-0000-4000-8000-000000000000' },
        actor,
      ),
    ).toMatchObject({ code: ErrorCode.NotFound, reason: 'PASSKEY_NOT_FOUND' });
    await h.call(PasskeyRpc.remove, { tenantId: tenant.id, userId, passkeyId: first.id }, actor);
    expect(await h.call(UserRpc.get, { tenantId: tenant.id, userId })).toMatchObject({
      mfaEnabled: true,
    });
    // The removed passkey no longer answers; the other does.
    const challenge = challengeOf(await login(email, password));
    const options = (await h.call(AuthRpc.passkeyOptions, {
      challengeToken: challenge.challengeToken,
      client: client(),
    })) as unknown as RequestOptions;
    expect(options.allowCredentials?.map((c) => c.id)).toEqual([two.id]);
    expect(
      await h.failure(AuthRpc.verifyMfa, {
        challengeToken: challenge.challengeToken,
        passkey: one.authenticate(options),
        client: client(),
      }),
    ).toMatchObject({ reason: 'MFA_CODE_INVALID' });

    await h.call(PasskeyRpc.remove, { tenantId: tenant.id, userId, passkeyId: second.id }, actor);
    expect(await h.call(UserRpc.get, { tenantId: tenant.id, userId })).toMatchObject({
      mfaEnabled: false,
    });
    expect(await login(email, password)).toMatchObject({ tokenType: 'Bearer' });
    const removed = await h.auditEvents(
      (e) => e.action === 'mfa.removed' && e.target?.id === userId,
      2,
    );
    expect(removed.map((e) => e.data?.mfaEnabled)).toEqual([true, false]);
  });

  it('signs in with a passkey alone when it verified its user, and refuses replays, unverified users, other origins, unknown or removed passkeys; failures lock like passwords', async () => {
    const tenant = h.addTenant('passwordless');
    const { userId } = await h.activeUser(
      tenant.id,
      'nopass@passwordless.test',
      'never typed here',
    );
    const passkey = new SoftPasskey(ORIGIN);
    const added = await register(tenant.id, userId, passkey);
    const options = async () =>
      (await h.call(AuthRpc.passkeyLoginOptions, {
        client: client(),
      })) as unknown as RequestOptions & {
        userVerification: string;
      };
    const refused = async (assertion: ReturnType<SoftPasskey['authenticate']>) =>
      expect(
        await h.failure(AuthRpc.passkeyLogin, { passkey: assertion, client: client() }),
      ).toMatchObject({ code: ErrorCode.Unauthenticated, reason: 'INVALID_CREDENTIALS' });

    const first = await options();
    expect(first).toMatchObject({ rpId: RP_ID, userVerification: 'required' });
    expect(first.allowCredentials ?? []).toEqual([]); // the browser offers what it holds
    const answer = passkey.authenticate(first);
    const tokens = await h.call(AuthRpc.passkeyLogin, { passkey: answer, client: client() });
    expect(decodeJwt(tokens.accessToken)).toMatchObject({
      sub: userId,
      tid: tenant.id,
      amr: ['pop', 'mfa'],
    });
    await refused(answer); // its challenge was answered already
    await refused(passkey.authenticate(await options(), { userVerified: false }));
    await refused(passkey.authenticate(await options(), { origin: 'https://evil.example' }));
    await refused(new SoftPasskey(ORIGIN).authenticate(await options())); // a passkey never registered
    await expect(
      h.call(AuthRpc.passkeyLogin, {
        passkey: passkey.authenticate(await options()),
        client: client(),
      }),
    ).resolves.toMatchObject({ tokenType: 'Bearer' });

    const byPasskey = await h.auditEvents(
      (e) =>
        e.action === 'login.succeeded' &&
        e.target?.id === userId &&
        JSON.stringify(e.data?.amr) === '["pop","mfa"]',
      2,
    );
    expect(byPasskey.map((e) => e.actor)).toEqual([
      { type: 'user', id: userId },
      { type: 'user', id: userId },
    ]);
    const failed = await h.auditEvents(
      (e) => e.action === 'login.failed' && e.target?.id === userId,
      2,
    );
    expect(failed.map((e) => e.data?.failure)).toEqual(['wrong_passkey', 'wrong_passkey']);
    const platformFailures = await h.auditEvents(
      (e) => e.action === 'login.failed' && e.data?.method === 'passkey' && !e.target,
      2,
    );
    expect(platformFailures.map((e) => [e.data?.failure, e.actor.type])).toEqual([
      ['challenge_invalid', 'system'],
      ['unknown_passkey', 'system'],
    ]);

    // Wrong answers count toward the lockout, as wrong passwords do.
    await h.get(AuthSettingsService).update(tenant.id, { lockoutThreshold: 3 });
    for (let i = 0; i < 3; i++)
      await refused(passkey.authenticate(await options(), { userVerified: false }));
    expect(
      await h.failure(AuthRpc.passkeyLogin, {
        passkey: passkey.authenticate(await options()),
        client: client(),
      }),
    ).toMatchObject({ reason: 'ACCOUNT_LOCKED' });

    // A removed passkey signs in no more.
    await h.call(
      PasskeyRpc.remove,
      { tenantId: tenant.id, userId, passkeyId: added.id },
      `user:${userId}`,
    );
    await refused(passkey.authenticate(await options()));
  });

  it('throttles passkey options per IP, apart from the sign-in attempts of that IP', async () => {
    const tenant = h.addTenant('passkey-throttle');
    const { userId } = await h.activeUser(tenant.id, 'busy@throttle.test', 'busy users password');
    const passkey = new SoftPasskey(ORIGIN);
    await register(tenant.id, userId, passkey);
    const ip = client();
    const options = () => h.call(AuthRpc.passkeyLoginOptions, { client: ip });
    let last = await options();
    for (let i = 1; i < 30; i++) last = await options();
    expect(await h.failure(AuthRpc.passkeyLoginOptions, { client: ip })).toMatchObject({
      code: ErrorCode.RateLimited,
      reason: 'AUTH_RATE_LIMITED',
    });
    // The IP's sign-ins are still its own: the last options still sign in.
    await expect(
      h.call(AuthRpc.passkeyLogin, {
        passkey: passkey.authenticate(last as unknown as RequestOptions),
        client: ip,
      }),
    ).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('enrols a passkey during the challenge of a tenant that requires MFA, and completes the sign-in with it', async () => {
    const tenant = h.addTenant('passkey-required');
    const email = 'first@required-passkey.test';
    const password = 'first users password';
    const { userId } = await h.activeUser(tenant.id, email, password);
    await h.get(AuthSettingsService).update(tenant.id, { mfaRequired: true });
    const passkey = new SoftPasskey(ORIGIN);

    const challenge = challengeOf(await login(email, password));
    expect(challenge).toMatchObject({ enrolmentRequired: true, methods: ['totp', 'webauthn'] });
    const options = (await h.call(AuthRpc.passkeyEnrolOptions, {
      challengeToken: challenge.challengeToken,
      client: client(),
    })) as unknown as CreationOptions;
    expect(options).toMatchObject({ rp: { id: RP_ID }, user: { name: email } });
    const signedIn = await h.call(AuthRpc.enrolPasskey, {
      challengeToken: challenge.challengeToken,
      name: 'Phone',
      credential: passkey.register(options),
      client: client(),
    });
    expect(decodeJwt(signedIn.accessToken)).toMatchObject({ sub: userId, amr: ['pwd', 'pop'] });
    expect(signedIn.recoveryCodes).toHaveLength(10);
    // The challenge is spent; the next sign-in is answered with the passkey.
    expect(
      await h.failure(AuthRpc.passkeyEnrolOptions, {
        challengeToken: challenge.challengeToken,
        client: client(),
      }),
    ).toMatchObject({ reason: 'MFA_CHALLENGE_INVALID' });
    const next = challengeOf(await login(email, password));
    expect(next).toMatchObject({
      enrolmentRequired: false,
      methods: ['recovery_code', 'webauthn'],
    });
    expect(
      await h.failure(AuthRpc.passkeyEnrolOptions, {
        challengeToken: next.challengeToken,
        client: client(),
      }),
    ).toMatchObject({ code: ErrorCode.Conflict, reason: 'MFA_ALREADY_ENABLED' });
    await expect(signInWith(email, password, passkey)).resolves.toMatchObject({
      tokenType: 'Bearer',
    });
  });

  it('refuses a passkey sign-in while the tenant is suspended or requires SSO, as it refuses passwords', async () => {
    const tenant = h.addTenant('passkey-barred');
    const { userId } = await h.activeUser(tenant.id, 'kept@barred.test', 'kept users password');
    const passkey = new SoftPasskey(ORIGIN);
    await register(tenant.id, userId, passkey);
    // The refusal a sign-in gets (or 'signed in'), once the tenant's new state reached identity
    // (tenant events come over NATS).
    const refusal = async (reason: string) => {
      for (let i = 0; i < 50; i++) {
        const options = await h.call(AuthRpc.passkeyLoginOptions, { client: client() });
        const outcome = await h
          .call(AuthRpc.passkeyLogin, {
            passkey: passkey.authenticate(options as unknown as RequestOptions),
            client: client(),
          })
          .then(
            () => ({ code: 'signed in', reason: 'signed in' }),
            (error: { code: string; reason?: string }) => error,
          );
        if (outcome.reason === reason) return outcome;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`no ${reason} within 5 s`);
    };

    await h.setTenantStatus(tenant.id, 'suspended', 'unpaid');
    expect(await refusal('TENANT_SUSPENDED')).toMatchObject({ code: ErrorCode.Forbidden });
    await h.setTenantStatus(tenant.id, 'active');
    await refusal('signed in');
    await h.get(AuthSettingsService).update(tenant.id, { ssoRequired: true });
    expect(await refusal('AUTH_SSO_REQUIRED')).toMatchObject({ code: ErrorCode.Forbidden });
    for (const reason of ['tenant_suspended', 'sso_required'])
      await h.auditEvents(
        (e) => e.action === 'login.refused' && e.target?.id === userId && e.data?.reason === reason,
      );
  });
});

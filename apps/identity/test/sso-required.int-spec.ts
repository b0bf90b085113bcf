import {
  AuthRpc,
  AuthSettingsRpc,
  ErrorCode,
  PLATFORM_TENANT_ID,
  type Tenant,
} from '@tenantry/contracts';
import { client, IdentityHarness } from './identity.harness.js';

const ADMIN_EMAIL = 'root@sso-operators.test';
const ADMIN_PASSWORD = 'the operators own passphrase 1';
const OPERATOR = 'operator:01a00000-0000-7000-8000-000000000001';

/** A tenant whose users must sign in through SSO: password sign-in refused, after the password check. */
describe('ssoRequired', () => {
  let h: IdentityHarness;
  let tenant: Tenant;
  let userId: string;

  const login = (email: string, password: string, tenantSlug?: string) =>
    h.call(AuthRpc.login, {
      email,
      password,
      client: client(),
      ...(tenantSlug ? { tenant: tenantSlug } : {}),
    });
  const loginFails = (email: string, password: string) =>
    h.failure(AuthRpc.login, { email, password, client: client() });

  beforeAll(async () => {
    h = await IdentityHarness.start({
      env: { TENANTRY_ADMIN_EMAIL: ADMIN_EMAIL, TENANTRY_ADMIN_PASSWORD: ADMIN_PASSWORD },
    });
    tenant = h.addTenant('sso-only');
    ({ userId } = await h.activeUser(tenant.id, 'ann@sso-only.test', 'anns own password 1'));
    await expect(login('ann@sso-only.test', 'anns own password 1')).resolves.toMatchObject({
      tokenType: 'Bearer',
    });
    await expect(
      h.call(AuthSettingsRpc.update, { tenantId: tenant.id, ssoRequired: true }, OPERATOR),
    ).resolves.toMatchObject({ tenantId: tenant.id, ssoRequired: true, redirectOrigins: [] });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('refuses the right password with AUTH_SSO_REQUIRED, audited as login.refused', async () => {
    const refused = await loginFails('ann@sso-only.test', 'anns own password 1');
    expect(refused.toBody()).toEqual({
      code: ErrorCode.Forbidden,
      reason: 'AUTH_SSO_REQUIRED',
      message:
        "this account's tenant requires single sign-on; use POST /v1/auth/sso/discover with your email to find where to sign in",
    });
    const [event] = await h.auditEvents(
      (e) => e.action === 'login.refused' && e.target?.id === userId,
    );
    expect(event).toMatchObject({
      tenantId: tenant.id,
      category: 'auth',
      outcome: 'failure',
      actor: { type: 'user', id: userId },
      data: { reason: 'sso_required', userAgent: 'identity-int-spec' },
    });
  });

  it('answers a wrong password with the usual INVALID_CREDENTIALS, like an unknown email', async () => {
    for (const [email, password] of [
      ['ann@sso-only.test', 'not anns password'],
      ['nobody@sso-only.test', 'anns own password 1'],
    ])
      expect((await loginFails(email!, password!)).toBody()).toEqual({
        code: ErrorCode.Unauthenticated,
        reason: 'INVALID_CREDENTIALS',
        message: 'email or password is wrong',
      });
  });

  it('does not count refused right passwords toward the lockout', async () => {
    for (let i = 0; i < 7; i++)
      await expect(login('ann@sso-only.test', 'anns own password 1')).rejects.toMatchObject({
        reason: 'AUTH_SSO_REQUIRED',
      });
  });

  it('still lets an invited user set a password (the invitation), but not sign in with it', async () => {
    const { tokens } = await h.activeUser(tenant.id, 'bob@sso-only.test', 'bobs own password 1');
    expect(tokens.tokenType).toBe('Bearer');
    await expect(
      login('bob@sso-only.test', 'bobs own password 1', 'sso-only'),
    ).rejects.toMatchObject({ code: ErrorCode.Forbidden, reason: 'AUTH_SSO_REQUIRED' });
  });

  it('lets the users sign in with their password again once it is turned off', async () => {
    const other = h.addTenant('sso-later');
    await h.activeUser(other.id, 'cat@sso-later.test', 'cats own password 1');
    await h.call(AuthSettingsRpc.update, { tenantId: other.id, ssoRequired: true }, OPERATOR);
    await expect(login('cat@sso-later.test', 'cats own password 1')).rejects.toMatchObject({
      reason: 'AUTH_SSO_REQUIRED',
    });
    await h.call(AuthSettingsRpc.update, { tenantId: other.id, ssoRequired: false }, OPERATOR);
    await expect(login('cat@sso-later.test', 'cats own password 1')).resolves.toMatchObject({
      tokenType: 'Bearer',
    });
  });

  it('keeps password sign-in for operators: the platform can never require SSO', async () => {
    const refused = await h.failure(
      AuthSettingsRpc.update,
      { tenantId: PLATFORM_TENANT_ID, ssoRequired: true },
      OPERATOR,
    );
    expect(refused).toMatchObject({
      code: ErrorCode.ValidationFailed,
      reason: 'AUTH_SETTINGS_PLATFORM_SSO_REQUIRED',
      errors: [{ field: 'ssoRequired' }],
    });
    await expect(
      h.call(AuthSettingsRpc.get, { tenantId: PLATFORM_TENANT_ID }),
    ).resolves.toMatchObject({ ssoRequired: false });
    await expect(login(ADMIN_EMAIL, ADMIN_PASSWORD)).resolves.toMatchObject({
      tokenType: 'Bearer',
    });
  });

  it('stores redirect origins normalized, and refuses bad ones naming redirectOrigins.<i>', async () => {
    await expect(
      h.call(
        AuthSettingsRpc.update,
        {
          tenantId: tenant.id,
          redirectOrigins: ['https://App.SSO-only.test/', 'http://localhost:5173'],
        },
        OPERATOR,
      ),
    ).resolves.toMatchObject({
      ssoRequired: true,
      redirectOrigins: ['https://app.sso-only.test', 'http://localhost:5173'],
    });
    const bad = await h.failure(AuthSettingsRpc.update, {
      tenantId: tenant.id,
      redirectOrigins: ['https://ok.sso-only.test', 'http://app.sso-only.test'],
    });
    expect(bad).toMatchObject({
      code: ErrorCode.ValidationFailed,
      errors: [{ field: 'redirectOrigins.1' }],
    });
  });
});

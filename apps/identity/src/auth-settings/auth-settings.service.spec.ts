import {
  AuthSettingsRpc,
  ContractValidationError,
  DEFAULT_AUTH_SETTINGS,
  ErrorCode,
  parseContract,
  PLATFORM_TENANT_ID,
  UpdateAuthSettingsBodySchema,
} from '@tenantry/contracts';
import { Outbox, TenantTransactions } from '@tenantry/persistence';
import { double } from '@tenantry/testing';
import { EntityManager } from 'typeorm';
import { AuthSettingsRepository, type StoredAuthSettings } from './auth-settings.repository.js';
import { AuthSettingsService, effectiveSettings } from './auth-settings.service.js';

const TENANT = '0193a0f0-0000-7000-8000-00000000000a';

/** The field errors of a body the contract refuses. */
function fieldErrors(body: unknown) {
  try {
    parseContract(UpdateAuthSettingsBodySchema, body);
  } catch (error) {
    if (error instanceof ContractValidationError) return error.errors ?? [];
    throw error;
  }
  throw new Error(`${JSON.stringify(body)} was accepted`);
}

const parse = (body: unknown) => parseContract(UpdateAuthSettingsBodySchema, body);

describe('auth settings: ssoRequired and redirectOrigins', () => {
  it('defaults to password sign-in allowed and no redirect origins', () => {
    expect(DEFAULT_AUTH_SETTINGS).toMatchObject({ ssoRequired: false, redirectOrigins: [] });
    expect(effectiveSettings(TENANT, null)).toMatchObject({
      tenantId: TENANT,
      ssoRequired: false,
      redirectOrigins: [],
    });
    expect(effectiveSettings(TENANT, { ssoRequired: true })).toMatchObject({ ssoRequired: true });
  });

  it('never requires SSO of the platform, whatever is stored', () => {
    expect(effectiveSettings(PLATFORM_TENANT_ID, { ssoRequired: true }).ssoRequired).toBe(false);
  });

  it('takes ssoRequired as a boolean only', () => {
    expect(parse({ ssoRequired: true })).toEqual({ ssoRequired: true });
    expect(fieldErrors({ ssoRequired: 'yes' })).toEqual([
      { field: 'ssoRequired', message: 'must be true or false' },
    ]);
  });

  it('normalizes origins (case, default port, trailing slash) and keeps each once', () => {
    expect(
      parse({
        redirectOrigins: [
          'https://App.Example.com',
          'https://app.example.com:443/',
          'https://app.example.com:8443',
          'http://localhost:3000',
          'http://127.0.0.1:8080/',
          'http://[::1]:5173',
          'https://bücher.example',
        ],
      }).redirectOrigins,
    ).toEqual([
      'https://app.example.com',
      'https://app.example.com:8443',
      'http://localhost:3000',
      'http://127.0.0.1:8080',
      'http://[::1]:5173',
      'https://xn--bcher-kva.example',
    ]);
    expect(parse({ redirectOrigins: [] })).toEqual({ redirectOrigins: [] });
  });

  it('refuses anything but an origin, naming redirectOrigins.<i>', () => {
    const errors = fieldErrors({
      redirectOrigins: [
        'https://ok.example.com',
        'http://app.example.com',
        'https://app.example.com/callback',
        'https://app.example.com/?next=1',
        'https://app.example.com#top',
        'https://user:pw@app.example.com',
        'ftp://files.example.com',
        'app.example.com',
        'javascript:alert(1)',
        42,
      ],
    });
    expect(errors.map((e) => e.field)).toEqual([
      'redirectOrigins.1',
      'redirectOrigins.2',
      'redirectOrigins.3',
      'redirectOrigins.4',
      'redirectOrigins.5',
      'redirectOrigins.6',
      'redirectOrigins.7',
      'redirectOrigins.8',
      'redirectOrigins.9',
    ]);
    expect(errors[0]!.message).toContain('must use https://');
    expect(errors[1]!.message).toContain('without a path, query or fragment');
    expect(errors[4]!.message).toContain('must not contain a user name or password');
    expect(errors[5]!.message).toContain('must be an https:// origin');
  });

  it('takes at most 20 origins', () => {
    const origins = Array.from({ length: 21 }, (_, i) => `https://app${i}.example.com`);
    expect(fieldErrors({ redirectOrigins: origins })).toEqual([
      { field: 'redirectOrigins', message: 'must list at most 20 origins' },
    ]);
    expect(parse({ redirectOrigins: origins.slice(0, 20) }).redirectOrigins).toHaveLength(20);
  });

  it('gives the RPC request the same fields (what the gateway sends is parsed again)', () => {
    const request = parseContract(AuthSettingsRpc.update.request, {
      tenantId: TENANT,
      ssoRequired: true,
      redirectOrigins: ['https://APP.example.com/'],
    });
    expect(request).toEqual({
      tenantId: TENANT,
      ssoRequired: true,
      redirectOrigins: ['https://app.example.com'],
    });
    expect(parseContract(AuthSettingsRpc.update.request, request)).toEqual(request);
  });
});

describe('AuthSettingsService.update', () => {
  function setup() {
    const stored = new Map<string, StoredAuthSettings>();
    /** What went into the outbox: the audit events' payloads. */
    const audits: { action: string; data: Record<string, unknown> }[] = [];
    const manager = double(EntityManager, {
      query: (async (sql: string, values?: unknown[]) => {
        expect(sql).toContain('INSERT INTO outbox');
        audits.push(JSON.parse(values![2] as string));
        return [];
      }) as EntityManager['query'],
    });
    const service = new AuthSettingsService(
      double(AuthSettingsRepository, {
        merge: async (_manager, tenantId, change) => {
          stored.set(tenantId, { ...stored.get(tenantId), ...change });
          return stored.get(tenantId)!;
        },
      }),
      double(TenantTransactions, { run: async (_tenantId, work) => work(manager) }),
      double(Outbox, { kick: () => undefined }),
    );
    return { service, stored, audits };
  }

  it("changes a tenant's ssoRequired and redirectOrigins", async () => {
    const { service, stored, audits } = setup();
    await expect(
      service.update(TENANT, { ssoRequired: true, redirectOrigins: ['https://app.example.com'] }),
    ).resolves.toMatchObject({
      tenantId: TENANT,
      ssoRequired: true,
      redirectOrigins: ['https://app.example.com'],
      mfaRequired: false,
    });
    expect(stored.get(TENANT)).toEqual({
      ssoRequired: true,
      redirectOrigins: ['https://app.example.com'],
    });
    expect(audits).toEqual([
      expect.objectContaining({
        action: 'auth-settings.updated',
        data: { changed: { ssoRequired: true, redirectOrigins: ['https://app.example.com'] } },
      }),
    ]);
  });

  it('refuses ssoRequired for the platform, naming the field, and stores nothing', async () => {
    const { service, stored, audits } = setup();
    await expect(
      service.update(PLATFORM_TENANT_ID, { ssoRequired: true, mfaRequired: true }),
    ).rejects.toMatchObject({
      code: ErrorCode.ValidationFailed,
      reason: 'AUTH_SETTINGS_PLATFORM_SSO_REQUIRED',
      errors: [{ field: 'ssoRequired' }],
    });
    expect(stored.size).toBe(0);
    expect(audits).toEqual([]);
    await expect(
      service.update(PLATFORM_TENANT_ID, {
        ssoRequired: false,
        redirectOrigins: ['https://console.example.com'],
      }),
    ).resolves.toMatchObject({
      ssoRequired: false,
      redirectOrigins: ['https://console.example.com'],
    });
  });
});

import { ErrorCode, type AuditEvent } from '@tenantry/contracts';
import { messageContext, newContext } from '@tenantry/messaging';
import { Outbox, type OutboxMessage } from '@tenantry/persistence';
import { double } from '@tenantry/testing';
import { DnsResolver } from './dns-resolver.js';
import { DomainEntity } from './domain.entity.js';
import { DomainRepository } from './domain.repository.js';
import { DomainService } from './domain.service.js';

const TENANT = '0193a0f0-0000-7000-8000-00000000000a';
const OTHER_TENANT = '0193a0f0-0000-7000-8000-00000000000b';

/**
 * A DomainService over in-memory domains and verified_domains tables, kept the way the
 * repository keeps them, and a DNS whose TXT records the test sets.
 */
function setup() {
  const rows: DomainEntity[] = [];
  const verified = new Map<string, { tenantId: string; domainId: string }>();
  const committed: OutboxMessage[] = [];
  const txt = new Map<string, string[]>();
  const copy = (row: DomainEntity) => Object.assign(new DomainEntity(), row);
  const find = (tenantId: string, id: string) =>
    rows.find((r) => r.tenantId === tenantId && r.id === id);
  const repository = double(DomainRepository, {
    insert: async (domain, events) => {
      if (rows.some((r) => r.tenantId === domain.tenantId && r.domain === domain.domain))
        return false;
      rows.push(copy(domain));
      committed.push(...events);
      return true;
    },
    findById: async (tenantId, id) => {
      const row = find(tenantId, id);
      return row ? copy(row) : null;
    },
    findByName: async (tenantId, domain) => {
      const row = rows.find((r) => r.tenantId === tenantId && r.domain === domain);
      return row ? copy(row) : null;
    },
    verify: async (tenantId, id, at, announce) => {
      const row = find(tenantId, id);
      if (!row) return null;
      if (row.verifiedAt) return { outcome: 'verified', domain: copy(row), verifiedNow: false };
      if (verified.has(row.domain)) return { outcome: 'elsewhere' };
      verified.set(row.domain, { tenantId, domainId: id });
      row.verifiedAt = at;
      committed.push(...announce(copy(row)));
      return { outcome: 'verified', domain: copy(row), verifiedNow: true };
    },
    delete: async (tenantId, id, announce) => {
      const row = find(tenantId, id);
      if (!row) return null;
      rows.splice(rows.indexOf(row), 1);
      if (verified.get(row.domain)?.domainId === id) verified.delete(row.domain);
      committed.push(...announce(copy(row)));
      return copy(row);
    },
    list: async (tenantId, limit, before) =>
      rows
        .filter((r) => r.tenantId === tenantId && (!before || r.id < before))
        .sort((a, b) => (a.id < b.id ? 1 : -1))
        .slice(0, limit)
        .map(copy),
    verifiedTenantOf: async (domain) => verified.get(domain)?.tenantId ?? null,
  });
  const service = new DomainService(
    repository,
    double(DnsResolver, { txt: async (name) => txt.get(name) ?? [] }),
    double(Outbox, { kick: () => undefined }),
  );
  const audits = (action: string) =>
    committed.map((m) => m.payload as AuditEvent).filter((e) => e.action === action);
  return { service, rows, verified, txt, audits };
}

describe('DomainService.create', () => {
  it('stores a pending claim under its normalized name with a fresh TXT record to publish, audited', async () => {
    const { service, rows, audits } = setup();
    const created = await messageContext.run(newContext({ actor: 'user:u-1' }), () =>
      service.create({ tenantId: TENANT, domain: ' Bücher.Example ' }),
    );
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7/),
      tenantId: TENANT,
      domain: 'xn--bcher-kva.example',
      status: 'pending',
      verification: {
        type: 'TXT',
        name: '_tenantry-verification.xn--bcher-kva.example',
        value: expect.stringMatching(/^tenantry-domain-verification=[A-Za-z0-9_-]{32}$/),
      },
      verifiedAt: null,
      createdAt: expect.any(String),
    });
    expect(rows).toHaveLength(1);
    const other = await service.create({ tenantId: TENANT, domain: 'other.example' });
    expect(other.verification.value).not.toBe(created.verification.value);
    expect(audits('domain.created')[0]).toMatchObject({
      tenantId: TENANT,
      category: 'domains',
      actor: { type: 'user', id: 'u-1' },
      target: { type: 'domain', id: created.id },
      data: { domain: 'xn--bcher-kva.example' },
    });
  });

  it('refuses a public email provider (DOMAIN_FREE_MAIL) and stores nothing', async () => {
    const { service, rows } = setup();
    for (const domain of ['gmail.com', 'GMX.de', 'mail.yahoo.co.jp'])
      await expect(service.create({ tenantId: TENANT, domain })).rejects.toMatchObject({
        code: ErrorCode.ValidationFailed,
        reason: 'DOMAIN_FREE_MAIL',
        errors: [{ field: 'domain' }],
      });
    expect(rows).toHaveLength(0);
  });

  it('refuses a domain the tenant claimed already, naming the claim; another tenant may claim it too', async () => {
    const { service } = setup();
    const first = await service.create({ tenantId: TENANT, domain: 'acme.example' });
    const error = await service
      .create({ tenantId: TENANT, domain: 'ACME.example' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.Conflict, reason: 'DOMAIN_ALREADY_CLAIMED' });
    expect((error as Error).message).toContain(first.id);
    await expect(
      service.create({ tenantId: OTHER_TENANT, domain: 'acme.example' }),
    ).resolves.toMatchObject({ status: 'pending' });
  });
});

describe('DomainService.verify', () => {
  it('says which record it expected and what it found, then verifies once the record is there', async () => {
    const { service, txt, audits, verified } = setup();
    const claim = await service.create({ tenantId: TENANT, domain: 'acme.example' });
    const ref = { tenantId: TENANT, domainId: claim.id };
    const missing = await service.verify(ref).catch((e: unknown) => e);
    expect(missing).toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'DOMAIN_VERIFICATION_FAILED',
    });
    expect((missing as Error).message).toContain(
      `the TXT record _tenantry-verification.acme.example must have the value "${claim.verification.value}", but DNS has no TXT record at that name`,
    );
    txt.set(claim.verification.name, ['tenantry-domain-verification=wrong', 'v=spf1 -all']);
    const wrong = await service.verify(ref).catch((e: unknown) => e);
    expect((wrong as Error).message).toContain(
      'DNS answered only "tenantry-domain-verification=wrong", "v=spf1 -all"',
    );
    txt.set(claim.verification.name, ['v=spf1 -all', claim.verification.value]);
    const done = await service.verify(ref);
    expect(done).toMatchObject({ status: 'verified', verifiedAt: expect.any(String) });
    expect(verified.get('acme.example')).toEqual({ tenantId: TENANT, domainId: claim.id });
    expect(audits('domain.verified')).toEqual([
      expect.objectContaining({
        target: { type: 'domain', id: claim.id },
        data: { domain: 'acme.example', record: '_tenantry-verification.acme.example' },
      }),
    ]);
    // Verified already: answered as it is, nothing audited again.
    txt.delete(claim.verification.name);
    await expect(service.verify(ref)).resolves.toEqual(done);
    expect(audits('domain.verified')).toHaveLength(1);
  });

  it('lets only one tenant hold a domain verified, until it deletes it', async () => {
    const { service, txt, audits } = setup();
    const mine = await service.create({ tenantId: TENANT, domain: 'shared.example' });
    const theirs = await service.create({ tenantId: OTHER_TENANT, domain: 'shared.example' });
    txt.set(mine.verification.name, [mine.verification.value, theirs.verification.value]);
    await service.verify({ tenantId: TENANT, domainId: mine.id });
    await expect(
      service.verify({ tenantId: OTHER_TENANT, domainId: theirs.id }),
    ).rejects.toMatchObject({ code: ErrorCode.Conflict, reason: 'DOMAIN_VERIFIED_ELSEWHERE' });
    await expect(service.verifiedTenantOf('Shared.Example')).resolves.toBe(TENANT);
    await expect(service.isVerified(OTHER_TENANT, 'shared.example')).resolves.toBe(false);

    await expect(service.delete({ tenantId: TENANT, domainId: mine.id })).resolves.toEqual({
      deleted: true,
    });
    expect(audits('domain.deleted')[0]).toMatchObject({
      data: { domain: 'shared.example', wasVerified: true },
    });
    await expect(service.verifiedTenantOf('shared.example')).resolves.toBeNull();
    await expect(
      service.verify({ tenantId: OTHER_TENANT, domainId: theirs.id }),
    ).resolves.toMatchObject({ status: 'verified' });
    await expect(service.isVerified(OTHER_TENANT, 'shared.example')).resolves.toBe(true);
  });

  it("answers another tenant's domain, or none, as not found", async () => {
    const { service } = setup();
    const claim = await service.create({ tenantId: TENANT, domain: 'acme.example' });
    for (const call of [
      () => service.get({ tenantId: OTHER_TENANT, domainId: claim.id }),
      () => service.verify({ tenantId: OTHER_TENANT, domainId: claim.id }),
      () => service.delete({ tenantId: OTHER_TENANT, domainId: claim.id }),
    ])
      await expect(call()).rejects.toMatchObject({
        code: ErrorCode.NotFound,
        reason: 'DOMAIN_NOT_FOUND',
      });
  });
});

describe('DomainService.verifiedTenantOf', () => {
  it('is null for a name that is no domain', async () => {
    const { service } = setup();
    await expect(service.verifiedTenantOf('not a domain')).resolves.toBeNull();
    await expect(service.verifiedTenantOf('')).resolves.toBeNull();
  });
});

describe('DomainService.list', () => {
  it("pages through the tenant's domains, newest first", async () => {
    const { service } = setup();
    const names = ['a.example', 'b.example', 'c.example', 'd.example', 'e.example'];
    for (const domain of names) await service.create({ tenantId: TENANT, domain });
    await service.create({ tenantId: OTHER_TENANT, domain: 'other.example' });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await service.list({ tenantId: TENANT, limit: 2, cursor });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((d) => d.domain));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...names].reverse());
  });
});

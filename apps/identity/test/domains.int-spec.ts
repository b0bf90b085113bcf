import {
  DomainRpc,
  ErrorCode,
  type AuditEvent,
  type Domain,
  type Tenant,
} from '@tenantry/contracts';
import { TenantTransactions } from '@tenantry/persistence';
import { startDnsServer, type TestDnsServer } from '@tenantry/testing';
import { DomainService } from '../src/domains/domain.service.js';
import { IdentityHarness } from './identity.harness.js';

/** An operator acting on a tenant, as the gateway would send it. */
const OPERATOR = 'operator:01a00000-0000-7000-8000-000000000001';

/** A domain no other test uses, under a test-only top-level domain. */
let counter = 0;
const freshDomain = (label: string) => `${label}-${process.pid}-${++counter}.example`;

/**
 * Verified domains against real PostgreSQL (the app role, under row-level security),
 * NATS and Redis, asking a real DNS server (dns2 on 127.0.0.1) through DNS_SERVERS.
 */
describe('domains', () => {
  let dns: TestDnsServer;
  let h: IdentityHarness;
  let acme: Tenant;
  let globex: Tenant;

  const claim = (tenant: Tenant, domain: string) =>
    h.call(DomainRpc.create, { tenantId: tenant.id, domain }, OPERATOR);
  const verify = (domain: Domain) =>
    h.call(DomainRpc.verify, { tenantId: domain.tenantId, domainId: domain.id }, OPERATOR);
  const verifyFails = (domain: Domain) =>
    h.failure(DomainRpc.verify, { tenantId: domain.tenantId, domainId: domain.id }, OPERATOR);
  const audits = (domainId: string, action: string) =>
    h.auditEvents((e: AuditEvent) => e.action === action && e.target?.id === domainId);

  beforeAll(async () => {
    dns = await startDnsServer();
    h = await IdentityHarness.start({ env: { DNS_SERVERS: dns.address } });
    acme = h.addTenant('acme');
    globex = h.addTenant('globex');
  });

  afterAll(async () => {
    await h?.close();
    await dns?.close();
  });

  it('claims a domain, refuses to verify it while the record is missing, verifies it once published', async () => {
    const name = freshDomain('Claimed');
    const claimed = await claim(acme, name.toUpperCase());
    expect(claimed).toMatchObject({
      tenantId: acme.id,
      domain: name.toLowerCase(),
      status: 'pending',
      verifiedAt: null,
      verification: {
        type: 'TXT',
        name: `_tenantry-verification.${name.toLowerCase()}`,
        value: expect.stringMatching(/^tenantry-domain-verification=[A-Za-z0-9_-]{32}$/),
      },
    });

    const missing = await verifyFails(claimed);
    expect(missing).toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'DOMAIN_VERIFICATION_FAILED',
    });
    expect(missing.message).toContain(
      `the TXT record ${claimed.verification.name} must have the value "${claimed.verification.value}", but DNS has no TXT record at that name`,
    );
    expect(dns.questions).toContain(`TXT ${claimed.verification.name}`);
    await expect(h.get(DomainService).isVerified(acme.id, claimed.domain)).resolves.toBe(false);

    dns.setTxt(claimed.verification.name, ['v=spf1 -all', claimed.verification.value]);
    const verified = await verify(claimed);
    expect(verified).toMatchObject({ id: claimed.id, status: 'verified' });
    expect(Date.parse(verified.verifiedAt!)).toBeGreaterThanOrEqual(Date.parse(claimed.createdAt));
    await expect(
      h.call(DomainRpc.get, { tenantId: acme.id, domainId: claimed.id }),
    ).resolves.toEqual(verified);

    const domains = h.get(DomainService);
    await expect(domains.verifiedTenantOf(claimed.domain)).resolves.toBe(acme.id);
    await expect(domains.verifiedTenantOf(` ${name.toUpperCase()} `)).resolves.toBe(acme.id);
    await expect(domains.verifiedTenantOf(`sub.${claimed.domain}`)).resolves.toBeNull();
    await expect(domains.isVerified(acme.id, claimed.domain)).resolves.toBe(true);
    await expect(domains.isVerified(globex.id, claimed.domain)).resolves.toBe(false);

    const [created] = await audits(claimed.id, 'domain.created');
    expect(created).toMatchObject({
      tenantId: acme.id,
      category: 'domains',
      actor: { type: 'operator' },
      data: { domain: claimed.domain, crossTenant: true },
    });
    const [verifiedAudit] = await audits(claimed.id, 'domain.verified');
    expect(verifiedAudit!.data).toMatchObject({ record: claimed.verification.name });
  });

  it('refuses a record with another token, saying what it found', async () => {
    const claimed = await claim(acme, freshDomain('wrong-token'));
    dns.setTxt(claimed.verification.name, ['tenantry-domain-verification=not-the-token']);
    const wrong = await verifyFails(claimed);
    expect(wrong).toMatchObject({ code: ErrorCode.Conflict, reason: 'DOMAIN_VERIFICATION_FAILED' });
    expect(wrong.message).toContain(claimed.verification.value);
    expect(wrong.message).toContain(
      'DNS answered only "tenantry-domain-verification=not-the-token"',
    );
    await expect(
      h.call(DomainRpc.get, { tenantId: acme.id, domainId: claimed.id }),
    ).resolves.toMatchObject({ status: 'pending', verifiedAt: null });
  });

  it('accepts a record split into several strings', async () => {
    const claimed = await claim(acme, freshDomain('split'));
    const value = claimed.verification.value;
    dns.setTxt(claimed.verification.name, [
      [value.slice(0, 10), value.slice(10, 30), value.slice(30)],
    ]);
    await expect(verify(claimed)).resolves.toMatchObject({ status: 'verified' });
  });

  it('says DNS could not be asked on SERVFAIL and on no answer at all, and leaves the claim pending', async () => {
    const claimed = await claim(acme, freshDomain('broken-dns'));
    dns.fail(claimed.verification.name, 'SERVFAIL');
    const servfail = await verifyFails(claimed);
    expect(servfail).toMatchObject({
      code: ErrorCode.ServiceUnavailable,
      reason: 'DOMAIN_DNS_UNAVAILABLE',
      retryAfterSeconds: 30,
    });
    expect(servfail.message).toContain(
      `DNS could not be asked for the TXT record ${claimed.verification.name} (ESERVFAIL)`,
    );
    dns.fail(claimed.verification.name, 'TIMEOUT');
    const timeout = await verifyFails(claimed);
    expect(timeout).toMatchObject({
      code: ErrorCode.ServiceUnavailable,
      reason: 'DOMAIN_DNS_UNAVAILABLE',
    });
    expect(timeout.message).toContain('(ETIMEOUT)');
    dns.setTxt(claimed.verification.name, [claimed.verification.value]);
    await expect(verify(claimed)).resolves.toMatchObject({ status: 'verified' });
  });

  it('never lets a tenant claim a public email provider, or a name that is no domain', async () => {
    for (const domain of ['gmail.com', 'Outlook.com', 'yahoo.co.uk', 'gmx.net']) {
      const error = await h.failure(DomainRpc.create, { tenantId: acme.id, domain });
      expect(error).toMatchObject({
        code: ErrorCode.ValidationFailed,
        reason: 'DOMAIN_FREE_MAIL',
        errors: [{ field: 'domain' }],
      });
    }
    for (const domain of ['*.acme.example', 'acme.example.', '10.1.2.3', 'https://acme.example']) {
      const error = await h.failure(DomainRpc.create, { tenantId: acme.id, domain });
      expect(error).toMatchObject({ reason: 'DOMAIN_INVALID', errors: [{ field: 'domain' }] });
    }
    const [{ count }] = await h.db.query(
      `SELECT count(*)::int AS count FROM domains WHERE domain IN ('gmail.com', 'outlook.com', 'yahoo.co.uk', 'gmx.net')`,
    );
    expect(count).toBe(0);
  });

  it('lets both tenants claim a domain, one hold it verified, and the other verify it once it is deleted', async () => {
    const name = freshDomain('contested');
    const first = await claim(acme, name);
    const second = await claim(globex, name);
    // Both records published: only the DNS proof of the right tenant counts, and only one may hold it.
    dns.setTxt(first.verification.name, [first.verification.value, second.verification.value]);
    await expect(verify(first)).resolves.toMatchObject({ status: 'verified' });
    const elsewhere = await verifyFails(second);
    expect(elsewhere).toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'DOMAIN_VERIFIED_ELSEWHERE',
    });
    expect(elsewhere.message).toContain(`${name} is already verified by another tenant`);
    await expect(h.get(DomainService).verifiedTenantOf(name)).resolves.toBe(acme.id);

    await expect(
      h.call(DomainRpc.delete, { tenantId: acme.id, domainId: first.id }, OPERATOR),
    ).resolves.toEqual({ deleted: true });
    await expect(h.get(DomainService).verifiedTenantOf(name)).resolves.toBeNull();
    const [deleted] = await audits(first.id, 'domain.deleted');
    expect(deleted!.data).toMatchObject({ domain: name, wasVerified: true });
    await expect(
      h.failure(DomainRpc.get, { tenantId: acme.id, domainId: first.id }),
    ).resolves.toMatchObject({ code: ErrorCode.NotFound, reason: 'DOMAIN_NOT_FOUND' });

    await expect(verify(second)).resolves.toMatchObject({ status: 'verified' });
    await expect(h.get(DomainService).verifiedTenantOf(name)).resolves.toBe(globex.id);
    const rows = await h.db.query(
      `SELECT tenant_id, domain_id FROM verified_domains WHERE domain = $1`,
      [name],
    );
    expect(rows).toEqual([{ tenant_id: globex.id, domain_id: second.id }]);
  });

  it("keeps each tenant's domains to itself (row-level security)", async () => {
    const initech = h.addTenant('initech');
    const hidden = await claim(initech, freshDomain('hidden'));
    const other = h.addTenant('other');
    for (const contract of [DomainRpc.get, DomainRpc.verify, DomainRpc.delete]) {
      const error = await h.failure(contract, { tenantId: other.id, domainId: hidden.id });
      expect(error).toMatchObject({ code: ErrorCode.NotFound, reason: 'DOMAIN_NOT_FOUND' });
    }
    await expect(h.call(DomainRpc.list, { tenantId: other.id, limit: 50 })).resolves.toEqual({
      items: [],
      nextCursor: null,
    });
    await expect(
      h.call(DomainRpc.list, { tenantId: initech.id, limit: 50 }),
    ).resolves.toMatchObject({ items: [{ id: hidden.id }], nextCursor: null });

    // As the app role: the other tenant, and no tenant at all, see none of its rows.
    const tx = h.get(TenantTransactions);
    const seen = (rows: { id: string }[]) => rows.map((r) => r.id);
    expect(seen(await tx.run(other.id, (m) => m.query(`SELECT id FROM domains`)))).toEqual([]);
    expect(seen(await tx.runGlobal((m) => m.query(`SELECT id FROM domains`)))).toEqual([]);
    expect(seen(await tx.run(initech.id, (m) => m.query(`SELECT id FROM domains`)))).toEqual([
      hidden.id,
    ]);
    const [table] = await h.db.query(
      `SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = 'domains'`,
    );
    expect(table).toEqual({ relrowsecurity: true, relforcerowsecurity: true });
    const [{ comment }] = await h.db.query(
      `SELECT obj_description('verified_domains'::regclass, 'pg_class') AS comment`,
    );
    expect(comment).toMatch(/^platform-level: \S/);
  });

  it("pages through a tenant's domains, newest first", async () => {
    const tenant = h.addTenant('many');
    const names = Array.from({ length: 5 }, (_, i) => freshDomain(`page${i}`));
    for (const name of names) await claim(tenant, name);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await h.call(DomainRpc.list, { tenantId: tenant.id, limit: 2, cursor });
      seen.push(...page.items.map((d) => d.domain));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...names].reverse());
    const forged = await h.failure(DomainRpc.list, {
      tenantId: tenant.id,
      limit: 2,
      cursor: 'bm9wZQ',
    });
    expect(forged).toMatchObject({
      code: ErrorCode.ValidationFailed,
      errors: [{ field: 'cursor' }],
    });
  });

  it('refuses a second claim of the same domain by the same tenant', async () => {
    const name = freshDomain('twice');
    const first = await claim(acme, name);
    const again = await h.failure(DomainRpc.create, {
      tenantId: acme.id,
      domain: name.toUpperCase(),
    });
    expect(again).toMatchObject({ code: ErrorCode.Conflict, reason: 'DOMAIN_ALREADY_CLAIMED' });
    expect(again.message).toContain(first.id);
  });
});

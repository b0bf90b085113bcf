import { ErrorCode } from '@tenantry/contracts';
import { startDnsServer, type TestDnsServer } from '@tenantry/testing';
import { DnsResolver, joinTxtRecords } from './dns-resolver.js';

const settings = (dnsServers: string[]) => ({ dnsServers });

describe('joinTxtRecords', () => {
  it('joins the strings of each record, and keeps records apart', () => {
    expect(joinTxtRecords([['tenantry-domain-verification=', 'abc'], ['v=spf1 -all']])).toEqual([
      'tenantry-domain-verification=abc',
      'v=spf1 -all',
    ]);
    expect(joinTxtRecords([])).toEqual([]);
  });
});

/** DnsResolver against a real DNS server (dns2, in this process, on 127.0.0.1). */
describe('DnsResolver', () => {
  let dns: TestDnsServer;
  let resolver: DnsResolver;

  beforeAll(async () => {
    dns = await startDnsServer();
    resolver = new DnsResolver(settings([dns.address]));
  });

  afterAll(async () => {
    await dns?.close();
  });

  it('answers every TXT record of the name, split ones joined', async () => {
    const long = 'x'.repeat(300);
    dns.setTxt('_check.example.com', [
      'v=spf1 -all',
      ['tenantry-domain-verification=', 'abc'],
      [long.slice(0, 255), long.slice(255)],
    ]);
    const values = await resolver.txt('_check.example.com');
    expect(values.sort()).toEqual(['v=spf1 -all', 'tenantry-domain-verification=abc', long].sort());
    expect(dns.questions).toContain('TXT _check.example.com');
  });

  it('answers [] for a name that does not exist (NXDOMAIN) or has no TXT record (NODATA)', async () => {
    await expect(resolver.txt('_nobody.example.com')).resolves.toEqual([]);
    dns.setTxt('_empty.example.com', []);
    await expect(resolver.txt('_empty.example.com')).resolves.toEqual([]);
  });

  it.each(['SERVFAIL', 'REFUSED'] as const)(
    'says DNS could not be asked when the server answers %s',
    async (rcode) => {
      dns.fail('_broken.example.com', rcode);
      const error = await resolver.txt('_broken.example.com').catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: ErrorCode.ServiceUnavailable,
        reason: 'DOMAIN_DNS_UNAVAILABLE',
        retryAfterSeconds: 30,
      });
      expect((error as Error).message).toContain(
        'DNS could not be asked for the TXT record _broken.example.com',
      );
    },
  );

  it('says DNS could not be asked when nothing listens', async () => {
    const closed = await startDnsServer();
    const address = closed.address;
    await closed.close();
    const error = await new DnsResolver(settings([address]))
      .txt('_x.example.com')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.ServiceUnavailable });
    expect((error as Error).message).toMatch(/\((ECONNREFUSED|ETIMEOUT)\)/);
  });
});

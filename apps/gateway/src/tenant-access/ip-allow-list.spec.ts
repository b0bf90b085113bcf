import { IpAllowList, normalizeIp } from './ip-allow-list.js';

describe('IpAllowList', () => {
  it('allows the addresses on its IPv4 and IPv6 networks, and no other', () => {
    const list = new IpAllowList(['203.0.113.0/24', '198.51.100.7', '2001:db8::/32']);
    expect(list.size).toBe(3);
    expect(list.invalid).toEqual([]);
    for (const ip of [
      '203.0.113.1',
      '203.0.113.255',
      '198.51.100.7',
      '2001:db8::1',
      '2001:db8:ffff::9',
    ])
      expect({ ip, allowed: list.allows(ip) }).toEqual({ ip, allowed: true });
    for (const ip of ['203.0.114.1', '198.51.100.8', '2001:db9::1', '::1', '127.0.0.1'])
      expect({ ip, allowed: list.allows(ip) }).toEqual({ ip, allowed: false });
  });

  it('takes an IPv4 client on a dual-stack socket (::ffff:a.b.c.d) as the IPv4 address it is', () => {
    const list = new IpAllowList(['10.0.0.0/8']);
    expect(list.allows('::ffff:10.1.2.3')).toBe(true);
    expect(list.allows('::FFFF:11.1.2.3')).toBe(false);
  });

  it('leaves out entries that are not networks, and fails closed when none is left', () => {
    const list = new IpAllowList([
      '10.0.0.0/33',
      'nonsense',
      '::/200',
      '10.0.0.0/x',
      '192.0.2.0/24',
    ]);
    expect(list.invalid).toEqual(['10.0.0.0/33', 'nonsense', '::/200', '10.0.0.0/x']);
    expect(list.size).toBe(1);
    expect(list.allows('192.0.2.9')).toBe(true);
    const broken = new IpAllowList(['300.1.1.1']);
    expect(broken.size).toBe(0);
    expect(broken.allows('300.1.1.1')).toBe(false);
    expect(broken.allows('10.0.0.1')).toBe(false);
  });

  it('allows nothing to a client address that is no IP', () => {
    expect(new IpAllowList(['0.0.0.0/0', '::/0']).allows('')).toBe(false);
    expect(new IpAllowList(['0.0.0.0/0']).allows('localhost')).toBe(false);
    expect(new IpAllowList(['0.0.0.0/0']).allows('8.8.8.8')).toBe(true);
  });
});

describe('normalizeIp', () => {
  it('names the family', () => {
    expect(normalizeIp('127.0.0.1')).toEqual({ address: '127.0.0.1', family: 'ipv4' });
    expect(normalizeIp('::ffff:127.0.0.1')).toEqual({ address: '127.0.0.1', family: 'ipv4' });
    expect(normalizeIp('::1')).toEqual({ address: '::1', family: 'ipv6' });
    expect(normalizeIp('example.com')).toBeUndefined();
  });
});

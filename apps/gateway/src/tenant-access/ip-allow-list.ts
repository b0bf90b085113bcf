import { BlockList, isIP } from 'node:net';

/** `::ffff:203.0.113.7` (an IPv4 client on a dual-stack socket) as the IPv4 address it is. */
const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** The address in the form the allow list is checked with, and its family; undefined when it is no IP. */
export function normalizeIp(ip: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  const mapped = MAPPED_V4.exec(ip);
  const address = mapped ? mapped[1]! : ip;
  const version = isIP(address);
  if (version === 4) return { address, family: 'ipv4' };
  if (version === 6) return { address, family: 'ipv6' };
  return undefined;
}

/**
 * A tenant's `settings.ipAllowList`: IPv4 and IPv6 networks in CIDR notation (a bare address
 * is a /32 or /128), matched with Node's `BlockList`. An entry that does not parse is left out
 * (and named in `invalid`): a list whose entries all fail to parse allows no client at all, so
 * a bad list fails closed rather than open.
 */
export class IpAllowList {
  private readonly list = new BlockList();
  /** The entries that are not networks, as given. */
  readonly invalid: string[] = [];
  readonly size: number;

  constructor(readonly networks: readonly string[]) {
    for (const network of networks) {
      if (!this.add(network)) this.invalid.push(network);
    }
    this.size = networks.length - this.invalid.length;
  }

  /** The client at `ip` is on one of the networks. */
  allows(ip: string): boolean {
    const client = normalizeIp(ip);
    if (!client) return false;
    return this.list.check(client.address, client.family);
  }

  private add(network: string): boolean {
    const slash = network.indexOf('/');
    const base = normalizeIp(slash < 0 ? network : network.slice(0, slash));
    if (!base) return false;
    const max = base.family === 'ipv4' ? 32 : 128;
    const prefixText = slash < 0 ? String(max) : network.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText)) return false;
    const prefix = Number(prefixText);
    if (prefix > max) return false;
    this.list.addSubnet(base.address, prefix, base.family);
    return true;
  }
}

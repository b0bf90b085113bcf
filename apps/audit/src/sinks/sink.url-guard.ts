import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { SinkErrors } from './sink.errors.js';

/**
 * Addresses a sink must not reach (SSRF): loopback, private, link-local (cloud metadata at
 * 169.254.169.254), carrier-grade NAT, benchmarking, documentation, multicast, reserved,
 * unspecified, unique-local and NAT64 ranges. IPv4-mapped IPv6 addresses are checked
 * as their IPv4 address.
 */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  BLOCKED.addSubnet(net, prefix, 'ipv6');

/** True when `address` (an IP literal) is loopback, private or otherwise not public. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The host of a URL as an IP literal would be written (`[::1]` → `::1`), or the name. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Whether `url`'s origin is one of AUDIT_SINK_ALLOW_HTTP (http and private addresses allowed). */
export function isAllowedOrigin(url: URL, allowOrigins: readonly string[]): boolean {
  return allowOrigins.includes(url.origin);
}

function resolveAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );
}

/**
 * Checks a sink URL when it is created or changed: https:// (http:// only for an allowed
 * origin), and a host that resolves, to public addresses only (unless its origin is
 * allowed). Throws SinkErrors naming `url`. Deliveries check the addresses again as they
 * connect (`guardedLookup`), so a name that later resolves elsewhere is still refused.
 */
export async function checkSinkUrl(value: string, allowOrigins: readonly string[]): Promise<void> {
  const url = new URL(value);
  const allowed = isAllowedOrigin(url, allowOrigins);
  if (url.protocol !== 'https:' && !allowed) throw SinkErrors.httpsRequired(value);
  if (allowed) return;
  const host = bareHost(url);
  if (isIP(host)) {
    if (isBlockedAddress(host)) throw SinkErrors.privateAddress(value, host);
    return;
  }
  let addresses: LookupAddress[];
  try {
    addresses = await resolveAll(host);
  } catch (error) {
    throw SinkErrors.unresolvable(value, host, (error as NodeJS.ErrnoException).code ?? 'error');
  }
  const blocked = addresses.find((a) => isBlockedAddress(a.address));
  if (blocked) throw SinkErrors.privateAddress(value, blocked.address);
}

/** A delivery refused because the sink's host is (now) a private or loopback address. */
export class BlockedAddressError extends Error {
  readonly code = 'EBLOCKEDADDRESS';
}

/**
 * A `lookup` for node:http(s) that refuses private and loopback addresses (DNS rebinding:
 * the name is checked as it is resolved for the connection itself).
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '');
    const blocked = addresses.find((a) => isBlockedAddress(a.address));
    if (blocked)
      return callback(
        new BlockedAddressError(
          `${hostname} resolves to ${blocked.address}, a private or loopback address`,
        ),
        '',
      );
    if (options.all) return callback(null, addresses);
    const first = addresses[0]!;
    return callback(null, first.address, first.family);
  });
};

/** An IP literal host that a delivery must not connect to (literals skip `lookup`). */
export function blockedLiteral(url: URL): string | null {
  const host = bareHost(url);
  return isIP(host) && isBlockedAddress(host) ? host : null;
}

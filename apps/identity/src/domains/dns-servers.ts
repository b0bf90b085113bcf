import { isIP } from 'node:net';
import { z } from 'zod';

const DNS_SERVERS_EXPECTED =
  'must be a comma-separated list of DNS servers as IP addresses with an optional port ' +
  '(10.0.0.2, 10.0.0.2:5353, [2001:db8::1]:53), or unset for the system’s';

/**
 * One DNS server as `Resolver.setServers` takes it (`1.2.3.4`, `1.2.3.4:53`, `::1`,
 * `[::1]:53`), or null when `entry` is not an IP address with an optional port (1–65535).
 * Host names are refused: the resolver needs addresses.
 */
export function parseDnsServer(entry: string): string | null {
  const value = entry.trim();
  let host: string;
  let port: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::([0-9]{1,5}))?$/.exec(value);
  const withPort = /^([^:]+):([0-9]{1,5})$/.exec(value);
  if (bracketed) {
    [, host, port] = bracketed as unknown as [string, string, string | undefined];
    if (isIP(host) !== 6) return null;
  } else if (isIP(value)) {
    host = value;
  } else if (withPort) {
    [, host, port] = withPort as unknown as [string, string, string];
    if (isIP(host) !== 4) return null;
  } else return null;
  if (port === undefined) return host;
  const number = Number(port);
  if (number < 1 || number > 65_535) return null;
  return isIP(host) === 6 ? `[${host}]:${number}` : `${host}:${number}`;
}

/**
 * `DNS_SERVERS`: the servers asked for domain verification records, as a list for
 * `Resolver.setServers`; empty (unset or blank) means the system's resolvers.
 */
export const DnsServersSchema = z
  .string()
  .optional()
  .superRefine((value, ctx) => {
    const entries = (value ?? '').split(',').filter((entry) => entry.trim() !== '');
    const bad = entries.find((entry) => parseDnsServer(entry) === null);
    if (bad !== undefined)
      ctx.addIssue({
        code: 'custom',
        message: `${DNS_SERVERS_EXPECTED}; ${JSON.stringify(bad.trim())} is not one`,
      });
  })
  .transform((value) =>
    (value ?? '')
      .split(',')
      .filter((entry) => entry.trim() !== '')
      .map((entry) => parseDnsServer(entry)!),
  );

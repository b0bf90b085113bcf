import { Resolver } from 'node:dns/promises';
import { Injectable } from '@nestjs/common';
import { InjectIdentitySettings, type IdentitySettings } from '../identity.settings.js';
import { DomainErrors } from './domain.errors.js';

/** Per try; two tries per server. */
const TIMEOUT_MS = 3_000;
const TRIES = 2;

/** Answers that mean "there is no such record": the name does not exist, or has no TXT. */
const NO_RECORD = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * One TXT record as DNS carries it (one or more strings of up to 255 bytes each) joined
 * into the value it stands for, as RFC 7208 §3.3 reads long records.
 */
export function joinTxtRecords(records: string[][]): string[] {
  return records.map((strings) => strings.join(''));
}

/**
 * Looks TXT records up on the servers of `DNS_SERVERS` (the system's when unset), with
 * `node:dns/promises` (c-ares, no cache).
 */
@Injectable()
export class DnsResolver {
  private readonly resolver: Resolver;

  constructor(@InjectIdentitySettings() settings: Pick<IdentitySettings, 'dnsServers'>) {
    this.resolver = new Resolver({ timeout: TIMEOUT_MS, tries: TRIES });
    if (settings.dnsServers.length) this.resolver.setServers(settings.dnsServers);
  }

  /**
   * The TXT values at `name`, each record's strings joined; [] when the name does not
   * exist (NXDOMAIN) or has no TXT record (NODATA). Throws SERVICE_UNAVAILABLE
   * (DOMAIN_DNS_UNAVAILABLE) when DNS could not be asked: a timeout, SERVFAIL, a refusal.
   */
  async txt(name: string): Promise<string[]> {
    try {
      return joinTxtRecords(await this.resolver.resolveTxt(name));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
      if (NO_RECORD.has(code)) return [];
      throw DomainErrors.dnsUnavailable(name, code);
    }
  }
}

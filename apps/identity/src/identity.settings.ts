import { Inject } from '@nestjs/common';
import { commaListSetting, SERVICE_CONFIG, type ServiceConfig } from '@tenantry/runtime';
import { z } from 'zod';
import { DnsServersSchema } from './domains/dns-servers.js';
import { HttpIssuerOriginsSchema } from './oidc/http-issuers.js';

const optionalUrl = (what: string) =>
  z
    .string()
    .refine((value) => value === '' || URL.canParse(value), { error: `must be ${what}, or unset` })
    .optional()
    .transform((value) => value || undefined);

/**
 * The identity service's own environment, checked at start-up with the common variables
 * (a bad value stops it with exit code 78 and a line naming the variable).
 */
export const IdentitySettingsSchema = z.object({
  /** The first platform operator, created on an empty database (as Keycloak's bootstrap admin). */
  TENANTRY_ADMIN_EMAIL: z
    .string()
    .regex(/^[^\s@]+@[^\s@]+$/, { error: 'must be an email address, or unset' })
    .optional(),
  TENANTRY_ADMIN_PASSWORD: z
    .string()
    .min(12, { error: 'must be at least 12 characters, or unset' })
    .optional(),
  /** `smtp://user:pass@host:port` or `smtps://…`; unset: mail is written to the log instead. */
  SMTP_URL: optionalUrl('an smtp:// or smtps:// URL').refine(
    (value) => value === undefined || /^smtps?:$/.test(new URL(value).protocol),
    { error: 'must be an smtp:// or smtps:// URL, or unset' },
  ),
  MAIL_FROM: z.string().min(3).default('Tenantry <no-reply@tenantry.local>'),
  /** `iss` of the access tokens: the gateway's public URL. */
  TENANTRY_ISSUER: z
    .string()
    .refine((value) => URL.canParse(value), { error: 'must be a URL (the gateway’s public URL)' })
    .default('http://127.0.0.1:3000'),
  /** Where the links in invitation and reset mails point (a frontend's URL). */
  TENANTRY_APP_URL: z
    .string()
    .refine((value) => URL.canParse(value), { error: 'must be a URL' })
    .default('http://127.0.0.1:3000'),
  /** A new signing key every this many days (the old one stays published until its tokens expired). */
  SIGNING_KEY_ROTATION_DAYS: z.coerce
    .number({ error: 'must be a number of days from 1 to 365' })
    .int({ error: 'must be a number of days from 1 to 365' })
    .min(1, { error: 'must be a number of days from 1 to 365' })
    .max(365, { error: 'must be a number of days from 1 to 365' })
    .default(30),
  /** Login and MFA attempts one IP address may make per minute (raise it behind a shared NAT). */
  LOGIN_ATTEMPTS_PER_IP_PER_MINUTE: z.coerce
    .number({ error: 'must be a whole number from 1 to 1000000' })
    .int({ error: 'must be a whole number from 1 to 1000000' })
    .min(1, { error: 'must be a whole number from 1 to 1000000' })
    .max(1_000_000, { error: 'must be a whole number from 1 to 1000000' })
    .default(30),
  /** DNS servers asked for domain verification records (`ip[:port]`, comma-separated); unset: the system's. */
  DNS_SERVERS: DnsServersSchema,
  /** http:// origins whose OIDC issuers may use plain http (comma-separated); development and tests only. */
  SSO_ALLOW_HTTP_ISSUERS: HttpIssuerOriginsSchema,
  /** Passkeys' relying party: a registrable domain of the frontend's origin; unset: TENANTRY_APP_URL's host. */
  WEBAUTHN_RP_ID: z
    .string()
    .regex(/^$|^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i, {
      error: 'must be a domain name (e.g. example.com, or localhost), or unset',
    })
    .optional()
    .transform((value) => value || undefined),
  /** The name authenticators show for the relying party. */
  WEBAUTHN_RP_NAME: z.string().min(1).max(64).default('Tenantry'),
  /** Origins (comma-separated) where passkey ceremonies may run; unset: TENANTRY_APP_URL's origin. */
  WEBAUTHN_ORIGINS: commaListSetting(
    isOrigin,
    'must be origins such as https://app.example.com, comma-separated, or unset',
  ),
});
export type IdentitySettingsEnv = z.output<typeof IdentitySettingsSchema>;

/** The identity settings, typed: `constructor(@InjectIdentitySettings() settings: IdentitySettings)`. */
export interface IdentitySettings {
  adminEmail?: string;
  adminPassword?: string;
  smtpUrl?: string;
  mailFrom: string;
  issuer: string;
  appUrl: string;
  signingKeyRotationDays: number;
  loginAttemptsPerIpPerMinute: number;
  /** For `Resolver.setServers`; empty: the system's resolvers. */
  dnsServers: string[];
  /** Origins (`http://host:port`) of OIDC issuers allowed to use plain http; empty: https only. */
  allowHttpIssuers: string[];
  /** The relying party of passkeys, and the origins their ceremonies may run on. */
  webAuthn: { rpId: string; rpName: string; origins: string[] };
}

/** `https://host[:port]` (or http), nothing more: what a browser reports as a page's origin. */
function isOrigin(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return /^https?:$/.test(url.protocol) && url.origin === value.replace(/\/$/, '');
}

export const IDENTITY_SETTINGS = Symbol('IDENTITY_SETTINGS');
export const InjectIdentitySettings = () => Inject(IDENTITY_SETTINGS);

export const identitySettingsProvider = {
  provide: IDENTITY_SETTINGS,
  inject: [SERVICE_CONFIG],
  useFactory: (config: ServiceConfig): IdentitySettings => {
    const env = config.settings as IdentitySettingsEnv;
    return {
      adminEmail: env.TENANTRY_ADMIN_EMAIL?.trim().toLowerCase(),
      adminPassword: env.TENANTRY_ADMIN_PASSWORD,
      smtpUrl: env.SMTP_URL,
      mailFrom: env.MAIL_FROM,
      issuer: env.TENANTRY_ISSUER.replace(/\/$/, ''),
      appUrl: env.TENANTRY_APP_URL.replace(/\/$/, ''),
      signingKeyRotationDays: env.SIGNING_KEY_ROTATION_DAYS,
      loginAttemptsPerIpPerMinute: env.LOGIN_ATTEMPTS_PER_IP_PER_MINUTE,
      dnsServers: env.DNS_SERVERS,
      allowHttpIssuers: env.SSO_ALLOW_HTTP_ISSUERS,
      webAuthn: {
        rpId: env.WEBAUTHN_RP_ID?.toLowerCase() ?? new URL(env.TENANTRY_APP_URL).hostname,
        rpName: env.WEBAUTHN_RP_NAME,
        origins: env.WEBAUTHN_ORIGINS.length
          ? env.WEBAUTHN_ORIGINS.map((origin) => new URL(origin).origin)
          : [new URL(env.TENANTRY_APP_URL).origin],
      },
    };
  },
};

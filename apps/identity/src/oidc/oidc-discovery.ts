import { Injectable } from '@nestjs/common';
import {
  allowInsecureRequests,
  ClientError,
  ClientSecretBasic,
  ClientSecretPost,
  discovery,
  enableNonRepudiationChecks,
  type ClientAuth,
  type Configuration,
  type ServerMetadata,
} from 'openid-client';
import { sha256Hex } from '../core/secret-token.js';
import { InjectIdentitySettings, type IdentitySettings } from '../identity.settings.js';
import type { OidcConnectionConfig } from '../sso/sso.types.js';
import { oidcRejected, OidcRejectReason } from './oidc.errors.js';

/** A discovered provider is reused this long (its metadata rarely changes; its keys are refetched on a miss). */
export const OIDC_DISCOVERY_TTL_MS = 10 * 60_000;

/** How long one request to a provider (discovery, token, userinfo, JWKS) may take. */
export const OIDC_PROVIDER_TIMEOUT_SECONDS = 10;

/** The endpoints a sign-in uses; each must be https, or http on an allowed origin. */
const ENDPOINTS = [
  'authorization_endpoint',
  'token_endpoint',
  'userinfo_endpoint',
  'jwks_uri',
] as const;

interface CachedProvider {
  config: Promise<Configuration>;
  expiresAt: number;
}

/**
 * The providers of OIDC connections, discovered from their issuer's
 * `/.well-known/openid-configuration` and kept OIDC_DISCOVERY_TTL_MS per connection, issuer
 * and client (a failed discovery is not kept: the next sign-in tries again). Issuers must be
 * https, unless their origin is in SSO_ALLOW_HTTP_ISSUERS (development and tests).
 */
@Injectable()
export class OidcDiscovery {
  private readonly cache = new Map<string, CachedProvider>();
  private readonly allowHttpOrigins: ReadonlySet<string>;

  constructor(@InjectIdentitySettings() settings: Pick<IdentitySettings, 'allowHttpIssuers'>) {
    this.allowHttpOrigins = new Set(settings.allowHttpIssuers);
  }

  /**
   * The openid-client configuration of the connection's provider: its metadata, the client
   * (authenticated with `client_secret_basic`, or `client_secret_post` when the provider
   * lists only that) and id_token signature checks against its JWKS. Throws `SsoRejected`
   * (`issuer_insecure`, `discovery_failed`, `provider_unavailable`).
   */
  configuration(conn: OidcConnectionConfig): Promise<Configuration> {
    const key = cacheKey(conn);
    const now = Date.now();
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt > now) return cached.config;
    for (const [other, entry] of this.cache) if (entry.expiresAt <= now) this.cache.delete(other);
    const config = this.discover(conn);
    this.cache.set(key, { config, expiresAt: now + OIDC_DISCOVERY_TTL_MS });
    config.catch(() => this.forgetIf(key, config));
    return config;
  }

  /** Drops the connection's provider (after it failed): the next sign-in discovers it anew. */
  forget(conn: OidcConnectionConfig): void {
    this.cache.delete(cacheKey(conn));
  }

  private forgetIf(key: string, config: Promise<Configuration>): void {
    if (this.cache.get(key)?.config === config) this.cache.delete(key);
  }

  private async discover(conn: OidcConnectionConfig): Promise<Configuration> {
    const issuer = URL.canParse(conn.issuer) ? new URL(conn.issuer) : undefined;
    if (!issuer || !/^https?:$/.test(issuer.protocol)) {
      throw oidcRejected(
        OidcRejectReason.DiscoveryFailed,
        `the connection's issuer ${JSON.stringify(conn.issuer)} is not an http(s) URL; correct the connection`,
      );
    }
    const http = issuer.protocol === 'http:';
    if (http && !this.allowHttpOrigins.has(issuer.origin)) {
      throw oidcRejected(
        OidcRejectReason.IssuerInsecure,
        `the issuer ${conn.issuer} uses plain http; OIDC providers must use https (for development and tests only, SSO_ALLOW_HTTP_ISSUERS may list the origin ${issuer.origin})`,
      );
    }
    let config: Configuration;
    try {
      config = await discovery(issuer, conn.clientId, undefined, clientAuthentication(conn), {
        timeout: OIDC_PROVIDER_TIMEOUT_SECONDS,
        execute: http
          ? [allowInsecureRequests, enableNonRepudiationChecks]
          : [enableNonRepudiationChecks],
      });
    } catch (error) {
      throw discoveryFailure(conn, error);
    }
    this.checkEndpoints(conn, config.serverMetadata(), http);
    return config;
  }

  /** Every endpoint a sign-in uses is there, and https unless the issuer's http is allowed. */
  private checkEndpoints(conn: OidcConnectionConfig, metadata: ServerMetadata, http: boolean) {
    for (const name of ENDPOINTS) {
      const value = metadata[name];
      if (value === undefined && (name === 'userinfo_endpoint' || name === 'jwks_uri')) continue;
      const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined;
      if (!url || !/^https?:$/.test(url.protocol)) {
        throw oidcRejected(
          OidcRejectReason.DiscoveryFailed,
          `the discovery document of ${conn.issuer} has no usable ${name} (got ${JSON.stringify(value ?? null)})`,
        );
      }
      if (url.protocol === 'http:' && !(http && this.allowHttpOrigins.has(url.origin))) {
        throw oidcRejected(
          OidcRejectReason.IssuerInsecure,
          `the ${name} of ${conn.issuer} (${value}) uses plain http; OIDC providers must use https`,
        );
      }
    }
    if (metadata.jwks_uri === undefined) {
      throw oidcRejected(
        OidcRejectReason.DiscoveryFailed,
        `the discovery document of ${conn.issuer} has no jwks_uri: id_token signatures could not be checked`,
      );
    }
  }
}

/**
 * `client_secret_basic`, or `client_secret_post` when the provider's metadata lists it and
 * not basic (decided per request, from the metadata discovered).
 */
function clientAuthentication(conn: OidcConnectionConfig): ClientAuth {
  const basic = ClientSecretBasic(conn.clientSecret);
  const post = ClientSecretPost(conn.clientSecret);
  return (as, client, body, headers) =>
    (tokenEndpointAuthMethod(as) === 'client_secret_post' ? post : basic)(
      as,
      client,
      body,
      headers,
    );
}

/** How the client authenticates at the provider's token endpoint. */
export function tokenEndpointAuthMethod(
  metadata: Pick<ServerMetadata, 'token_endpoint_auth_methods_supported'>,
): 'client_secret_basic' | 'client_secret_post' {
  const methods = metadata.token_endpoint_auth_methods_supported;
  return Array.isArray(methods) &&
    !methods.includes('client_secret_basic') &&
    methods.includes('client_secret_post')
    ? 'client_secret_post'
    : 'client_secret_basic';
}

/** Includes a hash of the secret: a connection whose secret changed gets a new client at once. */
function cacheKey(conn: OidcConnectionConfig): string {
  return [conn.id, conn.issuer, conn.clientId, sha256Hex(conn.clientSecret)].join('\n');
}

function discoveryFailure(conn: OidcConnectionConfig, error: unknown): unknown {
  const unavailable = unreachable(conn, error);
  if (unavailable) return unavailable;
  if (error instanceof ClientError) {
    const status = httpStatusOf(error);
    if (status !== undefined) {
      return oidcRejected(
        OidcRejectReason.DiscoveryFailed,
        `the discovery document of ${conn.issuer} could not be read (HTTP ${status}); check the issuer`,
      );
    }
    if (error.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') {
      return oidcRejected(
        OidcRejectReason.DiscoveryFailed,
        `the discovery document of ${conn.issuer} names another issuer; the connection's issuer must be exactly the provider's`,
      );
    }
    return oidcRejected(
      OidcRejectReason.DiscoveryFailed,
      `the discovery document of ${conn.issuer} is unusable: ${detailOf(error)}`,
    );
  }
  return error;
}

/**
 * `provider_unavailable` for a provider that cannot be reached, timed out or answered with a
 * server error; undefined for any other failure.
 */
export function unreachable(conn: OidcConnectionConfig, error: unknown) {
  const status = httpStatusOf(error);
  const down =
    networkFailure(error) ||
    (error instanceof ClientError &&
      (error.code === 'OAUTH_TIMEOUT' || error.code === 'OAUTH_ABORT')) ||
    (status !== undefined && status >= 500);
  if (!down) return undefined;
  return oidcRejected(
    OidcRejectReason.ProviderUnavailable,
    `the identity provider ${conn.issuer} cannot be reached right now (${status !== undefined ? `HTTP ${status}` : detailOf(error)}); try again later`,
  );
}

/**
 * fetch's `TypeError` (connection refused, DNS, reset), also when openid-client wrapped it
 * (it does when the error comes from another realm: "something went wrong").
 */
function networkFailure(error: unknown): boolean {
  if (error instanceof ClientError && error.code === undefined) return networkFailure(error.cause);
  return isObject(error) && error['name'] === 'TypeError' && !('code' in error);
}

/** The HTTP status of an unexpected provider response (openid-client keeps the Response as the cause). */
export function httpStatusOf(error: unknown): number | undefined {
  if (!isObject(error)) return undefined;
  if (typeof error['status'] === 'number') return error['status'];
  const cause = error['cause'];
  return isObject(cause) && typeof cause['status'] === 'number' && 'headers' in cause
    ? cause['status']
    : undefined;
}

/** The most specific words of an openid-client error: its innermost error's, with its code. */
export function detailOf(error: unknown): string {
  let inner = error;
  while (
    isObject(inner) &&
    isObject(inner['cause']) &&
    typeof inner['cause']['message'] === 'string'
  ) {
    inner = inner['cause'];
  }
  if (!isObject(inner) || typeof inner['message'] !== 'string') return String(error);
  const code = inner['code'];
  return typeof code === 'string' && !code.startsWith('OAUTH_') && !inner['message'].includes(code)
    ? `${inner['message']} (${code})`
    : inner['message'];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

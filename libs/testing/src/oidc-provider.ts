import { freePort } from '@tenantry/launcher';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/** An account of the test OpenID Provider: `sub` and the claims it releases. */
export interface TestOidcAccount {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  given_name?: string;
  family_name?: string;
  groups?: string[];
}

export interface TestOidcProviderOptions {
  /** The client's redirect URI (where the OP sends the browser back with `code` and `state`). */
  redirectUri: string;
  accounts: TestOidcAccount[];
  /** Default `tenantry-test`. */
  clientId?: string;
  /** Default: random. */
  clientSecret?: string;
  /**
   * true (default): the id_token carries the granted scopes' claims (email, profile, groups),
   * as most providers do; false: only `sub` is in the id_token, the rest comes from userinfo.
   */
  claimsInIdToken?: boolean;
  /**
   * How the client authenticates at the token endpoint. `client_secret_post` also makes it
   * the only method discovery lists. Default `client_secret_basic`.
   */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  /** The port on 127.0.0.1 (known beforehand, e.g. for SSO_ALLOW_HTTP_ISSUERS); default: a free one. */
  port?: number;
}

/** A real OpenID Provider (`oidc-provider`) on 127.0.0.1 over http, with non-interactive login. */
export interface TestOidcProvider {
  /** `http://127.0.0.1:<port>`: the issuer and its origin (for SSO_ALLOW_HTTP_ISSUERS). */
  issuer: string;
  port: number;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** The account (its `sub`) the next login signs in; each login takes one. */
  nextLogin(sub: string): void;
  /** The next login ends with this error response (default `access_denied`) instead. */
  denyNextLogin(error?: string, description?: string): void;
  /**
   * From now on the JWKS endpoint publishes another key under the signing key's `kid`: the
   * id_tokens' signatures no longer verify (a forged or misconfigured provider).
   */
  publishForeignKey(): void;
  /**
   * Follows a browser through the OP from the authorization URL (carrying its cookies, the
   * login and consent handled as chosen by nextLogin / denyNextLogin) and returns the URL it
   * is finally sent to on the client: the redirect URI with `code`, `state` and `iss` (or
   * `error`).
   */
  followLogin(authorizationUrl: string): Promise<string>;
  /** Every request the OP received, as `METHOD /path` (`POST /token`, `GET /me`, ...). */
  requests: string[];
  close(): Promise<void>;
}

/* The few parts of oidc-provider's API used here (the package ships no type declarations). */
interface InteractionDetails {
  prompt: {
    name: string;
    details: {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
  };
  params: Record<string, unknown>;
  session?: { accountId: string };
  grantId?: string;
}
interface Grant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}
interface Provider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options: { mergeWithLastSubmission: boolean },
  ): Promise<void>;
  Grant: {
    new (init: { accountId: string; clientId: string }): Grant;
    find(id: string): Promise<Grant | undefined>;
  };
  on(event: 'server_error', listener: (ctx: unknown, error: Error) => void): void;
}
type ProviderConstructor = new (issuer: string, configuration: object) => Provider;

/** Loaded by computed names so the build needs no type declarations for the package. */
const OIDC_PROVIDER_PACKAGE = 'oidc-provider';
/** Its in-memory storage, named (a provider without one warns that it uses it). */
const OIDC_PROVIDER_MEMORY_ADAPTER = 'oidc-provider/lib/adapters/memory_adapter.js';

/**
 * Starts a real OpenID Provider with one confidential client (PKCE required, `code` only)
 * and the given accounts. Scopes: `openid`, `email` (email, email_verified), `profile` (name,
 * given_name, family_name, groups) and `groups`. Login and consent are answered by the
 * harness at `/interaction/:uid`: it signs in the account chosen with `nextLogin` and grants
 * whatever the client asked.
 */
export async function startOidcProvider(
  options: TestOidcProviderOptions,
): Promise<TestOidcProvider> {
  const { default: OidcProvider } = (await import(OIDC_PROVIDER_PACKAGE)) as {
    default: ProviderConstructor;
  };
  const { createMemoryAdapter } = (await import(OIDC_PROVIDER_MEMORY_ADAPTER)) as {
    createMemoryAdapter: (clockTolerance: number) => unknown;
  };
  const port = options.port ?? (await freePort());
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = options.clientId ?? 'tenantry-test';
  const clientSecret = options.clientSecret ?? randomBytes(24).toString('base64url');
  const authMethod = options.tokenEndpointAuthMethod ?? 'client_secret_basic';
  const accounts = new Map(options.accounts.map((account) => [account.sub, account]));
  const kid = randomBytes(8).toString('hex');
  const signingKey = { ...rsaKey(), kid, use: 'sig', alg: 'RS256' };
  let foreignJwks: string | undefined;
  const nextLogins: Array<{ sub: string } | { error: string; description: string }> = [];
  const requests: string[] = [];

  const provider = new OidcProvider(issuer, {
    adapter: createMemoryAdapter(15),
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      Grant: 600,
      IdToken: 600,
      Interaction: 600,
      Session: 600,
    },
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: authMethod,
      },
    ],
    clientAuthMethods: [authMethod],
    pkce: { required: () => true },
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'groups'],
      groups: ['groups'],
    },
    conformIdTokenClaims: options.claimsInIdToken === false,
    features: { devInteractions: { enabled: false } },
    interactions: {
      url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
    },
    findAccount: (_ctx: unknown, sub: string) => {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: () => ({ ...account }) };
    },
    renderError: (ctx: { type: string; body: string }, out: Record<string, string>) => {
      ctx.type = 'text/plain';
      ctx.body = `OP error: ${JSON.stringify(out)}`;
    },
  });
  provider.on('server_error', (_ctx, error) =>
    console.error(`test OIDC provider ${issuer}: server error`, error),
  );

  async function interaction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      const next = nextLogins.shift() ?? {
        error: 'access_denied',
        description: 'the test chose no account (call nextLogin first)',
      };
      if ('error' in next) {
        await provider.interactionFinished(
          req,
          res,
          { error: next.error, error_description: next.description },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      if (!accounts.has(next.sub)) throw new Error(`nextLogin: no account ${next.sub}`);
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: next.sub } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    if (details.prompt.name === 'consent') {
      const grant =
        (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
        new provider.Grant({
          accountId: details.session!.accountId,
          clientId: String(details.params['client_id']),
        });
      const missing = details.prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(resource, scopes.join(' '));
      }
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { consent: { grantId } },
        { mergeWithLastSubmission: true },
      );
      return;
    }
    throw new Error(`unexpected prompt ${details.prompt.name}`);
  }

  const handle = provider.callback();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    requests.push(`${req.method} ${path}`);
    if (path === '/jwks' && foreignJwks) {
      res.setHeader('content-type', 'application/jwk-set+json');
      return res.end(foreignJwks);
    }
    if (!path.startsWith('/interaction/')) return handle(req, res);
    interaction(req, res).catch((error: Error) => {
      res.statusCode = 500;
      res.setHeader('content-type', 'text/plain');
      res.end(`test OIDC provider interaction failed: ${error.message}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

  const redirect = new URL(options.redirectUri);
  return {
    issuer,
    port,
    clientId,
    clientSecret,
    redirectUri: options.redirectUri,
    requests,
    nextLogin: (sub) => void nextLogins.push({ sub }),
    denyNextLogin: (error = 'access_denied', description = 'the user cancelled the sign-in') =>
      void nextLogins.push({ error, description }),
    publishForeignKey() {
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicKey } = rsaKey();
      foreignJwks = JSON.stringify({ keys: [{ ...publicKey, kid, use: 'sig', alg: 'RS256' }] });
    },
    async followLogin(authorizationUrl) {
      const cookies = new Map<string, string>();
      let url = authorizationUrl;
      for (let hop = 0; hop < 20; hop++) {
        const target = new URL(url);
        if (target.origin === redirect.origin && target.pathname === redirect.pathname) {
          return url;
        }
        const response = await fetch(url, {
          redirect: 'manual',
          headers: cookies.size
            ? { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') }
            : {},
        });
        keepCookies(cookies, response.headers.getSetCookie());
        const location = response.headers.get('location');
        if (response.status < 300 || response.status > 399 || !location) {
          throw new Error(
            `followLogin: ${url} answered ${response.status} instead of a redirect: ${(await response.text()).slice(0, 500)}`,
          );
        }
        await response.body?.cancel();
        url = new URL(location, url).href;
      }
      throw new Error(`followLogin: more than 20 redirects from ${authorizationUrl}`);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function rsaKey() {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
}

/** A minimal cookie jar: by name (the OP's cookie names are unique), expired ones dropped. */
function keepCookies(jar: Map<string, string>, setCookies: string[]): void {
  for (const line of setCookies) {
    const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const expired = attributes.some((attribute) => {
      const [key = '', val = ''] = attribute.split('=');
      if (key.toLowerCase() === 'max-age') return Number(val) <= 0;
      if (key.toLowerCase() === 'expires') return Date.parse(val) <= Date.now();
      return false;
    });
    if (expired || value === '') jar.delete(name);
    else jar.set(name, value);
  }
}

import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import { strictObject, UuidSchema } from '../common/primitives.js';
import { text } from '../common/text.js';
import { EmailSchema, ClientInfoSchema, TokenSetSchema } from './auth.contract.js';
import { SSO_PROTOCOLS } from './sso-connection.contract.js';

/** `POST /v1/auth/sso/discover`: where a person with this email signs in. */
export const SsoDiscoverBodySchema = strictObject({ email: EmailSchema });
export const SsoDiscoverRequestSchema = strictObject({
  ...SsoDiscoverBodySchema.shape,
  client: ClientInfoSchema,
});

export const SsoDiscoverResultSchema = z.object({
  /** `sso`: the email's domain is verified by a tenant with enabled connections. */
  method: z.enum(['sso', 'password']),
  tenant: z.object({ id: UuidSchema, slug: z.string(), name: z.string() }).nullable(),
  /** The tenant refuses password sign-in for its users. */
  ssoRequired: z.boolean(),
  connections: z.array(
    z.object({
      id: UuidSchema,
      name: z.string(),
      protocol: z.enum(SSO_PROTOCOLS),
      /** GET it (a browser navigation) to sign in; add `returnTo`. */
      loginUrl: z.string(),
    }),
  ),
});
export type SsoDiscoverResult = z.infer<typeof SsoDiscoverResultSchema>;

/** Where to go back to after the sign-in: an URL on the tenant's allowed origins. */
const ReturnToSchema = text({ min: 1, max: 2048 });

/** Starts an SP-initiated sign-in: the URL to send the browser to (the IdP). */
export const SsoStartRequestSchema = strictObject({
  connectionId: UuidSchema,
  returnTo: ReturnToSchema.optional(),
  client: ClientInfoSchema,
});
export const SsoRedirectSchema = z.object({ redirectUrl: z.string() });

/** The SAML response as the browser POSTed it to the ACS. */
export const SamlAcsRequestSchema = strictObject({
  connectionId: UuidSchema,
  samlResponse: text({ min: 1, max: 1024 * 1024 }),
  relayState: text({ min: 0, max: 4096 }).optional(),
  client: ClientInfoSchema,
});

/** The provider's redirect back to Tenantry: its query string parameters as received. */
export const OidcCallbackRequestSchema = strictObject({
  connectionId: UuidSchema,
  query: z.record(z.string(), text({ max: 8192 })),
  client: ClientInfoSchema,
});

/**
 * A completed SSO sign-in: the browser goes to `redirectTo`, which carries a one-time
 * `code` (valid about a minute) that the frontend exchanges for tokens.
 */
export const SsoCompletedSchema = z.object({ redirectTo: z.string(), code: z.string() });

export const SsoTokenBodySchema = strictObject({ code: text({ min: 1, max: 256 }) });
export const SsoTokenRequestSchema = strictObject({
  ...SsoTokenBodySchema.shape,
  client: ClientInfoSchema,
});

export const SsoRpc = {
  discover: defineRpc('identity.sso.discover', SsoDiscoverRequestSchema, SsoDiscoverResultSchema),
  start: defineRpc('identity.sso.start', SsoStartRequestSchema, SsoRedirectSchema),
  samlAcs: defineRpc('identity.sso.saml-acs', SamlAcsRequestSchema, SsoCompletedSchema),
  oidcCallback: defineRpc(
    'identity.sso.oidc-callback',
    OidcCallbackRequestSchema,
    SsoCompletedSchema,
  ),
  token: defineRpc('identity.sso.token', SsoTokenRequestSchema, TokenSetSchema),
};

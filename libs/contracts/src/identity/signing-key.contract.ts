import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import { strictObject } from '../common/primitives.js';

/** A public key as served at /.well-known/jwks.json (RFC 7517; Ed25519 as OKP, RFC 8037). */
export const JwkSchema = z.object({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: z.string(),
  kid: z.string(),
  alg: z.literal('EdDSA'),
  use: z.literal('sig'),
});
export const JwksSchema = z.object({ keys: z.array(JwkSchema) });
export type Jwks = z.infer<typeof JwksSchema>;

export const SigningKeyRpc = {
  jwks: defineRpc('identity.signing-keys.jwks', strictObject({}), JwksSchema),
  /** Signs with a new key from now on; the old one stays in the JWKS until its tokens expired. */
  rotate: defineRpc(
    'identity.signing-keys.rotate',
    strictObject({}),
    z.object({ kid: z.string() }),
  ),
};

/** The access token's audience and type. */
export const ACCESS_TOKEN = { audience: 'tenantry', type: 'at+jwt', algorithm: 'EdDSA' } as const;

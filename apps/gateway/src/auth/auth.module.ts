import { Global, Inject, Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { ApiKeyRpc, SigningKeyRpc, TenantRpc } from '@tenantry/contracts';
import { newContext, RpcClient } from '@tenantry/messaging';
import { READINESS_CHECKS, type ReadinessCheck } from '@tenantry/runtime';
import {
  GATEWAY_SETTINGS,
  gatewaySettingsProvider,
  type GatewaySettings,
} from '../gateway.settings.js';
import { TenantAccessModule } from '../tenant-access/tenant-access.module.js';
import { AccessRegistry } from './access-registry.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import { ApiKeyVerifier } from './api-key.verifier.js';
import { AuthGuard } from './auth.guard.js';
import { Authenticator } from './authenticator.js';
import { IdentityEventsFollower } from './identity-events.follower.js';
import { Revocations } from './revocations.js';
import { SigningKeys } from './signing-keys.js';
import { TenantDirectory } from './tenant-directory.js';
import { VerifiedTokenCache } from './token-cache.js';

/** Adds `jwks` and `revocations` to the gateway's readiness: down until each is loaded. */
class AuthReadiness {
  constructor(
    @Inject(READINESS_CHECKS) checks: ReadinessCheck[],
    @Inject(SigningKeys) keys: SigningKeys,
    @Inject(IdentityEventsFollower) events: IdentityEventsFollower,
  ) {
    checks.push(
      {
        name: 'jwks',
        probe: async () => {
          if (!keys.loaded)
            throw new Error('the signing keys have not been loaded from identity yet');
        },
      },
      {
        name: 'revocations',
        probe: async () => {
          if (!events.caughtUp) throw new Error('still reading the recent revocations');
        },
      },
    );
  }
}

/**
 * Authentication and authorization at the gateway: the global guard, the JWKS, the token
 * and API key caches, the revocations every instance follows, the tenants' access states
 * (suspension, IP allow lists, API call limits), and the start-up check that every route
 * declares who may call it.
 */
@Global()
@Module({
  imports: [DiscoveryModule, TenantAccessModule],
  providers: [
    gatewaySettingsProvider,
    AccessRegistry,
    { provide: Revocations, useFactory: () => new Revocations() },
    { provide: VerifiedTokenCache, useFactory: () => new VerifiedTokenCache() },
    {
      provide: SigningKeys,
      inject: [RpcClient, VerifiedTokenCache],
      useFactory: (rpc: RpcClient, tokens: VerifiedTokenCache) =>
        new SigningKeys({
          // Its own context: a refresh is shared by whichever requests are waiting on it.
          fetchJwks: () => rpc.request(SigningKeyRpc.jwks, {}, { context: newContext() }),
          onKeysRemoved: () => tokens.clear(),
        }),
    },
    {
      provide: AccessTokenVerifier,
      inject: [SigningKeys, GATEWAY_SETTINGS],
      useFactory: (keys: SigningKeys, settings: GatewaySettings) =>
        new AccessTokenVerifier(keys, { issuer: settings.issuer }),
    },
    {
      provide: ApiKeyVerifier,
      inject: [RpcClient, Revocations],
      useFactory: (rpc: RpcClient, revocations: Revocations) =>
        new ApiKeyVerifier({
          verifyRemote: (key) => rpc.request(ApiKeyRpc.verify, { key }),
          revocations,
        }),
    },
    {
      provide: TenantDirectory,
      inject: [RpcClient],
      useFactory: (rpc: RpcClient) =>
        new TenantDirectory((id) => rpc.request(TenantRpc.get, { id })),
    },
    IdentityEventsFollower,
    {
      provide: Authenticator,
      inject: [
        AccessTokenVerifier,
        VerifiedTokenCache,
        ApiKeyVerifier,
        Revocations,
        IdentityEventsFollower,
      ],
      useFactory: (
        tokens: AccessTokenVerifier,
        tokenCache: VerifiedTokenCache,
        apiKeys: ApiKeyVerifier,
        revocations: Revocations,
        events: IdentityEventsFollower,
      ) =>
        new Authenticator({
          tokens,
          tokenCache,
          apiKeys,
          revocations,
          revocationsLoaded: () => events.caughtUp,
        }),
    },
    AuthReadiness,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [AccessRegistry, ApiKeyVerifier, Revocations, SigningKeys, GATEWAY_SETTINGS],
})
export class AuthModule {}

import { Module } from '@nestjs/common';
import { OidcDiscovery } from './oidc-discovery.js';
import { OidcLogin } from './oidc-login.js';
import { OidcStateStore } from './oidc-state.store.js';

/** The OIDC relying party (authorization code + PKCE) that SSO sign-ins with OIDC connections use. */
@Module({
  providers: [OidcDiscovery, OidcStateStore, OidcLogin],
  exports: [OidcLogin],
})
export class OidcModule {}

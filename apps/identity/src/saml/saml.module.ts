import { Module } from '@nestjs/common';
import { SamlLogin } from './saml-login.js';
import { SamlStateStore } from './saml-state.store.js';

/** SAML 2.0 service provider: `SamlLogin` (start a sign-in, check the ACS POST). Needs `REDIS`. */
@Module({
  providers: [SamlStateStore, SamlLogin],
  exports: [SamlLogin],
})
export class SamlModule {}

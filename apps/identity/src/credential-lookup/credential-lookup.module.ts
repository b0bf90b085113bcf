import { Module } from '@nestjs/common';
import { CredentialLookupRepository } from './credential-lookup.repository.js';

/** Which tenant a login email, API key prefix, refresh token or user token belongs to. */
@Module({
  providers: [CredentialLookupRepository],
  exports: [CredentialLookupRepository],
})
export class CredentialLookupModule {}

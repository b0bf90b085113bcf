export {
  canConnect,
  freePort,
  REPO_ROOT,
  ServiceProcess,
  type LineHandler,
  type ServiceExit,
  type ServiceProcessOptions,
} from '@tenantry/launcher';
export { testNamespace, waitFor } from './ports.js';
export {
  ServerProcess,
  startNatsServer,
  startPostgresServer,
  startRedisServer,
} from './server-process.js';
export { cleanupNamespace, dropDatabase, LOCAL_INFRA, type InfraUrls } from './cleanup.js';
export { Platform, type PlatformOptions } from './platform.js';
export { connectTestNats, scratchDatabase } from './scratch.js';
export { double, type DoubledType } from './doubles.js';
export { startSmtpServer, tokenInMail, type TestMail, type TestSmtpServer } from './smtp.js';
export { startDnsServer, type DnsFailure, type TestDnsServer } from './dns-server.js';
export { serveTenants } from './tenant-directory.js';
export {
  startOidcProvider,
  type TestOidcAccount,
  type TestOidcProvider,
  type TestOidcProviderOptions,
} from './oidc-provider.js';
export {
  elementsNamed,
  generateSamlKeyPair,
  parseXml,
  removeSignatures,
  samlResponseXml,
  serializeXml,
  signXmlElement,
  TestSamlIdp,
  toSamlResponse,
  type SamlKeyPair,
  type SamlPostedResponse,
  type SamlReceivedRequest,
  type SamlResponseOptions,
  type SamlSpRegistration,
  type SamlTestUser,
} from './saml-idp.js';
export {
  createActiveTenant,
  testTenant,
  waitForActiveTenant,
  type CreateTenantOptions,
} from './tenants.js';
export {
  SoftPasskey,
  type AssertionJson,
  type Ceremony,
  type RegistrationJson,
} from './passkey-authenticator.js';

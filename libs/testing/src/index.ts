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
export { serveTenants } from './tenant-directory.js';

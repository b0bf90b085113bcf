export {
  ConfigError,
  loadConfig,
  parseConfig,
  type ConfigNeeds,
  type DatabaseOptions,
  type ServiceConfig,
} from './config/config.js';
export { ConfigModule, SERVICE_CONFIG } from './config/config.module.js';
export { commaListSetting, wholeNumberSetting } from './config/settings.js';
export {
  DATABASE_READINESS,
  READINESS_CHECKS,
  runCheck,
  type ReadinessCheck,
} from './health/readiness.js';
export { HealthService } from './health/health.service.js';
export { uuidv7 } from './ids/uuid-v7.js';
export { createLogger, NestPinoLogger, QUIET_PATHS } from './logging/logger.js';
export { REDIS } from './redis/redis.module.js';
export { ServiceModule, type ServiceModuleOptions } from './service.module.js';
export { requestIdFor, runService, type ServiceDefinition } from './service.js';

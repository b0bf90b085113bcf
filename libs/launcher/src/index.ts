export { canConnect, freePort } from './ports.js';
export {
  REPO_ROOT,
  ServiceGroup,
  type GroupStartOptions,
  type ServiceGroupOptions,
} from './service-group.js';
export {
  ServiceProcess,
  type LineHandler,
  type OutputStream,
  type ServiceExit,
  type ServiceProcessOptions,
} from './service-process.js';

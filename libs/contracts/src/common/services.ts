/**
 * Every service, in start order, and the HTTP port it serves health and metrics on
 * (the gateway: its API) by default. The one list of services: the names, the
 * backend services and the ports below derive from it, and so do `npm start`, the
 * test platform, platform health and the deployment checks.
 * `npx nx g @tenantry/tools:service` adds a line here.
 */
const SERVICE_PORTS = {
  gateway: 3000,
  identity: 3101,
  tenants: 3102,
  policy: 3103,
  audit: 3104,
  billing: 3105,
} as const;

export type ServiceName = keyof typeof SERVICE_PORTS;

export const SERVICES = Object.keys(SERVICE_PORTS) as readonly ServiceName[];

/** Services behind the gateway, which answer over NATS and own a database: all but the gateway. */
export type BackendServiceName = Exclude<ServiceName, 'gateway'>;
export const BACKEND_SERVICES: readonly BackendServiceName[] = SERVICES.filter(
  (service): service is BackendServiceName => service !== 'gateway',
);

export const DEFAULT_HTTP_PORTS: Readonly<Record<ServiceName, number>> = SERVICE_PORTS;

/** HTTP paths every service serves. Deployment probes point at these. */
export const HealthPaths = {
  live: '/health/live',
  ready: '/health/ready',
  metrics: '/metrics',
} as const;

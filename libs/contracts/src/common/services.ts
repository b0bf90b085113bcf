/** The six services and the HTTP port each serves health and metrics on by default. */
export const SERVICES = ['gateway', 'identity', 'tenants', 'policy', 'audit', 'billing'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Services behind the gateway, which answer over NATS. */
export const BACKEND_SERVICES = ['identity', 'tenants', 'policy', 'audit', 'billing'] as const;
export type BackendServiceName = (typeof BACKEND_SERVICES)[number];

export const DEFAULT_HTTP_PORTS: Readonly<Record<ServiceName, number>> = {
  gateway: 3000,
  identity: 3101,
  tenants: 3102,
  policy: 3103,
  audit: 3104,
  billing: 3105,
};

/** HTTP paths every service serves. Deployment probes point at these. */
export const HealthPaths = {
  live: '/health/live',
  ready: '/health/ready',
  metrics: '/metrics',
} as const;

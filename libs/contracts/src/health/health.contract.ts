import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import type { BackendServiceName } from '../common/services.js';

export const CheckResultSchema = z.object({
  status: z.enum(['up', 'down']),
  message: z.string().optional(),
});

export const ServiceHealthSchema = z.object({
  service: z.string(),
  status: z.enum(['up', 'down']),
  checks: z.record(z.string(), CheckResultSchema),
  version: z.string(),
  uptimeSeconds: z.number(),
  instance: z.string(),
});
export type ServiceHealth = z.infer<typeof ServiceHealthSchema>;

export const HealthCheckRequestSchema = z.object({});

/** `<service>.health.check`: the service's readiness, asked over NATS by the gateway. */
export function healthCheckRpc(service: BackendServiceName) {
  return defineRpc(`${service}.health.check`, HealthCheckRequestSchema, ServiceHealthSchema);
}

export const PlatformHealthSchema = z.object({
  status: z.enum(['up', 'degraded']),
  services: z.record(
    z.string(),
    z.object({
      status: z.enum(['up', 'down']),
      latencyMs: z.number().optional(),
      checks: z.record(z.string(), CheckResultSchema).optional(),
      error: z.string().optional(),
    }),
  ),
});
export type PlatformHealth = z.infer<typeof PlatformHealthSchema>;

import { Inject } from '@nestjs/common';
import { SERVICE_CONFIG, type ServiceConfig } from '@tenantry/runtime';
import { z } from 'zod';

/**
 * The gateway's own environment, checked at start-up with the common variables (a bad
 * value stops it with exit code 78 and a line naming the variable).
 */
export const GatewaySettingsSchema = z.object({
  /** `iss` the access tokens must carry: the gateway's public URL, as identity signs it. */
  TENANTRY_ISSUER: z
    .string()
    .refine((value) => URL.canParse(value), { error: 'must be a URL (the gateway’s public URL)' })
    .default('http://127.0.0.1:3000'),
});
type GatewaySettingsEnv = z.output<typeof GatewaySettingsSchema>;

export interface GatewaySettings {
  /** Without a trailing slash, as identity writes it into `iss`. */
  issuer: string;
}

export const GATEWAY_SETTINGS = Symbol('GATEWAY_SETTINGS');
export const InjectGatewaySettings = () => Inject(GATEWAY_SETTINGS);

export const gatewaySettingsProvider = {
  provide: GATEWAY_SETTINGS,
  inject: [SERVICE_CONFIG],
  useFactory: (config: ServiceConfig): GatewaySettings => {
    const env = config.settings as GatewaySettingsEnv;
    return { issuer: env.TENANTRY_ISSUER.replace(/\/$/, '') };
  },
};

import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { ServiceConfig } from './config.js';

export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: SERVICE_CONFIG, useValue: config }],
      exports: [SERVICE_CONFIG],
    };
  }
}

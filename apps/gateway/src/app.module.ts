import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ServiceModule, type ServiceConfig } from '@tenantry/runtime';
import { ProblemDetailsFilter } from './http/problem-details.filter.js';
import { PlatformHealthModule } from './platform-health/platform-health.module.js';
import { TenantsModule } from './tenants/tenants.module.js';

@Module({})
export class AppModule {
  static forConfig(config: ServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceModule.forRoot({ config, streams: [] }),
        PlatformHealthModule,
        TenantsModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemDetailsFilter }],
    };
  }
}

import { Module, type DynamicModule } from '@nestjs/common';
import { PersistenceModule } from '@tenantry/persistence';
import { ServiceModule, type ServiceConfig } from '@tenantry/runtime';
import { migrations } from './database/migrations/index.js';
import { AuditEventModule } from './events/audit-event.module.js';

@Module({})
export class AppModule {
  static forConfig(config: ServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceModule.forRoot({
          config,
          streams: ['AUDIT', 'PARKED'],
          persistence: PersistenceModule.forRoot({ database: config.database!, migrations }),
        }),
        AuditEventModule,
      ],
    };
  }
}

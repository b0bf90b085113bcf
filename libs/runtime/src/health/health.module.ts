import { Controller, Inject, Module, type DynamicModule, type Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { healthCheckRpc, type BackendServiceName, type ServiceName } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';

function healthNatsController(service: BackendServiceName): Type {
  @Controller()
  class HealthNatsController {
    constructor(@Inject(HealthService) private readonly health: HealthService) {}

    @RpcHandler(healthCheckRpc(service))
    check() {
      return this.health.readiness();
    }
  }
  return HealthNatsController;
}

/**
 * Health over HTTP for probes, and for backend services also over NATS
 * (`<service>.health.check`) so that the gateway can report the whole platform.
 * The app provides READINESS_CHECKS.
 */
@Module({})
export class HealthModule {
  static forService(service: ServiceName): DynamicModule {
    const controllers: Type[] = [HealthController];
    if (service !== 'gateway') controllers.push(healthNatsController(service));
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers,
      providers: [HealthService],
      exports: [HealthService],
    };
  }
}

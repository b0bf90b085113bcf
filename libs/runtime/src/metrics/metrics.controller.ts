import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthPaths } from '@tenantry/contracts';
import { collectDefaultMetrics, register } from 'prom-client';

let collecting = false;

/** Prometheus exposition of the process's metrics. */
@ApiExcludeController()
@Controller()
export class MetricsController {
  constructor() {
    if (!collecting) {
      collectDefaultMetrics({ prefix: 'tenantry_' });
      collecting = true;
    }
  }

  @Get(HealthPaths.metrics)
  @Header('Content-Type', register.contentType)
  metrics(): Promise<string> {
    return register.metrics();
  }
}

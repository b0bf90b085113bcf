import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthPaths } from '@tenantry/contracts';
import { collectDefaultMetrics, register } from 'prom-client';

let collecting = false;

/**
 * How often the event-loop delay histogram samples (prom-client's default is 10 ms). Each
 * sample is a timer that wakes the process: sampling every 10 ms costs a service ~0.6 % of
 * a core, every 100 ms ~0.2 % (measured on the 2-vCPU VM), and every service pays it.
 * Sustained lag reads the same; a stall shorter than the interval shows in the histogram
 * when a sample falls due during it, so one of 30 ms is seen about one time in three.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

/** Prometheus exposition of the process's metrics. */
@ApiExcludeController()
@Controller()
export class MetricsController {
  constructor() {
    if (!collecting) {
      collectDefaultMetrics({
        prefix: 'tenantry_',
        eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
      });
      collecting = true;
    }
  }

  @Get(HealthPaths.metrics)
  @Header('Content-Type', register.contentType)
  metrics(): Promise<string> {
    return register.metrics();
  }
}

import { Counter, Histogram, register } from 'prom-client';

function counter(name: string, help: string, labelNames: string[]): Counter<string> {
  return (
    (register.getSingleMetric(name) as Counter<string> | undefined) ??
    new Counter({ name, help, labelNames })
  );
}

export const consumerMetrics = {
  processed: counter(
    'tenantry_consumer_messages_total',
    'Messages a durable consumer committed and acked',
    ['stream', 'consumer'],
  ),
  parked: counter(
    'tenantry_consumer_parked_total',
    'Messages a durable consumer parked (invalid, or failing past the redelivery bound)',
    ['stream', 'consumer', 'reason'],
  ),
  retries: counter(
    'tenantry_consumer_retries_total',
    'Batches retried after a transient failure (database or broker unavailable)',
    ['stream', 'consumer'],
  ),
  batchSize:
    (register.getSingleMetric('tenantry_consumer_batch_size') as Histogram<string> | undefined) ??
    new Histogram({
      name: 'tenantry_consumer_batch_size',
      help: 'Messages written per committed batch',
      labelNames: ['stream', 'consumer'],
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    }),
};

import { Histogram, register } from 'prom-client';

function histogram(name: string, help: string, labelNames: string[], buckets: number[]) {
  return (
    (register.getSingleMetric(name) as Histogram<string> | undefined) ??
    new Histogram({ name, help, labelNames, buckets })
  );
}

const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

export const rpcMetrics = {
  duration: histogram(
    'tenantry_rpc_server_duration_seconds',
    'Time to handle a NATS request, by subject and outcome',
    ['subject', 'outcome'],
    LATENCY_BUCKETS,
  ),
  clientDuration: histogram(
    'tenantry_rpc_client_duration_seconds',
    'Round trip of an outgoing NATS request, by subject and outcome',
    ['subject', 'outcome'],
    LATENCY_BUCKETS,
  ),
};

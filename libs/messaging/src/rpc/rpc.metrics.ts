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

/** Labelled children looked up once per (subject, outcome), not hashed on every observation. */
class TimedBySubject {
  private readonly children = new Map<string, Histogram.Internal<string>>();

  constructor(private readonly histogram: Histogram<string>) {}

  observe(subject: string, outcome: string, seconds: number): void {
    const key = `${subject}\u0000${outcome}`;
    let child = this.children.get(key);
    if (!child) {
      child = this.histogram.labels({ subject, outcome });
      this.children.set(key, child);
    }
    child.observe(seconds);
  }
}

export const rpcMetrics = {
  server: new TimedBySubject(
    histogram(
      'tenantry_rpc_server_duration_seconds',
      'Time to handle a NATS request, by subject and outcome',
      ['subject', 'outcome'],
      LATENCY_BUCKETS,
    ),
  ),
  client: new TimedBySubject(
    histogram(
      'tenantry_rpc_client_duration_seconds',
      'Round trip of an outgoing NATS request, by subject and outcome',
      ['subject', 'outcome'],
      LATENCY_BUCKETS,
    ),
  ),
};

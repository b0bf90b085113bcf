import type { Namespace, StreamKey } from '@tenantry/contracts';

export interface MessagingOptions {
  /** Service name; also the NATS queue group of its request handlers. */
  service: string;
  natsUrl: string;
  namespace: Namespace;
  /** Default timeout of outgoing requests. */
  requestTimeoutMs: number;
  /** JetStream streams this service makes sure exist at start-up. */
  streams: readonly StreamKey[];
  /** Replicas for streams created at start-up (1 on a single server, 3 on a cluster). */
  streamReplicas: number;
  instanceId: string;
}

export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');

/** JetStream streams. Subjects are given without the namespace prefix. */
export interface StreamSpec {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly description: string;
  /** How long the stream keeps messages, in seconds; the owning service is the system of record. */
  readonly maxAgeSeconds: number;
}

const DAY = 24 * 60 * 60;

export const Streams = {
  AUDIT: {
    name: 'AUDIT',
    subjects: ['audit.>'],
    description: 'Audit events: audit.<tenantId>.<category>; consumed by the audit service',
    maxAgeSeconds: 7 * DAY,
  },
  USAGE: {
    name: 'USAGE',
    subjects: ['usage.>'],
    description: 'Usage events: usage.<tenantId>.<meter>; consumed by the billing service',
    maxAgeSeconds: 7 * DAY,
  },
  EVENTS: {
    name: 'EVENTS',
    subjects: ['evt.>'],
    description: 'Domain events: evt.<service>.<entity>.<verb>',
    maxAgeSeconds: 7 * DAY,
  },
  PARKED: {
    name: 'PARKED',
    subjects: ['parked.>'],
    description:
      'Messages a consumer could not process: parked.<stream>.<consumer>, reason in headers',
    maxAgeSeconds: 30 * DAY,
  },
} as const satisfies Record<string, StreamSpec>;

export type StreamKey = keyof typeof Streams;

/** JetStream de-duplication window set on every stream (seconds). */
export const DUPLICATE_WINDOW_SECONDS = 120;

import { Logger } from '@nestjs/common';
import {
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { DUPLICATE_WINDOW_SECONDS, Streams, type StreamKey } from '@tenantry/contracts';
import type { NatsService } from '../nats/nats.service.js';

const NANOS_PER_SECOND = 1_000_000_000;

/** Creates (or brings up to date) the JetStream streams a service relies on. Safe to run from every replica at once. */
export class StreamManager {
  private readonly logger = new Logger('Streams');

  constructor(private readonly nats: NatsService) {}

  streamName(key: StreamKey): string {
    return this.nats.options.namespace.stream(Streams[key].name);
  }

  configFor(key: StreamKey): Partial<StreamConfig> & { name: string; subjects: string[] } {
    const spec = Streams[key];
    const ns = this.nats.options.namespace;
    return {
      name: ns.stream(spec.name),
      subjects: spec.subjects.map((s) => ns.subject(s)),
      description: spec.description,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: spec.maxAgeSeconds * NANOS_PER_SECOND,
      duplicate_window: DUPLICATE_WINDOW_SECONDS * NANOS_PER_SECOND,
      num_replicas: this.nats.options.streamReplicas,
    };
  }

  async ensure(keys: readonly StreamKey[]): Promise<void> {
    for (const key of keys) await this.ensureOne(key);
  }

  private async ensureOne(key: StreamKey): Promise<void> {
    const config = this.configFor(key);
    for (let attempt = 0; ; attempt++) {
      try {
        const info = await this.nats.jsm.streams.info(config.name).catch((error: unknown) => {
          if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)
            return null;
          throw error;
        });
        if (!info) {
          await this.nats.jsm.streams.add(config);
          this.logger.log(`created stream ${config.name} (${config.subjects.join(', ')})`);
        } else if (
          info.config.subjects.join() !== config.subjects.join() ||
          info.config.max_age !== config.max_age ||
          info.config.duplicate_window !== config.duplicate_window ||
          info.config.num_replicas !== config.num_replicas
        ) {
          await this.nats.jsm.streams.update(config.name, {
            subjects: config.subjects,
            max_age: config.max_age,
            duplicate_window: config.duplicate_window,
            num_replicas: config.num_replicas,
            description: config.description,
          });
          this.logger.log(`updated stream ${config.name}`);
        }
        return;
      } catch (error) {
        // Another replica created it between our info and add: look again.
        if (attempt < 3) continue;
        throw error;
      }
    }
  }
}

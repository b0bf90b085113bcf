import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { MessagingOptions } from '../messaging.options.js';

/**
 * The one NATS connection of a service process. Reconnects forever (a restarted
 * NATS server is found again by itself); requests and publishes made while
 * disconnected are buffered by the client until the reconnect or their timeout.
 */
export class NatsService implements OnApplicationShutdown {
  private readonly logger = new Logger('Nats');
  private connectedNow = true;
  private closing = false;

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly options: MessagingOptions,
  ) {
    void this.watchStatus();
  }

  static async connect(options: MessagingOptions): Promise<NatsService> {
    const nc = await connect({
      servers: options.natsUrl.split(','),
      name: `tenantry-${options.service}-${options.instanceId}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 100,
      waitOnFirstConnect: true,
      pingInterval: 5_000,
      maxPingOut: 2,
      // Capturing a stack trace for every request costs ~3 % of the gateway's CPU; our errors say what timed out.
      noAsyncTraces: true,
    });
    const js = jetstream(nc, { timeout: 5_000 });
    const jsm = await jetstreamManager(nc, { timeout: 5_000 });
    return new NatsService(nc, js, jsm, options);
  }

  get isConnected(): boolean {
    return this.connectedNow && !this.nc.isClosed();
  }

  /** A real round trip to the server, bounded by `timeoutMs`. */
  async ping(timeoutMs = 1_000): Promise<number> {
    if (!this.isConnected) throw new Error('NATS is disconnected');
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.nc.rtt(),
        new Promise<number>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`NATS did not answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.drain();
  }

  /** Drains subscriptions (in-flight handlers finish) and flushes pending publishes, then closes. */
  async drain(): Promise<void> {
    if (this.closing || this.nc.isClosed()) return;
    this.closing = true;
    try {
      await this.nc.drain();
    } catch (error) {
      this.logger.warn(`drain failed, closing: ${(error as Error).message}`);
      await this.nc.close();
    }
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      switch (status.type) {
        case 'disconnect':
          this.connectedNow = false;
          this.logger.warn(`disconnected from ${status.server}`);
          break;
        case 'reconnect':
          this.connectedNow = true;
          this.logger.log(`reconnected to ${status.server}`);
          break;
        case 'error':
          this.logger.error(`connection error: ${status.error?.message ?? status.error}`);
          break;
        default:
          break;
      }
    }
  }
}

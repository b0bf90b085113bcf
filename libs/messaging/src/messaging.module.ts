import { DiscoveryModule } from '@nestjs/core';
import {
  Global,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  Inject,
} from '@nestjs/common';
import { EventPublisher } from './jetstream/event-publisher.js';
import { StreamManager } from './jetstream/stream-manager.js';
import { MESSAGING_OPTIONS, type MessagingOptions } from './messaging.options.js';
import { NatsService } from './nats/nats.service.js';
import { RpcClient } from './rpc/rpc.client.js';
import { RpcServer } from './rpc/rpc.server.js';

class StreamBootstrap implements OnApplicationBootstrap {
  constructor(
    @Inject(StreamManager) private readonly streams: StreamManager,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.streams.ensure(this.options.streams);
  }
}

/**
 * One NATS connection per process, with the typed clients built on it; with `serveRpc`,
 * also the server of the service's `@RpcHandler` methods.
 */
@Global()
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingOptions & { serveRpc?: boolean }): DynamicModule {
    return {
      module: MessagingModule,
      imports: options.serveRpc ? [DiscoveryModule] : [],
      providers: [
        ...(options.serveRpc ? [RpcServer] : []),
        { provide: MESSAGING_OPTIONS, useValue: options },
        { provide: NatsService, useFactory: () => NatsService.connect(options) },
        {
          provide: RpcClient,
          useFactory: (nats: NatsService) => new RpcClient(nats),
          inject: [NatsService],
        },
        {
          provide: EventPublisher,
          useFactory: (nats: NatsService) => new EventPublisher(nats),
          inject: [NatsService],
        },
        {
          provide: StreamManager,
          useFactory: (nats: NatsService) => new StreamManager(nats),
          inject: [NatsService],
        },
        StreamBootstrap,
      ],
      exports: [MESSAGING_OPTIONS, NatsService, RpcClient, EventPublisher, StreamManager],
    };
  }
}

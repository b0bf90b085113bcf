export {
  childTraceparent,
  contextFromHeaders,
  contextToHeaders,
  messageContext,
  newContext,
  newTraceparent,
  type MessageContext,
} from './context/message-context.js';
export { MESSAGING_OPTIONS, type MessagingOptions } from './messaging.options.js';
export { MessagingModule } from './messaging.module.js';
export { NatsService } from './nats/nats.service.js';
export { RpcError } from './rpc/rpc-error.js';
export { RpcHandler, type RpcMethod } from './rpc/rpc-handler.decorator.js';
export { RpcServer } from './rpc/rpc.server.js';
export { RpcClient, type RequestOptions } from './rpc/rpc.client.js';
export { TRANSIENT_ERROR, type TransientErrorTest } from './rpc/transient-error.js';
export { StreamManager } from './jetstream/stream-manager.js';
export { EventPublisher, type PublishOptions } from './jetstream/event-publisher.js';
export {
  DurableConsumer,
  PoisonMessageError,
  type ConsumedMessage,
  type DurableConsumerOptions,
} from './jetstream/durable-consumer.js';
export {
  EventFollower,
  type EventFollowerOptions,
  type FollowedEvent,
} from './jetstream/event-follower.js';
export {
  KvFollower,
  type KvFollowedEntry,
  type KvFollowerConnection,
  type KvFollowerOptions,
} from './jetstream/kv-follower.js';

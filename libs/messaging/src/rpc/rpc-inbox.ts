import { createInbox, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { PublishBatcher } from './publish-batcher.js';

/** Why a request got no reply. */
export type NoReply = 'timeout' | 'no-responders' | 'disconnected';

/** A request that got no reply; carries no stack (the caller maps it to an RpcError). */
export class NoReplyError {
  constructor(readonly why: NoReply) {}
}

interface Pending {
  resolve: (msg: Msg) => void;
  reject: (error: NoReplyError) => void;
  timer: NodeJS.Timeout;
}

/**
 * Request/reply over one wildcard inbox subscription (`_INBOX.<id>.*`), each request
 * waiting on a token of it. The NATS client's own `request()` does the same but makes and
 * discards an Error (a stack capture) on every successful request, and publishes each
 * request in a socket write of its own; here requests of one event-loop turn leave
 * together (PublishBatcher). No responders (the server's 503 status on the reply
 * subject), a closed connection and timeouts end a request with a NoReplyError.
 */
export class RpcInbox {
  private readonly prefix: string;
  private readonly pending = new Map<string, Pending>();
  private readonly outgoing = new PublishBatcher();
  private next = 0;

  constructor(private readonly nc: NatsConnection) {
    this.prefix = `${createInbox()}.`;
    nc.subscribe(`${this.prefix}*`, { callback: (_error, msg) => this.settle(msg) });
  }

  request(subject: string, data: Uint8Array, headers: MsgHdrs, timeoutMs: number): Promise<Msg> {
    const token = (this.next++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(token, 'timeout'), timeoutMs);
      this.pending.set(token, { resolve, reject, timer });
      this.outgoing.add(
        () => this.nc.publish(subject, data, { reply: this.prefix + token, headers }),
        () => this.fail(token, 'disconnected'),
      );
    });
  }

  private fail(token: string, why: NoReply): void {
    const pending = this.pending.get(token);
    if (!pending) return;
    this.pending.delete(token);
    clearTimeout(pending.timer);
    pending.reject(new NoReplyError(why));
  }

  private settle(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length);
    const pending = this.pending.get(token);
    if (!pending) return; // a late reply, after its timeout
    this.pending.delete(token);
    clearTimeout(pending.timer);
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      pending.reject(new NoReplyError('no-responders'));
    } else {
      pending.resolve(msg);
    }
  }
}

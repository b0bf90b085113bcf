import { Inject, Injectable } from '@nestjs/common';
import {
  ErrorCode,
  SessionRpc,
  TenantPolicyRpc,
  UserRpc,
  type Session,
  type User,
} from '@tenantry/contracts';
import { messageContext, newContext, RpcClient, type MessageContext } from '@tenantry/messaging';

/** What the audit service is called when it asks another service for a report. */
export const AUDIT_SERVICE_ACTOR = 'service:audit';

/** Users listed per page, and at most (a report says when a tenant has more). */
const USER_PAGE = 500;
export const MAX_USERS = 20_000;

/** A source's answer, or why there is none (the report names the missing section). */
export type Sourced<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The tenant's users as identity lists them, and whether there were more than MAX_USERS. */
export interface UserDirectory {
  users: User[];
  more: boolean;
}

function failure(error: unknown): { ok: false; reason: string } {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  return { ok: false, reason: code ? `${code}: ${message}` : message };
}

/**
 * Identity and the policy service, asked over NATS as the audit service itself (actor
 * `service:audit`, the report request's id and trace kept): the users with their roles
 * and sessions, and the tenant's policy document. A service that does not answer (or
 * answers an error) gives `{ ok: false, reason }`, never an exception: the report goes on
 * without that section and says so.
 */
@Injectable()
export class ReportSources {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  /** Every user of the tenant (at most MAX_USERS), a page at a time. */
  async users(tenantId: string): Promise<Sourced<UserDirectory>> {
    const context = this.context(tenantId);
    try {
      const users: User[] = [];
      let cursor: string | undefined;
      do {
        const page = await this.rpc.request(
          UserRpc.list,
          { tenantId, limit: USER_PAGE, ...(cursor ? { cursor } : {}) },
          { context },
        );
        users.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor && users.length < MAX_USERS);
      return {
        ok: true,
        value: {
          users: users.slice(0, MAX_USERS),
          more: users.length > MAX_USERS || cursor !== undefined,
        },
      };
    } catch (error) {
      return failure(error);
    }
  }

  /** One user's profile; `null` when identity does not know them (deleted, or never was). */
  async user(tenantId: string, userId: string): Promise<Sourced<User | null>> {
    try {
      const user = await this.rpc.request(
        UserRpc.get,
        { tenantId, userId },
        { context: this.context(tenantId) },
      );
      return { ok: true, value: user };
    } catch (error) {
      if ((error as { code?: string }).code === ErrorCode.NotFound)
        return { ok: true, value: null };
      return failure(error);
    }
  }

  /** One user's sessions as identity has them now. */
  async sessions(tenantId: string, userId: string): Promise<Sourced<Session[]>> {
    try {
      const { items } = await this.rpc.request(
        SessionRpc.list,
        { tenantId, userId },
        { context: this.context(tenantId) },
      );
      return { ok: true, value: items };
    } catch (error) {
      return failure(error);
    }
  }

  /** The tenant's current policy document (roles, bindings, deny rules) and its version. */
  async policy(
    tenantId: string,
  ): Promise<Sourced<{ version: number; document: Record<string, unknown> }>> {
    try {
      const policy = await this.rpc.request(
        TenantPolicyRpc.get,
        { tenantId },
        { context: this.context(tenantId) },
      );
      return { ok: true, value: { version: policy.version, document: policy.document } };
    } catch (error) {
      return failure(error);
    }
  }

  /** The audit service acting on its own, in the request's trace. */
  private context(tenantId: string): MessageContext {
    const current = messageContext.current() ?? newContext();
    return newContext({
      tenantId,
      actor: AUDIT_SERVICE_ACTOR,
      requestId: current.requestId,
      traceparent: current.traceparent,
    });
  }
}

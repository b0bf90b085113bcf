import { ErrorCode, Namespace, TenantRpc, type Tenant } from '@tenantry/contracts';
import type { NatsService } from '@tenantry/messaging';

/**
 * Stands in for the tenants service in a service's integration tests: answers
 * `TenantRpc.get`, `getBySlug` and `list` (one page) in `namespace` from `tenants`, which the
 * test fills (a tenant added later is answered too).
 */
export function serveTenants(
  nats: NatsService,
  namespace: string | Namespace,
  tenants: ReadonlyMap<string, Tenant>,
): void {
  const ns = typeof namespace === 'string' ? new Namespace(namespace) : namespace;
  const decoder = new TextDecoder();
  const answer =
    (find: (request: Record<string, string>) => Tenant | undefined) =>
    (error: Error | null, msg: { data: Uint8Array; respond: (data: string) => boolean }) => {
      if (error) return;
      const tenant = find(JSON.parse(decoder.decode(msg.data)) as Record<string, string>);
      msg.respond(
        JSON.stringify(
          tenant
            ? { ok: true, data: tenant }
            : { ok: false, error: { code: ErrorCode.NotFound, message: 'no such tenant' } },
        ),
      );
    };
  nats.nc.subscribe(ns.rpcSubject(TenantRpc.get.subject), {
    callback: answer((request) => tenants.get(request.id!)),
  });
  nats.nc.subscribe(ns.rpcSubject(TenantRpc.getBySlug.subject), {
    callback: answer((request) => [...tenants.values()].find((t) => t.slug === request.slug)),
  });
  nats.nc.subscribe(ns.rpcSubject(TenantRpc.list.subject), {
    callback: (error, msg) => {
      if (error) return;
      msg.respond(
        JSON.stringify({ ok: true, data: { items: [...tenants.values()], nextCursor: null } }),
      );
    },
  });
}

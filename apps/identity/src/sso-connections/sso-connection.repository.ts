import { Inject, Injectable } from '@nestjs/common';
import { addToOutbox, TenantTransactions, type OutboxMessage } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { SsoConnectionEntity } from './sso-connection.entity.js';

/** The most enabled connections a tenant's sign-in page lists. */
export const MAX_ENABLED_CONNECTIONS = 100;

/** What an update writes: the connection as it is to be, and the announcements (none: nothing changed). */
export interface SsoConnectionChange {
  next: SsoConnectionEntity;
  events: OutboxMessage[];
}

/**
 * The only code that touches sso_connections. Every query runs under the connection's
 * tenant (row-level security) and still filters by tenant_id. A connection's id goes into
 * credential_lookup (kind 'sso_connection') in the transaction that creates it, and leaves
 * it in the one that deletes it.
 */
@Injectable()
export class SsoConnectionRepository {
  constructor(
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(CredentialLookupRepository) private readonly lookup: CredentialLookupRepository,
  ) {}

  /**
   * Inserts a connection, its credential_lookup row and its announcements in one
   * transaction, after `check` (the tenant's quota, which may refuse) in the same one.
   */
  insert(
    connection: SsoConnectionEntity,
    events: OutboxMessage[],
    check: (manager: EntityManager) => Promise<void> = async () => undefined,
  ): Promise<void> {
    return this.tx.run(connection.tenantId, async (manager) => {
      await check(manager);
      await manager.insert(SsoConnectionEntity, connection);
      await this.lookup.add(manager, 'sso_connection', connection.id, connection.tenantId);
      await addToOutbox(manager, events);
    });
  }

  findById(tenantId: string, id: string): Promise<SsoConnectionEntity | null> {
    return this.tx.run(tenantId, (manager) =>
      manager.getRepository(SsoConnectionEntity).findOneBy({ tenantId, id }),
    );
  }

  /** Oldest first (ids are UUIDv7); `after` is the last id of the previous page. */
  list(tenantId: string, limit: number, after?: string): Promise<SsoConnectionEntity[]> {
    return this.tx.run(tenantId, (manager) => {
      const query = manager
        .getRepository(SsoConnectionEntity)
        .createQueryBuilder('c')
        .where('c.tenant_id = :tenantId', { tenantId })
        .orderBy('c.id', 'ASC')
        .limit(limit);
      if (after) query.andWhere('c.id > :after', { after });
      return query.getMany();
    });
  }

  /** The tenant's enabled connections, oldest first (at most MAX_ENABLED_CONNECTIONS). */
  listEnabled(tenantId: string): Promise<SsoConnectionEntity[]> {
    return this.tx.run(tenantId, (manager) =>
      manager.getRepository(SsoConnectionEntity).find({
        where: { tenantId, enabled: true },
        order: { id: 'ASC' },
        take: MAX_ENABLED_CONNECTIONS,
      }),
    );
  }

  /**
   * Changes a connection in one transaction: locks it, hands it (null when it does not
   * exist) to `plan`, which decides or throws, then writes the planned row with its
   * announcements; nothing is written when `plan` announces nothing. Returns the row.
   */
  update(
    tenantId: string,
    id: string,
    plan: (current: SsoConnectionEntity | null) => SsoConnectionChange,
  ): Promise<SsoConnectionEntity> {
    return this.tx.run(tenantId, async (manager) => {
      const current = await manager.getRepository(SsoConnectionEntity).findOne({
        where: { tenantId, id },
        lock: { mode: 'pessimistic_write' },
      });
      const { next, events } = plan(current);
      if (!events.length) return next;
      const { id: _id, tenantId: _tenantId, createdAt: _createdAt, ...columns } = next;
      await manager.update(SsoConnectionEntity, { tenantId, id }, columns);
      await addToOutbox(manager, events);
      return next;
    });
  }

  /**
   * Deletes a connection, its credential_lookup row and its announcements in one
   * transaction; null (nothing written) when it does not exist.
   */
  delete(
    tenantId: string,
    id: string,
    announce: (deleted: SsoConnectionEntity) => OutboxMessage[],
  ): Promise<SsoConnectionEntity | null> {
    return this.tx.run(tenantId, async (manager) => {
      const repository = manager.getRepository(SsoConnectionEntity);
      const current = await repository.findOne({
        where: { tenantId, id },
        lock: { mode: 'pessimistic_write' },
      });
      if (!current) return null;
      await repository.delete({ tenantId, id });
      await this.lookup.remove(manager, 'sso_connection', [id], tenantId);
      await addToOutbox(manager, announce(current));
      return current;
    });
  }
}

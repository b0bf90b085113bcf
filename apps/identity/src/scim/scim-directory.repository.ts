import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ScimDirectoryEntity } from './scim-directory.entity.js';

/** The fields of a directory that change after creation. */
export type ScimDirectoryChange = Partial<
  Pick<
    ScimDirectoryEntity,
    'name' | 'defaultRole' | 'groupRoles' | 'tokenId' | 'tokenHash' | 'tokenCreatedAt'
  >
>;

/**
 * The only code that touches scim_directories. Every method runs in the caller's tenant
 * transaction and still filters by tenant_id (row-level security is the safety net).
 */
@Injectable()
export class ScimDirectoryRepository {
  async insert(manager: EntityManager, directory: ScimDirectoryEntity): Promise<void> {
    await manager.insert(ScimDirectoryEntity, directory);
  }

  /** The directory, optionally locked (FOR UPDATE) until the caller's transaction ends. */
  findById(
    manager: EntityManager,
    tenantId: string,
    id: string,
    lock = false,
  ): Promise<ScimDirectoryEntity | null> {
    const query = manager
      .getRepository(ScimDirectoryEntity)
      .createQueryBuilder('d')
      .where('d.tenant_id = :tenantId AND d.id = :id', { tenantId, id });
    if (lock) query.setLock('pessimistic_write');
    return query.getOne();
  }

  /** The directory whose current token has this id (the token's public part). */
  findByTokenId(
    manager: EntityManager,
    tenantId: string,
    tokenId: string,
  ): Promise<ScimDirectoryEntity | null> {
    return manager.findOneBy(ScimDirectoryEntity, { tenantId, tokenId });
  }

  /** Oldest first (ids are UUIDv7); `after` is the last id of the previous page. */
  list(
    manager: EntityManager,
    tenantId: string,
    limit: number,
    after?: string,
  ): Promise<ScimDirectoryEntity[]> {
    const query = manager
      .getRepository(ScimDirectoryEntity)
      .createQueryBuilder('d')
      .where('d.tenant_id = :tenantId', { tenantId })
      .orderBy('d.id', 'ASC')
      .limit(limit);
    if (after) query.andWhere('d.id > :after', { after });
    return query.getMany();
  }

  /** Changes the given fields (and updated_at). */
  async update(
    manager: EntityManager,
    tenantId: string,
    id: string,
    change: ScimDirectoryChange,
    at: Date,
  ): Promise<void> {
    await manager.update(ScimDirectoryEntity, { tenantId, id }, { ...change, updatedAt: at });
  }

  /** Deletes the directory; its groups and their members go with it (ON DELETE CASCADE). */
  async delete(manager: EntityManager, tenantId: string, id: string): Promise<void> {
    await manager.delete(ScimDirectoryEntity, { tenantId, id });
  }
}

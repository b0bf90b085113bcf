import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** Deletes a tenant's rows of one feature's tables in the caller's transaction; rows removed by table. */
export type TenantDataRemover = (
  manager: EntityManager,
  tenantId: string,
) => Promise<Record<string, number>>;

/** Reads a tenant's rows of one feature's tables for the export before deletion: rows by table. */
export type TenantDataExporter = (tenantId: string) => Promise<Record<string, unknown[]>>;

/**
 * The features of the tenants service that hold tenant data (organizations, …) register
 * here how to export and remove it, so the registry can export and delete a tenant's data
 * without depending on every feature (they depend on it).
 */
@Injectable()
export class TenantDataRemovers {
  private readonly removers = new Map<string, TenantDataRemover>();
  private readonly exporters = new Map<string, TenantDataExporter>();

  register(feature: string, remover: TenantDataRemover, exporter?: TenantDataExporter): void {
    this.removers.set(feature, remover);
    if (exporter) this.exporters.set(feature, exporter);
  }

  /** Every registered feature's rows of the tenant, by table. */
  async exportAll(tenantId: string): Promise<Record<string, unknown[]>> {
    const rows: Record<string, unknown[]> = {};
    for (const exporter of this.exporters.values()) {
      for (const [table, list] of Object.entries(await exporter(tenantId))) {
        rows[table] = [...(rows[table] ?? []), ...list];
      }
    }
    return rows;
  }

  async removeAll(manager: EntityManager, tenantId: string): Promise<Record<string, number>> {
    const removed: Record<string, number> = {};
    for (const remover of this.removers.values()) {
      for (const [table, count] of Object.entries(await remover(manager, tenantId))) {
        removed[table] = (removed[table] ?? 0) + count;
      }
    }
    return removed;
  }
}

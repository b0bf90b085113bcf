import { Inject, Injectable } from '@nestjs/common';
import { addToOutbox, TenantTransactions, type OutboxMessage } from '@tenantry/persistence';
import { TemplateEntity } from './template.entity.js';

const UNIQUE_VIOLATION = '23505';
const KEY_UNIQUE = 'tenant_templates_key_unique';

/** The only code that touches tenant_templates (platform-level: no row-level security). */
@Injectable()
export class TemplateRepository {
  constructor(@Inject(TenantTransactions) private readonly tx: TenantTransactions) {}

  /** Inserts a template with its announcements; false when the key is taken. */
  async insert(template: TemplateEntity, events: OutboxMessage[]): Promise<boolean> {
    try {
      await this.tx.runGlobal(async (manager) => {
        await manager.query(
          `INSERT INTO tenant_templates (id, key, name, description, variables, body, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8)`,
          [
            template.id,
            template.key,
            template.name,
            template.description,
            JSON.stringify(template.variables),
            JSON.stringify(template.body),
            template.createdAt,
            template.updatedAt,
          ],
        );
        await addToOutbox(manager, events);
      });
      return true;
    } catch (error) {
      const e = error as { driverError?: { code?: string; constraint?: string } };
      if (e.driverError?.code === UNIQUE_VIOLATION && e.driverError.constraint === KEY_UNIQUE)
        return false;
      throw error;
    }
  }

  findByKey(key: string): Promise<TemplateEntity | null> {
    return this.tx.runGlobal((manager) => manager.findOneBy(TemplateEntity, { key }));
  }

  /** Every template, by key (an installation has a handful). */
  all(): Promise<TemplateEntity[]> {
    return this.tx.runGlobal((manager) => manager.find(TemplateEntity, { order: { key: 'ASC' } }));
  }

  /** Writes the template's new state and its announcements; false when it is gone. */
  update(template: TemplateEntity, events: OutboxMessage[]): Promise<boolean> {
    return this.tx.runGlobal(async (manager) => {
      const [, affected] = (await manager.query(
        `UPDATE tenant_templates SET name = $2, description = $3, variables = $4::jsonb,
           body = $5::jsonb, updated_at = $6 WHERE id = $1`,
        [
          template.id,
          template.name,
          template.description,
          JSON.stringify(template.variables),
          JSON.stringify(template.body),
          template.updatedAt,
        ],
      )) as [unknown, number];
      if (!affected) return false;
      await addToOutbox(manager, events);
      return true;
    });
  }

  /** Deletes the template with its announcements; false when there was none. */
  delete(key: string, events: (template: TemplateEntity) => OutboxMessage[]): Promise<boolean> {
    return this.tx.runGlobal(async (manager) => {
      const template = await manager.findOneBy(TemplateEntity, { key });
      if (!template) return false;
      await manager.delete(TemplateEntity, { id: template.id });
      await addToOutbox(manager, events(template));
      return true;
    });
  }
}

import { createOutboxTable } from '@tenantry/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateOutbox1763900000001 implements MigrationInterface {
  name = 'CreateOutbox1763900000001';

  async up(runner: QueryRunner): Promise<void> {
    await createOutboxTable(runner);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE outbox`);
  }
}

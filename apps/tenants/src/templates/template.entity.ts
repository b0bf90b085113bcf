import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { TemplateVariable } from './template-render.js';

/** A tenant template: a CreateTenantRequest with `{{variable}}` placeholders (platform-level). */
@Entity('tenant_templates')
export class TemplateEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  key!: string;

  @Column('text')
  name!: string;

  @Column('text')
  description!: string;

  @Column('jsonb')
  variables!: TemplateVariable[];

  @Column('jsonb')
  body!: Record<string, unknown>;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}

import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { InjectTenantsSettings, type TenantsSettings } from '../tenants.settings.js';

export interface ExportFile {
  /** Absolute path of the file. */
  file: string;
  sha256: string;
  bytes: number;
}

/**
 * Writes a tenant's export before its deletion: one JSON file per tenant and run under
 * TENANT_EXPORT_DIR (`<tenant id>-<run id>.json`, readable by the service's user only),
 * written to a temporary name and renamed, so a file that exists is whole.
 */
@Injectable()
export class TenantExporter {
  constructor(@InjectTenantsSettings() private readonly settings: TenantsSettings) {}

  async write(tenantId: string, runId: string, document: unknown): Promise<ExportFile> {
    const dir = this.settings.exportDir;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `${tenantId}-${runId}.json`);
    const body = Buffer.from(`${JSON.stringify(document, null, 2)}\n`, 'utf8');
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, body, { mode: 0o600 });
    await rename(temporary, file);
    return { file, sha256: createHash('sha256').update(body).digest('hex'), bytes: body.length };
  }
}

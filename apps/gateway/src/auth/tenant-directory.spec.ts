import { ErrorCode, tenantNotFound } from '@tenantry/contracts';
import { RpcError } from '@tenantry/messaging';
import { TenantDirectory } from './tenant-directory.js';

const ID = '0193a000-0000-7000-8000-00000000000a';

describe('TenantDirectory', () => {
  it('asks once for a tenant that exists (cached), every time for one that does not', async () => {
    const asked: string[] = [];
    const directory = new TenantDirectory(async (id) => {
      asked.push(id);
      if (id !== ID) throw tenantNotFound(id);
      return { id };
    });
    expect(directory.isKnown(ID)).toBe(false);
    expect(await directory.exists(ID)).toBe(true);
    expect(directory.isKnown(ID)).toBe(true);
    expect(await directory.exists(ID.toUpperCase())).toBe(true);
    const missing = '0193b000-0000-7000-8000-00000000000b';
    expect(await directory.exists(missing)).toBe(false);
    expect(await directory.exists(missing)).toBe(false);
    expect(directory.isKnown(missing)).toBe(false);
    expect(asked).toEqual([ID, missing, missing]);
  });

  it('passes the tenants service being down on (503), not "does not exist"', async () => {
    const directory = new TenantDirectory(async () => {
      throw new RpcError(ErrorCode.ServiceUnavailable, 'down', 'tenants.tenants.get');
    });
    await expect(directory.exists(ID)).rejects.toMatchObject({
      code: ErrorCode.ServiceUnavailable,
    });
  });

  it('asks again once the 30 s are over', async () => {
    let asked = 0;
    const directory = new TenantDirectory(
      async () => {
        asked++;
      },
      { ttlMs: 20 },
    );
    await directory.exists(ID);
    await new Promise((resolve) => setTimeout(resolve, 40));
    await directory.exists(ID);
    expect(asked).toBe(2);
  });
});

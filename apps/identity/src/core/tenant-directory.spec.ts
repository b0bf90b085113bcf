import { AppError, ErrorCode, type Tenant } from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { double, testTenant } from '@tenantry/testing';
import { TenantDirectory } from './tenant-directory.js';

/** A directory whose tenants service answers `answer()` (a tenant, or throws), counting the calls. */
function directory(answer: () => Tenant) {
  let calls = 0;
  const rpc = double(RpcClient, {
    request: (async () => {
      calls++;
      return answer();
    }) as RpcClient['request'],
  });
  return { directory: new TenantDirectory(rpc), calls: () => calls };
}

const unavailable = () => {
  throw new AppError(ErrorCode.ServiceUnavailable, 'no responders for tenants.tenants.get');
};

describe('tenant directory', () => {
  it('caches a tenant, asks again once it is forgotten (an event announced a change)', async () => {
    let tenant = testTenant();
    const { directory: d, calls } = directory(() => tenant);
    expect(await d.byId(tenant.id)).toMatchObject({ id: tenant.id, status: 'active' });
    await d.byId(tenant.id);
    expect(calls()).toBe(1);
    tenant = { ...tenant, status: 'suspended', statusReason: 'unpaid' };
    d.forget(tenant.id);
    expect(await d.byId(tenant.id)).toMatchObject({ status: 'suspended', statusReason: 'unpaid' });
    expect(calls()).toBe(2);
  });

  it('answers the tenant as last seen while the tenants service is unreachable, and nothing it never saw', async () => {
    const tenant = testTenant();
    let answer: () => Tenant = () => tenant;
    const { directory: d } = directory(() => answer());
    await d.byId(tenant.id);
    answer = unavailable;
    d.forget(tenant.id, { ...tenant, status: 'suspended', statusReason: 'by event' });
    expect(await d.byId(tenant.id)).toMatchObject({
      status: 'suspended',
      statusReason: 'by event',
    });
    await expect(d.byId(testTenant().id)).rejects.toMatchObject({
      code: ErrorCode.ServiceUnavailable,
    });
    answer = () => {
      throw new AppError(ErrorCode.NotFound, 'no such tenant');
    };
    await expect(d.byId(tenant.id)).rejects.toMatchObject({
      code: ErrorCode.NotFound,
      reason: 'TENANT_NOT_FOUND',
    });
  });
});

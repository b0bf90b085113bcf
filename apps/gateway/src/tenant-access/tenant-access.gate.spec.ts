import { Logger } from '@nestjs/common';
import {
  AppError,
  ERROR_HTTP_MAP,
  Namespace,
  type Principal,
  type TenantAccess,
} from '@tenantry/contracts';
import { NatsService, type MessagingOptions } from '@tenantry/messaging';
import { double } from '@tenantry/testing';
import { ApiCallLimiter, MemoryApiCallCounter } from './api-call-limiter.js';
import { TenantAccessGate } from './tenant-access.gate.js';
import { TenantAccessFollower } from './tenant-access.follower.js';

const A = '0193a000-0000-7000-8000-00000000000a';
const encoder = new TextEncoder();

const user: Principal = {
  kind: 'user',
  id: '0193c000-0000-7000-8000-000000000002',
  tenantId: A,
  roles: ['tenant-admin'],
  scopes: [],
};
const key: Principal = {
  kind: 'api_key',
  id: '0193c000-0000-7000-8000-000000000004',
  tenantId: A,
  roles: [],
  scopes: ['*:*'],
};
const operator: Principal = {
  kind: 'operator',
  id: '0193c000-0000-7000-8000-000000000001',
  tenantId: null,
  roles: ['platform-operator'],
  scopes: [],
};
const platformKey: Principal = {
  ...key,
  id: '0193c000-0000-7000-8000-000000000005',
  tenantId: null,
};

function setup() {
  const states = new TenantAccessFollower(
    double(NatsService, { options: { namespace: new Namespace('unit') } as MessagingOptions }),
  );
  const gate = new TenantAccessGate(states, new ApiCallLimiter(new MemoryApiCallCounter()));
  const put = (over: Partial<TenantAccess>) =>
    states.put({
      key: A,
      value: encoder.encode(
        JSON.stringify({
          tenantId: A,
          status: 'active',
          statusReason: null,
          ipAllowList: [],
          apiCallsPerMinute: null,
          apiCallsPerDay: null,
          updatedAt: '2026-03-01T12:00:00.000Z',
          ...over,
        }),
      ),
    });
  return { gate, put };
}

function refusal(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return {
      status: ERROR_HTTP_MAP[error.code].status,
      reason: error.reason,
      message: error.message,
    };
  }
  throw new Error('expected a refusal');
}

beforeAll(() => Logger.overrideLogger(false));

describe('TenantAccessGate', () => {
  it('admits everyone of a tenant it knows nothing about, and asks for no count', () => {
    const { gate } = setup();
    expect(gate.admit(user, '203.0.113.1')).toBeUndefined();
  });

  it('refuses the users and API keys of a suspended tenant with TENANT_SUSPENDED naming tenant, status and reason', () => {
    const { gate, put } = setup();
    put({ status: 'suspended', statusReason: 'invoice 2026-02 unpaid' });
    for (const principal of [user, key])
      expect(refusal(() => gate.admit(principal, '127.0.0.1'))).toEqual({
        status: 403,
        reason: 'TENANT_SUSPENDED',
        message: `tenant ${A} is suspended (reason: invoice 2026-02 unpaid): its users and API keys are refused until a platform operator reactivates it`,
      });
    expect(gate.admit(operator, '127.0.0.1')).toBeUndefined();
    expect(gate.admit(platformKey, '127.0.0.1')).toBeUndefined();
  });

  it('refuses the other barred statuses with TENANT_UNAVAILABLE', () => {
    const { gate, put } = setup();
    for (const status of ['deprovisioning', 'deleted', 'failed'] as const) {
      put({
        status,
        statusReason: status === 'failed' ? 'step verify: identity did not answer' : null,
      });
      const refused = refusal(() => gate.admit(key, '127.0.0.1'));
      expect(refused).toMatchObject({ status: 403, reason: 'TENANT_UNAVAILABLE' });
      expect(refused.message).toContain(`tenant ${A} is ${status}`);
    }
    expect(refusal(() => gate.admit(user, '127.0.0.1')).message).toContain(
      '(reason: step verify: identity did not answer)',
    );
    put({ status: 'provisioning' });
    expect(gate.admit(user, '127.0.0.1')).toBeUndefined();
  });

  it('refuses a client outside the tenant’s IP allow list with TENANT_IP_NOT_ALLOWED; operators are not concerned', () => {
    const { gate, put } = setup();
    put({ ipAllowList: ['192.0.2.0/24', '2001:db8::/32'] });
    expect(gate.admit(user, '192.0.2.77')).toBeUndefined();
    expect(gate.admit(key, '2001:db8::5')).toBeUndefined();
    expect(refusal(() => gate.admit(user, '198.51.100.1'))).toEqual({
      status: 403,
      reason: 'TENANT_IP_NOT_ALLOWED',
      message: `tenant ${A} accepts requests only from the networks in its IP allow list (settings.ipAllowList), and 198.51.100.1 is not on any of them`,
    });
    expect(gate.admit(operator, '198.51.100.1')).toBeUndefined();
  });

  it('hands back a tenant with limits for counting, and counts', async () => {
    const { gate, put } = setup();
    put({ apiCallsPerMinute: 1 });
    const entry = gate.admit(user, '127.0.0.1');
    expect(entry?.access.apiCallsPerMinute).toBe(1);
    await gate.count(entry!);
    await expect(gate.count(entry!)).rejects.toMatchObject({ reason: 'QUOTA_EXCEEDED' });
    expect(gate.admit(operator, '127.0.0.1')).toBeUndefined();
  });
});

import { Logger } from '@nestjs/common';
import { Namespace, type TenantAccess } from '@tenantry/contracts';
import { NatsService, type MessagingOptions } from '@tenantry/messaging';
import { double } from '@tenantry/testing';
import { TenantAccessFollower } from './tenant-access.follower.js';

const A = '0193a000-0000-7000-8000-00000000000a';
const B = '0193b000-0000-7000-8000-00000000000b';
const encoder = new TextEncoder();

function state(over: Partial<TenantAccess> = {}): TenantAccess {
  return {
    tenantId: A,
    status: 'active',
    statusReason: null,
    ipAllowList: [],
    apiCallsPerMinute: null,
    apiCallsPerDay: null,
    updatedAt: '2026-03-01T12:00:00.000Z',
    ...over,
  };
}

const value = (document: unknown) => encoder.encode(JSON.stringify(document));

function follower() {
  const nats = double(NatsService, {
    options: { namespace: new Namespace('unit') } as MessagingOptions,
  });
  return new TenantAccessFollower(nats);
}

beforeAll(() => Logger.overrideLogger(false));

describe('TenantAccessFollower', () => {
  it('follows the TENANT_ACCESS bucket of the service’s namespace', () => {
    expect(follower().bucket).toBe(new Namespace('unit').bucket('TENANT_ACCESS'));
  });

  it('holds each tenant’s state, barred when its status is one of BARRED_TENANT_STATUSES', () => {
    const states = follower();
    expect(states.get(A)).toBeUndefined();
    expect(states.put({ key: A, value: value(state()) })).toBe('applied');
    expect(states.get(A)).toMatchObject({ barred: false, limited: false, allowList: undefined });
    for (const status of ['suspended', 'deprovisioning', 'deleted', 'failed'] as const) {
      states.put({ key: A, value: value(state({ status, statusReason: 'why' })) });
      expect({ status, barred: states.get(A)?.barred }).toEqual({ status, barred: true });
    }
    for (const status of ['provisioning', 'active'] as const) {
      states.put({ key: A, value: value(state({ status })) });
      expect({ status, barred: states.get(A)?.barred }).toEqual({ status, barred: false });
    }
    expect(states.barredCount()).toBe(0);
  });

  it('compiles the IP allow list and notes API call limits', () => {
    const states = follower();
    states.put({
      key: A,
      value: value(
        state({ ipAllowList: ['10.0.0.0/8'], apiCallsPerMinute: 60, apiCallsPerDay: null }),
      ),
    });
    const entry = states.get(A)!;
    expect(entry.limited).toBe(true);
    expect(entry.allowList?.allows('10.9.9.9')).toBe(true);
    expect(entry.allowList?.allows('11.0.0.1')).toBe(false);
    states.put({ key: A, value: value(state({ apiCallsPerDay: 0 })) });
    expect(states.get(A)).toMatchObject({ limited: true, allowList: undefined });
  });

  it('keeps the previous state for a document that is not JSON, invalid, or another tenant’s', () => {
    const states = follower();
    states.put({ key: A, value: value(state({ status: 'suspended', statusReason: 'unpaid' })) });
    expect(states.put({ key: A, value: encoder.encode('{not json') })).toBe('invalid');
    expect(states.put({ key: A, value: value({ ...state(), status: 'sleeping' }) })).toBe(
      'invalid',
    );
    expect(states.put({ key: A, value: value({ tenantId: A }) })).toBe('invalid');
    expect(states.put({ key: A, value: value(state({ tenantId: B })) })).toBe('mismatched');
    expect(states.get(A)?.access).toMatchObject({ status: 'suspended', statusReason: 'unpaid' });
  });

  it('finds a tenant whatever the case of its id, and forgets a deleted key', () => {
    const states = follower();
    states.put({ key: A.toUpperCase(), value: value(state({ tenantId: A.toUpperCase() })) });
    expect(states.get(A)).toBeDefined();
    expect(states.get(A.toUpperCase())).toBeDefined();
    expect(states.size).toBe(1);
    states.remove(A.toUpperCase());
    expect(states.get(A)).toBeUndefined();
  });
});

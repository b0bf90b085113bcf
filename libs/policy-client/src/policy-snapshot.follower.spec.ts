import { Logger } from '@nestjs/common';
import { Namespace, PLATFORM_TENANT_ID } from '@tenantry/contracts';
import { NatsService, type MessagingOptions } from '@tenantry/messaging';
import { defaultPolicy, type PolicyDocument } from '@tenantry/policy-engine';
import { double } from '@tenantry/testing';
import {
  PolicySnapshotFollower,
  type PolicySnapshotConnection,
} from './policy-snapshot.follower.js';

const A = '0193a000-0000-7000-8000-00000000000a';
const B = '0193b000-0000-7000-8000-00000000000b';
const encoder = new TextEncoder();
const value = (document: unknown) => encoder.encode(JSON.stringify(document));
const v = (version: number, extra: Partial<PolicyDocument> = {}): PolicyDocument => ({
  ...defaultPolicy(A),
  version,
  ...extra,
});
const member = { kind: 'user', id: 'u1', tenantId: A, groups: ['tenantry:role:member'] } as const;

beforeAll(() => Logger.overrideLogger(false));

function setup() {
  const clock = { now: 1_000_000 };
  const nats = double(NatsService, {
    options: { namespace: new Namespace('ns') } as MessagingOptions,
  });
  const snapshots = new PolicySnapshotFollower(nats, { clock: () => clock.now });
  return { snapshots, clock };
}

describe('PolicySnapshotFollower', () => {
  it('follows the namespaced bucket', () => {
    expect(setup().snapshots.bucket).toBe('NS_POLICY_SNAPSHOTS');
  });

  it('takes the namespace given, else none, over a connection without options', () => {
    const connection = double(NatsService, {});
    expect(new PolicySnapshotFollower(connection, { namespace: 'acme' }).bucket).toBe(
      'ACME_POLICY_SNAPSHOTS',
    );
    expect(new PolicySnapshotFollower(connection, { namespace: new Namespace('b2') }).bucket).toBe(
      'B2_POLICY_SNAPSHOTS',
    );
    const plain = double<PolicySnapshotConnection>('connection', { options: undefined });
    expect(new PolicySnapshotFollower(plain).bucket).toBe('POLICY_SNAPSHOTS');
  });

  it('compiles each document and keeps the newest version; an older one never replaces it', () => {
    const { snapshots } = setup();
    expect(snapshots.put({ key: A, value: value(v(2)) })).toBe('applied');
    expect(snapshots.put({ key: A, value: value(v(1)) })).toBe('older');
    expect(snapshots.status(A)?.version).toBe(2);
    expect(snapshots.put({ key: A, value: value(v(2)) })).toBe('unchanged');
    expect(
      snapshots.put({
        key: A,
        value: value(v(3, { denyRules: [{ id: 'r', permissions: ['profile:write'] }] })),
      }),
    ).toBe('applied');
    expect(snapshots.store.decide(A, member, 'write', 'profile').reason.kind).toBe('deny-rule');
  });

  it('logs an invalid document and keeps the previous snapshot', () => {
    const { snapshots } = setup();
    snapshots.put({ key: A, value: value(v(1)) });
    expect(
      snapshots.put({
        key: A,
        value: value(
          v(2, { bindings: [{ id: 'x', roleId: 'nope', subject: { type: 'user', id: 'u' } }] }),
        ),
      }),
    ).toBe('invalid');
    expect(snapshots.put({ key: A, value: encoder.encode('{not json') })).toBe('invalid');
    expect(snapshots.status(A)?.version).toBe(1);
    expect(snapshots.store.decide(A, member, 'read', 'profile').allowed).toBe(true);
    // No snapshot to keep: still none.
    expect(snapshots.put({ key: B, value: value({ tenantId: B, version: 1 }) })).toBe('invalid');
    expect(snapshots.status(B)).toBeUndefined();
  });

  it("refuses a document stored under another tenant's key", () => {
    const { snapshots } = setup();
    expect(snapshots.put({ key: B, value: value(v(1)) })).toBe('mismatched');
    expect(snapshots.status(A)).toBeUndefined();
    expect(snapshots.status(B)).toBeUndefined();
  });

  it('forgets a deleted tenant: its decisions fail closed', () => {
    const { snapshots } = setup();
    snapshots.put({ key: A, value: value(v(1)) });
    snapshots.remove(A);
    expect(snapshots.store.decide(A, member, 'read', 'profile').reason.kind).toBe(
      'policy-unavailable',
    );
  });

  it('is not ready, saying why, until it watches live and holds a fresh platform policy', () => {
    const { snapshots, clock } = setup();
    expect(() => snapshots.assertReady()).toThrow(
      'not watching the policy snapshots (bucket NS_POLICY_SNAPSHOTS) yet',
    );
    // As if the watch were live (the integration spec runs the real one).
    Object.defineProperty(snapshots.follower, 'live', { get: () => true });
    expect(() => snapshots.assertReady()).toThrow(
      "the platform tenant's policy is not in the bucket NS_POLICY_SNAPSHOTS yet",
    );
    snapshots.put({ key: PLATFORM_TENANT_ID, value: value(defaultPolicy(PLATFORM_TENANT_ID)) });
    expect(() => snapshots.assertReady()).not.toThrow();
    clock.now += 31_000;
    expect(() => snapshots.assertReady()).toThrow(
      "the platform tenant's policy (version 1) is stale",
    );
  });
});

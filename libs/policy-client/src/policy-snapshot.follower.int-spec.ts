/**
 * The policy snapshot follower against the machine's NATS: it follows the policy service's puts
 * and deletes of the POLICY_SNAPSHOTS bucket, never goes back to an older version, and is not
 * ready until the platform tenant's policy is loaded. Over the platform's NatsService, and over
 * a plain @nats-io/transport-node connection (a product's own service).
 */
import { Logger } from '@nestjs/common';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Namespace, PLATFORM_TENANT_ID, PolicySnapshots } from '@tenantry/contracts';
import type { NatsService } from '@tenantry/messaging';
import { defaultPolicy, type PolicyDocument } from '@tenantry/policy-engine';
import {
  cleanupNamespace,
  connectTestNats,
  LOCAL_INFRA,
  testNamespace,
  waitFor,
} from '@tenantry/testing';
import { PolicySnapshotFollower } from './policy-snapshot.follower.js';

const A = '0193a000-0000-7000-8000-00000000000a';
const encoder = new TextEncoder();
const json = (document: PolicyDocument) => encoder.encode(JSON.stringify(document));
const within1s = (what: string, probe: () => boolean) =>
  waitFor(what, async () => probe() || undefined, { timeoutMs: 1_000, intervalMs: 10 });

function readiness(snapshots: PolicySnapshotFollower): string {
  try {
    snapshots.assertReady();
    return 'ready';
  } catch (error) {
    return (error as Error).message;
  }
}

beforeAll(() => Logger.overrideLogger(['error']));

describe('policy snapshot follower on the machine’s NATS', () => {
  const namespace = testNamespace('pcl');
  let nats: NatsService;
  let kv: KV;
  let snapshots: PolicySnapshotFollower;

  beforeAll(async () => {
    nats = await connectTestNats(LOCAL_INFRA.natsUrl, namespace);
    snapshots = new PolicySnapshotFollower(nats);
    snapshots.start();
    kv = await new Kvm(nats.js).create(new Namespace(namespace).bucket(PolicySnapshots.bucket), {
      history: 1,
    });
  });

  afterAll(async () => {
    await snapshots?.stop();
    await nats?.drain();
    await cleanupNamespace(namespace);
  });

  it('is not ready until the platform tenant’s policy is loaded, and says so', async () => {
    await waitFor('the watch', async () => snapshots.live || undefined, { timeoutMs: 10_000 });
    expect(readiness(snapshots)).toMatch(
      /the platform tenant's policy is not in the bucket .*_POLICY_SNAPSHOTS yet/,
    );
    await kv.put(PLATFORM_TENANT_ID, json(defaultPolicy(PLATFORM_TENANT_ID)));
    await waitFor('ready', async () => readiness(snapshots) === 'ready' || undefined, {
      timeoutMs: 1_000,
      intervalMs: 10,
    });
  });

  it('follows puts and deletes within 1 s, and never goes back to an older version', async () => {
    await kv.put(A, json({ ...defaultPolicy(A), version: 2 }));
    await within1s('version 2', () => snapshots.status(A)?.version === 2);
    const profile = () =>
      snapshots.store.decide(
        A,
        { kind: 'user', id: 'u', tenantId: A, groups: ['tenantry:role:member'] },
        'read',
        'profile',
      );
    expect(profile().allowed).toBe(true);

    await kv.put(
      A,
      json({
        ...defaultPolicy(A),
        version: 3,
        denyRules: [{ id: 'r', permissions: ['profile:read'] }],
      }),
    );
    await within1s('version 3', () => snapshots.status(A)?.version === 3);
    expect(profile().reason.kind).toBe('deny-rule');

    await kv.put(A, json({ ...defaultPolicy(A), version: 1 }));
    await kv.put(A, '{"tenantId": "not json at all"');
    // Neither the older version nor the broken document replaced version 3.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(snapshots.status(A)?.version).toBe(3);

    await kv.delete(A);
    await within1s('forgotten', () => snapshots.status(A) === undefined);
    expect(profile().reason.kind).toBe('policy-unavailable');
  });

  describe('over a plain @nats-io/transport-node connection', () => {
    let nc: NatsConnection;
    let plain: PolicySnapshotFollower;

    beforeAll(async () => {
      nc = await connect({ servers: LOCAL_INFRA.natsUrl });
      plain = await PolicySnapshotFollower.connect(nc, { namespace });
      plain.start();
    });

    afterAll(async () => {
      await plain?.stop();
      await nc?.close();
    });

    it('loads what the bucket holds, then follows it, in the namespace given', async () => {
      await plain.whenLive();
      expect(plain.bucket).toBe(new Namespace(namespace).bucket(PolicySnapshots.bucket));
      expect(readiness(plain)).toBe('ready');
      await kv.put(A, json({ ...defaultPolicy(A), version: 5 }));
      await within1s('version 5', () => plain.status(A)?.version === 5);
      expect(
        plain.store.decide(A, { kind: 'user', id: 'u', tenantId: A }, 'read', 'profile').reason
          .kind,
      ).toBe('no-grant');
      // stop() leaves the connection to its owner.
      await plain.stop();
      expect(nc.isClosed()).toBe(false);
    });
  });
});

import { Backoffs, type BackoffOptions, type FlowJob, type MinimalJob } from 'bullmq';
import {
  buildRunFlow,
  flowJobIds,
  retryDelayMs,
  stepJobId,
  type RetryPolicy,
} from './provisioning.flow.js';

const run = {
  id: '0193a0f0-0000-7000-8000-0000000000a1',
  tenantId: '0193a0f0-0000-7000-8000-0000000000b1',
  kind: 'provision' as const,
};
const policy: RetryPolicy = { attempts: 5, backoffMs: 200 };

/** The chain from its root to its leaf. */
function chain(flow: FlowJob): FlowJob[] {
  const nodes: FlowJob[] = [];
  for (let node: FlowJob | undefined = flow; node; node = node.children?.[0] as FlowJob)
    nodes.push(node);
  return nodes;
}

describe('a run as a BullMQ flow', () => {
  it('chains the steps so the first is the leaf (runs first) and the last is the root', () => {
    const flow = buildRunFlow(run, ['validate', 'allocate-storage', 'activate'], policy);
    expect(chain(flow).map((n) => n.name)).toEqual(['activate', 'allocate-storage', 'validate']);
    expect(chain(flow).every((n) => (n.children?.length ?? 0) <= 1)).toBe(true);
    expect(flow.queueName).toBe('provisioning');
    expect(flow.data).toEqual({
      ...{ runId: run.id, tenantId: run.tenantId },
      kind: 'provision',
      step: 'activate',
    });
  });

  it('gives every job a deterministic id (no colon: BullMQ refuses it) and fails the parents of a failed step', () => {
    const flow = buildRunFlow(run, ['validate', 'verify', 'activate'], policy);
    expect(flowJobIds(flow)).toEqual([
      `${run.id}.activate`,
      `${run.id}.verify`,
      `${run.id}.validate`,
    ]);
    expect(stepJobId(run.id, 'verify')).not.toContain(':');
    const [root, ...children] = chain(flow);
    expect(root!.opts).not.toHaveProperty('failParentOnFailure');
    for (const child of children) expect(child.opts).toMatchObject({ failParentOnFailure: true });
  });

  it('holds back only the first step of a run that waits (a deprovision run until its grace ends)', () => {
    const flow = buildRunFlow(
      { ...run, kind: 'deprovision' },
      ['export', 'delete'],
      policy,
      3_600_000,
    );
    const [root, leaf] = chain(flow);
    expect(root!.queueName).toBe('deprovisioning');
    expect(leaf!.opts).toMatchObject({ delay: 3_600_000 });
    expect(root!.opts).not.toHaveProperty('delay');
  });

  it('retries each step with exponential backoff: BullMQ waits 200, 400, 800, 1600 ms', async () => {
    const flow = buildRunFlow(run, ['validate'], policy);
    expect(flow.opts).toMatchObject({ attempts: 5 });
    const backoff = Backoffs.normalize(flow.opts!.backoff!) as BackoffOptions;
    const delays: number[] = [];
    for (let attemptsMade = 1; attemptsMade < 5; attemptsMade++) {
      delays.push(
        (await Backoffs.calculate(
          backoff,
          attemptsMade,
          new Error('x'),
          {} as MinimalJob,
        )) as number,
      );
    }
    expect(delays).toEqual([200, 400, 800, 1600]);
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, policy))).toEqual(delays);
  });

  it('refuses a run with no step left', () => {
    expect(() => buildRunFlow(run, [], policy)).toThrow(/no step left/);
  });
});

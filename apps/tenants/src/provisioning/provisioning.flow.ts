import type { FlowJob, JobsOptions } from 'bullmq';
import type { RunKind } from './provisioning-run.entity.js';

/** What every step job carries: which run, which step. */
export interface StepJobData {
  runId: string;
  tenantId: string;
  kind: RunKind;
  step: string;
}

/** The queue a run's jobs go to. */
export function queueOf(kind: RunKind): 'provisioning' | 'deprovisioning' {
  return kind === 'provision' ? 'provisioning' : 'deprovisioning';
}

/**
 * A step's job id: deterministic, so adding the same job twice (a retried enqueue, the
 * reconciler racing the original) is a no-op. BullMQ refuses `:` in custom ids, hence the dot.
 */
export function stepJobId(runId: string, step: string): string {
  return `${runId}.${step}`;
}

export interface RetryPolicy {
  /** Attempts per step, the first included. */
  attempts: number;
  /** The first retry's delay; doubled for each further retry. */
  backoffMs: number;
}

/** The options of a step's job: retried with exponential backoff, kept a while after it ends. */
export function stepJobOptions(runId: string, step: string, policy: RetryPolicy): JobsOptions {
  return {
    jobId: stepJobId(runId, step),
    attempts: policy.attempts,
    backoff: { type: 'exponential', delay: policy.backoffMs },
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
  };
}

/** Delay before attempt `attempt + 1` after `attempt` failed: BullMQ's exponential backoff. */
export function retryDelayMs(attempt: number, policy: RetryPolicy): number {
  return Math.round(2 ** (attempt - 1) * policy.backoffMs);
}

/**
 * The run's remaining steps as one BullMQ flow: a chain whose leaf is the first step and
 * whose root is the last, so each step runs only after the one before it completed, and a
 * step that finally fails fails every step after it (`failParentOnFailure`). `delayMs`
 * holds back the first step (a deprovision run waits for the end of its grace period).
 */
export function buildRunFlow(
  run: { id: string; tenantId: string; kind: RunKind },
  steps: readonly string[],
  policy: RetryPolicy,
  delayMs = 0,
): FlowJob {
  if (!steps.length) throw new Error(`run ${run.id} has no step left to enqueue`);
  const queueName = queueOf(run.kind);
  let node: FlowJob | undefined;
  steps.forEach((step, index) => {
    const data: StepJobData = { runId: run.id, tenantId: run.tenantId, kind: run.kind, step };
    const isRoot = index === steps.length - 1;
    const opts: JobsOptions = {
      ...stepJobOptions(run.id, step, policy),
      ...(isRoot ? {} : { failParentOnFailure: true }),
      ...(index === 0 && delayMs > 0 ? { delay: Math.round(delayMs) } : {}),
    };
    node = node
      ? { name: step, queueName, data, opts, children: [node] }
      : { name: step, queueName, data, opts };
  });
  return node!;
}

/** Every job id of a flow, root first. */
export function flowJobIds(flow: FlowJob): string[] {
  const ids: string[] = [];
  let node: FlowJob | undefined = flow;
  while (node) {
    if (node.opts?.jobId) ids.push(node.opts.jobId);
    node = node.children?.[0] as FlowJob | undefined;
  }
  return ids;
}

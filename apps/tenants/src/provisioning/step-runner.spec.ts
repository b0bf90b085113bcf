import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { AppError, ErrorCode, type Tenant, type TenantStatus } from '@tenantry/contracts';
import { Outbox, type OutboxMessage } from '@tenantry/persistence';
import { double } from '@tenantry/testing';
import { UnrecoverableError } from 'bullmq';
import { TenantService } from '../tenants/tenant.service.js';
import type { TenantsSettings } from '../tenants.settings.js';
import {
  ProvisioningRunEntity,
  ProvisioningStepEntity,
  type RunKind,
} from './provisioning-run.entity.js';
import { PermanentStepError } from './provisioning.errors.js';
import { ProvisioningRepository } from './provisioning.repository.js';
import { StepRegistry, type StepDefinition } from './step-registry.js';
import { StepRunner, type StepJob } from './step-runner.js';

const RUN = '0193a0f0-0000-7000-8000-0000000000a1';
const TENANT = '0193a0f0-0000-7000-8000-0000000000b1';

const settings: TenantsSettings = {
  provisioning: {
    attempts: 3,
    backoffMs: 1,
    lockMs: 1000,
    stalledIntervalMs: 1000,
    reconcileIntervalMs: 1000,
    concurrency: 1,
    rpcTimeoutMs: 1000,
  },
  exportDir: '/tmp',
  deprovisionGraceHours: 72,
};

/** The run's tables in memory, as the repository keeps them; `events` are the progress events committed. */
function memoryRuns(kind: RunKind, names: string[]) {
  const run: ProvisioningRunEntity = Object.assign(new ProvisioningRunEntity(), {
    id: RUN,
    tenantId: TENANT,
    kind,
    status: 'pending',
    input: { actor: 'operator:01a00000-0000-7000-8000-000000000001' },
    failedStep: null,
    error: null,
    requeues: 0,
    createdAt: new Date(),
    startedAt: null,
    finishedAt: null,
    notBefore: null,
  } satisfies Partial<ProvisioningRunEntity>) as ProvisioningRunEntity;
  const steps = names.map(
    (name, position): ProvisioningStepEntity =>
      Object.assign(new ProvisioningStepEntity(), {
        runId: RUN,
        name,
        service: 'test',
        position,
        status: 'pending',
        attempts: 0,
        startedAt: null,
        finishedAt: null,
        error: null,
        output: null,
      }) as ProvisioningStepEntity,
  );
  const events: { step: string | null; status: string }[] = [];
  const record = (messages: OutboxMessage[]) =>
    events.push(
      ...messages.map((m) => {
        const p = m.payload as { step: string | null; status: string };
        return { step: p.step, status: p.status };
      }),
    );
  const step = (name: string) => steps.find((s) => s.name === name)!;
  const repository = double(ProvisioningRepository, {
    findRun: async () => ({ ...run }),
    findSteps: async () => steps.map((s) => ({ ...s })),
    startStep: async (_id, name, messages) => {
      if (run.status !== 'pending' && run.status !== 'running') return null;
      run.status = 'running';
      const s = step(name);
      s.status = 'running';
      s.attempts++;
      record(messages);
      return s.attempts;
    },
    completeStep: async (_id, name, outcome, last, messages) => {
      const s = step(name);
      if (s.status === 'succeeded') return null;
      s.status = 'succeeded';
      s.error = null;
      s.output = outcome.output ?? {};
      if (last) run.status = 'succeeded';
      record(messages);
      return s.output;
    },
    recordAttemptError: async (_id, name, error, messages) => {
      step(name).error = error;
      record(messages);
    },
    beginCompensation: async (_id, name, error, messages) => {
      if (run.status !== 'pending' && run.status !== 'running') return false;
      Object.assign(run, { status: 'compensating', failedStep: name, error });
      Object.assign(step(name), { status: 'failed', error });
      record(messages);
      return true;
    },
    setStepStatus: async (_id, name, status, patch, messages) => {
      const s = step(name);
      s.status = status;
      if (patch.error !== undefined) s.error = patch.error;
      if (patch.output) s.output = { ...s.output, ...patch.output };
      record(messages);
    },
    finishRun: async (_id, status, failure, messages) => {
      run.status = status;
      if (failure.step) run.failedStep = failure.step;
      if (failure.error) run.error = failure.error;
      for (const s of steps) if (s.status === 'pending') s.status = 'skipped';
      record(messages);
    },
  });
  return { run, steps, events, repository, step };
}

/** A step that records its runs and compensations in `log`, failing with `fail` while it is set. */
function recordingStep(
  name: string,
  log: string[],
  options: { fail?: () => Error | undefined; compensate?: boolean } = {},
): StepDefinition {
  return {
    name,
    service: 'test',
    run: async () => {
      log.push(`run ${name}`);
      const error = options.fail?.();
      if (error) throw error;
      return { output: { did: name } };
    },
    ...(options.compensate === false
      ? {}
      : {
          compensate: async () => {
            log.push(`compensate ${name}`);
            return { undid: name };
          },
        }),
  };
}

function setup(
  kind: RunKind,
  definitions: StepDefinition[],
  transition: (to: TenantStatus) => Promise<Tenant> = async () => ({}) as Tenant,
) {
  const registry = new StepRegistry();
  for (const d of definitions) registry.register(kind, d);
  const memory = memoryRuns(
    kind,
    definitions.map((d) => d.name),
  );
  const transitions: { to: TenantStatus; from: readonly TenantStatus[]; reason?: string | null }[] =
    [];
  const tenants = double(TenantService, {
    transition: async (_id, to, opts) => {
      transitions.push({ to, from: opts.from, reason: opts.reason });
      return transition(to);
    },
  });
  const runner = new StepRunner(
    memory.repository,
    registry,
    tenants,
    double(Outbox, { kick: jest.fn<() => void>() }),
    settings,
  );
  const job = (step: string, attemptsMade = 0): StepJob => ({
    data: { runId: RUN, tenantId: TENANT, kind, step },
    attemptsMade,
    opts: { attempts: settings.provisioning.attempts },
  });
  return { runner, job, transitions, ...memory };
}

beforeAll(() => Logger.overrideLogger(false));

describe('StepRunner', () => {
  it('runs a step, records its output, and does nothing when the job is delivered again', async () => {
    const log: string[] = [];
    const { runner, job, step, events } = setup('provision', [
      recordingStep('a', log),
      recordingStep('b', log),
    ]);
    await expect(runner.process(job('a'))).resolves.toEqual({ did: 'a' });
    await expect(runner.process(job('a'))).resolves.toEqual({ did: 'a' });
    expect(log).toEqual(['run a']);
    expect(step('a')).toMatchObject({ status: 'succeeded', attempts: 1, output: { did: 'a' } });
    expect(events).toEqual([
      { step: 'a', status: 'running' },
      { step: 'a', status: 'succeeded' },
    ]);
  });

  it('finishes the run with its last step, publishing the run as succeeded', async () => {
    const log: string[] = [];
    const { runner, job, run, events } = setup('provision', [
      recordingStep('a', log),
      recordingStep('b', log),
    ]);
    await runner.process(job('a'));
    await runner.process(job('b'));
    expect(run.status).toBe('succeeded');
    expect(events.at(-1)).toEqual({ step: null, status: 'succeeded' });
  });

  it('refuses to run a step before the one ahead of it finished (the job is retried)', async () => {
    const log: string[] = [];
    const { runner, job } = setup('provision', [recordingStep('a', log), recordingStep('b', log)]);
    await expect(runner.process(job('b'))).rejects.toThrow(/waits for step a, which is pending/);
    expect(log).toEqual([]);
  });

  it('keeps the error of an attempt that will be retried, without compensating anything', async () => {
    const log: string[] = [];
    let failures = 1;
    const { runner, job, step, run } = setup('provision', [
      recordingStep('a', log),
      recordingStep('b', log, {
        fail: () =>
          failures-- > 0 ? new AppError(ErrorCode.ServiceUnavailable, 'b is away') : undefined,
      }),
    ]);
    await runner.process(job('a'));
    await expect(runner.process(job('b'))).rejects.toThrow('b is away');
    expect(step('b')).toMatchObject({ status: 'running', attempts: 1, error: 'b is away' });
    expect(run.status).toBe('running');
    await runner.process(job('b', 1));
    expect(step('b')).toMatchObject({ status: 'succeeded', attempts: 2, error: null });
    expect(log).toEqual(['run a', 'run b', 'run b']);
  });

  it('on the last attempt compensates the failed step and then the finished ones in reverse order, and leaves the tenant failed', async () => {
    const log: string[] = [];
    const { runner, job, run, step, transitions, events } = setup('provision', [
      recordingStep('validate', log, { compensate: false }),
      recordingStep('first', log),
      recordingStep('second', log),
      recordingStep('third', log, {
        fail: () =>
          new AppError(ErrorCode.ServiceUnavailable, 'the audit service is not available'),
      }),
      recordingStep('activate', log),
    ]);
    for (const name of ['validate', 'first', 'second']) await runner.process(job(name));
    await expect(runner.process(job('third', 2))).rejects.toBeInstanceOf(UnrecoverableError);
    expect(log).toEqual([
      'run validate',
      'run first',
      'run second',
      'run third',
      'compensate third',
      'compensate second',
      'compensate first',
    ]);
    expect(run).toMatchObject({
      status: 'failed',
      failedStep: 'third',
      error: 'the audit service is not available',
    });
    expect(step('validate').status).toBe('succeeded');
    expect(step('first').status).toBe('compensated');
    expect(step('second')).toMatchObject({
      status: 'compensated',
      output: { did: 'second', compensation: { undid: 'second' } },
    });
    expect(step('third')).toMatchObject({ status: 'failed', output: { compensated: true } });
    expect(step('activate').status).toBe('skipped');
    expect(transitions).toEqual([
      {
        to: 'failed',
        from: ['provisioning'],
        reason: 'provisioning failed at step third: the audit service is not available',
      },
    ]);
    expect(events.filter((e) => e.step === null)).toEqual([
      { step: null, status: 'compensating' },
      { step: null, status: 'failed' },
    ]);
  });

  it('fails at once, without using up the attempts, on an error another attempt cannot fix', async () => {
    const log: string[] = [];
    const { runner, job, run } = setup('provision', [
      recordingStep('a', log),
      recordingStep('b', log, {
        fail: () => new AppError(ErrorCode.ValidationFailed, 'admin.email: must be an email'),
      }),
    ]);
    await runner.process(job('a'));
    await expect(runner.process(job('b', 0))).rejects.toBeInstanceOf(UnrecoverableError);
    expect(run).toMatchObject({ status: 'failed', failedStep: 'b' });
    expect(log).toEqual(['run a', 'run b', 'compensate b', 'compensate a']);
  });

  it('records a compensation that keeps failing and goes on with the others', async () => {
    const log: string[] = [];
    const { runner, job, step, run } = setup('provision', [
      recordingStep('a', log),
      {
        ...recordingStep('b', log),
        compensate: async () => {
          log.push('compensate b (fails)');
          throw new AppError(ErrorCode.ServiceUnavailable, 'b is away');
        },
      },
      recordingStep('c', log, { fail: () => new PermanentStepError('c is impossible') }),
    ]);
    await runner.process(job('a'));
    await runner.process(job('b'));
    await expect(runner.process(job('c'))).rejects.toBeInstanceOf(UnrecoverableError);
    expect(log).toEqual([
      'run a',
      'run b',
      'run c',
      'compensate c',
      ...Array(settings.provisioning.attempts).fill('compensate b (fails)'),
      'compensate a',
    ]);
    expect(step('b')).toMatchObject({
      status: 'failed',
      error: 'compensation failed: b is away',
    });
    expect(step('a').status).toBe('compensated');
    expect(run.status).toBe('failed');
  });

  it('finishes a compensation a dead process left half done, without undoing a step twice', async () => {
    const log: string[] = [];
    const { runner, job, run, step } = setup('provision', [
      recordingStep('a', log),
      recordingStep('b', log),
      recordingStep('c', log),
    ]);
    await runner.process(job('a'));
    await runner.process(job('b'));
    // As a process that died after compensating b would leave it.
    Object.assign(run, { status: 'compensating', failedStep: 'c', error: 'lost' });
    Object.assign(step('c'), { status: 'failed', output: { compensated: true } });
    Object.assign(step('b'), { status: 'compensated' });
    await expect(runner.process(job('c'))).rejects.toBeInstanceOf(UnrecoverableError);
    expect(log).toEqual(['run a', 'run b', 'compensate a']);
    expect(run.status).toBe('failed');
  });

  it('stops a deprovision run that fails, compensating nothing and leaving the tenant as it is', async () => {
    const log: string[] = [];
    const { runner, job, run, transitions } = setup('deprovision', [
      recordingStep('export', log),
      recordingStep('remove', log, { fail: () => new PermanentStepError('nope') }),
    ]);
    await runner.process(job('export'));
    await expect(runner.process(job('remove'))).rejects.toBeInstanceOf(UnrecoverableError);
    expect(log).toEqual(['run export', 'run remove']);
    expect(run).toMatchObject({ status: 'failed', failedStep: 'remove', error: 'nope' });
    expect(transitions).toEqual([]);
  });

  it('does nothing for a cancelled run', async () => {
    const log: string[] = [];
    const { runner, job, run } = setup('deprovision', [recordingStep('export', log)]);
    run.status = 'cancelled';
    await expect(runner.process(job('export'))).resolves.toEqual({
      skipped: `run ${RUN} is cancelled`,
    });
    expect(log).toEqual([]);
  });
});

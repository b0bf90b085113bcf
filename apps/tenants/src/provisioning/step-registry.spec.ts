import { double } from '@tenantry/testing';
import { TenantService } from '../tenants/tenant.service.js';
import { ParticipantClient } from './participant.client.js';
import { ProvisioningRepository } from './provisioning.repository.js';
import { PROVISION_STEPS, ProvisionSteps } from './provision-steps.js';
import { StepRegistry, type StepDefinition } from './step-registry.js';

const step = (name: string, service = 'billing'): StepDefinition => ({
  name,
  service,
  run: async () => undefined,
});

/** The registry with the default provision steps, as the module registers them. */
function defaults(): StepRegistry {
  const registry = new StepRegistry();
  new ProvisionSteps(
    registry,
    double(TenantService),
    double(ParticipantClient),
    double(ProvisioningRepository),
  ).onModuleInit();
  return registry;
}

describe('StepRegistry', () => {
  it('holds the provision pipeline in its order: validate → allocate-storage → identity → policy → audit → verify → activate', () => {
    const registry = defaults();
    expect(registry.steps('provision').map((s) => s.name)).toEqual([
      'validate',
      'allocate-storage',
      'identity-bootstrap',
      'policy-bootstrap',
      'audit-genesis',
      'verify',
      'activate',
    ]);
    expect([...PROVISION_STEPS]).toEqual(registry.steps('provision').map((s) => s.name));
    expect(registry.steps('provision').map((s) => s.service)).toEqual([
      'tenants',
      'tenants',
      'identity',
      'policy',
      'audit',
      'tenants',
      'tenants',
    ]);
    // Only the participants' steps have something to undo and to verify.
    expect(
      registry
        .steps('provision')
        .filter((s) => s.compensate)
        .map((s) => s.name),
    ).toEqual(['identity-bootstrap', 'policy-bootstrap', 'audit-genesis']);
    expect(registry.steps('deprovision')).toEqual([]);
  });

  it('lets a later service put its own step after or before a registered one', () => {
    const registry = defaults();
    registry.register('provision', step('billing-account'), { after: 'policy-bootstrap' });
    registry.register('provision', step('billing-check'), { before: 'activate' });
    expect(registry.steps('provision').map((s) => s.name)).toEqual([
      'validate',
      'allocate-storage',
      'identity-bootstrap',
      'policy-bootstrap',
      'billing-account',
      'audit-genesis',
      'verify',
      'billing-check',
      'activate',
    ]);
    expect(registry.get('provision', 'billing-account')?.service).toBe('billing');
  });

  it('appends a step placed nowhere in particular, per pipeline', () => {
    const registry = new StepRegistry();
    registry.register('deprovision', step('export', 'tenants'));
    registry.register('deprovision', step('remove', 'tenants'));
    expect(registry.steps('deprovision').map((s) => s.name)).toEqual(['export', 'remove']);
    expect(registry.get('provision', 'export')).toBeUndefined();
  });

  it('refuses a second step of the same name, an unknown anchor, both anchors, and a bad name, naming them', () => {
    const registry = defaults();
    expect(() => registry.register('provision', step('verify'))).toThrow(
      'the provision pipeline already has a step named "verify"',
    );
    expect(() => registry.register('provision', step('x'), { after: 'nope' })).toThrow(
      /placed after "nope", which the provision pipeline does not have \(it has validate, allocate-storage/,
    );
    expect(() =>
      registry.register('provision', step('y'), { after: 'validate', before: 'activate' }),
    ).toThrow('give after or before, not both');
    expect(() => registry.register('provision', step('Not Kebab'))).toThrow(/must be kebab-case/);
  });
});

/**
 * Tenant templates against real PostgreSQL and NATS: kept, checked when written, rendered
 * with variables and overrides, and refused with the path of every problem.
 */
import { ErrorCode, TemplateRpc } from '@tenantry/contracts';
import { TemplateService } from '../src/templates/template.service.js';
import { TenantsHarness } from './tenants-core.harness.js';

const TRIAL = {
  key: 'trial-eu',
  name: 'EU trial',
  description: 'A starter tenant in the EU with a trial end',
  variables: [
    { name: 'company', type: 'string' as const },
    { name: 'slug', type: 'string' as const },
    { name: 'trialEnd', type: 'timestamp' as const, description: 'when the trial ends' },
    { name: 'timeout', type: 'number' as const, required: false, default: 60 },
  ],
  body: {
    name: '{{company}} (trial)',
    slug: '{{slug}}',
    plan: 'starter',
    region: 'eu-central',
    settings: { sessionTimeoutMinutes: '{{timeout}}', mfaRequired: true },
    trialEndsAt: '{{trialEnd}}',
  },
};

const VARIABLES = { company: 'Acme', slug: 'acme-trial', trialEnd: '2030-01-31T00:00:00Z' };

describe('tenant templates (PostgreSQL + NATS)', () => {
  let h: TenantsHarness;

  beforeAll(async () => {
    h = await TenantsHarness.start();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('creates, reads, lists, changes and deletes a template; audited in the platform log', async () => {
    const created = await h.call(TemplateRpc.create, TRIAL);
    expect(created).toMatchObject({
      key: 'trial-eu',
      variables: [
        { name: 'company', type: 'string', required: true },
        { name: 'slug', type: 'string', required: true },
        { name: 'trialEnd', type: 'timestamp', required: true },
        { name: 'timeout', type: 'number', required: false, default: 60 },
      ],
      body: TRIAL.body,
    });
    expect(await h.call(TemplateRpc.get, { key: 'trial-eu' })).toEqual(created);
    expect(await h.failure(TemplateRpc.create, TRIAL)).toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'TEMPLATE_KEY_TAKEN',
    });

    const other = await h.call(TemplateRpc.create, {
      key: 'blank',
      name: 'Blank',
      variables: [],
      body: { plan: 'free' },
    });
    expect((await h.call(TemplateRpc.list, {})).items.map((t) => t.key)).toEqual([
      'blank',
      'trial-eu',
    ]);
    const changed = await h.call(TemplateRpc.update, { key: 'blank', description: 'nothing set' });
    expect(changed).toMatchObject({ id: other.id, description: 'nothing set' });
    expect(await h.call(TemplateRpc.delete, { key: 'blank' })).toEqual({ deleted: true });
    expect(await h.failure(TemplateRpc.get, { key: 'blank' })).toMatchObject({
      code: ErrorCode.NotFound,
      reason: 'TEMPLATE_NOT_FOUND',
    });
    await h.auditEvents(
      (e) =>
        ['template.created', 'template.updated', 'template.deleted'].includes(e.action) &&
        e.tenantId === '00000000-0000-0000-0000-000000000000',
      4,
    );
  });

  it('refuses an invalid template with the path of each problem', async () => {
    const refused = await h.failure(TemplateRpc.create, {
      key: 'broken',
      name: 'Broken',
      variables: [
        { name: 'company', type: 'string' },
        { name: 'seats', type: 'number', default: 'ten' },
      ],
      body: {
        name: '{{company}}',
        slug: '{{compnay}}',
        settings: { sessionTimeoutMinutes: 1, colour: 'blue' },
      },
    });
    expect(refused).toMatchObject({ code: ErrorCode.ValidationFailed, reason: 'TEMPLATE_INVALID' });
    expect(refused.errors).toEqual(
      expect.arrayContaining([
        { field: 'variables.1.default', message: "must be a number (the variable's type)" },
        { field: 'body.slug', message: 'uses {{compnay}}, which is not a declared variable' },
        {
          field: 'body.settings.sessionTimeoutMinutes',
          message: 'must be an integer from 5 to 43200',
        },
        { field: 'body.settings', message: expect.stringContaining('colour') },
      ]),
    );
    expect(refused.message).toContain(
      'body.settings.sessionTimeoutMinutes: must be an integer from 5 to 43200',
    );
    expect(
      await h.failure(TemplateRpc.update, { key: 'trial-eu', body: { plan: 'platinum' } }),
    ).toMatchObject({ reason: 'TEMPLATE_INVALID', errors: [{ field: 'body.plan' }] });
  });

  it('renders with variables, defaults and dotted-path overrides into a valid tenant request', async () => {
    const { request } = await h.call(TemplateRpc.render, {
      key: 'trial-eu',
      variables: VARIABLES,
      overrides: { 'settings.ipAllowList': ['203.0.113.0/24'], 'limitOverrides.users': 40 },
    });
    expect(request).toEqual({
      name: 'Acme (trial)',
      slug: 'acme-trial',
      plan: 'starter',
      region: 'eu-central',
      isolation: 'rls',
      settings: { sessionTimeoutMinutes: 60, mfaRequired: true, ipAllowList: ['203.0.113.0/24'] },
      limitOverrides: { users: 40 },
      trialEndsAt: '2030-01-31T00:00:00Z',
    });
    // What provisioning's instantiate calls.
    const rendered = await h.get(TemplateService).render({
      key: 'trial-eu',
      variables: { ...VARIABLES, timeout: 120 },
      overrides: {},
    });
    expect(rendered.settings).toEqual({ sessionTimeoutMinutes: 120, mfaRequired: true });
  });

  it('names the path of every render problem: variables, overrides, and the rendered request', async () => {
    const render = (variables: Record<string, string | number | boolean>, overrides = {}) =>
      h.failure(TemplateRpc.render, { key: 'trial-eu', variables, overrides });

    const timeout = await render({ ...VARIABLES, timeout: 2 });
    expect(timeout).toMatchObject({
      code: ErrorCode.ValidationFailed,
      reason: 'TEMPLATE_RENDER_INVALID',
      errors: [
        { field: 'settings.sessionTimeoutMinutes', message: 'must be an integer from 5 to 43200' },
      ],
    });
    expect(timeout.message).toBe(
      'the template "trial-eu" does not render to a valid tenant: settings.sessionTimeoutMinutes: must be an integer from 5 to 43200',
    );

    const variables = await render({ company: 'Acme', seats: 4, trialEnd: 'next year' });
    expect(variables).toMatchObject({ reason: 'TEMPLATE_VARIABLES_INVALID' });
    expect(variables.errors).toEqual(
      expect.arrayContaining([
        {
          field: 'variables.seats',
          message: expect.stringContaining('is not a variable of the template trial-eu'),
        },
        { field: 'variables.slug', message: 'is required: a string' },
        { field: 'variables.trialEnd', message: expect.stringContaining('must be a timestamp') },
      ]),
    );

    expect(await render(VARIABLES, { 'settings.mfaRequired': 'yes' })).toMatchObject({
      reason: 'TEMPLATE_RENDER_INVALID',
      errors: [{ field: 'settings.mfaRequired', message: 'must be true or false' }],
    });
    expect(await render(VARIABLES, { 'name.first': 'x' })).toMatchObject({
      reason: 'TEMPLATE_OVERRIDES_INVALID',
      errors: [{ field: 'overrides.name.first' }],
    });
    expect(await render({ ...VARIABLES, slug: 'Not A Slug' })).toMatchObject({
      errors: [{ field: 'slug' }],
    });
    // Checked as a new tenant is: the network must parse, the region must be served.
    expect(await render(VARIABLES, { 'settings.ipAllowList': ['10.1.0.0/8'] })).toMatchObject({
      reason: 'TENANT_SETTINGS_INVALID',
      errors: [{ field: 'settings.ipAllowList.0' }],
    });
    expect(await render(VARIABLES, { region: 'mars' })).toMatchObject({
      reason: 'TENANT_REGION_UNKNOWN',
    });
    expect(await h.failure(TemplateRpc.render, { key: 'nope' })).toMatchObject({
      code: ErrorCode.NotFound,
    });
  });
});

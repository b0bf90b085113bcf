import { renderTemplate, templateProblems, type TemplateSource } from './template-render.js';

const TEMPLATE: TemplateSource = {
  key: 'trial-eu',
  variables: [
    { name: 'name', type: 'string', required: true },
    { name: 'slug', type: 'string', required: true },
    { name: 'timeout', type: 'number', required: false, default: 60 },
    { name: 'mfa', type: 'boolean', required: false },
    { name: 'trialEnd', type: 'timestamp', required: true, description: 'when the trial ends' },
  ],
  body: {
    name: '{{name}} (trial)',
    slug: '{{slug}}',
    plan: 'starter',
    settings: { sessionTimeoutMinutes: '{{timeout}}', mfaRequired: '{{mfa}}' },
    trialEndsAt: '{{trialEnd}}',
  },
};

const VARIABLES = { name: 'Acme', slug: 'acme', trialEnd: '2027-01-31T00:00:00Z' };

describe('renderTemplate', () => {
  it('substitutes typed variables and defaults, drops an absent optional one, and validates', () => {
    const result = renderTemplate(TEMPLATE, { variables: VARIABLES, overrides: {} });
    expect(result).toEqual({
      ok: true,
      request: {
        name: 'Acme (trial)',
        slug: 'acme',
        plan: 'starter',
        isolation: 'rls',
        settings: { sessionTimeoutMinutes: 60 },
        trialEndsAt: '2027-01-31T00:00:00Z',
      },
    });
  });

  it('applies overrides by dotted path, making objects on the way', () => {
    const result = renderTemplate(TEMPLATE, {
      variables: { ...VARIABLES, mfa: true },
      overrides: { 'settings.ipAllowList': ['10.0.0.0/8'], 'limitOverrides.users': 40 },
    });
    expect(result).toMatchObject({
      ok: true,
      request: {
        settings: { mfaRequired: true, ipAllowList: ['10.0.0.0/8'], sessionTimeoutMinutes: 60 },
        limitOverrides: { users: 40 },
      },
    });
  });

  it('names the path of a value the rendered request refuses', () => {
    const result = renderTemplate(TEMPLATE, {
      variables: { ...VARIABLES, timeout: 1 },
      overrides: {},
    });
    expect(result).toEqual({
      ok: false,
      stage: 'request',
      problems: [
        { field: 'settings.sessionTimeoutMinutes', message: 'must be an integer from 5 to 43200' },
      ],
    });
    const overridden = renderTemplate(TEMPLATE, {
      variables: VARIABLES,
      overrides: { 'settings.mfaRequired': 'yes' },
    });
    expect(overridden).toMatchObject({
      ok: false,
      problems: [{ field: 'settings.mfaRequired', message: 'must be true or false' }],
    });
  });

  it('names unknown, missing and mistyped variables together', () => {
    const result = renderTemplate(TEMPLATE, {
      variables: { name: 'Acme', seats: 3, timeout: 'sixty', trialEnd: 'tomorrow' },
      overrides: {},
    });
    expect(result).toMatchObject({ ok: false, stage: 'variables' });
    const fields = (result as { problems: { field: string; message: string }[] }).problems;
    expect(fields).toEqual(
      expect.arrayContaining([
        {
          field: 'variables.seats',
          message:
            'is not a variable of the template trial-eu (its variables: name, slug, timeout, mfa, trialEnd)',
        },
        { field: 'variables.slug', message: 'is required: a string' },
        { field: 'variables.timeout', message: 'must be a number' },
        {
          field: 'variables.trialEnd',
          message: expect.stringContaining('must be a timestamp (ISO 8601'),
        },
      ]),
    );
    expect(fields).toHaveLength(4);
  });

  it('refuses an override through a value that is not an object, naming it', () => {
    const result = renderTemplate(TEMPLATE, {
      variables: VARIABLES,
      overrides: { 'slug.first': 'x' },
    });
    expect(result).toEqual({
      ok: false,
      stage: 'overrides',
      problems: [
        {
          field: 'overrides.slug.first',
          message: 'cannot be set: slug is not an object in the rendered request',
        },
      ],
    });
  });

  it('names an unknown field in the rendered request', () => {
    const result = renderTemplate(
      { ...TEMPLATE, body: { ...TEMPLATE.body, colour: 'blue' } },
      { variables: VARIABLES, overrides: {} },
    );
    expect(result).toMatchObject({ ok: false, problems: [{ field: '(root)' }] });
    expect(JSON.stringify(result)).toContain('colour');
  });
});

describe('templateProblems', () => {
  it('accepts a template whose placeholders and missing fields the variables fill', () => {
    expect(templateProblems(TEMPLATE)).toEqual([]);
    expect(templateProblems({ ...TEMPLATE, body: { plan: 'free' } })).toEqual([]);
  });

  it('names undeclared placeholders, duplicate variables, mistyped defaults and bad literal values', () => {
    const problems = templateProblems({
      key: 'bad',
      variables: [
        { name: 'name', type: 'string', required: true },
        { name: 'name', type: 'string', required: true },
        { name: 'seats', type: 'number', required: false, default: 'ten' },
      ],
      body: {
        name: '{{name}}',
        slug: '{{company}}',
        settings: { sessionTimeoutMinutes: 2 },
        plan: 'platinum',
      },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        { field: 'variables.1.name', message: 'declares name a second time' },
        { field: 'variables.2.default', message: "must be a number (the variable's type)" },
        { field: 'body.slug', message: 'uses {{company}}, which is not a declared variable' },
        {
          field: 'body.settings.sessionTimeoutMinutes',
          message: 'must be an integer from 5 to 43200',
        },
        { field: 'body.plan', message: expect.stringContaining('must be one of free') },
      ]),
    );
    expect(problems).toHaveLength(5);
  });
});

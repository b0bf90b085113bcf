import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The system roles of a tenant (policy-engine `systemRoles('tenant')`), in its order. */
const ALL_ROLES = [
  'tenant-admin',
  'developer',
  'analyst',
  'auditor',
  'member',
  'viewer',
  'service-account',
];
const SEVEN_YEARS_DAYS = 7 * 365;

/**
 * The five plans, as data an operator edits afterwards (PlanRpc.update). Quotas are whole
 * numbers, or null for unlimited; features switch on what the services offer; roles are the
 * system roles a tenant on the plan is given by the policy bootstrap.
 */
const PLANS = [
  {
    key: 'free',
    name: 'Free',
    description: 'For trying Tenantry out: a handful of users, password and MFA sign-in.',
    quotas: {
      users: 5,
      apiCallsPerMinute: 60,
      apiCallsPerDay: 10_000,
      storageMb: 100,
      customRoles: 0,
      ssoConnections: 0,
      meteredUnitsPerMonth: 1_000,
      auditRetentionDays: 30,
    },
    features: ['mfa', 'api-keys', 'organizations'],
    roles: ['tenant-admin', 'member', 'viewer'],
  },
  {
    key: 'starter',
    name: 'Starter',
    description: 'For small teams: more users and one single sign-on connection.',
    quotas: {
      users: 25,
      apiCallsPerMinute: 300,
      apiCallsPerDay: 100_000,
      storageMb: 1_024,
      customRoles: 0,
      ssoConnections: 1,
      meteredUnitsPerMonth: 10_000,
      auditRetentionDays: 90,
    },
    features: ['mfa', 'api-keys', 'organizations', 'sso'],
    roles: ['tenant-admin', 'developer', 'member', 'viewer'],
  },
  {
    key: 'professional',
    name: 'Professional',
    description:
      'For growing companies: SSO and SCIM, custom roles, a year of audit log with exports.',
    quotas: {
      users: 250,
      apiCallsPerMinute: 1_200,
      apiCallsPerDay: 1_000_000,
      storageMb: 10_240,
      customRoles: 20,
      ssoConnections: 3,
      meteredUnitsPerMonth: 100_000,
      auditRetentionDays: 365,
    },
    features: ['mfa', 'api-keys', 'organizations', 'sso', 'scim', 'custom-roles', 'audit-export'],
    roles: ['tenant-admin', 'developer', 'analyst', 'auditor', 'member', 'viewer'],
  },
  {
    key: 'enterprise',
    name: 'Enterprise',
    description:
      'No limits, every feature, seven years of audit log, and schema or database isolation on request.',
    quotas: {
      users: null,
      apiCallsPerMinute: null,
      apiCallsPerDay: null,
      storageMb: null,
      customRoles: null,
      ssoConnections: null,
      meteredUnitsPerMonth: null,
      auditRetentionDays: SEVEN_YEARS_DAYS,
    },
    features: [
      'sso',
      'scim',
      'mfa',
      'custom-roles',
      'audit-export',
      'audit-sinks',
      'compliance-reports',
      'api-keys',
      'organizations',
      'isolation-schema',
      'isolation-database',
    ],
    roles: ALL_ROLES,
  },
  {
    key: 'custom',
    name: 'Custom',
    description:
      'Negotiated terms: starts as Enterprise; set its limits per tenant with overrides.',
    quotas: {
      users: null,
      apiCallsPerMinute: null,
      apiCallsPerDay: null,
      storageMb: null,
      customRoles: null,
      ssoConnections: null,
      meteredUnitsPerMonth: null,
      auditRetentionDays: SEVEN_YEARS_DAYS,
    },
    features: [
      'sso',
      'scim',
      'mfa',
      'custom-roles',
      'audit-export',
      'audit-sinks',
      'compliance-reports',
      'api-keys',
      'organizations',
      'isolation-schema',
      'isolation-database',
    ],
    roles: ALL_ROLES,
  },
];

/**
 * Plans: platform-level (one row per plan, no tenant data), so no row-level security.
 * `version` grows with every edit: tenants on the plan whose participants were configured
 * with an older version are configured again.
 */
export class CreatePlans1764600000100 implements MigrationInterface {
  name = 'CreatePlans1764600000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE plans (
        key text PRIMARY KEY,
        position integer NOT NULL,
        name text NOT NULL,
        description text NOT NULL,
        quotas jsonb NOT NULL,
        features jsonb NOT NULL,
        roles jsonb NOT NULL,
        version integer NOT NULL DEFAULT 1,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    for (const [position, plan] of PLANS.entries()) {
      await runner.query(
        `INSERT INTO plans (key, position, name, description, quotas, features, roles)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb)`,
        [
          plan.key,
          position,
          plan.name,
          plan.description,
          JSON.stringify(plan.quotas),
          JSON.stringify(plan.features),
          JSON.stringify(plan.roles),
        ],
      );
    }
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE plans`);
  }
}

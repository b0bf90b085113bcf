// The policy the table tests decide against: one tenant, every feature once.
import type { Condition, Day, PolicyDocument } from '../document.js';

/** Monday 2026-11-30 10:00 UTC (11:00 in Paris, 05:00 in New York). */
export const MON = Date.parse('2026-11-30T10:00:00Z');
/** Saturday 2026-11-28 09:12 UTC (10:12 in Paris). */
export const SAT = Date.parse('2026-11-28T09:12:00Z');
export const MINUTE = 60_000;

const paris = (days: Day[] | undefined, from: string, to: string): Condition => ({
  type: 'time-window',
  timeZone: 'Europe/Paris',
  ...(days ? { days } : {}),
  from,
  to,
});

export const ACME: PolicyDocument = {
  schemaVersion: 1,
  tenantId: 'acme',
  version: 7,
  roles: [
    { id: 'viewer', template: 'viewer' },
    { id: 'analyst', template: 'analyst' },
    { id: 'service-account', template: 'service-account' },
    { id: 'fin-reader', template: 'department-reader', variables: { department: 'finance' } },
    { id: 'clerk', name: 'Invoice Clerk', permissions: ['invoices:read', 'invoices:write'] },
    { id: 'senior', name: 'Senior Clerk', permissions: ['invoices:approve'], inherits: ['clerk'] },
    { id: 'head', name: 'Head of Finance', permissions: ['reports:*'], inherits: ['senior'] },
    { id: 'r1', name: 'Level 1', permissions: ['level1:read'], inherits: ['r2'] },
    { id: 'r2', name: 'Level 2', permissions: ['level2:read'], inherits: ['r3'] },
    { id: 'r3', name: 'Level 3', permissions: ['level3:read'], inherits: ['r4'] },
    { id: 'r4', name: 'Level 4', permissions: ['level4:read'], inherits: ['r5'] },
    { id: 'r5', name: 'Level 5', permissions: ['archive:purge'] },
    { id: 'project-dev', name: 'Project developer', permissions: ['projects:*'] },
    { id: 'emea-reader', name: 'EMEA reader', permissions: ['orgs/emea/*:read'] },
    { id: 'p42-writer', name: 'Project 42 writer', permissions: ['projects/42:write'] },
    { id: 'approver', name: 'Approver of anything', permissions: ['*:approve'] },
    { id: 'invoice-all', name: 'Invoice owner', permissions: ['invoices:*'] },
    {
      id: 'break-glass',
      name: 'Break glass',
      permissions: ['*:*'],
      conditions: [{ type: 'mfa-within', minutes: 5 }],
    },
    { id: 'contractor', name: 'Contractor', permissions: ['tasks:read'] },
    { id: 'office', name: 'Office worker', permissions: ['docs:edit'] },
  ],
  bindings: [
    { id: 'b1', roleId: 'senior', subject: { type: 'user', id: 'alice' } },
    { id: 'b2', roleId: 'head', subject: { type: 'user', id: 'bob' } },
    { id: 'b3', roleId: 'r1', subject: { type: 'user', id: 'carol' } },
    {
      id: 'b4',
      roleId: 'project-dev',
      subject: { type: 'group', id: 'eng' },
      scope: 'projects/42',
    },
    { id: 'b5', roleId: 'viewer', subject: { type: 'user', id: 'dave' }, scope: 'projects/42' },
    { id: 'b6', roleId: 'emea-reader', subject: { type: 'user', id: 'erin' } },
    { id: 'b7', roleId: 'p42-writer', subject: { type: 'user', id: 'frank' } },
    { id: 'b8', roleId: 'approver', subject: { type: 'user', id: 'gina' } },
    { id: 'b9', roleId: 'invoice-all', subject: { type: 'user', id: 'hank' } },
    {
      id: 'b10',
      roleId: 'clerk',
      subject: { type: 'user', id: 'ivan' },
      expiresAt: '2026-06-01T00:00:00Z',
    },
    {
      id: 'b11',
      roleId: 'clerk',
      subject: { type: 'user', id: 'judy' },
      conditions: [{ type: 'cidr', ranges: ['10.0.0.0/8', '2001:db8::/32', '192.168.1.7'] }],
    },
    {
      id: 'b12',
      roleId: 'office',
      subject: { type: 'user', id: 'ken' },
      conditions: [paris(['mon', 'tue', 'wed', 'thu', 'fri'], '09:00', '18:00')],
    },
    {
      id: 'b13',
      roleId: 'office',
      subject: { type: 'user', id: 'leo' },
      conditions: [
        {
          type: 'time-window',
          timeZone: 'America/New_York',
          days: ['fri'],
          from: '22:00',
          to: '06:00',
        },
      ],
    },
    { id: 'b14', roleId: 'break-glass', subject: { type: 'user', id: 'mia' } },
    {
      id: 'b15',
      roleId: 'clerk',
      subject: { type: 'user', id: 'ned' },
      conditions: [{ type: 'cidr', ranges: ['10.0.0.0/8'], onFail: 'step-up', stepUpMinutes: 30 }],
    },
    {
      id: 'b16',
      roleId: 'clerk',
      subject: { type: 'user', id: 'olga' },
      conditions: [{ type: 'country', in: ['FR', 'DE'] }],
    },
    {
      id: 'b17',
      roleId: 'clerk',
      subject: { type: 'user', id: 'pat' },
      conditions: [{ type: 'device-trust', atLeast: 'managed' }],
    },
    {
      id: 'b18',
      roleId: 'office',
      subject: { type: 'user', id: 'quinn' },
      conditions: [
        { type: 'attribute', key: 'resource.owner', op: 'eq', valueFrom: 'principal.id' },
      ],
    },
    { id: 'b19', roleId: 'invoice-all', subject: { type: 'api_key', id: 'k1' } },
    { id: 'b20', roleId: 'service-account', subject: { type: 'service_account', id: 's1' } },
    { id: 'b21', roleId: 'contractor', subject: { type: 'user', id: 'rita' } },
    { id: 'b22', roleId: 'invoice-all', subject: { type: 'user', id: 'rita' } },
    { id: 'b23', roleId: 'fin-reader', subject: { type: 'user', id: 'sam' } },
    { id: 'b24', roleId: 'clerk', subject: { type: 'user', id: 'tom' }, scope: 'projects/42' },
    {
      id: 'b25',
      roleId: 'office',
      subject: { type: 'user', id: 'uma' },
      conditions: [paris(undefined, '02:00', '03:00')],
    },
    {
      id: 'b26',
      roleId: 'clerk',
      subject: { type: 'user', id: 'vic' },
      conditions: [{ type: 'attribute', key: 'amount', op: 'lte', value: 1000 }],
    },
    { id: 'b27', roleId: 'analyst', subject: { type: 'user', id: 'wade' } },
    { id: 'b28', roleId: 'analyst', subject: { type: 'user', id: 'mia' } },
    { id: 'b29', roleId: 'break-glass', subject: { type: 'user', id: 'xena' } },
    {
      id: 'b30',
      roleId: 'office',
      subject: { type: 'user', id: 'yuri' },
      conditions: [paris(['sat'], '22:00', '06:00')],
    },
    {
      id: 'b31',
      roleId: 'clerk',
      subject: { type: 'user', id: 'abe' },
      conditions: [{ type: 'cidr', ranges: ['fd00:1:2:3:4::/80', '::1'] }],
    },
  ],
  denyRules: [
    {
      id: 'd1',
      name: 'no weekend invoice writes',
      permissions: ['invoices:write'],
      conditions: [paris(['sat', 'sun'], '00:00', '24:00')],
    },
    {
      id: 'd2',
      name: 'contractors never delete',
      permissions: ['*:delete'],
      subjects: [{ type: 'role', id: 'contractor' }],
    },
    {
      id: 'd3',
      name: 'exports need recent MFA',
      permissions: ['*:export'],
      unless: [{ type: 'mfa-within', minutes: 10 }],
    },
    { id: 'd4', permissions: ['invoices/13:*'], subjects: [{ type: 'user', id: 'hank' }] },
    {
      id: 'd5',
      name: 'project secrets',
      permissions: ['*:read'],
      scope: 'projects/42/secrets',
      subjects: [{ type: 'group', id: 'eng' }],
    },
    {
      id: 'd6',
      name: 'report exports need MFA within 30 minutes',
      permissions: ['reports:export'],
      unless: [{ type: 'mfa-within', minutes: 30 }],
    },
  ],
};

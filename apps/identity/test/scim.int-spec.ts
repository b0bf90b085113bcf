import {
  AppError,
  AuthRpc,
  ErrorCode,
  IdentityEvents,
  ScimDirectoryRpc,
  ScimErrorReason,
  ScimRpc,
  ScimSchemas,
  UserRpc,
  type AuditEvent,
  type CreatedScimDirectory,
  type ScimResource,
} from '@tenantry/contracts';
import { TenantTransactions } from '@tenantry/persistence';
import { waitFor } from '@tenantry/testing';
import type { z } from 'zod';
import { SessionService } from '../src/sessions/session.service.js';
import { client, IdentityHarness } from './identity.harness.js';

type Revoked = z.infer<typeof IdentityEvents.sessionRevoked.schema>;

const ADMIN = 'operator:01a00000-0000-7000-8000-0000000000cc';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/*
 * Request shapes as Okta's and Microsoft Entra ID's public SCIM documentation shows them
 * ("Okta and SCIM Version 2.0", developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20;
 * "Tutorial: Develop and plan provisioning for a SCIM endpoint in Microsoft Entra ID" and
 * "Known issues and resolutions with SCIM 2.0 protocol compliance of the Microsoft Entra
 * user provisioning service", learn.microsoft.com). Ids the IdP learned from our answers
 * are filled in where the documents have theirs.
 */
const okta = {
  createUser: (userName: string) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName,
    name: { givenName: 'Test', familyName: 'User' },
    emails: [{ primary: true, value: userName, type: 'work' }],
    displayName: 'Test User',
    locale: 'en-US',
    externalId: '00ujl29u0le5T6Aj10h7',
    groups: [],
    password: '1mz050nq',
    active: true,
  }),
  deactivate: {
    schemas: [PATCH_OP],
    Operations: [{ op: 'replace', value: { active: false } }],
  },
  reactivate: {
    schemas: [PATCH_OP],
    Operations: [{ op: 'replace', value: { active: true } }],
  },
  createGroup: (displayName: string) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
    displayName,
    members: [],
  }),
  renameGroup: (id: string, displayName: string) => ({
    schemas: [PATCH_OP],
    Operations: [{ op: 'replace', value: { id, displayName } }],
  }),
  addMembers: (members: { value: string; display: string }[]) => ({
    schemas: [PATCH_OP],
    Operations: [{ op: 'add', path: 'members', value: members }],
  }),
  removeMember: (id: string) => ({
    schemas: [PATCH_OP],
    Operations: [{ op: 'remove', path: `members[value eq "${id}"]` }],
  }),
};

const entra = {
  /** Entra's sample; its userName (a test GUID) is not an email address, which we refuse. */
  createUserSample: {
    schemas: [
      'urn:ietf:params:scim:schemas:core:2.0:User',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
    ],
    externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
    userName: 'Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1',
    active: true,
    emails: [
      {
        primary: true,
        type: 'work',
        value: 'Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com',
      },
    ],
    meta: { resourceType: 'User' },
    name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
    roles: [],
  },
  /** The same with the userPrincipalName as userName (Entra's default mapping), and the extension. */
  createUser: (userName: string, externalId: string) => ({
    schemas: [
      'urn:ietf:params:scim:schemas:core:2.0:User',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
    ],
    externalId,
    userName,
    active: true,
    emails: [{ primary: true, type: 'work', value: userName }],
    meta: { resourceType: 'User' },
    name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
    roles: [],
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': {
      employeeNumber: '701984',
      department: 'Tour Operations',
    },
  }),
  updateMultiValued: {
    schemas: [PATCH_OP],
    Operations: [
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@microsoft.com' },
      { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
    ],
  },
  updateUserName: (userName: string) => ({
    schemas: [PATCH_OP],
    Operations: [{ op: 'Replace', path: 'userName', value: userName }],
  }),
  /** Before the aadOptscim062020 flag, Entra sends booleans as the strings "False" / "True". */
  disable: {
    schemas: [PATCH_OP],
    Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
  },
  enable: {
    schemas: [PATCH_OP],
    Operations: [{ op: 'Replace', path: 'active', value: 'True' }],
  },
  updateManager: (managerId: string) => ({
    schemas: [PATCH_OP],
    Operations: [
      {
        op: 'Add',
        path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager',
        value: managerId,
      },
    ],
  }),
  createGroup: (displayName: string) => ({
    schemas: [
      'urn:ietf:params:scim:schemas:core:2.0:Group',
      'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group',
    ],
    externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
    displayName,
    meta: { resourceType: 'Group' },
  }),
  renameGroup: (displayName: string) => ({
    schemas: [PATCH_OP],
    Operations: [{ op: 'Replace', path: 'displayName', value: displayName }],
  }),
  addMembers: (ids: string[]) => ({
    schemas: [PATCH_OP],
    Operations: [
      { op: 'Add', path: 'members', value: ids.map((value) => ({ $ref: null, value })) },
    ],
  }),
  removeMembers: (ids: string[]) => ({
    schemas: [PATCH_OP],
    Operations: [
      { op: 'Remove', path: 'members', value: ids.map((value) => ({ $ref: null, value })) },
    ],
  }),
};

describe('SCIM 2.0 directory sync', () => {
  let h: IdentityHarness;

  beforeAll(async () => {
    h = await IdentityHarness.start();
  });

  afterAll(async () => {
    await h?.close();
  });

  /** A tenant with a SCIM directory (as its admin makes it). */
  async function directoryOf(
    slug: string,
    mapping: {
      defaultRole?: string | null;
      groupRoles?: { group: string; roles: string[] }[];
    } = {},
  ): Promise<{ tenantId: string; directory: CreatedScimDirectory; token: string }> {
    const tenant = h.addTenant(slug);
    const directory = await h.call(
      ScimDirectoryRpc.create,
      { tenantId: tenant.id, name: `${slug} IdP`, ...mapping },
      ADMIN,
    );
    return { tenantId: tenant.id, directory, token: directory.token };
  }

  /** The SCIM error a request fails with: its status, scimType and detail as the gateway shows them. */
  async function scimFailure(promise: Promise<unknown>): Promise<AppError> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof AppError) return error;
      throw error;
    }
    throw new Error('the SCIM request succeeded, but the test expected it to fail');
  }

  /** Opens a session for the user as an SSO sign-in would; returns its id and refresh token. */
  async function openSession(tenantId: string, userId: string) {
    const opened = h.get(SessionService).open({
      tenantId,
      userId,
      amr: ['ext'],
      authTime: new Date(),
      client: client(),
      lifetimeSeconds: 3600,
    });
    await h.get(TenantTransactions).batch(tenantId, opened.statements);
    return { sessionId: opened.session.id, refreshToken: opened.refreshToken };
  }

  async function session(id: string): Promise<{ revoked_at: Date | null; revoked_reason: string }> {
    const [row] = (await h.db.query(
      `SELECT revoked_at, revoked_reason FROM sessions WHERE id = $1`,
      [id],
    )) as { revoked_at: Date | null; revoked_reason: string }[];
    return row!;
  }

  /** Waits until the EVENTS stream announces the session's revocation (the outbox publishes it). */
  async function announcedRevoked(sessionId: string): Promise<Revoked> {
    return waitFor(
      `the revocation of session ${sessionId}`,
      async () =>
        (await h.streamMessages<Revoked>('EVENTS')).find(
          (m) =>
            m.subject.endsWith(IdentityEvents.sessionRevoked.subject) &&
            m.data.sessionId === sessionId,
        )?.data,
      { timeoutMs: 15_000, intervalMs: 100 },
    );
  }

  const rolesOf = async (tenantId: string, userId: string) =>
    (await h.call(UserRpc.get, { tenantId, userId }, ADMIN)).roles;

  describe('directories', () => {
    it('makes a directory with its base URL and a token shown once and stored only as a hash', async () => {
      const { tenantId, directory, token } = await directoryOf('dir-make');
      expect(directory).toMatchObject({
        tenantId,
        name: 'dir-make IdP',
        defaultRole: 'member',
        groupRoles: [],
        scimBaseUrl: 'https://tenantry.test/scim/v2',
        createdBy: ADMIN,
      });
      expect(token).toMatch(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
      const got = await h.call(ScimDirectoryRpc.get, { tenantId, directoryId: directory.id });
      expect(got).not.toHaveProperty('token');
      expect(JSON.stringify(got)).not.toContain(token.split('.')[1]);
      const [row] = (await h.db.query(
        `SELECT token_id, token_hash FROM scim_directories WHERE id = $1`,
        [directory.id],
      )) as { token_id: string; token_hash: string }[];
      expect(row!.token_id).toBe(token.split('.')[0]);
      expect(row!.token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(row!.token_hash).not.toContain(token.split('.')[1]);
      expect(
        await h.db.query(
          `SELECT tenant_id FROM credential_lookup WHERE kind = 'scim_token' AND public_id = $1`,
          [row!.token_id],
        ),
      ).toEqual([{ tenant_id: tenantId }]);
      const page = await h.call(ScimDirectoryRpc.list, { tenantId, limit: 10 });
      expect(page.items.map((d) => d.id)).toEqual([directory.id]);
      const [audit] = await h.auditEvents(
        (e) => e.action === 'scim-directory.created' && e.target?.id === directory.id,
      );
      expect(audit!.actor).toMatchObject({ type: 'operator' });
    });

    it('refuses the platform role in a mapping, naming the field', async () => {
      const tenant = h.addTenant('dir-roles');
      expect(
        await h.failure(
          ScimDirectoryRpc.create,
          {
            tenantId: tenant.id,
            name: 'x',
            groupRoles: [{ group: 'Admins', roles: ['tenant-admin', 'platform-operator'] }],
          },
          ADMIN,
        ),
      ).toMatchObject({
        code: ErrorCode.ValidationFailed,
        reason: ScimErrorReason.RoleNotAllowed,
        errors: [{ field: 'groupRoles.0.roles' }],
      });
    });

    it('rotates the token (the old one stops at once) and deletes the directory (its token stops, its users stay)', async () => {
      const { tenantId, directory, token } = await directoryOf('dir-rotate');
      const user = await h.call(ScimRpc.createUser, {
        token,
        body: okta.createUser('rotate@dir.test'),
      });
      const rotated = await h.call(
        ScimDirectoryRpc.rotateToken,
        { tenantId, directoryId: directory.id },
        ADMIN,
      );
      expect(rotated.token).not.toBe(token);
      expect(
        await scimFailure(h.call(ScimRpc.getUser, { token, id: user.id as string })),
      ).toMatchObject({
        code: ErrorCode.Unauthenticated,
        reason: ScimErrorReason.TokenInvalid,
      });
      await expect(
        h.call(ScimRpc.getUser, { token: rotated.token, id: user.id as string }),
      ).resolves.toMatchObject({ userName: 'rotate@dir.test' });

      await h.call(ScimDirectoryRpc.delete, { tenantId, directoryId: directory.id }, ADMIN);
      expect(await scimFailure(h.call(ScimRpc.listUsers, { token: rotated.token }))).toMatchObject({
        code: ErrorCode.Unauthenticated,
        reason: ScimErrorReason.TokenInvalid,
      });
      expect(
        await h.failure(ScimDirectoryRpc.get, { tenantId, directoryId: directory.id }),
      ).toMatchObject({ code: ErrorCode.NotFound, reason: ScimErrorReason.DirectoryNotFound });
      // The user stays, as it was, no longer managed.
      await expect(
        h.call(UserRpc.get, { tenantId, userId: user.id as string }),
      ).resolves.toMatchObject({ status: 'active', email: 'rotate@dir.test' });
      const [row] = (await h.db.query(
        `SELECT scim_directory_id, scim_external_id FROM users WHERE id = $1`,
        [user.id],
      )) as { scim_directory_id: string | null; scim_external_id: string | null }[];
      expect(row).toEqual({ scim_directory_id: null, scim_external_id: null });
      await h.auditEvents(
        (e) => e.action === 'scim-directory.token-rotated' && e.target?.id === directory.id,
      );
      await h.auditEvents(
        (e) => e.action === 'scim-directory.deleted' && e.target?.id === directory.id,
      );
    });

    it('answers malformed, unknown and forged tokens with the one 401', async () => {
      const { token } = await directoryOf('dir-tokens');
      const [id, secret] = token.split('.');
      for (const bad of [
        '',
        'garbage',
        `${id}.${'A'.repeat(43)}`,
        `01a00000-0000-7000-8000-000000000000.${secret}`,
      ]) {
        expect(await scimFailure(h.call(ScimRpc.listUsers, { token: bad || 'x' }))).toMatchObject({
          code: ErrorCode.Unauthenticated,
          reason: ScimErrorReason.TokenInvalid,
        });
      }
    });
  });

  describe('Okta', () => {
    it('probes, creates a user without a password or invitation, refuses a duplicate, deactivates (revoking sessions) and reactivates', async () => {
      const { tenantId, directory, token } = await directoryOf('okta-users');
      const probe = await h.call(ScimRpc.listUsers, {
        token,
        filter: 'userName eq "test.user@okta.local"',
        startIndex: '1',
        count: '100',
      });
      expect(probe).toEqual({
        schemas: [ScimSchemas.listResponse],
        totalResults: 0,
        startIndex: 1,
        itemsPerPage: 0,
        Resources: [],
      });

      const created = await h.call(ScimRpc.createUser, {
        token,
        body: okta.createUser('Test.User@okta.local'),
      });
      const id = created.id as string;
      expect(created).toMatchObject({
        schemas: [ScimSchemas.user],
        userName: 'test.user@okta.local',
        displayName: 'Test User',
        active: true,
        externalId: '00ujl29u0le5T6Aj10h7',
        name: { givenName: 'Test', familyName: 'User' },
        emails: [{ primary: true, value: 'Test.User@okta.local', type: 'work' }],
        locale: 'en-US',
        groups: [],
        meta: {
          resourceType: 'User',
          location: `https://tenantry.test/scim/v2/Users/${id}`,
        },
      });
      expect(created).not.toHaveProperty('password');
      const user = await h.call(UserRpc.get, { tenantId, userId: id });
      expect(user).toMatchObject({ status: 'active', roles: ['member'], displayName: 'Test User' });
      const [stored] = (await h.db.query(
        `SELECT password_hash, scim_attributes, scim_directory_id FROM users WHERE id = $1`,
        [id],
      )) as { password_hash: string | null; scim_attributes: object; scim_directory_id: string }[];
      expect(stored!.password_hash).toBeNull();
      expect(stored!.scim_directory_id).toBe(directory.id);
      expect(JSON.stringify(stored!.scim_attributes)).not.toContain('1mz050nq');
      // No invitation: no token, no mail queued.
      expect(await h.db.query(`SELECT 1 FROM user_tokens WHERE user_id = $1`, [id])).toEqual([]);
      expect(
        await h.db.query(`SELECT 1 FROM outgoing_mail WHERE recipient = $1`, [
          'test.user@okta.local',
        ]),
      ).toEqual([]);

      const duplicate = await scimFailure(
        h.call(ScimRpc.createUser, { token, body: okta.createUser('TEST.USER@okta.local') }),
      );
      expect(duplicate).toMatchObject({
        code: ErrorCode.Conflict,
        reason: ScimErrorReason.Uniqueness,
        errors: [{ field: 'userName' }],
      });

      const found = await h.call(ScimRpc.listUsers, {
        token,
        filter: 'userName eq "TEST.user@okta.local"',
        startIndex: '1',
        count: '100',
      });
      expect(found).toMatchObject({ totalResults: 1, Resources: [{ id }] });

      const { sessionId, refreshToken } = await openSession(tenantId, id);
      const deactivated = await h.call(ScimRpc.patchUser, { token, id, body: okta.deactivate });
      expect(deactivated).toMatchObject({ active: false, userName: 'test.user@okta.local' });
      expect(await h.call(UserRpc.get, { tenantId, userId: id })).toMatchObject({
        status: 'disabled',
      });
      expect(await session(sessionId)).toMatchObject({ revoked_reason: 'user_disabled' });
      expect((await session(sessionId)).revoked_at).not.toBeNull();
      await expect(
        h.call(AuthRpc.refresh, { refreshToken, client: client() }),
      ).rejects.toMatchObject({ code: ErrorCode.Unauthenticated });
      const [disabled] = await h.auditEvents(
        (e) => e.action === 'user.disabled' && e.target?.id === id,
      );
      expect(disabled!.actor).toEqual({ type: 'service', id: `scim:${directory.id}` });
      expect(disabled!.data).toMatchObject({ revokedSessions: 1, scimDirectoryId: directory.id });
      await announcedRevoked(sessionId);

      const reactivated = await h.call(ScimRpc.patchUser, { token, id, body: okta.reactivate });
      expect(reactivated).toMatchObject({ active: true });
      expect(await h.call(UserRpc.get, { tenantId, userId: id })).toMatchObject({
        status: 'active',
      });
    });

    it('pushes a group and its memberships; membership changes recompute roles', async () => {
      const { tenantId, token } = await directoryOf('okta-groups', {
        groupRoles: [
          { group: 'Engineering', roles: ['tenant-admin'] },
          { group: 'Support', roles: ['support-agent'] },
        ],
      });
      const ana = await h.call(ScimRpc.createUser, {
        token,
        body: okta.createUser('ana@okta.test'),
      });
      const bo = await h.call(ScimRpc.createUser, {
        token,
        body: { ...okta.createUser('bo@okta.test'), externalId: '00u2' },
      });
      const group = await h.call(ScimRpc.createGroup, {
        token,
        body: okta.createGroup('Engineering'),
      });
      expect(group).toMatchObject({
        schemas: [ScimSchemas.group],
        displayName: 'Engineering',
        members: [],
        meta: { resourceType: 'Group' },
      });
      const groupId = group.id as string;

      const added = await h.call(ScimRpc.patchGroup, {
        token,
        id: groupId,
        body: okta.addMembers([
          { value: ana.id as string, display: 'ana@okta.test' },
          { value: bo.id as string, display: 'bo@okta.test' },
        ]),
      });
      expect((added.members as { value: string }[]).map((m) => m.value).sort()).toEqual(
        [ana.id, bo.id].sort(),
      );
      expect(await rolesOf(tenantId, ana.id as string)).toEqual(['member', 'tenant-admin']);
      expect(await rolesOf(tenantId, bo.id as string)).toEqual(['member', 'tenant-admin']);
      // Ids in any case (UUIDs compare ignoring it).
      await expect(
        h.call(ScimRpc.getUser, { token, id: (ana.id as string).toUpperCase() }),
      ).resolves.toMatchObject({ groups: [{ value: groupId, display: 'Engineering' }] });
      expect(
        (await h.call(ScimRpc.getGroup, { token, id: groupId.toUpperCase() })).members,
      ).toHaveLength(2);

      const removed = await h.call(ScimRpc.patchGroup, {
        token,
        id: groupId,
        body: okta.removeMember(ana.id as string),
      });
      expect(removed.members).toEqual([
        expect.objectContaining({ value: bo.id, display: 'Test User' }),
      ]);
      expect(await rolesOf(tenantId, ana.id as string)).toEqual(['member']);
      expect(await rolesOf(tenantId, bo.id as string)).toEqual(['member', 'tenant-admin']);

      // Okta renames with a no-path replace that carries the group's id: the mapping follows the name.
      const renamed = await h.call(ScimRpc.patchGroup, {
        token,
        id: groupId,
        body: okta.renameGroup(groupId, 'Support'),
      });
      expect(renamed).toMatchObject({ id: groupId, displayName: 'Support' });
      expect(await rolesOf(tenantId, bo.id as string)).toEqual(['member', 'support-agent']);
      const [changed] = await h.auditEvents(
        (e) =>
          e.action === 'user.roles-changed' &&
          e.target?.id === bo.id &&
          (e.data as { after: string[] }).after.includes('support-agent'),
      );
      expect(changed!.data).toMatchObject({
        before: ['member', 'tenant-admin'],
        after: ['member', 'support-agent'],
      });

      // Deleting the group takes its roles away.
      await h.call(ScimRpc.deleteGroup, { token, id: groupId });
      expect(await rolesOf(tenantId, bo.id as string)).toEqual(['member']);
      expect(await scimFailure(h.call(ScimRpc.getGroup, { token, id: groupId }))).toMatchObject({
        code: ErrorCode.NotFound,
        reason: ScimErrorReason.ResourceNotFound,
      });
    });
  });

  describe('Entra ID', () => {
    it('creates a user with the enterprise extension, finds it by filter, and patches it as Entra does', async () => {
      const { tenantId, token } = await directoryOf('entra-users');
      // Entra's empty-filter probe (a random GUID as userName) before it creates anyone.
      await expect(
        h.call(ScimRpc.listUsers, {
          token,
          filter: 'userName eq "7a7c5b2e-9b6b-4f43-a2a4-1f6f1a6b3e55"',
        }),
      ).resolves.toMatchObject({ totalResults: 0, Resources: [], startIndex: 1 });

      const sample = await scimFailure(
        h.call(ScimRpc.createUser, { token, body: entra.createUserSample }),
      );
      expect(sample).toMatchObject({
        code: ErrorCode.ValidationFailed,
        reason: ScimErrorReason.InvalidValue,
        errors: [{ field: 'userName' }],
      });

      const created = await h.call(ScimRpc.createUser, {
        token,
        body: entra.createUser('Adele.Vance@contoso.test', '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef'),
      });
      const id = created.id as string;
      expect(created).toMatchObject({
        schemas: [ScimSchemas.user, ScimSchemas.enterpriseUser],
        userName: 'adele.vance@contoso.test',
        displayName: 'givenName familyName',
        active: true,
        roles: [],
        [ScimSchemas.enterpriseUser]: { employeeNumber: '701984', department: 'Tour Operations' },
      });
      expect(created).not.toHaveProperty('meta.version');

      for (const filter of [
        'userName eq "Adele.Vance@contoso.test"',
        'externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"',
        'emails.value eq "adele.vance@contoso.test"',
        'emails[type eq "work" and value co "contoso"]',
        'userName eq "nobody@contoso.test" or externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"',
        `${ScimSchemas.enterpriseUser}:department eq "tour operations"`,
      ]) {
        const found = await h.call(ScimRpc.listUsers, { token, filter });
        expect({ filter, ids: found.Resources.map((r) => r.id) }).toEqual({ filter, ids: [id] });
      }
      const none = await h.call(ScimRpc.listUsers, {
        token,
        filter: 'userName eq "Adele.Vance@contoso.test" and active eq false',
      });
      expect(none.totalResults).toBe(0);

      const patched = await h.call(ScimRpc.patchUser, {
        token,
        id,
        body: entra.updateMultiValued,
      });
      expect(patched).toMatchObject({
        emails: [{ primary: true, type: 'work', value: 'updatedEmail@microsoft.com' }],
        name: { familyName: 'updatedFamilyName', givenName: 'givenName' },
        userName: 'adele.vance@contoso.test',
      });
      const manager = await h.call(ScimRpc.patchUser, {
        token,
        id,
        body: entra.updateManager('2819c223-7f76-453a-919d-413861904646'),
      });
      expect(manager[ScimSchemas.enterpriseUser]).toEqual({
        employeeNumber: '701984',
        department: 'Tour Operations',
        manager: '2819c223-7f76-453a-919d-413861904646',
      });

      const renamed = await h.call(ScimRpc.patchUser, {
        token,
        id,
        body: entra.updateUserName('Adele.V@contoso.test'),
      });
      expect(renamed).toMatchObject({ userName: 'adele.v@contoso.test' });
      expect(
        await h.db.query(
          `SELECT public_id FROM credential_lookup WHERE kind = 'email' AND tenant_id = $1 ORDER BY public_id`,
          [tenantId],
        ),
      ).toEqual([{ public_id: 'adele.v@contoso.test' }]);

      const { sessionId } = await openSession(tenantId, id);
      expect(await h.call(ScimRpc.patchUser, { token, id, body: entra.disable })).toMatchObject({
        active: false,
      });
      expect((await session(sessionId)).revoked_at).not.toBeNull();
      expect(await h.call(UserRpc.get, { tenantId, userId: id })).toMatchObject({
        status: 'disabled',
      });
      expect(await h.call(ScimRpc.patchUser, { token, id, body: entra.enable })).toMatchObject({
        active: true,
      });
      expect(await h.call(UserRpc.get, { tenantId, userId: id })).toMatchObject({
        status: 'active',
      });
      // Sending the same again (Entra re-sends on every cycle) writes nothing, audits nothing.
      const updatedAt = async () =>
        (
          (await h.db.query(`SELECT updated_at FROM users WHERE id = $1`, [id])) as {
            updated_at: Date;
          }[]
        )[0]!.updated_at.toISOString();
      const before = await updatedAt();
      const mark = new Date().toISOString();
      await h.call(ScimRpc.patchUser, { token, id, body: entra.updateMultiValued });
      await h.call(ScimRpc.patchUser, { token, id, body: entra.enable });
      await h.call(ScimRpc.replaceUser, {
        token,
        id,
        body: await h.call(ScimRpc.getUser, { token, id }),
      });
      expect(await updatedAt()).toBe(before);
      expect(
        (await h.streamMessages<AuditEvent>('AUDIT')).filter(
          (m) => m.data.target?.id === id && m.data.occurredAt > mark,
        ),
      ).toEqual([]);
    });

    it('creates a group, finds it by displayName without members, and adds and removes members with value arrays', async () => {
      const { tenantId, token } = await directoryOf('entra-groups', {
        defaultRole: null,
        groupRoles: [{ group: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159', roles: ['billing-admin'] }],
      });
      const users = [];
      for (const name of ['a', 'b', 'c'])
        users.push(
          await h.call(ScimRpc.createUser, {
            token,
            body: entra.createUser(`${name}@contoso.test`, `ext-${name}`),
          }),
        );
      const ids = users.map((u) => u.id as string);
      expect(await rolesOf(tenantId, ids[0]!)).toEqual([]);

      const group = await h.call(ScimRpc.createGroup, {
        token,
        body: entra.createGroup('Finance'),
      });
      const groupId = group.id as string;
      expect(group).toMatchObject({
        displayName: 'Finance',
        externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
      });
      const byName = await h.call(ScimRpc.listGroups, {
        token,
        filter: 'displayName eq "finance"',
        excludedAttributes: 'members',
      });
      expect(byName).toMatchObject({ totalResults: 1, Resources: [{ id: groupId }] });
      expect(byName.Resources[0]).not.toHaveProperty('members');

      await h.call(ScimRpc.patchGroup, { token, id: groupId, body: entra.addMembers(ids) });
      for (const userId of ids) expect(await rolesOf(tenantId, userId)).toEqual(['billing-admin']);
      const withMember = await h.call(ScimRpc.listGroups, {
        token,
        filter: `members[value eq "${ids[1]}"]`,
      });
      expect(withMember.Resources.map((g) => g.id)).toEqual([groupId]);

      const after = await h.call(ScimRpc.patchGroup, {
        token,
        id: groupId,
        body: entra.removeMembers([ids[0]!, ids[2]!]),
      });
      expect((after.members as { value: string }[]).map((m) => m.value)).toEqual([ids[1]]);
      expect(await rolesOf(tenantId, ids[0]!)).toEqual([]);
      expect(await rolesOf(tenantId, ids[1]!)).toEqual(['billing-admin']);

      const renamed = await h.call(ScimRpc.patchGroup, {
        token,
        id: groupId,
        body: entra.renameGroup('Finance EMEA'),
      });
      expect(renamed).toMatchObject({ displayName: 'Finance EMEA' });
      // Mapped by externalId: the rename keeps the role.
      expect(await rolesOf(tenantId, ids[1]!)).toEqual(['billing-admin']);

      // A new mapping applies to every user of the directory at once.
      await h.call(
        ScimDirectoryRpc.update,
        {
          tenantId,
          directoryId: (await h.call(ScimDirectoryRpc.list, { tenantId, limit: 5 })).items[0]!.id,
          defaultRole: 'member',
          groupRoles: [],
        },
        ADMIN,
      );
      for (const userId of ids) expect(await rolesOf(tenantId, userId)).toEqual(['member']);
    });
  });

  describe('resources, paging and errors', () => {
    it('pages with 1-based startIndex and count, oldest first', async () => {
      const { token } = await directoryOf('paging');
      const ids: string[] = [];
      for (let i = 1; i <= 5; i++)
        ids.push(
          (await h.call(ScimRpc.createUser, { token, body: okta.createUser(`p${i}@paging.test`) }))
            .id as string,
        );
      const second = await h.call(ScimRpc.listUsers, { token, startIndex: '2', count: '2' });
      expect(second).toMatchObject({ totalResults: 5, startIndex: 2, itemsPerPage: 2 });
      expect(second.Resources.map((r) => r.id)).toEqual(ids.slice(1, 3));
      const last = await h.call(ScimRpc.listUsers, { token, startIndex: '5', count: '10' });
      expect(last.Resources.map((r) => r.id)).toEqual([ids[4]]);
      const counted = await h.call(ScimRpc.listUsers, { token, count: '0' });
      expect(counted).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
      const clamped = await h.call(ScimRpc.listUsers, { token, startIndex: '-3', count: '5000' });
      expect(clamped).toMatchObject({ startIndex: 1, itemsPerPage: 5 });
      const selected = await h.call(ScimRpc.listUsers, {
        token,
        count: '1',
        attributes: 'userName',
      });
      expect(Object.keys(selected.Resources[0]!).sort()).toEqual(['id', 'schemas', 'userName']);
    });

    it('keeps each directory to its own users and groups', async () => {
      const first = await directoryOf('isolation-a');
      const secondDirectory = await h.call(
        ScimDirectoryRpc.create,
        { tenantId: first.tenantId, name: 'second IdP' },
        ADMIN,
      );
      const other = await directoryOf('isolation-b');
      const user = await h.call(ScimRpc.createUser, {
        token: first.token,
        body: okta.createUser('mine@iso.test'),
      });
      for (const token of [secondDirectory.token, other.token]) {
        expect(
          await scimFailure(h.call(ScimRpc.getUser, { token, id: user.id as string })),
        ).toMatchObject({ code: ErrorCode.NotFound, reason: ScimErrorReason.ResourceNotFound });
        expect((await h.call(ScimRpc.listUsers, { token })).totalResults).toBe(0);
      }
      // Same tenant, other directory: the email is taken (no take-over).
      expect(
        await scimFailure(
          h.call(ScimRpc.createUser, {
            token: secondDirectory.token,
            body: okta.createUser('mine@iso.test'),
          }),
        ),
      ).toMatchObject({ reason: ScimErrorReason.Uniqueness });
      // Another tenant: a user of its own.
      await expect(
        h.call(ScimRpc.createUser, { token: other.token, body: okta.createUser('mine@iso.test') }),
      ).resolves.toMatchObject({ userName: 'mine@iso.test' });
      // A group of one directory cannot take another's user.
      const group = await h.call(ScimRpc.createGroup, {
        token: secondDirectory.token,
        body: okta.createGroup('G'),
      });
      expect(
        await scimFailure(
          h.call(ScimRpc.patchGroup, {
            token: secondDirectory.token,
            id: group.id as string,
            body: okta.addMembers([{ value: user.id as string, display: 'x' }]),
          }),
        ),
      ).toMatchObject({
        code: ErrorCode.ValidationFailed,
        reason: ScimErrorReason.InvalidValue,
        errors: [{ field: 'members' }],
      });
    });

    it('replaces a user with PUT and deletes it with its sessions and memberships', async () => {
      const { tenantId, token } = await directoryOf('put-delete', {
        groupRoles: [{ group: 'Ops', roles: ['operator-role'] }],
      });
      const created = await h.call(ScimRpc.createUser, {
        token,
        body: okta.createUser('put@put.test'),
      });
      const id = created.id as string;
      const replaced = await h.call(ScimRpc.replaceUser, {
        token,
        id,
        body: {
          schemas: [ScimSchemas.user],
          id,
          userName: 'put@put.test',
          name: { givenName: 'Pat', familyName: 'Ut' },
          active: true,
        },
      });
      expect(replaced).toMatchObject({ displayName: 'Pat Ut', name: { givenName: 'Pat' } });
      expect(replaced).not.toHaveProperty('externalId');
      expect(replaced).not.toHaveProperty('locale');
      const group = await h.call(ScimRpc.createGroup, {
        token,
        body: { ...okta.createGroup('Ops'), members: [{ value: id }] },
      });
      expect(await rolesOf(tenantId, id)).toEqual(['member', 'operator-role']);
      const { sessionId } = await openSession(tenantId, id);

      await h.call(ScimRpc.deleteUser, { token, id });
      expect(await h.failure(UserRpc.get, { tenantId, userId: id })).toMatchObject({
        code: ErrorCode.NotFound,
      });
      await announcedRevoked(sessionId);
      expect(await h.call(ScimRpc.getGroup, { token, id: group.id as string })).toMatchObject({
        members: [],
      });
      expect(await scimFailure(h.call(ScimRpc.deleteUser, { token, id }))).toMatchObject({
        code: ErrorCode.NotFound,
        reason: ScimErrorReason.ResourceNotFound,
      });
      const [deleted] = await h.auditEvents(
        (e) => e.action === 'user.deleted' && e.target?.id === id,
      );
      expect(deleted!.actor.type).toBe('service');
    });

    it('answers bad requests with SCIM error reasons naming what is wrong', async () => {
      const { token } = await directoryOf('errors');
      const user = await h.call(ScimRpc.createUser, { token, body: okta.createUser('e@err.test') });
      const id = user.id as string;
      const cases: [string, () => Promise<unknown>, Record<string, unknown>][] = [
        [
          'unparsable filter',
          () => h.call(ScimRpc.listUsers, { token, filter: 'userName eq' }),
          { reason: ScimErrorReason.InvalidFilter, errors: [{ field: 'filter' }] },
        ],
        [
          'unknown filter attribute',
          () => h.call(ScimRpc.listUsers, { token, filter: 'nickName eq "x"' }),
          { reason: ScimErrorReason.InvalidFilter },
        ],
        [
          'unknown user',
          () => h.call(ScimRpc.getUser, { token, id: '01a00000-0000-7000-8000-000000000999' }),
          { code: ErrorCode.NotFound, reason: ScimErrorReason.ResourceNotFound },
        ],
        [
          'an id that is not a UUID',
          () => h.call(ScimRpc.getUser, { token, id: 'not-an-id' }),
          { code: ErrorCode.NotFound, reason: ScimErrorReason.ResourceNotFound },
        ],
        [
          'bad active',
          () =>
            h.call(ScimRpc.patchUser, {
              token,
              id,
              body: {
                schemas: [PATCH_OP],
                Operations: [{ op: 'replace', path: 'active', value: 'maybe' }],
              },
            }),
          { reason: ScimErrorReason.InvalidValue, errors: [{ field: 'active' }] },
        ],
        [
          'unsupported op',
          () =>
            h.call(ScimRpc.patchUser, {
              token,
              id,
              body: { schemas: [PATCH_OP], Operations: [{ op: 'move', path: 'active' }] },
            }),
          { reason: ScimErrorReason.InvalidSyntax, errors: [{ field: 'Operations[0].op' }] },
        ],
        [
          'remove without a path',
          () =>
            h.call(ScimRpc.patchUser, {
              token,
              id,
              body: { schemas: [PATCH_OP], Operations: [{ op: 'remove' }] },
            }),
          { reason: ScimErrorReason.NoTarget },
        ],
        [
          'malformed path',
          () =>
            h.call(ScimRpc.patchUser, {
              token,
              id,
              body: {
                schemas: [PATCH_OP],
                Operations: [{ op: 'replace', path: 'emails[type eq', value: 'x' }],
              },
            }),
          { reason: ScimErrorReason.InvalidPath },
        ],
        [
          'read-only attribute',
          () =>
            h.call(ScimRpc.patchUser, {
              token,
              id,
              body: {
                schemas: [PATCH_OP],
                Operations: [{ op: 'replace', path: 'id', value: 'x' }],
              },
            }),
          { reason: ScimErrorReason.Mutability },
        ],
        [
          'not a PatchOp',
          () => h.call(ScimRpc.patchUser, { token, id, body: { Operations: [] } }),
          { reason: ScimErrorReason.InvalidSyntax, errors: [{ field: 'schemas' }] },
        ],
        [
          'no userName',
          () => h.call(ScimRpc.createUser, { token, body: { schemas: [ScimSchemas.user] } }),
          { reason: ScimErrorReason.InvalidValue, errors: [{ field: 'userName' }] },
        ],
        [
          'duplicate group name, ignoring case',
          () =>
            h
              .call(ScimRpc.createGroup, { token, body: okta.createGroup('Dup') })
              .then(() => h.call(ScimRpc.createGroup, { token, body: okta.createGroup('dup') })),
          { code: ErrorCode.Conflict, reason: ScimErrorReason.Uniqueness },
        ],
      ];
      for (const [what, request, expected] of cases) {
        const error = await scimFailure(request());
        expect({ what, error: { ...error, code: error.code, reason: error.reason } }).toMatchObject(
          {
            what,
            error: { code: ErrorCode.ValidationFailed, ...expected },
          },
        );
      }
    });

    it('serves the discovery documents', async () => {
      const config = await h.call(ScimRpc.discovery, { document: 'ServiceProviderConfig' });
      expect(config).toMatchObject({
        schemas: [ScimSchemas.serviceProviderConfig],
        patch: { supported: true },
        bulk: { supported: false },
        filter: { supported: true, maxResults: 200 },
        sort: { supported: false },
        etag: { supported: false },
        authenticationSchemes: [{ type: 'oauthbearertoken' }],
      });
      const types = await h.call(ScimRpc.discovery, { document: 'ResourceTypes' });
      expect((types.Resources as ScimResource[]).map((t) => t.id)).toEqual(['User', 'Group']);
      const user = await h.call(ScimRpc.discovery, {
        document: 'Schemas',
        id: ScimSchemas.user,
      });
      expect((user.attributes as { name: string }[]).map((a) => a.name)).toContain('userName');
      expect(
        await scimFailure(h.call(ScimRpc.discovery, { document: 'ResourceTypes', id: 'Widget' })),
      ).toMatchObject({ code: ErrorCode.NotFound });
    });
  });
});

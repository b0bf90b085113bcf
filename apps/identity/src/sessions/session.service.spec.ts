import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { issueSecretToken } from '../core/secret-token.js';
import { Outbox, TenantTransactions } from '@tenantry/persistence';
import { double } from '@tenantry/testing';
import type { EntityManager } from 'typeorm';
import { SigningKeyService } from '../signing-keys/signing-key.service.js';
import { RefreshTokenEntity } from './refresh-token.entity.js';
import { RefreshTokenRepository } from './refresh-token.repository.js';
import { SessionEntity } from './session.entity.js';
import { SessionRepository } from './session.repository.js';
import { SessionService } from './session.service.js';

const TENANT = '0193a0f0-0000-7000-8000-000000000001';
const USER = '0193a0f0-0000-7000-8000-000000000002';
const SESSION = '0193a0f0-0000-7000-8000-000000000003';

/** A SessionService over one session and one refresh token, spent `spentMsAgo` ago (null: unspent). */
function setup(spentMsAgo: number | null) {
  const issued = issueSecretToken();
  const now = Date.now();
  const session = Object.assign(new SessionEntity(), {
    id: SESSION,
    tenantId: TENANT,
    userId: USER,
    amr: ['pwd'],
    authTime: new Date(now - 60_000),
    expiresAt: new Date(now + 3_600_000),
    revokedAt: null as Date | null,
  });
  const token = Object.assign(new RefreshTokenEntity(), {
    id: issued.id,
    tenantId: TENANT,
    sessionId: SESSION,
    secretHash: issued.hash,
    expiresAt: session.expiresAt,
    usedAt: spentMsAgo === null ? null : new Date(now - spentMsAgo),
  });
  const inserted: RefreshTokenEntity[] = [];
  const spent: string[] = [];
  const outbox: unknown[][] = [];
  const revocations: string[] = [];
  const query = async (_sql: string, values?: unknown[]) => {
    outbox.push(values ?? []);
    return [];
  };
  const manager = double<EntityManager>('EntityManager', {
    query: query as EntityManager['query'],
  });
  const service = new SessionService(
    double(SessionRepository, {
      findById: async () => session,
      revoke: async (_m, _t, which, reason) => {
        revocations.push(`${which.sessionId}:${reason}`);
        session.revokedAt = new Date();
        return [session];
      },
      touch: async () => undefined,
    }),
    double(RefreshTokenRepository, {
      findForUpdate: async (_m, _t, id) => (id === token.id ? token : null),
      markUsed: async (_m, _t, id) => void spent.push(id),
      insert: async (_m, row) => void inserted.push(row),
    }),
    double(CredentialLookupRepository, { add: async () => undefined }),
    double(SigningKeyService),
    double(TenantTransactions),
    double(Outbox),
  );
  const secret = issued.token.split('.')[1]!;
  return { service, manager, token, secret, inserted, spent, outbox, revocations };
}

describe('SessionService.rotate', () => {
  it('spends a current token and issues its child in the same family', async () => {
    const { service, manager, token, secret, inserted, spent, revocations } = setup(null);
    const outcome = await service.rotate(manager, TENANT, token.id, secret);
    expect(outcome).toMatchObject({ kind: 'rotated', session: { id: SESSION } });
    expect(spent).toEqual([token.id]);
    expect(inserted).toEqual([
      expect.objectContaining({ sessionId: SESSION, parentId: token.id, usedAt: null }),
    ]);
    expect(revocations).toEqual([]);
  });

  it('answers a token spent within the grace with another child, without spending it again', async () => {
    const { service, manager, token, secret, inserted, spent, revocations } = setup(2_000);
    expect(await service.rotate(manager, TENANT, token.id, secret)).toMatchObject({
      kind: 'rotated',
    });
    expect(spent).toEqual([]);
    expect(inserted).toHaveLength(1);
    expect(revocations).toEqual([]);
  });

  it('revokes the session of a token spent before the grace, with its event and audit, issuing nothing', async () => {
    const { service, manager, token, secret, inserted, outbox, revocations } = setup(60_000);
    expect(await service.rotate(manager, TENANT, token.id, secret)).toMatchObject({
      kind: 'reused',
    });
    expect(revocations).toEqual([`${SESSION}:refresh_token_reuse`]);
    expect(inserted).toEqual([]);
    const subjects = outbox.flat().filter((v) => typeof v === 'string' && /^(evt|audit)\./.test(v));
    expect(subjects).toEqual(['evt.identity.session.revoked', `audit.${TENANT}.auth`]);
  });

  it('calls a wrong secret invalid, never reuse: guessing cannot end a session', async () => {
    const { service, manager, token, inserted, revocations } = setup(60_000);
    const wrong = issueSecretToken().token.split('.')[1]!;
    expect(await service.rotate(manager, TENANT, token.id, wrong)).toEqual({ kind: 'invalid' });
    expect(revocations).toEqual([]);
    expect(inserted).toEqual([]);
  });
});

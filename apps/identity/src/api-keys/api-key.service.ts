import { uuidv7 } from '@tenantry/runtime';
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  actorOf,
  API_KEY_PATTERN,
  Cursor,
  IdentityEvents,
  parseActor,
  PLATFORM_TENANT_ID,
  UuidSchema,
  type ApiKey,
  type ApiKeyRpc,
  type CreatedApiKey,
  type Principal,
  type RpcPayload,
  type RpcResponse,
} from '@tenantry/contracts';
import { messageContext, newContext, type MessageContext } from '@tenantry/messaging';
import { Outbox, outboxAuditFact, outboxEvent, type OutboxMessage } from '@tenantry/persistence';
import { z } from 'zod';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { ApiKeyEntity } from './api-key.entity.js';
import { ApiKeyErrors } from './api-key.errors.js';
import { ApiKeyRepository } from './api-key.repository.js';

/** `tnty_<prefix>_<secret>`: the prefix's length and alphabet, and the secret's entropy. */
export const API_KEY_PREFIX_LENGTH = 12;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const SECRET_BYTES = 32;
/** Where the prefix starts in a key: after `tnty_`. */
const PREFIX_AT = 'tnty_'.length;
/** How often the remembered uses are written to last_used_at. */
export const LAST_USED_FLUSH_MS = 5_000;
/** A taken prefix (62^12 of them) is drawn again this many times before giving up. */
const PREFIX_ATTEMPTS = 3;

const ApiKeyCursor = z.tuple([UuidSchema]);

type Request<K extends keyof typeof ApiKeyRpc> = RpcPayload<(typeof ApiKeyRpc)[K]>;

/** A key's latest use since the last flush; for a key never used before, the request that used it. */
interface PendingUse {
  tenantId: string;
  id: string;
  at: Date;
  firstUse?: MessageContext;
}

/** A fresh key: 12 random alphanumerics as its prefix, 32 random bytes (base64url) as its secret. */
export function generateApiKey(): { prefix: string; key: string } {
  let prefix = '';
  for (let i = 0; i < API_KEY_PREFIX_LENGTH; i++) prefix += ALPHANUMERIC[randomInt(62)];
  return { prefix, key: `tnty_${prefix}_${randomBytes(SECRET_BYTES).toString('base64url')}` };
}

/** What is stored of a key: SHA-256 of the whole key, hex (a random 256-bit secret needs no slow hash). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** When a rotated key stops working: after the overlap, but never later than it would have anyway. */
export function overlapEnd(expiresAt: Date | null, now: Date, overlapSeconds: number): Date {
  const end = new Date(now.getTime() + overlapSeconds * 1000);
  return expiresAt && expiresAt.getTime() < end.getTime() ? expiresAt : end;
}

/** Constant-time comparison of two hex SHA-256 digests. */
function sameHash(presented: string, stored: string): boolean {
  const a = Buffer.from(presented, 'hex');
  const b = Buffer.from(stored, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The actor of the request being handled (`<kind>:<id>`), or identity itself when nobody called. */
function currentActor(): string {
  const actor = parseActor(messageContext.current()?.actor);
  return actor ? `${actor.type}:${actor.id}` : 'service:identity';
}

@Injectable()
export class ApiKeyService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ApiKeyService');
  private pending = new Map<string, PendingUse>();
  private timer?: NodeJS.Timeout;
  private writing = false;
  /** Flushes run one after another: the tail of that chain. */
  private flushes: Promise<void> = Promise.resolve();

  constructor(
    @Inject(ApiKeyRepository) private readonly keys: ApiKeyRepository,
    @Inject(CredentialLookupRepository) private readonly lookup: CredentialLookupRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  async create(request: Request<'create'>): Promise<CreatedApiKey> {
    const now = new Date();
    const expiresAt = request.expiresAt === undefined ? null : new Date(request.expiresAt);
    if (expiresAt && expiresAt.getTime() <= now.getTime())
      throw ApiKeyErrors.expiryInPast(request.expiresAt!);
    for (let attempt = 1; ; attempt++) {
      const { entity, key } = this.newKey(
        {
          tenantId: request.tenantId,
          name: request.name,
          scopes: [...new Set(request.scopes)],
          expiresAt,
          rotatedFrom: null,
        },
        now,
      );
      if (await this.keys.insert(entity, [this.audit('api_key.created', entity)])) {
        this.outbox.kick();
        return { ...toContract(entity), key };
      }
      if (attempt >= PREFIX_ATTEMPTS) throw new Error('no free API key prefix after 3 draws');
    }
  }

  async get({ tenantId, keyId }: Request<'get'>): Promise<ApiKey> {
    const entity = await this.keys.findById(tenantId, keyId);
    if (!entity) throw ApiKeyErrors.notFound(keyId);
    return toContract(entity);
  }

  /** Newest first (ids are UUIDv7); the cursor is the last id of the previous page. */
  async list({
    tenantId,
    limit,
    cursor,
  }: Request<'list'>): Promise<RpcResponse<typeof ApiKeyRpc.list>> {
    const before = cursor ? Cursor.decode(cursor, ApiKeyCursor)[0] : undefined;
    const rows = await this.keys.list(tenantId, limit + 1, before);
    const page = rows.slice(0, limit);
    return {
      items: page.map(toContract),
      nextCursor: rows.length > limit ? Cursor.encode([page[page.length - 1]!.id]) : null,
    };
  }

  /**
   * A new key with the old one's name, scopes and expiry; the old one keeps working for
   * `overlapSeconds` (never longer than it would have), so clients can switch over.
   */
  async rotate({ tenantId, keyId, overlapSeconds }: Request<'rotate'>): Promise<CreatedApiKey> {
    for (let attempt = 1; ; attempt++) {
      const now = new Date();
      let key = '';
      const rotation = await this.keys.rotate(tenantId, keyId, (current, successorId) => {
        if (!current) throw ApiKeyErrors.notFound(keyId);
        if (current.revokedAt) throw ApiKeyErrors.notActive(keyId, 'revoked');
        if (current.expiresAt && current.expiresAt.getTime() <= now.getTime())
          throw ApiKeyErrors.notActive(keyId, 'expired');
        if (successorId) throw ApiKeyErrors.alreadyRotated(keyId, successorId);
        const previousExpiresAt = overlapEnd(current.expiresAt, now, overlapSeconds);
        const fresh = this.newKey(
          {
            tenantId: current.tenantId,
            name: current.name,
            scopes: current.scopes,
            expiresAt: current.expiresAt,
            rotatedFrom: current.id,
          },
          now,
        );
        key = fresh.key;
        return {
          previousExpiresAt,
          replacement: fresh.entity,
          events: [
            this.audit('api_key.rotated', current, {
              replacedBy: fresh.entity.id,
              expiresAt: previousExpiresAt.toISOString(),
            }),
            this.audit('api_key.created', fresh.entity, { rotatedFrom: current.id }),
          ],
        };
      });
      if (rotation) {
        this.outbox.kick();
        return { ...toContract(rotation.replacement), key };
      }
      if (attempt >= PREFIX_ATTEMPTS) throw new Error('no free API key prefix after 3 draws');
    }
  }

  /**
   * Revokes a key and tells every gateway (IdentityEvents.apiKeyRevoked, through the
   * outbox in the same transaction) to drop it from its cache. Revoking a revoked key
   * returns it unchanged.
   */
  async revoke({ tenantId, keyId }: Request<'revoke'>): Promise<ApiKey> {
    const result = await this.keys.revoke(tenantId, keyId, new Date(), (key) => [
      outboxEvent(
        IdentityEvents.apiKeyRevoked.schema,
        IdentityEvents.apiKeyRevoked.subject,
        { keyId: key.id, tenantId: key.tenantId, prefix: key.prefix },
        `api-key-revoked:${key.id}`,
        messageContext.current(),
      ),
      this.audit('api_key.revoked', key),
    ]);
    if (!result) throw ApiKeyErrors.notFound(keyId);
    if (result.revokedNow) this.outbox.kick();
    return toContract(result.key);
  }

  /**
   * The gateway's check of a presented key (it caches the answer): its principal, or
   * one UNAUTHENTICATED error whatever was wrong. One lookup of the prefix's tenant, one
   * indexed read under that tenant; the use is remembered and written in a batch.
   */
  async verify(key: string): Promise<Principal> {
    if (!API_KEY_PATTERN.test(key)) throw ApiKeyErrors.invalid();
    const prefix = key.slice(PREFIX_AT, PREFIX_AT + API_KEY_PREFIX_LENGTH);
    // Prefixes are unique across tenants (api_keys_prefix_key): exactly one tenant, or no key.
    const tenants = await this.lookup.tenantsOf('api_key', prefix);
    if (tenants.length !== 1) throw ApiKeyErrors.invalid();
    const tenantId = tenants[0]!;
    const entity = await this.keys.findByPrefix(tenantId, prefix);
    const now = new Date();
    if (
      !entity ||
      !sameHash(hashApiKey(key), entity.secretHash) ||
      entity.revokedAt ||
      (entity.expiresAt && entity.expiresAt.getTime() <= now.getTime())
    )
      throw ApiKeyErrors.invalid();
    this.noteUse(entity, now);
    return {
      kind: 'api_key',
      id: entity.id,
      tenantId: publicTenantId(entity.tenantId),
      roles: [],
      scopes: entity.scopes,
      expiresAt: entity.expiresAt?.toISOString() ?? null,
    };
  }

  /**
   * Writes the uses remembered since the last flush to last_used_at (one statement per
   * tenant, one transaction), auditing each key's first use. On failure they are kept
   * for the next flush.
   */
  flushUses(): Promise<void> {
    const flush = this.flushes.then(() => this.writeUses());
    this.flushes = flush.catch(() => undefined);
    return flush;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.writing || !this.pending.size) return;
      this.flushUses().catch((error: unknown) =>
        this.logger.warn(
          `could not write API keys' last use (kept for the next try): ${(error as Error).message}`,
        ),
      );
    }, LAST_USED_FLUSH_MS);
    this.timer.unref();
  }

  /** After the RPC subscriptions have drained, before the database closes: the last uses. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flushUses().catch((error: unknown) =>
      this.logger.warn(
        `could not write API keys' last use at shutdown: ${(error as Error).message}`,
      ),
    );
  }

  private noteUse(entity: ApiKeyEntity, at: Date): void {
    const pending = this.pending.get(entity.id);
    if (pending) {
      pending.at = at;
      return;
    }
    this.pending.set(entity.id, {
      tenantId: entity.tenantId,
      id: entity.id,
      at,
      firstUse: entity.lastUsedAt ? undefined : (messageContext.current() ?? newContext()),
    });
  }

  private async writeUses(): Promise<void> {
    if (!this.pending.size) return;
    const batch = this.pending;
    this.pending = new Map();
    this.writing = true;
    let firstUses = 0;
    try {
      await this.keys.recordUses(
        [...batch.values()].map(({ tenantId, id, at }) => ({ tenantId, id, at })),
        (key) => {
          firstUses++;
          const context = batch.get(key.id)?.firstUse ?? newContext();
          // The key itself is the actor of its first use; request id and trace from that request.
          return [
            this.audit(
              'api_key.first_used',
              key,
              {},
              { ...context, actor: actorOf({ kind: 'api_key', id: key.id }) },
            ),
          ];
        },
      );
    } catch (error) {
      for (const [id, use] of batch) {
        const newer = this.pending.get(id);
        if (!newer) this.pending.set(id, use);
        else newer.firstUse ??= use.firstUse;
      }
      throw error;
    } finally {
      this.writing = false;
    }
    if (firstUses) this.outbox.kick();
  }

  private newKey(
    fields: Pick<ApiKeyEntity, 'tenantId' | 'name' | 'scopes' | 'expiresAt' | 'rotatedFrom'>,
    now: Date,
  ): { entity: ApiKeyEntity; key: string } {
    const { prefix, key } = generateApiKey();
    const entity = Object.assign(new ApiKeyEntity(), {
      id: uuidv7(),
      ...fields,
      prefix,
      secretHash: hashApiKey(key),
      createdBy: currentActor(),
      createdAt: now,
      revokedAt: null,
      lastUsedAt: null,
    });
    return { entity, key };
  }

  /**
   * An audit entry about a key (category api_keys); the actor comes from the request
   * context. An operator acting on a real tenant's key is marked `crossTenant: true`.
   */
  private audit(
    action: string,
    key: ApiKeyEntity,
    extra: Record<string, unknown> = {},
    context = messageContext.current(),
  ): OutboxMessage {
    const crossTenant =
      parseActor(context?.actor)?.type === 'operator' && key.tenantId !== PLATFORM_TENANT_ID;
    return outboxAuditFact(
      {
        tenantId: key.tenantId,
        category: 'api_keys',
        action,
        target: { type: 'api_key', id: key.id },
        data: {
          name: key.name,
          prefix: key.prefix,
          scopes: key.scopes,
          ...extra,
          ...(crossTenant ? { crossTenant: true } : {}),
        },
        service: 'identity',
      },
      context,
    );
  }
}

/** Platform keys are stored under PLATFORM_TENANT_ID and shown with tenantId null. */
function publicTenantId(tenantId: string): string | null {
  return tenantId === PLATFORM_TENANT_ID ? null : tenantId;
}

function toContract(entity: ApiKeyEntity): ApiKey {
  return {
    id: entity.id,
    tenantId: publicTenantId(entity.tenantId),
    name: entity.name,
    prefix: entity.prefix,
    scopes: entity.scopes,
    createdAt: entity.createdAt.toISOString(),
    createdBy: entity.createdBy,
    expiresAt: entity.expiresAt?.toISOString() ?? null,
    lastUsedAt: entity.lastUsedAt?.toISOString() ?? null,
    revokedAt: entity.revokedAt?.toISOString() ?? null,
    rotatedFrom: entity.rotatedFrom,
  };
}

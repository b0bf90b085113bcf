import { Inject, Injectable, Logger } from '@nestjs/common';
import { PolicySnapshots, tenantNotFound, type TenantPolicy } from '@tenantry/contracts';
import { addToOutbox, Outbox, TenantTransactions } from '@tenantry/persistence';
import { defaultPolicy, type PolicyDocument } from '@tenantry/policy-engine';
import { policyAudit, type PolicyChangeFact } from '../core/audit.js';
import { DEFAULT_POLICY_STATUSES, TenantDirectory } from '../core/tenant-directory.js';
import { PolicyPublisher } from './policy-publisher.js';
import { validateDocument, type EditedItem } from './policy-validation.js';
import { TenantPolicyErrors } from './tenant-policy.errors.js';
import { TenantPolicyRepository } from './tenant-policy.repository.js';

/** What a change does to a tenant's policy: the edited document, the answer, and its audit. */
export interface PolicyEdit<T> {
  /** The document with the change applied (its version is set by `change`). */
  document: PolicyDocument;
  /** What the request answers with (the changed item). */
  value: T;
  audit: Omit<PolicyChangeFact, 'tenantId' | 'version'>;
  /** The changed item: errors of the engine about it name the request's fields. */
  item: EditedItem;
}

/** Applies a change to (a copy of) the current document; throws an AppError to refuse it. */
export type PolicyEditor<T> = (current: PolicyDocument) => PolicyEdit<T>;

/**
 * Each tenant's policy document: read, changed one edit at a time, created from
 * `defaultPolicy` for a new tenant, and published to the snapshot bucket after each commit.
 *
 * A change is serialized per tenant (the row is locked), validated as a whole with the
 * engine's `compile()` (so a document every holder can compile is the only kind stored),
 * gets the next version, and is audited through the outbox in the same transaction.
 */
@Injectable()
export class TenantPolicyService {
  private readonly logger = new Logger('TenantPolicies');

  constructor(
    @Inject(TenantPolicyRepository) private readonly policies: TenantPolicyRepository,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(PolicyPublisher) private readonly publisher: PolicyPublisher,
    @Inject(TenantDirectory) private readonly tenants: TenantDirectory,
  ) {}

  /** The tenant's whole policy, its version and the version the bucket has. */
  async get(tenantId: string): Promise<TenantPolicy> {
    let policy = await this.stored(tenantId);
    if (!policy) {
      await this.ensureKnown(tenantId);
      policy = await this.stored(tenantId);
      if (!policy) throw tenantNotFound(tenantId);
    }
    return policy;
  }

  /**
   * The tenant's policy as stored, or null when it has none (never creating one, unlike
   * `get`): for the tenant's lifecycle (verify, usage, export).
   */
  async stored(tenantId: string): Promise<TenantPolicy | null> {
    const row = await this.policies.get(tenantId);
    if (!row) return null;
    return {
      tenantId,
      version: row.version,
      publishedVersion: row.publishedVersion,
      updatedAt: row.updatedAt.toISOString(),
      document: row.document,
    };
  }

  /** The tenant's current document (TENANT_NOT_FOUND for a tenant that does not exist). */
  async document(tenantId: string): Promise<PolicyDocument> {
    return (await this.get(tenantId)).document as PolicyDocument;
  }

  /**
   * Applies `editor` to the tenant's document under the row's lock, validates the result,
   * stores it as the next version with its audit event, then publishes it. Answers the
   * edit's value and the stored document.
   */
  async change<T>(
    tenantId: string,
    editor: PolicyEditor<T>,
  ): Promise<{ value: T; document: PolicyDocument }> {
    let done = await this.apply(tenantId, editor);
    if (!done) {
      await this.ensureKnown(tenantId);
      done = await this.apply(tenantId, editor);
      if (!done) throw tenantNotFound(tenantId);
    }
    this.outbox.kick();
    await this.publishNow(done.document);
    return done;
  }

  /**
   * Gives a tenant its first policy, `document` (`defaultPolicy(tenantId)` unless the
   * provisioning pipeline gives the plan's), unless it has one: a step run again never
   * resets a policy. True when it was created (audited as tenant-policy.created, and
   * published; a failed publication is retried by the reconciler).
   */
  async ensure(
    tenantId: string,
    document: PolicyDocument = defaultPolicy(tenantId),
    /** The chain the creation is audited in: the tenant's, or the platform's while the tenant has none yet (provisioning). */
    auditTenantId: string = tenantId,
  ): Promise<boolean> {
    validateDocument(document, { path: 'roles', what: 'tenant policy' });
    const created = await this.tx.run(tenantId, async (manager) => {
      if (!(await this.policies.insertIfAbsent(manager, tenantId, document))) return false;
      await addToOutbox(manager, [
        policyAudit({
          tenantId: auditTenantId,
          action: 'tenant-policy.created',
          target: { type: 'tenant-policy', id: tenantId },
          before: null,
          after: document,
          version: document.version,
        }),
      ]);
      return true;
    });
    if (created) {
      this.logger.log(`tenant ${tenantId}: default policy created`);
      this.outbox.kick();
      await this.publishNow(document);
    }
    return created;
  }

  /**
   * Publishes the tenant's stored document unless the bucket has its version already, and
   * answers the stored and published versions; null when the tenant has no policy. Throws
   * when NATS does not answer (unlike the publication after a change, which leaves it to
   * the reconciler): for callers that must know it is published (provisioning).
   */
  async publishStored(
    tenantId: string,
  ): Promise<{ version: number; publishedVersion: number } | null> {
    const row = await this.policies.get(tenantId);
    if (!row) return null;
    if (row.publishedVersion >= row.version) {
      return { version: row.version, publishedVersion: row.publishedVersion };
    }
    await this.publisher.publish(row.document);
    const after = await this.policies.get(tenantId);
    return { version: row.version, publishedVersion: after?.publishedVersion ?? 0 };
  }

  /**
   * Deletes every row of the tenant's policy (its document and its publication state) and
   * its snapshot in the bucket; the rows removed, by table, and the bucket key. Not audited
   * in the tenant's chain (the audit service purges it; the deletion certificate in the
   * platform's chain lists what was removed). Idempotent.
   */
  async remove(tenantId: string): Promise<Record<string, number>> {
    // The snapshot first: should the rows stay (the database away), a retry removes them and
    // counts them; a snapshot the reconciler put back meanwhile is deleted once the rows are.
    const snapshots = (await this.publisher.unpublish(tenantId)) ? 1 : 0;
    const removed = await this.tx.run(tenantId, (manager) =>
      this.policies.remove(manager, tenantId),
    );
    if (removed.tenant_policies) this.logger.log(`tenant ${tenantId}: policy removed`);
    return { ...removed, [PolicySnapshots.bucket]: snapshots };
  }

  /** One attempt at a change; null when the tenant has no policy row. */
  private apply<T>(
    tenantId: string,
    editor: PolicyEditor<T>,
  ): Promise<{ value: T; document: PolicyDocument } | null> {
    return this.tx.run(tenantId, async (manager) => {
      const row = await this.policies.lock(manager, tenantId);
      if (!row) return null;
      const edit = editor(structuredClone(row.document));
      // A change that changes nothing (a PATCH with no fields) is no new version.
      if (canonical(edit.document) === canonical(row.document))
        return { value: edit.value, document: row.document };
      const document: PolicyDocument = { ...edit.document, tenantId, version: row.version + 1 };
      validateDocument(document, edit.item);
      const bytes = Buffer.byteLength(JSON.stringify(document));
      const max = this.publisher.maxDocumentBytes();
      if (bytes > max) throw TenantPolicyErrors.tooLarge(bytes, max);
      await this.policies.save(manager, tenantId, document);
      await addToOutbox(manager, [
        policyAudit({ tenantId, ...edit.audit, version: document.version }),
      ]);
      return { value: edit.value, document };
    });
  }

  /**
   * A tenant without a policy row: an `active` or `suspended` one the tenants service knows
   * (created before the provisioning pipeline) gets its default policy now; one still
   * `provisioning` waits for the pipeline's policy step; a `deleted` one does not exist.
   */
  private async ensureKnown(tenantId: string): Promise<void> {
    const status = await this.tenants.status(tenantId);
    if (status === null || status === 'deleted') throw tenantNotFound(tenantId);
    if (!DEFAULT_POLICY_STATUSES.includes(status))
      throw TenantPolicyErrors.unavailable(tenantId, status);
    await this.ensure(tenantId);
  }

  /** Publishes after a commit; when NATS is away the reconciler publishes it later. */
  private async publishNow(document: PolicyDocument): Promise<void> {
    try {
      await this.publisher.publish(document);
    } catch (error) {
      this.logger.warn(
        `tenant ${document.tenantId}: publishing version ${document.version} failed, retrying later: ${(error as Error).message}`,
      );
      this.publisher.retryLater();
    }
  }
}

/** JSON with sorted keys and without undefined: equal for equal documents, whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

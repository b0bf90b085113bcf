/**
 * How the policy service hands each tenant's policy to every process that decides (the gateway,
 * a product team's Node service): a JetStream key-value bucket, `Namespace.bucket(bucket)`.
 *
 * - key: the tenant id (the platform tenant's too: operators and platform API keys);
 * - value: the tenant's policy document as JSON (`PolicyDocument` of `@tenantry/policy-engine`),
 *   whose `version` grows with every change; a holder compiles it and never goes back to an
 *   older version;
 * - a deleted key: the tenant is gone (a holder forgets it, and its decisions fail closed).
 *
 * The bucket keeps one revision per key; the policy service is the system of record and
 * republishes every tenant's current document at start, so a lost bucket heals itself.
 */
export const PolicySnapshots = {
  bucket: 'POLICY_SNAPSHOTS',
  description: "Each tenant's current policy document, by tenant id; written by the policy service",
  /** How long a holder may keep deciding with its snapshots while it cannot watch the bucket. */
  maxStaleSeconds: 30,
} as const;

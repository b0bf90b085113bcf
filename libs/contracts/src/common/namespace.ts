/**
 * One setting (`TENANTRY_NAMESPACE`) isolates a whole deployment: NATS subjects,
 * JetStream stream names, database names and Redis key prefixes all derive from it.
 * `npm start` uses the empty namespace; every test run uses its own, so tests can
 * run beside a live platform without JetStream refusing overlapping streams.
 */
export class Namespace {
  static readonly PATTERN = /^[a-z][a-z0-9_]{0,23}$/;

  constructor(readonly name: string = '') {
    if (name !== '' && !Namespace.PATTERN.test(name)) {
      throw new Error(
        `namespace "${name}" is invalid: expected lowercase letters, digits and _ (max 24, starting with a letter)`,
      );
    }
  }

  /** `audit.t1.x` → `<ns>.audit.t1.x` */
  subject(subject: string): string {
    return this.name ? `${this.name}.${subject}` : subject;
  }

  /**
   * Wire subject of a request/reply contract: `[<ns>.]rpc.<service>.<resource>.<verb>`.
   * The `rpc.` root keeps request subjects apart from stream subjects: without it
   * `audit.events.list` would fall inside the AUDIT stream's `audit.>` and be
   * stored (and acked by JetStream) instead of answered.
   */
  rpcSubject(subject: string): string {
    return this.subject(`rpc.${subject}`);
  }

  /** Strips the namespace prefix from a subject received off the wire. */
  unprefix(subject: string): string {
    const prefix = this.name ? `${this.name}.` : '';
    return prefix && subject.startsWith(prefix) ? subject.slice(prefix.length) : subject;
  }

  stream(base: string): string {
    return this.name ? `${this.name.toUpperCase()}_${base}` : base;
  }

  /** A JetStream key-value bucket: named like a stream (`<NS>_POLICY_SNAPSHOTS`). */
  bucket(base: string): string {
    return this.stream(base);
  }

  database(service: string): string {
    return this.name ? `tenantry_${this.name}_${service}` : `tenantry_${service}`;
  }

  redisPrefix(): string {
    return this.name ? `tenantry:${this.name}:` : 'tenantry:';
  }
}

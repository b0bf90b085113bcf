export interface DatabaseOptions {
  host: string;
  port: number;
  database: string;
  /** Owns the schema; migrations run as this role. */
  ownerUser: string;
  ownerPassword?: string;
  /** The service's own role: no ownership, no BYPASSRLS, so row-level security always applies. */
  appUser: string;
  appPassword?: string;
  /**
   * A superuser (or CREATEDB + CREATEROLE) URL used once at start-up to create the
   * database and both roles when missing. Leave empty where an operator creates them.
   */
  bootstrapUrl?: string;
  poolSize: number;
  /** Extra `pg` options, e.g. `{ ssl: { rejectUnauthorized: false } }`. */
  extra?: Record<string, unknown>;
}

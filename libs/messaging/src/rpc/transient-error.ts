/**
 * Says "a dependency (the database) is down right now" about an error, so the RPC
 * server answers SERVICE_UNAVAILABLE instead of INTERNAL and a consumer retries in
 * place instead of counting a failure. A service with a database provides it
 * (persistence: isTransientDbError); without one, nothing is transient.
 */
export const TRANSIENT_ERROR = Symbol('tenantry:transient-error');

export type TransientErrorTest = (error: unknown) => boolean;

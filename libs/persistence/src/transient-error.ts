const TRANSIENT_CODES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);
const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const TRANSIENT_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection is not established',
  'the database system is',
];

/** True when a database error says "try again later" rather than "this write is wrong". */
export function isTransientDbError(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as {
      code?: string;
      message?: string;
      driverError?: unknown;
      cause?: unknown;
    };
    if (
      e.code &&
      (TRANSIENT_CODES.has(e.code) || e.code.startsWith('08') || TRANSIENT_NODE_CODES.has(e.code))
    ) {
      return true;
    }
    if (e.message && TRANSIENT_MESSAGES.some((m) => e.message!.includes(m))) return true;
    current = e.driverError ?? e.cause;
  }
  return false;
}

import type { ClientInfo } from '@tenantry/contracts';
import type { FastifyRequest } from 'fastify';

// C0 and C1 controls and DEL: the contracts refuse them in every string.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/g;
const MAX_USER_AGENT = 512;

/** Who is at the other end, for identity's audit and throttling: never taken from the body. */
export function clientInfo(request: Pick<FastifyRequest, 'ip' | 'headers'>): ClientInfo {
  const raw = request.headers['user-agent'];
  const userAgent =
    typeof raw === 'string' ? raw.replace(CONTROL, '').trim().slice(0, MAX_USER_AGENT) : '';
  return {
    ip: request.ip.slice(0, 64),
    ...(userAgent ? { userAgent } : {}),
  };
}

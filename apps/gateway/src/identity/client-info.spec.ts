import type { FastifyRequest } from 'fastify';
import { clientInfo } from '../http/client-info.js';
import { refreshTokenFromCookie } from './refresh-cookie.js';

const request = (headers: Record<string, string>, ip = '203.0.113.7') =>
  ({ ip, headers }) as unknown as FastifyRequest;

describe('clientInfo', () => {
  it('takes the address and user agent from the connection and headers', () => {
    expect(clientInfo(request({ 'user-agent': 'curl/8.5.0' }))).toEqual({
      ip: '203.0.113.7',
      userAgent: 'curl/8.5.0',
    });
    expect(clientInfo(request({}))).toEqual({ ip: '203.0.113.7' });
  });

  it('strips control characters (the contracts refuse them) and cuts the user agent to 512', () => {
    expect(
      clientInfo(request({ 'user-agent': 'a\u0001b\u007fc\u0085d\u001b[31m' })).userAgent,
    ).toBe('abcd[31m');
    expect(clientInfo(request({ 'user-agent': 'x'.repeat(2000) })).userAgent).toHaveLength(512);
    expect(clientInfo(request({ 'user-agent': '\u0000\u0001' }))).toEqual({ ip: '203.0.113.7' });
  });
});

describe('refreshTokenFromCookie', () => {
  it('finds the tenantry_refresh cookie among others', () => {
    expect(
      refreshTokenFromCookie(request({ cookie: 'a=1; tenantry_refresh=abc.DEF-_9; b=2' })),
    ).toBe('abc.DEF-_9');
    expect(refreshTokenFromCookie(request({ cookie: 'a=1' }))).toBeUndefined();
    expect(refreshTokenFromCookie(request({}))).toBeUndefined();
  });

  it('ignores a value that is not a refresh token', () => {
    expect(
      refreshTokenFromCookie(request({ cookie: 'tenantry_refresh=a b; x=1' })),
    ).toBeUndefined();
    expect(refreshTokenFromCookie(request({ cookie: 'tenantry_refresh=' }))).toBeUndefined();
  });
});

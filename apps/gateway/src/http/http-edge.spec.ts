import type { Socket } from 'node:net';
import { ProblemSchema } from '@tenantry/contracts';
import { clientErrorHandler } from './http-edge.js';

/** The part of a socket clientErrorHandler uses, recording what it did. */
function fakeSocket(over: { writable?: boolean; inFlight?: boolean } = {}) {
  const socket = {
    writable: over.writable ?? true,
    _httpMessage: over.inFlight ? { headersSent: true } : undefined,
    written: '',
    destroyed: false,
    end(data: string) {
      this.written += data;
    },
    destroy() {
      this.destroyed = true;
    },
  };
  return socket;
}

function answer(code: string | undefined) {
  const socket = fakeSocket();
  clientErrorHandler(
    Object.assign(new Error('parse error'), { code }),
    socket as unknown as Socket,
  );
  const [head, body] = socket.written.split('\r\n\r\n');
  const headers = Object.fromEntries(
    head!
      .split('\r\n')
      .slice(1)
      .map((line) => line.split(': ') as [string, string]),
  );
  return {
    statusLine: head!.split('\r\n')[0],
    headers,
    problem: ProblemSchema.parse(JSON.parse(body!)),
  };
}

describe('clientErrorHandler', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', 431, 'HEADERS_TOO_LARGE'],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'REQUEST_TIMEOUT'],
    ['HPE_INVALID_METHOD', 400, 'VALIDATION_FAILED'],
    [undefined, 400, 'VALIDATION_FAILED'],
  ])('answers %s with a %i problem carrying a request id', (code, status, problemCode) => {
    const { statusLine, headers, problem } = answer(code);
    expect(statusLine).toBe(`HTTP/1.1 ${status} ${problem.title}`);
    expect(headers['content-type']).toBe('application/problem+json');
    expect(headers['x-request-id']).toBe(problem.requestId);
    expect(headers.connection).toBe('close');
    expect(problem).toMatchObject({ status, code: problemCode });
  });

  it('writes nothing on a reset connection, a closed one, or one with a response under way', () => {
    for (const [code, socket] of [
      ['ECONNRESET', fakeSocket()],
      ['HPE_INVALID_METHOD', fakeSocket({ writable: false })],
      ['HPE_INVALID_METHOD', fakeSocket({ inFlight: true })],
    ] as const) {
      clientErrorHandler(Object.assign(new Error('x'), { code }), socket as unknown as Socket);
      expect(socket.written).toBe('');
      expect(socket.destroyed).toBe(true);
    }
  });
});

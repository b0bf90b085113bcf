import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { ProblemSchema, type Problem } from '@tenantry/contracts';
import { createActiveTenant, Platform } from '@tenantry/testing';

/** A response as the tests look at it, whether it came through fetch or a raw socket. */
interface Reply {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** Parses an HTTP/1.1 response read until the server closed the connection. */
function parseResponse(bytes: Buffer): Reply {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0)
    throw new Error(`no HTTP response: ${JSON.stringify(bytes.toString('latin1').slice(0, 200))}`);
  const [statusLine, ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = bytes.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    const chunks: Buffer[] = [];
    for (let at = 0; ;) {
      const lineEnd = body.indexOf('\r\n', at);
      const size = parseInt(body.subarray(at, lineEnd).toString(), 16);
      if (!size) break;
      chunks.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 4 + size;
    }
    body = Buffer.concat(chunks);
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, text: body.toString('utf8') };
}

/** Sends bytes as they are on a new connection and reads the answer until the server closes it. */
function rawRequest(port: number, request: Buffer | string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error as Error);
      }
    };
    const timer = setTimeout(() => socket.destroy(), 10_000);
    socket.on('data', (chunk) => chunks.push(chunk));
    // The server may answer and close before it has read all of a huge request.
    socket.on('error', () => undefined);
    socket.on('close', done);
    // Not end(): a half-closed connection makes Node abort a request still in progress.
    socket.write(request);
  });
}

interface Send {
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send no credentials (by default every request is the bootstrap operator's). */
  anonymous?: boolean;
}

/**
 * The bootstrap operator's `Authorization` header: the hostile input below comes from a
 * signed-in caller, so that it reaches everything an attacker with an account can reach.
 */
let AUTH: Record<string, string> = {};

/** An HTTP/1.1 request written by hand: the URL, headers and body go out byte for byte. */
function rawHttp(
  port: number,
  method: string,
  path: string,
  { headers = {}, body, anonymous }: Send = {},
) {
  const bytes = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
  const head = [`${method} ${path} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close'];
  const all = anonymous || 'authorization' in headers ? headers : { ...AUTH, ...headers };
  for (const [name, value] of Object.entries(all)) head.push(`${name}: ${value}`);
  if (bytes) head.push(`content-length: ${bytes.length}`);
  return rawRequest(
    port,
    Buffer.concat([
      Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'),
      bytes ?? Buffer.alloc(0),
    ]),
  );
}

async function fetchReply(url: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(url, {
    ...init,
    headers: { ...AUTH, ...(init.headers as Record<string, string> | undefined) },
  });
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    text: await response.text(),
  };
}

/** Checks the RFC 9457 shape every refusal must have, and returns the problem. */
function expectProblem(reply: Reply, status: number): Problem {
  // With the start of the body, so that a wrong status shows what came back.
  expect({ status: reply.status, body: reply.text.slice(0, 300) }).toMatchObject({ status });
  expect(reply.status).toBeLessThan(500);
  expect(reply.headers['content-type']).toMatch(/^application\/problem\+json/);
  const requestId = reply.headers['x-request-id'];
  expect(requestId).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  const problem = ProblemSchema.parse(JSON.parse(reply.text));
  expect(problem.status).toBe(status);
  expect(problem.requestId).toBe(requestId);
  return problem;
}

const JSON_TYPE = { 'content-type': 'application/json' };
/** A tenant id for routes answered before any tenant is looked up (405s). */
const TENANT_ID = '01a22add-94c3-7000-8000-000000000001';
const LONG = 'a'.repeat(10_000);
const base64url = (text: string) => Buffer.from(text).toString('base64url');

interface Gateway {
  url: string;
  port: number;
  /** A tenant that exists: tenant routes check their tenant before their input. */
  tenantId: string;
}

interface Case {
  name: string;
  send: (gw: Gateway) => Promise<Reply>;
  status: number;
  code: string;
  /** Text the detail must contain. */
  detail?: string;
  /** A field the problem must name. */
  field?: string;
  allow?: string;
  /** Slugs of tenants that must not exist afterwards. */
  slugs?: string[];
  /** Text the whole response must not contain (an echoed path). */
  notEchoed?: string;
}

const post = (body: string | Buffer, headers: Record<string, string> = JSON_TYPE) => {
  return ({ port }: { port: number }) => rawHttp(port, 'POST', '/v1/tenants', { headers, body });
};
const get = (path: string, headers: Record<string, string> = {}) => {
  return ({ port }: { port: number }) => rawHttp(port, 'GET', path, { headers });
};

const bodyCases: Case[] = [
  ...(
    [
      ['a NUL', 'a\u0000b', 'nul-name', 'found U+0000'],
      ['a lone surrogate', 'x\ud800y', 'lone-surrogate', 'lone surrogate'],
      ['a BEL (C0 control)', 'a\u0007b', 'bel-name', 'found U+0007'],
      ['an ANSI escape', '\u001b[31mRed', 'esc-name', 'found U+001B'],
      ['a NEL (C1 control)', 'a\u0085b', 'nel-name', 'found U+0085'],
      ['only zero-width spaces', '\u200b\u200b', 'zwsp-name', 'at least one visible character'],
      ['only RTL marks', '\u200f\u202e', 'rtl-name', 'at least one visible character'],
    ] as const
  ).map(([what, name, slug, detail]): Case => ({
    name: `a name with ${what}`,
    send: post(`{"name":${JSON.stringify(name)},"slug":"${slug}"}`),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'name',
    detail,
    slugs: [slug],
  })),
  {
    name: 'a slug with a NUL',
    send: post('{"name":"Slug","slug":"nul-slug\\u0000"}'),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'slug',
    slugs: ['nul-slug', 'nul-slug\u0000'],
  },
  {
    name: 'a body with 20,000 unknown keys (a short answer)',
    send: post(
      `{${Array.from({ length: 20_000 }, (_, i) => `"key${i}":${i}`).join(',')},"name":"Many","slug":"many-keys"}`,
    ),
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: 'and 19990 more',
    slugs: ['many-keys'],
  },
  {
    name: 'a form-encoded body',
    send: post('name=Form&slug=form-body', {
      'content-type': 'application/x-www-form-urlencoded',
    }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    detail: 'not "application/x-www-form-urlencoded"',
    slugs: ['form-body'],
  },
  {
    name: 'a text/plain body',
    send: post('{"name":"Text","slug":"text-body"}', { 'content-type': 'text/plain' }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    detail: 'send Content-Type: application/json, not "text/plain"',
    slugs: ['text-body'],
  },
  {
    name: 'JSON in latin1',
    send: post('{"name":"Latin","slug":"latin1-body"}', {
      'content-type': 'application/json; charset=latin1',
    }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    detail: 'UTF-8',
    slugs: ['latin1-body'],
  },
  {
    name: 'a JSON body without Content-Type (raw socket)',
    send: post('{"name":"None","slug":"no-type-raw"}', {}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    detail: 'no Content-Type was sent',
    slugs: ['no-type-raw'],
  },
  {
    name: 'a JSON body without Content-Type (fetch, a Blob of no type)',
    send: ({ url }) =>
      fetchReply(`${url}/v1/tenants`, {
        method: 'POST',
        body: new Blob(['{"name":"None","slug":"no-type-blob"}']),
      }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    detail: 'no Content-Type was sent',
    slugs: ['no-type-blob'],
  },
  {
    name: 'a JSON body sent chunked without Content-Type',
    send: ({ port }) => {
      const chunk = '{"name":"Chunk","slug":"chunked"}';
      return rawRequest(
        port,
        'POST /v1/tenants HTTP/1.1\r\nhost: x\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n' +
          `${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`,
      );
    },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    detail: 'no Content-Type was sent',
    slugs: ['chunked'],
  },
  {
    name: 'a vendor JSON type',
    send: post('{"name":"Vendor","slug":"vendor-type"}', {
      'content-type': 'application/vnd.api+json',
    }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    slugs: ['vendor-type'],
  },
  {
    name: 'a gzip Content-Encoding',
    send: post('{"name":"Zip","slug":"gzip-body"}', { ...JSON_TYPE, 'content-encoding': 'gzip' }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    detail: 'uncompressed',
    slugs: ['gzip-body'],
  },
  {
    name: 'a 2 MB body',
    send: post(`{"name":"${'x'.repeat(2 * 1024 * 1024)}","slug":"two-mb"}`),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    detail: 'limit 1 MiB',
    slugs: ['two-mb'],
  },
  {
    name: 'an empty body with Content-Type JSON',
    send: post(''),
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: 'the request body is empty',
  },
  ...['null', '[]', '42', '"a string"', 'true'].map((body): Case => ({
    name: `the JSON body ${body}`,
    send: post(body),
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: 'must be a JSON object',
    field: '(root)',
  })),
  {
    name: 'malformed JSON',
    send: post('{"name":"Broken","slug":"broken"'),
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: 'not valid JSON',
    slugs: ['broken'],
  },
  {
    name: 'bytes that are not UTF-8',
    send: post(
      Buffer.concat([
        Buffer.from('{"name":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('","slug":"bad-utf8"}'),
      ]),
    ),
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: 'not valid UTF-8',
    slugs: ['bad-utf8'],
  },
  {
    name: 'JSON nested 100,000 deep',
    send: post(`{"name":"Deep","slug":"deep","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`),
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: 'nested more than 32 levels deep',
    slugs: ['deep'],
  },
  {
    name: 'a duplicate key',
    send: post('{"name":"Dup","slug":"dup-first","slug":"dup-second"}'),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'slug',
    detail: 'appears more than once',
    slugs: ['dup-first', 'dup-second'],
  },
  {
    name: 'a __proto__ key',
    send: post('{"name":"Proto","slug":"proto","__proto__":{"admin":true}}'),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: '__proto__',
    slugs: ['proto'],
  },
  {
    name: 'a constructor.prototype key',
    send: post('{"name":"Ctor","slug":"ctor","constructor":{"prototype":{"admin":true}}}'),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'constructor.prototype',
    slugs: ['ctor'],
  },
];

const urlCases: Case[] = [
  {
    name: 'a malformed percent-escape',
    send: get('/v1/tenants/%zz'),
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: 'malformed',
  },
  {
    name: '%ff (not UTF-8) in a path',
    send: get('/v1/tenants/%ff'),
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: 'malformed',
  },
  {
    name: '%00 in a path parameter',
    send: get('/v1/tenants/%00'),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'id',
  },
  { name: '%00 in an unknown path', send: get('/nowhere/%00'), status: 404, code: 'NOT_FOUND' },
  { name: 'a path with ..', send: get('/v1/../v1/tenants'), status: 404, code: 'NOT_FOUND' },
  { name: 'double slashes', send: get('//v1//tenants'), status: 404, code: 'NOT_FOUND' },
  {
    name: 'a 10,000-character path parameter',
    send: get(`/v1/tenants/${LONG}`),
    status: 414,
    code: 'URI_TOO_LONG',
    notEchoed: 'a'.repeat(100),
  },
  {
    name: 'a 10,000-character tenant id before /audit-events',
    send: get(`/v1/tenants/${LONG}/audit-events`),
    status: 414,
    code: 'URI_TOO_LONG',
    notEchoed: 'a'.repeat(100),
  },
  {
    name: 'a 10,000-character unknown path',
    send: get(`/${LONG}`),
    status: 404,
    code: 'NOT_FOUND',
    notEchoed: 'a'.repeat(100),
  },
  {
    name: 'a 60 KB query string',
    send: get(`/v1/tenants?cursor=${'c'.repeat(60_000)}`),
    status: 431,
    code: 'HEADERS_TOO_LARGE',
  },
  {
    name: 'a 10 KB cursor',
    send: get(`/v1/tenants?cursor=${'c'.repeat(10_000)}`),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'cursor',
  },
  {
    name: 'an unknown query parameter',
    send: get('/v1/tenants?admin=1'),
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: 'unknown field(s): admin',
  },
  {
    name: 'a path parameter that is not a UUID',
    send: get('/v1/tenants/not-a-uuid'),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'id',
  },
  ...[
    '0',
    '501',
    '-1',
    '1.5',
    '%2010',
    '1e2',
    '0x10',
    encodeURIComponent('١٠'),
    '',
    '1&limit=2',
  ].map((limit): Case => ({
    name: `limit=${limit}`,
    send: get(`/v1/tenants?limit=${limit}`),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'limit',
    detail: 'must be an integer from 1 to 500',
  })),
  ...[
    ['not base64 JSON', 'abc'],
    ['of the wrong shape', base64url('{"admin":true}')],
    ['of the wrong key types', base64url('[1,2,3]')],
    ['with strings that are not keys', base64url('["x","y"]')],
  ].flatMap(([what, cursor]): Case[] => [
    {
      name: `a forged tenants cursor ${what}`,
      send: get(`/v1/tenants?cursor=${cursor}`),
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'cursor',
    },
    {
      name: `a forged audit cursor ${what}`,
      send: ({ port, tenantId }) =>
        rawHttp(port, 'GET', `/v1/tenants/${tenantId}/audit-events?cursor=${cursor}`),
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'cursor',
    },
  ]),
  {
    name: 'a cursor with a NUL',
    send: get('/v1/tenants?cursor=%00'),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'cursor',
  },
];

const protocolCases: Case[] = [
  {
    name: '40 KB of headers',
    send: get('/v1/health', { 'x-padding': 'h'.repeat(40_000) }),
    status: 431,
    code: 'HEADERS_TOO_LARGE',
  },
  {
    name: '100 KB of headers',
    send: get('/v1/health', { 'x-padding': 'h'.repeat(100_000) }),
    status: 431,
    code: 'HEADERS_TOO_LARGE',
  },
  {
    name: 'a malformed request line',
    send: ({ port }) => rawRequest(port, 'GARBAGE\r\n\r\n'),
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: 'not valid HTTP/1.1',
  },
  {
    name: 'an unknown HTTP version',
    send: ({ port }) => rawRequest(port, 'GET /v1/health HTTP/9.9\r\nhost: x\r\n\r\n'),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a control character in a header',
    send: ({ port }) =>
      rawRequest(port, 'GET /v1/health HTTP/1.1\r\nhost: x\r\nx-a: a\u0001b\r\n\r\n'),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'both Content-Length and Transfer-Encoding',
    send: ({ port }) =>
      rawRequest(
        port,
        'POST /v1/tenants HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n' +
          'content-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
      ),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'CONNECT',
    send: ({ port }) =>
      rawRequest(port, 'CONNECT example.com:443 HTTP/1.1\r\nhost: example.com\r\n\r\n'),
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: 'not a proxy',
  },
];

const JWT_SHAPED = `${base64url('{"alg":"EdDSA","typ":"at+jwt"}')}.${base64url('{}')}.c2ln`;

const credentialCases: Case[] = [
  ...(
    [
      ['no credentials', {}],
      ['an empty Authorization header', { authorization: '' }],
      ['Basic credentials', { authorization: `Basic ${base64url('admin:admin')}` }],
      ['an 8 KB bearer token', { authorization: `Bearer ${'a'.repeat(8_000)}` }],
      ['a bearer token of latin-1 bytes', { authorization: 'Bearer \u00ff\u00fe.\u00e9.x' }],
      ['a JWT-shaped token that is no token', { authorization: `Bearer ${JWT_SHAPED}` }],
      ['a JWT in X-API-Key', { 'x-api-key': JWT_SHAPED }],
      ['an API key that is no key', { 'x-api-key': 'tnty_nope' }],
      ['an 8 KB X-API-Key', { 'x-api-key': `tnty_${'a'.repeat(8_000)}` }],
      [
        'a well-formed API key nobody issued',
        { 'x-api-key': `tnty_${'Q'.repeat(12)}_${'s'.repeat(43)}` },
      ],
      [
        'both Authorization and X-API-Key',
        { authorization: 'Bearer x.y.z', 'x-api-key': `tnty_${'Q'.repeat(12)}_${'s'.repeat(43)}` },
      ],
    ] as [string, Record<string, string>][]
  ).map(([what, headers]): Case => ({
    name: what,
    send: ({ port }) =>
      rawHttp(port, 'POST', '/v1/tenants', {
        anonymous: true,
        headers: { ...JSON_TYPE, ...headers },
        body: `{"name":"Anon","slug":"anon-${what.length}"}`,
      }),
    status: 401,
    code: 'UNAUTHENTICATED',
    slugs: [`anon-${what.length}`],
  })),
];

const methodCases: Case[] = [
  ['DELETE', '/v1/tenants', 'GET, HEAD, POST'],
  ['OPTIONS', '/v1/tenants', 'GET, HEAD, POST'],
  ['PUT', `/v1/tenants/${TENANT_ID}`, 'GET, HEAD, PATCH'],
  ['DELETE', `/v1/tenants/${TENANT_ID}/audit-events`, 'GET, HEAD'],
  ['POST', '/v1/health', 'GET, HEAD'],
].map(([method, path, allow]): Case => ({
  name: `${method} ${path.replace(TENANT_ID, ':id')}`,
  send: ({ port }) =>
    rawHttp(port, method!, path!, { headers: { 'content-type': 'text/plain' }, body: 'x' }),
  status: 405,
  code: 'METHOD_NOT_ALLOWED',
  allow,
  detail: `${method} is not allowed here; use ${allow}`,
}));
methodCases.push(
  ...['GET', 'POST', 'DELETE', 'OPTIONS', 'PATCH'].map((method): Case => ({
    name: `${method} on an unknown path`,
    send: ({ port }) => rawHttp(port, method, '/v1/nothing-here'),
    status: 404,
    code: 'NOT_FOUND',
    detail: `no route ${method} /v1/nothing-here`,
  })),
);

describe('hostile input: every refusal is an RFC 9457 problem with a request id, never a 5xx', () => {
  let platform: Platform;
  let gw: Gateway;
  const gatewayErrors: string[] = [];
  const adminPassword = randomBytes(18).toString('base64url');

  async function slugs(): Promise<Set<string>> {
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const response = await fetch(
        `${gw.url}/v1/tenants?limit=500${cursor ? `&cursor=${cursor}` : ''}`,
        { headers: AUTH },
      );
      const page = (await response.json()) as {
        items: { slug: string }[];
        nextCursor: string | null;
      };
      for (const tenant of page.items) seen.add(tenant.slug);
      cursor = page.nextCursor;
    } while (cursor);
    return seen;
  }

  beforeAll(async () => {
    platform = await Platform.create({
      onLine: (service, line) => {
        // pino levels: 50 error, 60 fatal.
        if (service === 'gateway' && /"level":(50|60)/.test(line)) gatewayErrors.push(line);
      },
      env: {
        TENANTRY_ADMIN_EMAIL: 'admin@hostile-input.test',
        TENANTRY_ADMIN_PASSWORD: adminPassword,
      },
    });
    await platform.start();
    const url = platform.gatewayUrl;
    const login = await fetch(`${url}/v1/auth/login`, {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({ email: 'admin@hostile-input.test', password: adminPassword }),
    });
    expect(login.status).toBe(200);
    AUTH = {
      authorization: `Bearer ${((await login.json()) as { accessToken: string }).accessToken}`,
    };
    const { id } = await createActiveTenant(
      url,
      null,
      { name: 'Hostile', slug: 'hostile-input' },
      {
        headers: AUTH,
      },
    );
    gw = { url, port: Number(new URL(url).port), tenantId: id };
  });

  afterAll(async () => {
    await platform?.destroy();
  });

  describe.each([
    ['request bodies', bodyCases],
    ['URLs and query strings', urlCases],
    ['the HTTP protocol', protocolCases],
    ['credentials', credentialCases],
    ['methods and routes', methodCases],
  ])('%s', (_group, cases) => {
    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const reply = await c.send(gw);
      const problem = expectProblem(reply, c.status);
      expect(problem.code).toBe(c.code);
      if (c.detail) expect(problem.detail).toContain(c.detail);
      if (c.field) expect(problem.errors?.map((e) => e.field)).toContain(c.field);
      if (c.allow) expect(reply.headers.allow).toBe(c.allow);
      if (c.notEchoed) {
        expect(problem.instance).toBeUndefined();
        expect(reply.text).not.toContain(c.notEchoed);
      }
      expect(reply.text.length).toBeLessThan(2048);
      if (c.slugs) {
        const existing = await slugs();
        for (const slug of c.slugs) expect(existing.has(slug)).toBe(false);
      }
    });
  });

  it('keeps the request id the client sent, even for errors answered before routing', async () => {
    const reply = await rawHttp(gw.port, 'GET', '/v1/tenants/%zz', {
      headers: { 'x-request-id': 'hostile-42' },
    });
    expect(expectProblem(reply, 400).requestId).toBe('hostile-42');
  });

  it('accepts what is valid: a name in any script, JSON with charset=utf-8, a limit in digits', async () => {
    const created = await rawHttp(gw.port, 'POST', '/v1/tenants', {
      headers: { 'content-type': 'application/json; charset=UTF-8' },
      body: JSON.stringify({ name: 'Zoë 🚀', slug: 'zoe' }),
    });
    expect(created.status).toBe(202);
    expect(JSON.parse(created.text)).toMatchObject({ tenant: { name: 'Zoë 🚀', slug: 'zoe' } });
    const page = await fetchReply(`${gw.url}/v1/tenants?limit=010`);
    expect(page.status).toBe(200);
    expect((await slugs()).has('zoe')).toBe(true);
  });

  it('answers HEAD like GET, without a body', async () => {
    for (const path of ['/v1/tenants', `/v1/tenants?limit=1`]) {
      const head = await rawHttp(gw.port, 'HEAD', path);
      const got = await rawHttp(gw.port, 'GET', path);
      expect(head.status).toBe(got.status);
      expect(head.headers['content-type']).toBe(got.headers['content-type']);
      expect(head.headers['x-request-id']).toBeTruthy();
      expect(head.text).toBe('');
    }
    const missing = await rawHttp(gw.port, 'HEAD', '/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.headers['x-request-id']).toBeTruthy();
    expect(missing.text).toBe('');
    const tooLong = await rawHttp(gw.port, 'HEAD', `/v1/tenants/${LONG}`);
    expect(tooLong.status).toBe(414);
    expect(tooLong.text).toBe('');
  });

  it('sends Retry-After with IDEMPOTENCY_REQUEST_IN_PROGRESS', async () => {
    // Concurrent requests with one key: while the first runs, the others are told to retry.
    for (let attempt = 0; attempt < 10; attempt++) {
      const headers = { ...JSON_TYPE, 'idempotency-key': `race-${attempt}-${Date.now()}` };
      const body = JSON.stringify({ name: 'Race', slug: `race-${attempt}` });
      const replies = await Promise.all(
        Array.from({ length: 8 }, () => rawHttp(gw.port, 'POST', '/v1/tenants', { headers, body })),
      );
      for (const reply of replies) expect([202, 409]).toContain(reply.status);
      const refused = replies.find((r) => r.status === 409);
      if (!refused) continue;
      const problem = expectProblem(refused, 409);
      expect(problem.reason).toBe('IDEMPOTENCY_REQUEST_IN_PROGRESS');
      expect(refused.headers['retry-after']).toBe('1');
      return;
    }
    throw new Error('no request overlapped another with the same Idempotency-Key in 10 attempts');
  });

  it('documents every status a route can give in /openapi.json', async () => {
    const doc = (await (await fetch(`${gw.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const statuses = (path: string, method: string) =>
      Object.keys(doc.paths[path]![method]!.responses);
    expect(statuses('/v1/health', 'get')).toEqual(expect.arrayContaining(['200', '503']));
    expect(statuses('/v1/tenants', 'post')).toEqual(
      expect.arrayContaining(['202', '400', '409', '413', '415', '500', '503', '504']),
    );
    expect(statuses('/v1/tenants/{id}', 'get')).toEqual(
      expect.arrayContaining(['200', '400', '404', '414']),
    );
    expect(statuses('/v1/tenants/{tenantId}/audit-events', 'get')).toEqual(
      expect.arrayContaining(['200', '400', '414']),
    );
  });

  it('logged no error in the gateway for any of this', () => {
    expect(gatewayErrors).toEqual([]);
  });
});

// The login floor (issue 6's goal, logins >= 0.8x raw argon2): the least a login of this shape
// costs, written as plainly as it can be: no Nest, no validation library, no row-level security,
// no outbox, no metrics, no logs. Two processes, as the platform has:
//
//   FLOOR_ROLE=front    Fastify `POST /v1/auth/login` -> NATS request -> the answer as it comes
//   FLOOR_ROLE=service  the NATS responder: one SELECT of the user; one Redis script that counts
//                       the attempt in flight and against the IP (the lockout the issue asks for:
//                       atomic, so parallel attempts never pass the limit); argon2id verify (same
//                       parameters, at most one per CPU, as identity); one Redis script that takes
//                       the attempt back; one INSERT ... (CTE) statement for the session, the
//                       refresh token's hash and last_login_at (both statements prepared
//                       once per connection); an EdDSA access token (jose); the
//                       login's audit event published to JetStream (after the answer, not awaited
//                       by it, and with no consumer: less than the platform does).
//
// FLOOR_PG_URL (a database of its own, made by bench/auth/index.mjs), NATS_URL, REDIS_URL,
// FLOOR_PREFIX (subject, stream and key prefix), FLOOR_EMAIL / FLOOR_PASSWORD (the one account),
// PORT (front). Sends 'ready' (IPC) once it serves.
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import pg from 'pg';

const ARGON2 = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 };
const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`login-floor: ${name} is required`);
  return value;
};
const prefix = env('FLOOR_PREFIX');
const subject = `${prefix}.login`;
const nc = await connect({ servers: env('NATS_URL') });

if (env('FLOOR_ROLE') === 'front') {
  const { default: Fastify } = await import('fastify');
  const app = Fastify();
  app.post('/v1/auth/login', async (request, reply) => {
    const body = request.body;
    if (typeof body?.email !== 'string' || typeof body?.password !== 'string')
      return reply.code(400).send({ error: 'email and password are required' });
    const message = await nc.request(
      subject,
      JSON.stringify({
        email: body.email,
        password: body.password,
        ip: request.ip,
        userAgent: request.headers['user-agent'],
      }),
      { timeout: 10_000 },
    );
    const answer = JSON.parse(new TextDecoder().decode(message.data));
    return reply.code(answer.status).send(answer.body);
  });
  await app.listen({ port: Number(env('PORT')), host: '127.0.0.1' });
} else {
  await serve();
}
process.send?.('ready');

async function serve() {
  const db = new pg.Pool({ connectionString: env('FLOOR_PG_URL'), max: 10 });
  await db.query(`
    CREATE TABLE IF NOT EXISTS users (
      id uuid PRIMARY KEY, tenant_id uuid NOT NULL, email text NOT NULL UNIQUE,
      password_hash text NOT NULL, status text NOT NULL, last_login_at timestamptz);
    CREATE TABLE IF NOT EXISTS sessions (
      id uuid PRIMARY KEY, tenant_id uuid NOT NULL, user_id uuid NOT NULL, amr text[] NOT NULL,
      ip text, user_agent text, created_at timestamptz NOT NULL, expires_at timestamptz NOT NULL);
    CREATE TABLE IF NOT EXISTS refresh_tokens (
      token_hash text PRIMARY KEY, session_id uuid NOT NULL, expires_at timestamptz NOT NULL);`);
  await db.query(
    `INSERT INTO users (id, tenant_id, email, password_hash, status)
     VALUES ($1, $2, $3, $4, 'active') ON CONFLICT (email) DO NOTHING`,
    [randomUUID(), randomUUID(), env('FLOOR_EMAIL'), await hash(env('FLOOR_PASSWORD'), ARGON2)],
  );
  const redis = new Redis(env('REDIS_URL'));
  // KEYS: in flight, per-IP counter; ARGV: IP limit. {in flight} or {-2} past the IP's limit.
  redis.defineCommand('floorBegin', {
    numberOfKeys: 2,
    lua: `local hits = redis.call('INCR', KEYS[2])
      if hits == 1 then redis.call('EXPIRE', KEYS[2], 60) end
      if hits > tonumber(ARGV[1]) then return -2 end
      local n = redis.call('INCR', KEYS[1]); redis.call('PEXPIRE', KEYS[1], 60000); return n`,
  });
  redis.defineCommand('floorSucceed', {
    numberOfKeys: 1,
    lua: `if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end return 1`,
  });
  const { privateKey } = generateKeyPairSync('ed25519');
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: `${prefix}_AUDIT`, subjects: [`${prefix}.audit.>`] });
  const gate = gateOf(availableParallelism());

  const answer = (status, body) => JSON.stringify({ status, body });
  nc.subscribe(subject, {
    queue: 'floor',
    callback: (error, message) => {
      if (error) throw error;
      void login(message);
    },
  });

  async function login(message) {
    await (async () => {
      const request = JSON.parse(new TextDecoder().decode(message.data));
      const {
        rows: [user],
      } = await db.query({
        name: 'user',
        text: 'SELECT id, tenant_id, password_hash, status FROM users WHERE email = $1',
        values: [request.email.toLowerCase()],
      });
      if (!user) return message.respond(answer(401, { error: 'invalid credentials' }));
      const inFlight = `${prefix}:inflight:${user.id}`;
      const begun = await redis.floorBegin(inFlight, `${prefix}:ip:${request.ip}`, 1_000_000);
      if (begun < 0) return message.respond(answer(429, { error: 'rate limited' }));
      const right = await gate(() => verify(user.password_hash, request.password));
      await redis.floorSucceed(inFlight);
      if (!right || user.status !== 'active')
        return message.respond(answer(401, { error: 'invalid credentials' }));
      const sessionId = randomUUID();
      const refreshToken = randomBytes(32).toString('base64url');
      const now = new Date();
      await db.query({
        name: 'session',
        text: `WITH s AS (
           INSERT INTO sessions (id, tenant_id, user_id, amr, ip, user_agent, created_at, expires_at)
           VALUES ($1, $2, $3, '{pwd}', $4, $5, $6, $6::timestamptz + interval '30 days')),
         r AS (
           INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
           VALUES ($7, $1, $6::timestamptz + interval '30 days'))
         UPDATE users SET last_login_at = $6 WHERE id = $3`,
        values: [
          sessionId,
          user.tenant_id,
          user.id,
          request.ip,
          request.userAgent ?? null,
          now,
          createHash('sha256').update(refreshToken).digest('hex'),
        ],
      });
      const accessToken = await new SignJWT({ tid: user.tenant_id, sid: sessionId, amr: ['pwd'] })
        .setProtectedHeader({ alg: 'EdDSA', kid: 'floor' })
        .setIssuer('http://floor')
        .setAudience('floor')
        .setSubject(user.id)
        .setIssuedAt()
        .setJti(randomUUID())
        .setExpirationTime('10m')
        .sign(privateKey);
      message.respond(
        answer(200, { accessToken, refreshToken, expiresIn: 600, tokenType: 'Bearer' }),
      );
      await js.publish(
        `${prefix}.audit.${user.tenant_id}`,
        JSON.stringify({
          id: randomUUID(),
          tenantId: user.tenant_id,
          action: 'login.succeeded',
          actor: { type: 'user', id: user.id },
          target: { type: 'user', id: user.id },
          data: { sessionId, ip: request.ip, userAgent: request.userAgent },
          occurredAt: now.toISOString(),
        }),
      );
    })().catch((error) => {
      process.stderr.write(`login-floor: ${error.stack ?? error}\n`);
      message.respond(answer(500, { error: 'internal' }));
    });
  }
  await nc.flush();
}

/** At most `size` tasks at once, the others in arrival order (identity's Gate). */
function gateOf(size) {
  let running = 0;
  const waiting = [];
  return async (task) => {
    if (running >= size) await new Promise((go) => waiting.push(go));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

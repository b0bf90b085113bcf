// Authentication benchmark (issue 6): what authenticating costs on the gateway's request path,
// against the same pipeline with authentication replaced by a constant (a bench-only build);
// jose verifying the same token in a loop (what the verified-token cache saves); and logins
// per second against raw argon2 verifications per second. See bench/README.md.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import pg from 'pg';
import { freePort, REPO_ROOT, ServiceProcess } from '@tenantry/launcher';
import { createActiveTenant, Platform, SoftPasskey } from '@tenantry/testing';
import {
  affinityOf,
  ALL_CPUS,
  DURATION_S,
  httpLoad,
  LOADGEN_CPU,
  log,
  onCleanup,
  PIN,
  pin,
  positiveNumber,
  profileSegment,
  ratio,
  SERVER_CPU,
  opLoad,
  signIn,
  stopChild,
  table,
  serviceProfiling,
} from '../lib/common.mjs';
import { cpuMeter, cpuMsPerOp, cpuMsPerOpFromSeconds } from '../lib/cpu-meter.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const CONNECTIONS = positiveNumber('BENCH_CONNECTIONS', 50);
/** Rounds of the three request-path rows, interleaved so that drift hits them alike. */
const ROUNDS = positiveNumber('BENCH_ROUNDS', 2);
/** Logins and argon2 verifications in flight (the identity service hashes on libuv's pool). */
const LOGIN_CONCURRENCY = positiveNumber('BENCH_LOGIN_CONCURRENCY', 8);
const JOSE_SECONDS = 3;
/** `1`: only the logins and their argon2 baseline (rows (1) and (2) skipped). */
const LOGINS_ONLY = process.env.BENCH_AUTH_LOGINS_ONLY === '1';

export default async function run() {
  log(
    `auth: ${DURATION_S} s rows, ${CONNECTIONS} connections, ${ROUNDS} rounds, ` +
      `${LOGIN_CONCURRENCY} logins in flight, pinning ${PIN ? 'on' : 'off'}`,
  );
  const admin = { email: 'bench@localhost', password: randomBytes(18).toString('base64url') };
  // BENCH_PROFILE=1: V8 CPU profiles of the services (costs throughput: diagnosis only)
  const profiling = serviceProfiling();
  const platform = await Platform.create({
    // audit too: a tenant is provisioned across identity, policy and audit before it is active.
    services: ['gateway', 'identity', 'tenants', 'policy', 'audit'],
    env: {
      TENANTRY_ADMIN_EMAIL: admin.email,
      TENANTRY_ADMIN_PASSWORD: admin.password,
      // One client address makes every login here: lift the per-IP limit for the run.
      LOGIN_ATTEMPTS_PER_IP_PER_MINUTE: '1000000',
      ...profiling.env,
    },
  });
  const destroy = onCleanup(`platform ${platform.namespace}`, () => platform.destroy());
  const rows = [];
  const notes = [];
  try {
    log(`starting gateway, identity, tenants, policy, audit in namespace ${platform.namespace}`);
    await platform.start();
    // Pinned after the start: the services inherit no affinity from this process (identity
    // sizes its argon2 concurrency by the CPUs it may use).
    pin(process.pid, LOADGEN_CPU);
    const gateway = platform.service('gateway');
    const pids = {
      gateway: gateway.pid,
      identity: platform.service('identity').pid,
      tenants: platform.service('tenants').pid,
      policy: platform.service('policy').pid,
      audit: platform.service('audit').pid,
    };
    pin(pids.gateway, SERVER_CPU);
    pin(pids.identity, ALL_CPUS);
    pin(pids.tenants, ALL_CPUS);

    // What every row reads: one tenant, as the operator (JWT) and as a platform API key.
    const token = await signIn(gateway.url, admin);
    const operatorId = JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).sub;
    const bearer = { authorization: `Bearer ${token}` };
    const tenant = await createActiveTenant(gateway.url, token, {
      name: 'Bench',
      slug: `bench-${platform.namespace.replace(/_/g, '-')}`,
      plan: 'enterprise',
    });
    const apiKey = await post(gateway.url, '/v1/platform/api-keys', bearer, {
      name: 'bench reader',
      scopes: ['tenants:read'],
    });
    const path = `/v1/tenants/${tenant.id}`;

    const cpu = cpuMeter({ ...pids, loadgen: process.pid }, platform.infra.natsUrl);
    const push = (row) => {
      if (row.cpuPercent && row.okPerSec) row.cpuMsPerOp = cpuMsPerOp(row.cpuPercent, row.okPerSec);
      rows.push(row);
      log(
        `  ${row.id.padEnd(34)} ${String(row.okPerSec ?? row.perSec).padStart(7)}/s` +
          (row.cpuMsPerOp?.gateway ? `  gateway ${row.cpuMsPerOp.gateway} ms/req` : ''),
      );
    };

    if (!LOGINS_ONLY) {
      // (1) the request path: GET /v1/tenants/:id with a JWT, with an API key, and without
      // authentication, interleaved over ROUNDS rounds
      log('\n(1) request path');
      // The bench-only gateway: the same build, authentication a constant (the operator).
      const bypass = new ServiceProcess({
        service: 'gateway',
        root: REPO_ROOT,
        entry: 'bench/auth/gateway-without-authentication.mjs',
        port: await freePort(),
        env: { ...platform.env, BENCH_OPERATOR_ID: operatorId },
      });
      const stopBypass = onCleanup('gateway without authentication', () => bypass.stop());
      bypass.start();
      await bypass.waitReady(60_000);
      pin(bypass.pid, SERVER_CPU);
      const variants = [
        {
          id: 'http.gateway-jwt',
          what: 'GET /v1/tenants/:id, Bearer JWT',
          url: gateway.url,
          pid: gateway.pid,
          headers: bearer,
        },
        {
          id: 'http.gateway-api-key',
          what: 'GET /v1/tenants/:id, X-API-Key',
          url: gateway.url,
          pid: gateway.pid,
          headers: { 'x-api-key': apiKey.key },
        },
        {
          id: 'http.gateway-no-auth',
          what: 'the same, authentication a constant (bench-only build)',
          url: bypass.url,
          pid: bypass.pid,
          headers: bearer,
        },
      ];
      for (const v of variants) {
        const check = await fetch(`${v.url}${path}`, { headers: v.headers });
        if (check.status !== 200) throw new Error(`${v.id}: GET ${path} answered ${check.status}`);
      }
      // The same history for both gateways before anything is measured (the first row of a run
      // was the slowest, whichever it was: JIT and heap still warming), then each round in the
      // other order than the one before (A B C, C B A, ...), so that neither position favours
      // a row.
      for (const v of variants)
        await httpLoad({
          url: `${v.url}${path}`,
          connections: CONNECTIONS,
          headers: v.headers,
          durationS: 3,
          warmupS: 0,
        });
      for (let round = 1; round <= ROUNDS; round++) {
        for (const v of round % 2 ? variants : [...variants].reverse()) {
          const m = cpu.start({ gateway: v.pid });
          const r = await httpLoad({
            url: `${v.url}${path}`,
            connections: CONNECTIONS,
            headers: v.headers,
          });
          push({
            id: `${v.id}#${round}`,
            variant: v.id,
            what: v.what,
            kind: v.id === 'http.gateway-no-auth' ? 'baseline' : 'measured',
            round,
            ...r,
            cpuPercent: m.stop(),
            affinity: { gateway: affinityOf(v.pid), loadgen: affinityOf(process.pid) },
          });
        }
      }
      await stopBypass();

      // (2) jose verifying the same token in a loop, in this process: what every request would
      // pay without the verified-token cache
      log('\n(2) jose verify loop');
      const jwks = createRemoteJWKSet(new URL(`${gateway.url}/.well-known/jwks.json`));
      const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url'));
      const verifyOnce = () =>
        jwtVerify(token, jwks, { algorithms: ['EdDSA'], issuer: claims.iss, audience: claims.aud });
      for (let i = 0; i < 1_000; i++) await verifyOnce();
      let verified = 0;
      const t0 = process.hrtime.bigint();
      const until = t0 + BigInt(JOSE_SECONDS * 1e9);
      while (process.hrtime.bigint() < until) {
        await verifyOnce();
        verified++;
      }
      const joseSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      push({
        id: 'jose.verify-loop',
        what: 'jose jwtVerify of the same EdDSA token, one at a time, one core (baseline)',
        kind: 'baseline',
        perSec: Math.round(verified / joseSeconds),
        usPerVerify: +((joseSeconds / verified) * 1e6).toFixed(2),
      });
    }

    // (3) logins per second against raw argon2 verifications per second (same parameters).
    // One account signs in LOGIN_CONCURRENCY times at once: its lockout threshold (which also
    // bounds the checks of one account in flight) must allow that.
    log('\n(3) logins');
    const settings = await fetch(`${gateway.url}/v1/platform/auth-settings`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', ...bearer },
      body: JSON.stringify({ lockoutThreshold: 100 }),
    });
    if (settings.status !== 200) throw new Error(`PATCH auth-settings answered ${settings.status}`);
    pin(pids.gateway, ALL_CPUS);
    // Logins and raw argon2 take turns, ROUNDS times, so that the machine's drift hits both.
    // The baseline is raw argon2's best on this machine: as many in flight as the logins, and
    // one per CPU (more at once than cores only thrash the caches: 19 MiB each); the faster.
    const inFlight = [...new Set([LOGIN_CONCURRENCY, cpus().length])];
    // The floor: the same login written as plainly as it can be (login-floor.mjs), in two
    // processes of its own beside the platform, on the same account and password.
    const floor = await startLoginFloor(platform, admin);
    const stopFloor = onCleanup('login floor', () => floor.stop());
    // POST /v1/auth/login LOGIN_CONCURRENCY at once at `url`, metered (with `extraPids`). CPU
    // ms per login from unrounded clock ticks over the row and its warm-up (the window the
    // meter saw): finer than cpuMsPerOp, which comes from whole per cents.
    const signIns = async (url, extraPids) => {
      const m = cpu.start(extraPids);
      const logins = await httpLoad({
        url: `${url}/v1/auth/login`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(admin),
        connections: LOGIN_CONCURRENCY,
      });
      const { percent, cpuSeconds } = m.sample();
      const cpuMsPerLogin = cpuMsPerOpFromSeconds(cpuSeconds, logins.ok + logins.warmupOk);
      return { ...logins, cpuPercent: percent, cpuMsPerLogin };
    };
    for (let round = 1; round <= ROUNDS; round++) {
      // With BENCH_PROFILE=1 each login row is a profile segment of its own (1, 3, ...; the
      // floor's rows are segments of the platform's processes too, where they are idle).
      profileSegment(Object.values(pids));
      push({
        id: `http.login#${round}`,
        variant: 'http.login',
        what: `POST /v1/auth/login (argon2id verify, session, tokens, audit), ${LOGIN_CONCURRENCY} in flight`,
        kind: 'measured',
        round,
        ...(await signIns(gateway.url)),
      });
      profileSegment(Object.values(pids));
      push({
        id: `login.floor#${round}`,
        variant: 'login.floor',
        what: `the login floor (login-floor.mjs: Fastify -> NATS -> SELECT, Redis, argon2id, one INSERT, EdDSA token, JetStream), ${LOGIN_CONCURRENCY} in flight`,
        kind: 'baseline',
        round,
        ...(await signIns(floor.url, floor.pids)),
      });
      for (const concurrency of inFlight) {
        const measured = await argon2Baseline(concurrency);
        push({
          id: `argon2.verify@${concurrency}#${round}`,
          variant: `argon2.verify@${concurrency}`,
          what: `raw @node-rs/argon2 verify, same parameters, ${concurrency} in flight, own process`,
          kind: 'diagnostic',
          round,
          concurrency,
          perSec: Math.round(measured.perSec),
          cpuPercent: measured.cpuPercent,
          cpuMsPerVerify: measured.cpuMsPerVerify,
          kernelShare: measured.kernelShare,
        });
      }
    }
    await stopFloor();

    // (4) sign-ins with a passkey alone (no argon2): options, the authenticator's answer, the
    // sign-in; one passkey per worker, as one authenticator signs in once at a time. Last, as
    // the operator then has passkeys (and MFA on: its password logins would be challenges).
    log('\n(4) passkey sign-ins');
    const passkeys = [];
    for (let i = 0; i < LOGIN_CONCURRENCY; i++) {
      const passkey = new SoftPasskey('http://127.0.0.1:3000'); // identity's default origin
      const options = await post(
        gateway.url,
        '/v1/me/mfa/passkeys/options',
        bearer,
        undefined,
        200,
      );
      await post(gateway.url, '/v1/me/mfa/passkeys', bearer, {
        name: `bench ${i}`,
        credential: passkey.register(options),
      });
      passkeys.push(passkey);
    }
    const passkeyLogin = async () => {
      const passkey = passkeys.pop();
      try {
        const options = await post(gateway.url, '/v1/auth/passkey/options', {}, undefined, 200);
        const reply = await fetch(`${gateway.url}/v1/auth/passkey/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ passkey: passkey.authenticate(options) }),
        });
        await reply.arrayBuffer();
        return reply.status === 200;
      } finally {
        passkeys.push(passkey);
      }
    };
    const pm = cpu.start();
    const passkeyRow = await opLoad({
      op: passkeyLogin,
      concurrency: LOGIN_CONCURRENCY,
      warmupOps: 50,
    });
    const passkeyCpu = pm.sample();
    push({
      id: 'http.passkey-login',
      variant: 'http.passkey-login',
      what: `POST /v1/auth/passkey/options then /v1/auth/passkey/login (ES256 software passkey, user verified), ${LOGIN_CONCURRENCY} in flight`,
      kind: 'measured',
      ...passkeyRow,
      cpuPercent: passkeyCpu.percent,
      cpuMsPerLogin: cpuMsPerOpFromSeconds(passkeyCpu.cpuSeconds, passkeyRow.ok + 50),
    });
    const argon2 = inFlight.map((concurrency) => {
      const of = rows.filter((r) => r.variant === `argon2.verify@${concurrency}`);
      return { concurrency, perSec: of.reduce((a, r) => a + r.perSec, 0) / of.length };
    });
    const best = argon2.reduce((a, b) => (b.perSec > a.perSec ? b : a));
    push({
      id: 'argon2.verify',
      what: `raw @node-rs/argon2 verify, same parameters, the faster of the above over ${ROUNDS} rounds (${best.concurrency} in flight) (baseline)`,
      kind: 'baseline',
      perSec: Math.round(best.perSec),
      concurrency: best.concurrency,
    });
  } finally {
    log(`\nstopping services and dropping namespace ${platform.namespace}`);
    await destroy();
  }

  for (const row of rows) {
    if (row.non2xx || row.errors || row.timeouts)
      notes.push(
        `${row.id}: ${row.non2xx ?? 0} non-2xx, ${row.errors ?? 0} errors, ${row.timeouts ?? 0} timeouts`,
      );
  }
  const mean = (variant, pick) => {
    const of = rows
      .filter((r) => r.variant === variant)
      .map(pick)
      .filter((v) => v !== undefined);
    return of.length ? of.reduce((a, b) => a + b, 0) / of.length : undefined;
  };
  const rps = (v) => mean(v, (r) => r.okPerSec);
  const cpuPerReq = (v) => mean(v, (r) => r.cpuMsPerOp?.gateway);
  const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
  const authCpuUs = (v) => {
    const d = cpuPerReq(v) - cpuPerReq('http.gateway-no-auth');
    return Number.isFinite(d) ? +(d * 1000).toFixed(1) : null;
  };
  const ratios = {
    // goal: at least 0.95 (authentication costs at most 5 % of throughput)
    jwt_vs_noAuth: ratio(rps('http.gateway-jwt'), rps('http.gateway-no-auth')),
    apiKey_vs_noAuth: ratio(rps('http.gateway-api-key'), rps('http.gateway-no-auth')),
    // the gateway's CPU per request with authentication, over without
    jwtCpuPerRequest_vs_noAuth: ratio(
      cpuPerReq('http.gateway-jwt'),
      cpuPerReq('http.gateway-no-auth'),
    ),
    apiKeyCpuPerRequest_vs_noAuth: ratio(
      cpuPerReq('http.gateway-api-key'),
      cpuPerReq('http.gateway-no-auth'),
    ),
    // µs of gateway CPU that authentication adds per request, against one jose verification
    jwtAuthCpuPerRequest_us: authCpuUs('http.gateway-jwt'),
    apiKeyAuthCpuPerRequest_us: authCpuUs('http.gateway-api-key'),
    joseVerify_us: byId['jose.verify-loop']?.usPerVerify ?? null,
    // goal: at least 0.8
    logins_vs_argon2Verify: ratio(rps('http.login'), byId['argon2.verify']?.perSec),
    // the least a login of this shape costs here, against raw argon2; and the platform's logins against it
    loginFloor_vs_argon2Verify: ratio(rps('login.floor'), byId['argon2.verify']?.perSec),
    logins_vs_loginFloor: ratio(rps('http.login'), rps('login.floor')),
    // sign-ins with a passkey alone (two requests each, no argon2) against password logins
    passkeyLogins_vs_logins: ratio(rps('http.passkey-login'), rps('http.login')),
  };

  process.stderr.write('\n');
  process.stderr.write(
    table(
      rows.map((r) => ({
        row: r.id,
        kind: r.kind,
        rate: r.okPerSec ?? r.perSec,
        p50: r.p50_ms,
        p99: r.p99_ms,
        gatewayCpu: r.cpuMsPerOp?.gateway,
        verify: r.usPerVerify,
      })),
      [
        { key: 'row', title: 'row', align: 'left' },
        { key: 'kind', title: 'kind', align: 'left' },
        { key: 'rate', title: 'ok/s' },
        { key: 'p50', title: 'p50 ms' },
        { key: 'p99', title: 'p99 ms' },
        { key: 'gatewayCpu', title: 'gateway ms/req' },
        { key: 'verify', title: 'µs/verify' },
      ],
    ),
  );
  process.stderr.write('\nratios (same run)\n');
  for (const [k, v] of Object.entries(ratios)) process.stderr.write(`  ${k.padEnd(32)} ${v}\n`);
  if (profiling.note) notes.push(profiling.note);
  for (const note of notes) process.stderr.write(`  - ${note}\n`);
  return {
    settings: {
      durationS: DURATION_S,
      connections: CONNECTIONS,
      rounds: ROUNDS,
      loginConcurrency: LOGIN_CONCURRENCY,
      pinned: PIN,
    },
    rows,
    ratios,
    notes,
  };
}

async function post(gatewayUrl, path, headers, body, expected = 201) {
  const response = await fetch(`${gatewayUrl}${path}`, {
    method: 'POST',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await response.json();
  if (response.status !== expected)
    throw new Error(`POST ${path} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

/**
 * login-floor.mjs's two processes (service, then front) on both CPUs, with a database, stream and
 * Redis keys of their own (removed by `stop`); `pids` for the CPU meter.
 */
async function startLoginFloor(platform, account) {
  const prefix = `floor_${platform.namespace}`;
  const bootstrap = new URL(platform.infra.bootstrapUrl);
  const admin = new pg.Client({ connectionString: bootstrap.href });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${prefix}`);
  const database = new URL(bootstrap.href);
  database.pathname = `/${prefix}`;
  const port = await freePort();
  const env = {
    ...process.env,
    NATS_URL: platform.infra.natsUrl,
    REDIS_URL: platform.infra.redisUrl,
    FLOOR_PG_URL: database.href,
    FLOOR_PREFIX: prefix,
    FLOOR_EMAIL: account.email,
    FLOOR_PASSWORD: account.password,
    PORT: String(port),
  };
  const children = [];
  const start = (role) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [`${HERE}login-floor.mjs`], {
        env: { ...env, FLOOR_ROLE: role },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(child);
      pin(child.pid, ALL_CPUS);
      child.once('exit', (code) => reject(new Error(`login floor ${role} exited with ${code}`)));
      child.once('error', reject);
      child.once('message', () => resolve(child));
    });
  const stop = async () => {
    for (const child of children.reverse()) await stopChild(child);
    children.length = 0;
    await admin.query(`DROP DATABASE IF EXISTS ${prefix} WITH (FORCE)`);
    await admin.end();
    const nc = await connect({ servers: platform.infra.natsUrl });
    await (await jetstreamManager(nc)).streams.delete(`${prefix}_AUDIT`).catch(() => false);
    await nc.close();
    const redis = new Redis(platform.infra.redisUrl);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  };
  try {
    const service = await start('service');
    const front = await start('front');
    return {
      url: `http://127.0.0.1:${port}`,
      pids: { floorFront: front.pid, floorService: service.pid },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** argon2-verify.mjs in a process of its own, on both cores like the identity service. */
function argon2Baseline(concurrency) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${HERE}argon2-verify.mjs`], {
      env: {
        ...process.env,
        CONCURRENCY: String(concurrency),
        DURATION_S: String(DURATION_S),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    pin(child.pid, ALL_CPUS); // this process is pinned to the load generator's CPU
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim()))
        : reject(new Error(`argon2-verify exited with ${code}`)),
    );
  });
}

// Enterprise SSO benchmark (issue 8): SAML ACS validations and OIDC code exchanges per second
// through the identity service's own code (SamlLogin.complete, OidcLogin.complete, built), against
// the raw xml-crypto signature check and jose's id_token verification of the same inputs, and
// against the OP's token endpoint alone, in one process and one run. See bench/README.md, "sso".
// reflect-metadata first: the identity service's classes carry Nest decorators.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { customFetch } from 'openid-client';
import { Namespace } from '@tenantry/contracts';
import {
  generateSamlKeyPair,
  LOCAL_INFRA,
  samlResponseXml,
  testNamespace,
  TestSamlIdp,
  toSamlResponse,
} from '@tenantry/testing';
import { OidcDiscovery } from '../../apps/identity/dist/oidc/oidc-discovery.js';
import { OidcLogin } from '../../apps/identity/dist/oidc/oidc-login.js';
import { OidcStateStore } from '../../apps/identity/dist/oidc/oidc-state.store.js';
import { SamlLogin } from '../../apps/identity/dist/saml/saml-login.js';
import { SamlStateStore } from '../../apps/identity/dist/saml/saml-state.store.js';
import {
  LOADGEN_CPU,
  log,
  onCleanup,
  PIN,
  pin,
  positiveNumber,
  quantiles,
  ratio,
  SERVER_CPU,
  startChild,
  stopChild,
  table,
} from '../lib/common.mjs';
import { cpuMeter, cpuMsPerOpFromSeconds } from '../lib/cpu-meter.mjs';
import {
  checkAssertionSignature,
  decryptAndCheckAssertionSignature,
  idTokenVerifier,
} from './raw-verifiers.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OP_SCRIPT = fileURLToPath(new URL('./oidc-op.mjs', import.meta.url));

/** Seconds a row should last: its number of sign-ins is the warm-up's rate times this. */
const SECONDS = positiveNumber('BENCH_DURATION_S', 2);
/** Rounds of the rows, interleaved (measured, baseline, measured, ...) so drift hits all alike. */
const ROUNDS = positiveNumber('BENCH_ROUNDS', 2);
/** Sign-ins in flight in the `@C` rows (the `@1` rows: one at a time). */
const CONCURRENCY = positiveNumber('BENCH_SSO_CONCURRENCY', 4);
/** At most this many sign-ins per measured row (each needs a fresh response or code). */
const MAX_PER_ROW = positiveNumber('BENCH_SSO_MAX_PER_ROW', 400);
const MIN_PER_ROW = 50;
/** Sign-ins of each kind before timing: JIT warm-up, correctness, and the rate that sizes rows. */
const WARMUP = 50;
/**
 * Sign-ins made ahead per batch (then timed). For OIDC it is also a limit: oidc-provider's memory
 * adapter (the test OP's) keeps at most 1,000 entries and a sign-in leaves ~6 (interaction,
 * session, grant, code, ...), so with more codes waiting the oldest are evicted unexchanged.
 */
const BATCH = 100;
const REDIRECT_URI = 'https://tenantry.bench/v1/auth/sso/oidc/callback';

const SAML_USER = {
  nameId: 'alice@corp.example',
  email: 'alice@corp.example',
  attributes: { groups: ['engineering', 'admins'], displayName: 'Alice Example' },
};

export default async function run() {
  pin(process.pid, LOADGEN_CPU);
  const load0 = loadavg();
  log(
    `sso: rows of ~${SECONDS} s (${MIN_PER_ROW}-${MAX_PER_ROW} sign-ins), ${ROUNDS} rounds, ` +
      `@C = ${CONCURRENCY} in flight, pinning ${PIN ? `on (this process CPU ${LOADGEN_CPU}, the OP CPU ${SERVER_CPU})` : 'off'}`,
  );

  // ---- infrastructure: Redis (own key prefix), the test IdP, the test OP in its own process ----
  const ns = testNamespace('benchsso');
  const prefix = new Namespace(ns).redisPrefix();
  const redis = new Redis(LOCAL_INFRA.redisUrl, { keyPrefix: prefix, maxRetriesPerRequest: 1 });
  onCleanup(`Redis keys ${prefix}*`, async () => {
    redis.disconnect();
    log(`deleted ${await deleteKeys(prefix)} Redis keys under ${prefix}`);
  });
  const idp = await TestSamlIdp.start();
  onCleanup('test SAML IdP', () => idp.close());
  const { child: opChild, message } = await startChild(OP_SCRIPT, {
    OIDC_REDIRECT_URI: REDIRECT_URI,
  });
  onCleanup('test OpenID Provider', () => stopChild(opChild));
  const browser = opBrowser(opChild);
  const pids = { bench: process.pid, op: opChild.pid, ...redisPid() };
  const meter = { ...cpuMeter(pids, LOCAL_INFRA.natsUrl), pids };

  // ---- SAML: one SP key pair, a connection in clear and one requiring encryption ----
  const spKeys = await generateSamlKeyPair('tenantry-bench-sp');
  const samlLogin = new SamlLogin(new SamlStateStore(redis));
  const samlConnection = (encrypted) => {
    const id = randomUUID();
    const conn = {
      id,
      tenantId: randomUUID(),
      idp: { entityId: idp.entityId, ssoUrl: idp.ssoUrl, certificates: [idp.certificatePem] },
      sp: {
        entityId: `https://tenantry.bench/saml/${id}`,
        acsUrl: `https://tenantry.bench/v1/auth/sso/saml/${id}/acs`,
        privateKey: spKeys.privateKey,
        certificate: spKeys.certificate,
      },
      allowIdpInitiated: false,
      requireEncryptedAssertions: encrypted,
      clockSkewSeconds: 60,
    };
    idp.trustSp({
      entityId: conn.sp.entityId,
      acsUrl: conn.sp.acsUrl,
      certificate: spKeys.certificate,
    });
    return conn;
  };
  const saml = {};
  for (const encrypted of [false, true]) {
    const conn = samlConnection(encrypted);
    const name = encrypted ? 'saml-encrypted' : 'saml';
    saml[name] = {
      name,
      encrypted,
      /** n SP-initiated sign-ins: each `start` (a signed AuthnRequest), answered by the IdP. */
      prepare: async (n) => {
        const out = [];
        for (let i = 0; i < n; i++) {
          const { redirectUrl } = await samlLogin.start(conn, undefined);
          const answer = await idp.respondTo(
            redirectUrl,
            SAML_USER,
            encrypted ? { encryptTo: spKeys.certificate } : {},
          );
          out.push({ samlResponse: answer.samlResponse, relayState: answer.relayState });
        }
        return out;
      },
      complete: async (r) =>
        (await samlLogin.complete(conn, r.samlResponse, r.relayState)).identity.nameId ===
        SAML_USER.nameId,
      baseline: encrypted
        ? (r) =>
            decryptAndCheckAssertionSignature(r.samlResponse, spKeys.privateKey, idp.certificatePem)
        : (r) => checkAssertionSignature(r.samlResponse, idp.certificatePem),
      baselineId: encrypted ? 'saml-encrypted.xml-encryption+xml-crypto' : 'saml.xml-crypto',
      spKey: spKeys.privateKey,
      idpCertificate: idp.certificatePem,
    };
  }

  // ---- OIDC: one connection to the OP; token responses copied on their way to openid-client ----
  const { issuer, clientId, clientSecret } = message.ready;
  const discovery = new OidcDiscovery({ allowHttpIssuers: [issuer] });
  const oidcStates = new OidcStateStore(redis);
  const oidcLogin = new OidcLogin(discovery, oidcStates);
  const oidcConn = {
    id: randomUUID(),
    tenantId: randomUUID(),
    issuer,
    clientId,
    clientSecret,
    scopes: ['openid', 'email', 'profile'],
    redirectUri: REDIRECT_URI,
  };
  const config = await discovery.configuration(oidcConn);
  const metadata = config.serverMetadata();
  const tokenBodies = [];
  // The id_tokens the exchanges validated, for jose: the token endpoint's answer is read once
  // here, kept, and handed on as a new Response with the same status, headers and body.
  config[customFetch] = async (url, options) => {
    const response = await fetch(url, options);
    if (String(url) !== metadata.token_endpoint) return response;
    const body = await response.text();
    tokenBodies.push(body);
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
  const takeIdTokens = () => tokenBodies.splice(0).map((body) => JSON.parse(body).id_token);
  const jwks = await (await fetch(metadata.jwks_uri)).json();
  const verifyIdToken = idTokenVerifier(jwks, { issuer, audience: clientId });
  const basicAuth = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;

  /** n sign-ins started by OidcLogin and signed in at the OP: the callback queries. */
  const oidcCallbacks = async (n) => {
    const urls = [];
    for (let i = 0; i < n; i++) urls.push((await oidcLogin.start(oidcConn, undefined)).redirectUrl);
    return (await browser(urls)).map((url) => Object.fromEntries(new URL(url).searchParams));
  };
  /** The same, with the state taken back from Redis: codes and their PKCE verifiers, for the floor. */
  const oidcCodes = async (n) => {
    const urls = [];
    const verifiers = [];
    for (let i = 0; i < n; i++) {
      const { redirectUrl } = await oidcLogin.start(oidcConn, undefined);
      const pending = await oidcStates.take(new URL(redirectUrl).searchParams.get('state'));
      urls.push(redirectUrl);
      verifiers.push(pending.codeVerifier);
    }
    return (await browser(urls)).map((url, i) => ({
      code: new URL(url).searchParams.get('code'),
      codeVerifier: verifiers[i],
    }));
  };
  const oidcComplete = async (query) =>
    (await oidcLogin.complete(oidcConn, query)).identity.claims.email === 'alice@corp.example';
  /** The network + OP floor: the token request openid-client sends, and its JSON read. */
  const tokenPost = async ({ code, codeVerifier }) => {
    const response = await fetch(metadata.token_endpoint, {
      method: 'POST',
      headers: {
        authorization: basicAuth,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: codeVerifier,
      }),
    });
    const body = await response.json();
    return response.status === 200 && typeof body.id_token === 'string';
  };

  // ---- warm-up: every path once per input, all must succeed; sizes the rows ----
  log('\nwarm-up and checks');
  const sanity = {};
  const perRow = {};
  for (const kind of Object.values(saml)) {
    const inputs = await kind.prepare(WARMUP);
    const r = await timeOver(inputs, kind.complete, 1);
    mustAllSucceed(`${kind.name}.complete (warm-up)`, r);
    perRow[kind.name] = rowSize(r);
    mustAllSucceed(`${kind.baselineId} (warm-up)`, await timeOver(inputs, kind.baseline, 1));
    sanity[kind.baselineId] = await baselineRefuses(kind, inputs[0], spKeys.certificate);
    log(
      `  ${kind.name}: ${Math.round(r.ops / r.seconds)}/s one at a time -> ${perRow[kind.name]} per row; ` +
        `baseline refuses tampering: ${JSON.stringify(sanity[kind.baselineId])}`,
    );
  }
  {
    const r = await timeOver(await oidcCallbacks(WARMUP), oidcComplete, 1);
    mustAllSucceed('oidc.complete (warm-up)', r);
    perRow.oidc = rowSize(r);
    mustAllSucceed(
      'oidc.token-post (warm-up)',
      await timeOver(await oidcCodes(WARMUP), tokenPost, 1),
    );
    const idTokens = takeIdTokens();
    if (idTokens.length !== WARMUP)
      throw new Error(`captured ${idTokens.length} id_tokens of ${WARMUP}`);
    mustAllSucceed('oidc.jose (warm-up)', await timeOver(idTokens, verifyIdToken, 1));
    sanity['oidc.jose'] = await joseRefuses(verifyIdToken, idTokens[0]);
    log(
      `  oidc: ${Math.round(r.ops / r.seconds)}/s one at a time -> ${perRow.oidc} per row; ` +
        `jose refuses tampering: ${JSON.stringify(sanity['oidc.jose'])}`,
    );
  }

  // ---- timed rows: measured and baseline paired batch by batch, over the rounds ----
  const rows = [];
  const done = (acc, round) => {
    const row = { ...finish(acc), round };
    rows.push(row);
    log(
      `  ${row.id.padEnd(42)} ${String(row.perSec).padStart(6)}/s  p50 ${row.p50_ms} ms  p99 ${row.p99_ms} ms` +
        `  (${row.ops} ops${row.failed || row.errors ? `, ${row.failed} failed, ${row.errors} errors: ${row.firstError ?? ''}` : ''})`,
    );
  };
  for (let round = 1; round <= ROUNDS; round++) {
    log(`\nround ${round} of ${ROUNDS}`);
    for (const kind of Object.values(saml)) {
      // One baseline row for both concurrencies: each batch of responses is validated by
      // SamlLogin.complete and checked by the baseline, one right after the other (in turns,
      // which goes first), so both see the same inputs and the same state of the machine.
      const baseline = accumulator(kind.baselineId, 'baseline', 1);
      for (const concurrency of [1, CONCURRENCY]) {
        const measured = accumulator(
          `${kind.name}.complete@${concurrency}`,
          'measured',
          concurrency,
        );
        for (const [i, size] of batchesOf(perRow[kind.name]).entries()) {
          const items = await kind.prepare(size);
          const pair = [
            () => timedBatch(meter, measured, items, kind.complete),
            () => timedBatch(meter, baseline, items, kind.baseline),
          ];
          for (const step of i % 2 ? pair.reverse() : pair) await step();
        }
        done(measured, round);
      }
      done(baseline, round);
    }
    for (const concurrency of [1, CONCURRENCY]) {
      // Codes are single-use: each side gets its own batch, made just before it is timed.
      const measured = accumulator(`oidc.complete@${concurrency}`, 'measured', concurrency);
      const floor = accumulator(`oidc.token-post@${concurrency}`, 'baseline', concurrency);
      for (const [i, size] of batchesOf(perRow.oidc).entries()) {
        const pair = [
          async () => timedBatch(meter, measured, await oidcCallbacks(size), oidcComplete),
          async () => timedBatch(meter, floor, await oidcCodes(size), tokenPost),
        ];
        for (const step of i % 2 ? pair.reverse() : pair) await step();
      }
      done(measured, round);
      done(floor, round);
    }
    // The id_tokens of this round's exchanges, verified again and again for SECONDS (no state).
    const idTokens = takeIdTokens();
    for (const concurrency of [1, CONCURRENCY]) {
      const jose = accumulator(`oidc.jose@${concurrency}`, 'baseline', concurrency);
      await timedBatch(meter, jose, idTokens, verifyIdToken, SECONDS);
      done(jose, round);
    }
  }

  // ---- summary and ratios (means over the rounds) ----
  const summary = {};
  for (const id of [...new Set(rows.map((r) => r.id))]) {
    const of = rows.filter((r) => r.id === id);
    const mean = (pick) => {
      const xs = of.map(pick).filter((v) => typeof v === 'number');
      return xs.length ? +(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(3) : null;
    };
    summary[id] = {
      kind: of[0].kind,
      rounds: of.length,
      perSec: Math.round(mean((r) => r.perSec)),
      p50_ms: mean((r) => r.p50_ms),
      p99_ms: mean((r) => r.p99_ms),
      mean_ms: mean((r) => r.mean_ms),
      benchCpuMsPerOp: mean((r) => r.cpuMsPerOp.bench),
      opCpuMsPerOp: mean((r) => r.cpuMsPerOp.op),
      redisCpuMsPerOp: mean((r) => r.cpuMsPerOp.redis),
    };
  }
  const s = (id) => summary[id] ?? {};
  const C = CONCURRENCY;
  const ratios = {};
  for (const kind of Object.values(saml)) {
    const b = s(kind.baselineId);
    const at1 = s(`${kind.name}.complete@1`);
    const atC = s(`${kind.name}.complete@${C}`);
    const k = kind.encrypted ? 'samlEncrypted' : 'saml';
    const vs = kind.encrypted ? 'xmlEncryptionXmlCrypto' : 'xmlCrypto';
    // sign-ins per second against signature checks per second (1 = as fast as the bare check)
    ratios[`${k}Complete@1_vs_${vs}`] = ratio(at1.perSec, b.perSec);
    ratios[`${k}Complete@${C}_vs_${vs}`] = ratio(atC.perSec, b.perSec);
    // how many times the bare check's time and CPU a whole validation takes
    ratios[`${k}Complete@1_p50_over_${vs}_p50`] = ratio(at1.p50_ms, b.p50_ms);
    ratios[`${k}CompleteCpu@${C}_over_${vs}Cpu`] = ratio(atC.benchCpuMsPerOp, b.benchCpuMsPerOp);
  }
  ratios[`samlEncryptedComplete@${C}_vs_samlComplete@${C}`] = ratio(
    s(`saml-encrypted.complete@${C}`).perSec,
    s(`saml.complete@${C}`).perSec,
  );
  for (const c of [1, C]) {
    // exchanges per second against the bare token request (the network + OP floor) ...
    ratios[`oidcComplete@${c}_vs_tokenPost@${c}`] = ratio(
      s(`oidc.complete@${c}`).perSec,
      s(`oidc.token-post@${c}`).perSec,
    );
    // ... and against jose verifying the same id_tokens (no network, no OP)
    ratios[`oidcComplete@${c}_vs_jose@${c}`] = ratio(
      s(`oidc.complete@${c}`).perSec,
      s(`oidc.jose@${c}`).perSec,
    );
  }
  const diff = (a, b) =>
    typeof a === 'number' && typeof b === 'number' ? +(a - b).toFixed(3) : null;
  // What the relying party adds to the bare token request: time (one at a time, means) and this
  // process's CPU per exchange; beside them, one jose verification.
  ratios.oidcRpAddedLatency_ms = diff(s('oidc.complete@1').mean_ms, s('oidc.token-post@1').mean_ms);
  ratios.oidcRpCpuPerExchange_ms = s(`oidc.complete@${C}`).benchCpuMsPerOp;
  ratios.tokenPostCpuPerExchange_ms = s(`oidc.token-post@${C}`).benchCpuMsPerOp;
  ratios.oidcRpAddedCpu_ms = diff(
    s(`oidc.complete@${C}`).benchCpuMsPerOp,
    s(`oidc.token-post@${C}`).benchCpuMsPerOp,
  );
  ratios.opCpuPerExchange_ms = s(`oidc.token-post@${C}`).opCpuMsPerOp;
  ratios.joseVerify_ms = s('oidc.jose@1').mean_ms;
  ratios.joseVerifyCpu_ms = s(`oidc.jose@${C}`).benchCpuMsPerOp;

  const load1 = loadavg();
  const machineLoad = {
    loadavg1_before: +load0[0].toFixed(2),
    loadavg1_after: +load1[0].toFixed(2),
    meanCpuOther: Math.round(rows.reduce((a, r) => a + (r.cpuPercent.other ?? 0), 0) / rows.length),
    maxCpuOther: Math.max(...rows.map((r) => r.cpuPercent.other ?? 0)),
  };
  const notes = [
    "Every row of a kind is the same code on the same kind of input: measured rows run the identity service's built SamlLogin.complete / OidcLogin.complete once per fresh response or code (made before the row, untimed); baselines check the same responses or id_tokens, in the same process, in the same round.",
    `The OP runs in its own process on CPU ${SERVER_CPU}, this process on CPU ${LOADGEN_CPU}; Redis is not pinned. cpuMsPerOp: CPU ms per sign-in of this process (bench), the OP and Redis. "other" = the machine minus those, in % of one core (mean ${machineLoad.meanCpuOther}, max ${machineLoad.maxCpuOther}).`,
    `Rows run in batches of at most ${BATCH} sign-ins, made untimed, then timed; a measured batch and its baseline batch run one right after the other, in turns which first (SAML: the baseline checks the very responses just validated; OIDC: codes are single-use, so the floor gets its own batch). A row at concurrency ${C} ramps down at the end of each batch, the floor row alike; rates count the timed windows only.`,
    "id_tokens for jose are copied from the token responses of the oidc.complete rows (a customFetch on the connection's openid-client configuration reads the body once and hands on a new Response): the jose rows verify exactly what the exchanges validated.",
  ];
  for (const row of rows) {
    if (row.failed || row.errors)
      notes.push(
        `${row.id}#${row.round}: ${row.failed} failed, ${row.errors} errors (${row.firstError ?? ''})`,
      );
  }
  printTables(rows, summary, ratios, machineLoad);
  return {
    settings: {
      secondsPerRow: SECONDS,
      rounds: ROUNDS,
      concurrency: CONCURRENCY,
      maxPerRow: MAX_PER_ROW,
      perRow,
      warmup: WARMUP,
      batch: BATCH,
      pinned: PIN,
      cpu: PIN ? { bench: LOADGEN_CPU, op: SERVER_CPU } : null,
    },
    versions: versions(),
    sanity,
    rows,
    summary,
    ratios,
    machineLoad,
    notes,
  };
}

/** How many sign-ins a row gets: the warm-up's rate one at a time, for SECONDS, bounded. */
function rowSize(warmup) {
  const rate = warmup.ops / warmup.seconds;
  return Math.max(MIN_PER_ROW, Math.min(MAX_PER_ROW, Math.round(rate * SECONDS)));
}

function mustAllSucceed(what, r) {
  if (r.failed || r.errors) {
    throw new Error(
      `${what}: ${r.failed} failed and ${r.errors} errors of ${r.ops} (${r.firstError ?? 'returned false'})`,
    );
  }
}

/**
 * Runs `op` on every item, `concurrency` in flight, one hrtime pair each; with `minSeconds`,
 * goes round the items again until that long has passed (stateless baselines only).
 */
async function timeOver(items, op, concurrency, minSeconds = 0) {
  const lat = [];
  let next = 0;
  let failed = 0;
  let errors = 0;
  let firstError;
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(minSeconds * 1e9));
  const worker = async () => {
    for (;;) {
      if (next >= items.length && process.hrtime.bigint() >= deadline) return;
      const item = items[next++ % items.length];
      const start = process.hrtime.bigint();
      try {
        if ((await op(item)) !== true) failed++;
      } catch (error) {
        errors++;
        firstError ??= error.message;
      }
      lat.push(Number(process.hrtime.bigint() - start));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { lat, ops: lat.length, seconds, failed, errors, firstError };
}

/** A row being measured: what its timed batches add up to. */
function accumulator(id, kind, concurrency) {
  return {
    id,
    kind,
    concurrency,
    lat: [],
    ops: 0,
    seconds: 0,
    failed: 0,
    errors: 0,
    firstError: undefined,
    batches: 0,
    cpuSeconds: {},
    machine: 0,
    other: 0,
  };
}

/** Times `op` over `items` (see timeOver) into the row, with the CPU of that window. */
async function timedBatch(meter, acc, items, op, minSeconds = 0) {
  const window = meter.start();
  const ns0 = cpuNs(meter.pids);
  const r = await timeOver(items, op, acc.concurrency, minSeconds);
  const ns1 = cpuNs(meter.pids);
  const { percent, seconds } = window.sample();
  for (const x of r.lat) acc.lat.push(x);
  acc.ops += r.ops;
  acc.seconds += r.seconds;
  acc.failed += r.failed;
  acc.errors += r.errors;
  acc.firstError ??= r.firstError;
  acc.batches++;
  for (const k of Object.keys(ns1)) {
    if (ns0[k] !== undefined)
      acc.cpuSeconds[k] = (acc.cpuSeconds[k] ?? 0) + (ns1[k] - ns0[k]) / 1e9;
  }
  // machine and other: % of one core, weighted by the window's length
  acc.machine += percent.machine * seconds;
  acc.other += percent.other * seconds;
}

/** The row of an accumulator: rate over the timed windows only, latency over every sign-in. */
function finish(acc) {
  const q = quantiles(acc.lat);
  return {
    id: acc.id,
    kind: acc.kind,
    concurrency: acc.concurrency,
    ops: acc.ops,
    seconds: +acc.seconds.toFixed(3),
    perSec: Math.round(acc.ops / acc.seconds),
    mean_ms: +(acc.lat.reduce((a, b) => a + b, 0) / acc.lat.length / 1e6).toFixed(3),
    p50_ms: q(0.5),
    p99_ms: q(0.99),
    max_ms: q(1),
    failed: acc.failed,
    errors: acc.errors,
    ...(acc.firstError ? { firstError: acc.firstError } : {}),
    batches: acc.batches,
    cpuPercent: {
      ...Object.fromEntries(
        Object.entries(acc.cpuSeconds).map(([k, v]) => [k, Math.round((v / acc.seconds) * 100)]),
      ),
      machine: Math.round(acc.machine / acc.seconds),
      other: Math.round(acc.other / acc.seconds),
    },
    cpuMsPerOp: cpuMsPerOpFromSeconds(acc.cpuSeconds, acc.ops),
  };
}

/** A row's sign-ins in batches of at most BATCH. */
function batchesOf(n) {
  return Array.from({ length: Math.ceil(n / BATCH) }, (_, i) => Math.min(BATCH, n - i * BATCH));
}

/** The baselines really check: a changed NameID and a foreign certificate are refused. */
async function baselineRefuses(kind, input, foreignCertificate) {
  const refused = async (fn) => {
    try {
      return (await fn()) !== true;
    } catch {
      return true;
    }
  };
  const out = {
    foreignCertificate: await refused(() =>
      kind.encrypted
        ? decryptAndCheckAssertionSignature(input.samlResponse, kind.spKey, foreignCertificate)
        : checkAssertionSignature(input.samlResponse, foreignCertificate),
    ),
  };
  if (!kind.encrypted) {
    const xml = samlResponseXml(input.samlResponse);
    const changed = xml.replace('>alice@corp.example<', '>mallory@corp.example<');
    if (changed === xml) throw new Error('the NameID to tamper with was not found');
    out.changedNameId = await refused(() =>
      checkAssertionSignature(toSamlResponse(changed), kind.idpCertificate),
    );
  }
  return out;
}

async function joseRefuses(verify, idToken) {
  const [header, payload, signature] = idToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  const forged = [
    header,
    Buffer.from(JSON.stringify({ ...claims, email: 'mallory@corp.example' })).toString('base64url'),
    signature,
  ].join('.');
  try {
    await verify(forged);
    return { changedClaim: false };
  } catch {
    return { changedClaim: true };
  }
}

/** Sends authorization URLs to the OP's process, which signs each in: the callback URLs. */
function opBrowser(child) {
  let seq = 0;
  const waiting = new Map();
  child.on('message', (m) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.error) w.reject(new Error(`the test OP: ${m.error}`));
    else w.resolve(m.callbacks);
  });
  return (urls) =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      waiting.set(id, { resolve, reject });
      child.send({ id, urls, sub: 'alice', concurrency: 4 });
    });
}

/**
 * CPU time of each process so far, in ns, from the scheduler (`/proc/<pid>/task/<tid>/schedstat`,
 * every thread): exact, where /proc/<pid>/stat counts 10 ms ticks, too coarse for sign-ins of a
 * few ms (threads that ended in between are not counted).
 */
function cpuNs(pids) {
  const out = {};
  for (const [name, pid] of Object.entries(pids)) {
    try {
      let ns = 0;
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      }
      out[name] = ns;
    } catch {
      // the process is gone, or schedstat is not available: no figure
    }
  }
  return out;
}

/** The redis-server process, when there is exactly one (for its CPU per sign-in). */
function redisPid() {
  const pids = readdirSync('/proc').filter((d) => {
    if (!/^\d+$/.test(d)) return false;
    try {
      return readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'redis-server';
    } catch {
      return false;
    }
  });
  return pids.length === 1 ? { redis: pids[0] } : {};
}

async function deleteKeys(prefix) {
  const redis = new Redis(LOCAL_INFRA.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

function versions() {
  const version = (pkg) => {
    try {
      return JSON.parse(readFileSync(`${ROOT}node_modules/${pkg}/package.json`, 'utf8')).version;
    } catch {
      return null;
    }
  };
  return Object.fromEntries(
    [
      '@node-saml/passport-saml',
      '@node-saml/node-saml',
      'xml-crypto',
      'xml-encryption',
      'openid-client',
      'oauth4webapi',
      'jose',
      'oidc-provider',
      'samlify',
      'ioredis',
    ].map((pkg) => [pkg, version(pkg)]),
  );
}

function printTables(rows, summary, ratios, machineLoad) {
  const columns = [
    { key: 'id', title: 'row', align: 'left' },
    { key: 'kind', title: 'kind', align: 'left' },
    { key: 'round', title: 'round' },
    { key: 'perSec', title: 'per s' },
    { key: 'p50_ms', title: 'p50 ms' },
    { key: 'p99_ms', title: 'p99 ms' },
    { key: 'bench', title: 'bench CPU ms/op' },
    { key: 'op', title: 'OP CPU ms/op' },
    { key: 'redis', title: 'Redis CPU ms/op' },
    { key: 'other', title: 'other %' },
  ];
  log('\nsso: sign-ins in one process (latency per sign-in, hrtime)');
  log(
    table(
      rows.map((r) => ({ ...r, ...r.cpuMsPerOp, other: r.cpuPercent.other })),
      columns,
    ),
  );
  log('\nmeans over the rounds');
  log(
    table(
      Object.entries(summary).map(([id, x]) => ({
        id,
        ...x,
        bench: x.benchCpuMsPerOp,
        op: x.opCpuMsPerOp,
        redis: x.redisCpuMsPerOp,
      })),
      columns.filter((c) => !['round', 'other'].includes(c.key)),
    ),
  );
  log('\nratios (same run)');
  for (const [k, v] of Object.entries(ratios)) log(`  ${k.padEnd(40)} ${v}`);
  log(
    `\nmachine: load average ${machineLoad.loadavg1_before} before, ${machineLoad.loadavg1_after} after; ` +
      `CPU of other processes mean ${machineLoad.meanCpuOther}%, max ${machineLoad.maxCpuOther}%`,
  );
}

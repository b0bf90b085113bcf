// Authorization benchmark (issue 7, the policy decision point over the network): decisions per
// second through the gateway's POST /v1/authz/check against bare Fastify, the policy service's
// policy.decide over NATS against raw NATS request/reply at the same concurrency, and what local
// authorization adds to the gateway's CPU per request: the real gateway against a bench-only build
// whose route decision is a constant allow, and the decision step timed in-process. The
// in-process engine figures are `npm run bench -- pdp`. See bench/README.md.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Namespace, PolicyDecisionRpc } from '@tenantry/contracts';
import { freePort, REPO_ROOT, ServiceProcess } from '@tenantry/launcher';
import { contextToHeaders, EventPublisher, newContext } from '@tenantry/messaging';
import { DecisionAuditor } from '@tenantry/policy-client';
import { compile, fromPrincipal, PolicyStore } from '@tenantry/policy-engine';
import { createActiveTenant, Platform } from '@tenantry/testing';
import { Authorizer } from '../../apps/gateway/dist/authz/authorizer.js';
import { parsePermission } from '../../apps/gateway/dist/auth/access.decorators.js';
import {
  affinityOf,
  ALL_CPUS,
  DURATION_S,
  httpLoad,
  LOADGEN_CPU,
  log,
  onCleanup,
  opLoad,
  PIN,
  pin,
  positiveNumber,
  ratio,
  SERVER_CPU,
  signIn,
  serviceLogCollector,
  sleep,
  startChild,
  stopChild,
  table,
} from '../lib/common.mjs';
import { cpuMeter, cpuMsPerOp } from '../lib/cpu-meter.mjs';

const SPINE = fileURLToPath(new URL('../spine/', import.meta.url));
const CONNECTIONS = positiveNumber('BENCH_CONNECTIONS', 50);
/** NATS requests in flight: by default the HTTP rows' connections, so that every row compares at one concurrency. */
const IN_FLIGHT = positiveNumber('BENCH_IN_FLIGHT', CONNECTIONS);
/** Rounds of the timed rows, interleaved so that drift hits measured rows and baselines alike. */
const ROUNDS = positiveNumber('BENCH_ROUNDS', 2);
/**
 * Requests per second of both GET /v1/tenants/:id rows (with and without authorization): one
 * load for both, so that their CPU per request compares. Default: half of what the real gateway
 * answers flat out in a 3 s calibration.
 */
const AB_RATE = positiveNumber('BENCH_AB_RATE', 0);
/** Seconds of each in-process decision loop. */
const LOOP_S = 3;
const BATCH = 100;
const LOOP_CHUNK = 1_000;
const CLIENT_IP = '127.0.0.1';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A batch's checks: 7 of 10 allowed (through the custom roles, inheritance and `tenants:read`);
 * a deny rule asking for step-up (exports need a recent MFA; a key has none), a permission the
 * roles do not grant, one outside the key's scopes.
 */
function batchChecks(tenantId) {
  const patterns = [
    (i) => ({ action: 'read', resource: `invoices/${i}` }),
    (i) => ({ action: 'write', resource: `invoices/${i}` }),
    (i) => ({ action: 'approve', resource: `invoices/${i}` }),
    (i) => ({ action: 'read', resource: `invoices/${i}/lines/${i % 7}` }),
    () => ({ action: 'list', resource: 'invoices' }),
    (i) => ({ action: 'read', resource: `invoices/${i}` }),
    (i) => ({ action: 'export', resource: `invoices/${i}` }), // granted, but a deny rule: step-up
    (i) => ({ action: 'delete', resource: `invoices/${i}` }), // no grant
    () => ({ action: 'read', resource: `tenants/${tenantId}` }),
    (i) => ({ action: 'read', resource: `projects/${i}` }), // outside the key's scopes
  ];
  return Array.from({ length: BATCH }, (_, i) => patterns[i % patterns.length](1000 + i));
}

export default async function run() {
  log(
    `authz: ${DURATION_S} s rows, ${CONNECTIONS} HTTP connections, ${IN_FLIGHT} NATS in flight, ` +
      `${ROUNDS} rounds, pinning ${PIN ? 'on' : 'off'}`,
  );
  // "audit buffer is full" warnings are counted apart (dropped decision audit events).
  const serviceLog = serviceLogCollector({ dropped: /audit buffer is full/ });
  const admin = { email: 'bench@localhost', password: randomBytes(18).toString('base64url') };
  const platform = await Platform.create({
    services: ['gateway', 'identity', 'tenants', 'policy', 'audit'],
    env: {
      LOG_LEVEL: 'warn',
      TENANTRY_ADMIN_EMAIL: admin.email,
      TENANTRY_ADMIN_PASSWORD: admin.password,
    },
    onLine: serviceLog.onLine,
  });
  const ns = new Namespace(platform.namespace);
  const destroy = onCleanup(`platform ${ns.name}`, () => platform.destroy());
  const rows = [];
  const notes = [];
  const setup = {};
  try {
    log(`starting gateway, identity, tenants, policy, audit in namespace ${ns.name}`);
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
    // Server side on CPU 0 (gateway, policy service: they serve the measured rows, like the
    // baselines' servers), the load generator on CPU 1, the rest shares both.
    pin(pids.gateway, SERVER_CPU);
    pin(pids.policy, SERVER_CPU);
    pin(pids.identity, ALL_CPUS);
    pin(pids.tenants, ALL_CPUS);
    pin(pids.audit, ALL_CPUS);

    // ------------------------------------------------------------------ the tenant's policy
    log('\nsetting up a tenant, its roles, a deny rule, an API key and its binding');
    const operatorToken = await signIn(gateway.url, admin);
    const bearer = { authorization: `Bearer ${operatorToken}` };
    const api = apiClient(gateway.url, bearer);
    // Enterprise: custom roles, and no per-tenant API call limit on the measured rows.
    const tenant = await createActiveTenant(gateway.url, operatorToken, {
      name: 'Bench Authz',
      slug: `bench-${ns.name.replace(/_/g, '-')}`,
      plan: 'enterprise',
    });
    const base = `/v1/tenants/${tenant.id}`;
    // The tenant's policy is written and published by its provisioning (policy bootstrap).
    await waitFor(
      'the tenant policy',
      async () => (await api.get(`${base}/policy`)).status === 200,
    );
    await api.send('POST', `${base}/roles`, 201, {
      id: 'invoice-clerk',
      name: 'Invoice Clerk',
      permissions: ['invoices:read', 'invoices:list', 'invoices:write', 'tenants:read'],
    });
    await api.send('POST', `${base}/roles`, 201, {
      id: 'senior-clerk',
      name: 'Senior Clerk',
      permissions: ['invoices:approve', 'invoices:export'],
      inherits: ['invoice-clerk'],
    });
    await api.send('POST', `${base}/policies`, 201, {
      name: 'Invoice exports need a recent MFA',
      permissions: ['invoices:export'],
      unless: [{ type: 'mfa-within', minutes: 10 }],
    });
    const scopes = ['invoices:*', 'tenants:read'];
    const apiKey = await api.send('POST', `${base}/api-keys`, 201, {
      name: 'bench invoices',
      scopes,
    });
    const binding = await api.send('POST', `${base}/role-bindings`, 201, {
      roleId: 'senior-clerk',
      subject: { type: 'api_key', id: apiKey.id },
    });
    // An admin binding keys narrowly: the default binding of every key to tenant-admin goes.
    const removed = await api.get(`${base}/role-bindings/default-api-keys`, 'DELETE');
    if (removed.status >= 300) {
      notes.push(
        `DELETE role-bindings/default-api-keys answered ${removed.status}: keys keep tenant-admin`,
      );
    }
    let policy;
    await waitFor('the policy to be published', async () => {
      policy = (await api.get(`${base}/policy`)).body;
      return policy.publishedVersion === policy.version;
    });
    const keyHeaders = { 'x-api-key': apiKey.key };
    const single = { action: 'read', resource: 'invoices/1042' };
    // The gateway decides with the new snapshot once it names the key's own binding.
    await waitFor('the gateway to hold the new policy', async () => {
      const r = await api.get('/v1/authz/check', 'POST', single, keyHeaders);
      return r.status === 200 && r.body.allowed && r.body.reason.bindingId === binding.id;
    });
    const checks = batchChecks(tenant.id);
    Object.assign(setup, {
      tenantId: tenant.id,
      policyVersion: policy.version,
      roles: policy.document.roles.length,
      bindings: policy.document.bindings.length,
      denyRules: policy.document.denyRules?.length ?? 0,
      apiKeyScopes: scopes,
      keyBinding: binding.id,
      singleCheck: single,
    });

    // ------------------------------------------------------------------ baselines and variants
    const bypass = new ServiceProcess({
      service: 'gateway',
      root: REPO_ROOT,
      entry: 'bench/authz/gateway-without-authorization.mjs',
      port: await freePort(),
      env: { ...platform.env },
    });
    const stopBypass = onCleanup('gateway without authorization', () => bypass.stop());
    bypass.start();
    await bypass.waitReady(60_000);
    pin(bypass.pid, SERVER_CPU);

    const fastify = await startChild(`${SPINE}fastify-server.mjs`);
    const stopFastify = onCleanup('bare fastify server', () => stopChild(fastify.child));
    const echoSubject = ns.subject('bench.authz-echo');
    const echo = await startChild(`${SPINE}responder.mjs`, {
      NATS_URL: platform.infra.natsUrl,
      SUBJECT: echoSubject,
    });
    const stopEcho = onCleanup('echo responder', () => stopChild(echo.child));

    const nc = await connect({ servers: platform.infra.natsUrl });
    const closeNats = onCleanup('NATS connection', () => nc.close());

    const tenantPath = `/v1/tenants/${tenant.id}`;
    const httpVariants = [
      {
        id: 'http.fastify-bare',
        what: 'bare Fastify GET /hello -> small JSON, own process on CPU 0 (baseline: the HTTP floor)',
        kind: 'baseline',
        url: `http://127.0.0.1:${fastify.message.port}/hello`,
        server: { fastify: fastify.child.pid },
      },
      {
        id: 'http.authz-check',
        what: 'POST /v1/authz/check, one check about the caller (X-API-Key), decided in the gateway',
        kind: 'measured',
        url: `${gateway.url}/v1/authz/check`,
        method: 'POST',
        headers: { ...keyHeaders, 'content-type': 'application/json' },
        body: JSON.stringify(single),
        decisions: 1,
        server: { gateway: gateway.pid },
      },
      {
        id: `http.authz-check-batch${BATCH}`,
        what: `POST /v1/authz/check, a batch of ${BATCH} checks (7 in 10 allowed), decided in the gateway`,
        kind: 'measured',
        url: `${gateway.url}/v1/authz/check`,
        method: 'POST',
        headers: { ...keyHeaders, 'content-type': 'application/json' },
        body: JSON.stringify({ checks }),
        decisions: BATCH,
        server: { gateway: gateway.pid },
      },
      {
        id: 'http.gateway-tenant-get',
        what: 'GET /v1/tenants/:id with the API key: authentication, route decision (tenants:read), NATS, tenants service',
        kind: 'measured',
        url: `${gateway.url}${tenantPath}`,
        headers: keyHeaders,
        server: { gateway: gateway.pid },
        fixedRate: true,
      },
      {
        id: 'http.gateway-tenant-get-no-authz',
        what: 'the same on a bench-only build whose route decision is a constant allow (baseline)',
        kind: 'baseline',
        url: `${bypass.url}${tenantPath}`,
        headers: keyHeaders,
        server: { gatewayNoAuthz: bypass.pid },
        fixedRate: true,
      },
    ];
    for (const v of httpVariants) {
      const r = await fetch(v.url, { method: v.method ?? 'GET', headers: v.headers, body: v.body });
      const body = await r.json();
      if (r.status !== 200)
        throw new Error(`${v.id}: answered ${r.status}: ${JSON.stringify(body)}`);
      if (v.decisions === 1 && !body.allowed)
        throw new Error(`${v.id}: denied: ${JSON.stringify(body.reason)}`);
      if (v.decisions === BATCH) {
        if (body.results?.length !== BATCH) throw new Error(`${v.id}: ${BATCH} results expected`);
        setup.batchAllowed = body.results.filter((d) => d.allowed).length;
        setup.batchReasons = countBy(body.results.map((d) => d.reason.kind));
      }
      v.requestBytes = v.body?.length ?? 0;
      v.replyBytes = JSON.stringify(body).length;
    }

    // policy.decide as the platform's RpcClient sends it: the contract's wire subject, a JSON
    // body, the context headers (request id, a child traceparent, tenant, actor) built per request
    const principal = { kind: 'api_key', id: apiKey.id, apiKeyScopes: scopes };
    const decideBody = encoder.encode(
      JSON.stringify({
        tenantId: tenant.id,
        principal,
        ...single,
        context: { ip: CLIENT_IP },
      }),
    );
    const batchBody = encoder.encode(
      JSON.stringify({ tenantId: tenant.id, principal, checks, context: { ip: CLIENT_IP } }),
    );
    const rpcHeaders = () =>
      contextToHeaders(newContext({ tenantId: tenant.id, actor: 'service:bench-authz' }));
    const rpc = async (subject, body) => {
      const reply = await nc.request(subject, body, { timeout: 5_000, headers: rpcHeaders() });
      return JSON.parse(decoder.decode(reply.data));
    };
    const decideSubject = ns.rpcSubject(PolicyDecisionRpc.decide.subject);
    const batchSubject = ns.rpcSubject(PolicyDecisionRpc.decideBatch.subject);
    const natsVariants = [
      {
        id: `nats.echo@${IN_FLIGHT}`,
        variant: 'nats.echo',
        what: `raw NATS request/reply to an echo responder on CPU 0, the decide request's body and headers (baseline: the transport floor)`,
        kind: 'baseline',
        op: async () => {
          const reply = await nc.request(echoSubject, decideBody, {
            timeout: 5_000,
            headers: rpcHeaders(),
          });
          return reply.data.length === decideBody.length;
        },
        server: { responder: echo.child.pid },
        requestBytes: decideBody.length,
        replyBytes: decideBody.length,
      },
    ];
    const probe = async (subject, body) => {
      try {
        const answer = await rpc(subject, body);
        if (answer.ok !== true)
          return { error: `answered ${JSON.stringify(answer).slice(0, 300)}` };
        return { answer };
      } catch (error) {
        return { error: error.message };
      }
    };
    const decideProbe = await probe(decideSubject, decideBody);
    const batchProbe = await probe(batchSubject, batchBody);
    if (decideProbe.answer) {
      if (!decideProbe.answer.data.allowed)
        notes.push(`policy.decide denied the check: ${JSON.stringify(decideProbe.answer.data)}`);
      natsVariants.push({
        id: `nats.policy-decide@${IN_FLIGHT}`,
        variant: 'nats.policy-decide',
        what: `policy.decide over NATS (${decideSubject}) to the policy service on CPU 0, one check`,
        kind: 'measured',
        op: async () => (await rpc(decideSubject, decideBody)).ok === true,
        decisions: 1,
        server: { policy: pids.policy },
        requestBytes: decideBody.length,
        replyBytes: JSON.stringify(decideProbe.answer).length,
      });
    } else {
      notes.push(`policy.decide not measured: ${decideSubject}: ${decideProbe.error}`);
    }
    if (batchProbe.answer) {
      setup.natsBatchAllowed = batchProbe.answer.data.results?.filter((d) => d.allowed).length;
      natsVariants.push({
        id: `nats.policy-decide-batch${BATCH}@${IN_FLIGHT}`,
        variant: `nats.policy-decide-batch${BATCH}`,
        what: `policy.decide-batch over NATS, the same ${BATCH} checks`,
        kind: 'measured',
        op: async () => (await rpc(batchSubject, batchBody)).ok === true,
        decisions: BATCH,
        server: { policy: pids.policy },
        requestBytes: batchBody.length,
        replyBytes: JSON.stringify(batchProbe.answer).length,
      });
    } else {
      notes.push(`policy.decide-batch not measured: ${batchSubject}: ${batchProbe.error}`);
    }

    // Every process named, each once: the rows' servers, the idle ones, the load generator.
    const cpu = cpuMeter(
      {
        ...pids,
        gatewayNoAuthz: bypass.pid,
        fastify: fastify.child.pid,
        responder: echo.child.pid,
        loadgen: process.pid,
      },
      platform.infra.natsUrl,
    );
    const push = (row) => {
      if (row.cpuPercent && row.okPerSec) row.cpuMsPerOp = cpuMsPerOp(row.cpuPercent, row.okPerSec);
      // µs of the server's CPU per successful request, from its unrounded CPU seconds
      const [serverName] = Object.keys(row.serverPid);
      const serverSeconds = row.cpuSeconds?.[serverName];
      if (serverSeconds !== undefined && row.ok) {
        row.serverCpuUsPerRequest = +((serverSeconds * 1e6) / row.ok).toFixed(2);
        if (row.decisionsPerRequest)
          row.serverCpuUsPerDecision = +(
            row.serverCpuUsPerRequest / row.decisionsPerRequest
          ).toFixed(3);
      }
      rows.push(row);
      log(
        `  ${row.id.padEnd(36)} ${String(row.okPerSec).padStart(7)}/s` +
          (row.decisionsPerSec ? `  ${row.decisionsPerSec} decisions/s` : '') +
          `  p50 ${row.p50_ms} ms  p99 ${row.p99_ms} ms` +
          (row.serverCpuUsPerRequest !== undefined
            ? `  ${serverName} ${row.serverCpuUsPerRequest} µs/req`
            : '') +
          (row.cpuPercent?.other > 20 ? `  (other ${row.cpuPercent.other} %)` : ''),
      );
    };
    const rowOf = (v, round, r, { percent, cpuSeconds, seconds }) => ({
      id: ROUNDS > 1 ? `${v.id}#${round}` : v.id,
      variant: v.variant ?? v.id,
      what: v.what,
      kind: v.kind,
      round,
      ...r,
      ...(v.decisions
        ? { decisionsPerRequest: v.decisions, decisionsPerSec: r.okPerSec * v.decisions }
        : {}),
      ...(v.fixedRate ? { targetPerSec: abRate } : {}),
      requestBytes: v.requestBytes,
      replyBytes: v.replyBytes,
      serverPid: v.server,
      cpuPercent: percent,
      cpuSeconds: Object.fromEntries(
        Object.entries(cpuSeconds).map(([k, v]) => [k, +v.toFixed(2)]),
      ),
      cpuWindowSeconds: +seconds.toFixed(3),
      affinity: {
        ...Object.fromEntries(Object.entries(v.server).map(([k, pid]) => [k, affinityOf(pid)])),
        loadgen: affinityOf(process.pid),
      },
    });

    // The load of the two GET /v1/tenants/:id rows: given, or half of the real gateway's maximum.
    // Both gateways first get the same history: 3 s flat out on GET /v1/tenants/:id each (a
    // process that served more load runs with a larger heap and hotter code). The real one's
    // rate gives the default load of the pair.
    const flatOut = {};
    for (const v of httpVariants.filter((x) => x.fixedRate)) {
      const r = await httpLoad({
        url: v.url,
        headers: v.headers,
        connections: CONNECTIONS,
        durationS: 3,
        warmupS: 1,
      });
      flatOut[v.id] = r.okPerSec;
    }
    const abRate =
      AB_RATE || Math.max(100, Math.round(flatOut['http.gateway-tenant-get'] / 2 / 100) * 100);
    Object.assign(setup, { abFlatOutPerSec: flatOut, abRate });
    log(`GET /v1/tenants/:id rows at ${abRate} requests/s (BENCH_AB_RATE)`);

    // ------------------------------------------------------------------ timed rows, interleaved
    for (let round = 1; round <= ROUNDS; round++) {
      log(`\nround ${round} of ${ROUNDS}: HTTP (${CONNECTIONS} connections)`);
      // The pair first, back to back, in turns first and second from round to round.
      const pair = httpVariants.filter((x) => x.fixedRate);
      if (round % 2 === 0) pair.reverse();
      for (const v of [...pair, ...httpVariants.filter((x) => !x.fixedRate)]) {
        // warm-up apart, so that the CPU window is the timed row's
        const request = {
          url: v.url,
          headers: v.headers,
          method: v.method,
          body: v.body,
          overallRate: v.fixedRate ? abRate : undefined,
        };
        await httpLoad({ ...request, connections: 10, durationS: 2, warmupS: 0 });
        const m = cpu.start(v.server);
        const r = await httpLoad({ ...request, connections: CONNECTIONS, warmupS: 0 });
        push(rowOf(v, round, r, m.sample()));
      }
      log(`round ${round} of ${ROUNDS}: NATS (${IN_FLIGHT} in flight)`);
      for (const v of natsVariants) {
        for (let i = 0; i < 1_000; i++) await v.op(); // warm-up, sequential (as anchors/nats)
        const m = cpu.start(v.server);
        const r = await opLoad({ op: v.op, concurrency: IN_FLIGHT, warmupOps: 0 });
        push(rowOf(v, round, r, m.sample()));
      }
    }
    await stopEcho();
    await stopFastify();
    await stopBypass();

    // ------------------------------------------------------------------ the decision step in-process
    log('\nthe route decision in-process (this process, CPU 1)');
    for (const row of await inProcessDecisions({
      nc,
      ns,
      document: policy.document,
      tenantId: tenant.id,
      apiKey,
      scopes,
    })) {
      rows.push(row);
      log(
        `  ${row.id.padEnd(36)} ${row.usPerDecision} µs/decision (${row.cpuUsPerDecision} µs CPU)`,
      );
    }
    await closeNats();
  } finally {
    log(`\nstopping services and dropping namespace ${ns.name}`);
    await destroy();
  }

  // ------------------------------------------------------------------ ratios
  for (const row of rows) {
    if (row.non2xx || row.errors || row.timeouts || row.failedReplies)
      notes.push(
        `${row.id}: ${row.non2xx ?? 0} non-2xx, ${row.errors ?? 0} errors` +
          `${row.firstError ? ` (${row.firstError})` : ''}, ${row.timeouts ?? 0} timeouts, ` +
          `${row.failedReplies ?? 0} failed replies`,
      );
    if (row.targetPerSec && row.okPerSec < row.targetPerSec * 0.95)
      notes.push(
        `${row.id}: ${row.okPerSec}/s, below the ${row.targetPerSec}/s asked: its CPU per request is not at the same load as its pair's (lower BENCH_AB_RATE)`,
      );
    if (row.cpuPercent?.other > 20)
      notes.push(
        `${row.id}: other processes used ${row.cpuPercent.other} % of a core (${JSON.stringify(row.cpuPercent.otherTop ?? {})}): repeat on a quiet machine`,
      );
  }
  const services = serviceLog.summary();
  if (services.dropped)
    notes.push(
      `${Object.entries(services.dropped)
        .map(([service, n]) => `${service}: ${n}`)
        .join(', ')} warning(s) "the authorization audit buffer is full": ` +
        'audit events of decisions were dropped (every deny is audited; a batch row with denies makes many)',
    );
  const of = (variant) => rows.filter((r) => r.variant === variant);
  const mean = (variant, pick) => {
    const values = of(variant)
      .map(pick)
      .filter((v) => Number.isFinite(v));
    return values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
  };
  const spread = (variant, pick) => {
    const values = of(variant)
      .map(pick)
      .filter((v) => Number.isFinite(v));
    return values.length > 1 ? Math.max(...values) - Math.min(...values) : undefined;
  };
  const rps = (v) => mean(v, (r) => r.okPerSec);
  const dps = (v) => mean(v, (r) => r.decisionsPerSec);
  const serverUs = (v) => mean(v, (r) => r.serverCpuUsPerRequest);
  const round1 = (x) => (Number.isFinite(x) ? +x.toFixed(1) : null);
  const share = (part, whole) =>
    Number.isFinite(part) && whole ? +(part / whole).toFixed(4) : null;
  const batch = `http.authz-check-batch${BATCH}`;
  const withAuthz = serverUs('http.gateway-tenant-get');
  const withoutAuthz = serverUs('http.gateway-tenant-get-no-authz');
  const abUs = withAuthz - withoutAuthz;
  const inProcess = rows.find((r) => r.id === 'inproc.authorizer-forRoute');
  const engineOnly = rows.find((r) => r.id === 'inproc.store-decide');
  const ratios = {
    // decisions per second through the gateway against bare Fastify's requests per second
    authzCheck_vs_bareFastify: ratio(dps('http.authz-check'), rps('http.fastify-bare')),
    authzCheckBatch100Decisions_vs_bareFastify: ratio(dps(batch), rps('http.fastify-bare')),
    authzCheckGatewayCpuPerRequest_vs_bareFastify: ratio(
      serverUs('http.authz-check'),
      serverUs('http.fastify-bare'),
    ),
    // policy.decide against raw NATS request/reply at the same concurrency
    [`policyDecide_vs_rawRequestReply@${IN_FLIGHT}`]: ratio(
      dps('nats.policy-decide'),
      rps('nats.echo'),
    ),
    [`policyDecideBatch100Decisions_vs_rawRequestReply@${IN_FLIGHT}`]: ratio(
      dps(`nats.policy-decide-batch${BATCH}`),
      rps('nats.echo'),
    ),
    policyCpuPerRequest_vs_echoResponder: ratio(
      serverUs('nats.policy-decide'),
      serverUs('nats.echo'),
    ),
    authzCheck_vs_policyDecide: ratio(dps('http.authz-check'), dps('nats.policy-decide')),
    // what local authorization adds to the gateway's CPU per request (goal: under 2 %)
    gatewayCpuPerRequest_us: round1(withAuthz),
    gatewayNoAuthzCpuPerRequest_us: round1(withoutAuthz),
    authzCpuPerRequest_us_ab: round1(abUs),
    authzCpuShare_ab: share(abUs, withAuthz),
    // the run-to-run noise of the A/B: how far rounds of one variant lie apart (µs)
    gatewayCpuPerRequestSpread_us: round1(
      Math.max(
        spread('http.gateway-tenant-get', (r) => r.serverCpuUsPerRequest) ?? NaN,
        spread('http.gateway-tenant-get-no-authz', (r) => r.serverCpuUsPerRequest) ?? NaN,
      ),
    ),
    routeDecision_us_inProcess: inProcess?.cpuUsPerDecision ?? null,
    engineDecide_us_inProcess: engineOnly?.cpuUsPerDecision ?? null,
    authzCpuShare_inProcess: share(inProcess?.cpuUsPerDecision, withAuthz),
  };
  ratios.authzCpuShareGoalMet_inProcess =
    ratios.authzCpuShare_inProcess === null ? null : ratios.authzCpuShare_inProcess < 0.02;

  printTable(rows, ratios, notes);
  return {
    settings: {
      durationS: DURATION_S,
      connections: CONNECTIONS,
      inFlight: IN_FLIGHT,
      rounds: ROUNDS,
      abRate: AB_RATE || 'calibrated',
      batch: BATCH,
      inProcessSeconds: LOOP_S,
      pinned: PIN,
    },
    setup,
    rows,
    ratios,
    notes,
    serviceLog: services,
  };
}

/**
 * The gateway's route decision timed in this process: its `Authorizer` (the compiled class the
 * gateway runs) over a `PolicyStore` holding the tenant's document as the policy service
 * published it, with the gateway's `DecisionAuditor` publishing the sampled allows to the
 * namespace's AUDIT stream through an `EventPublisher` on this process's NATS connection, as the
 * gateway does; `forRoute` for GET /v1/tenants/:id as the API key (what the bench-only gateway
 * replaces). Then the engine's `store.decide` alone. CPU time (process.cpuUsage: this process's
 * CPU, the audit publishes included) and wall time per decision, over chunks of LOOP_CHUNK calls
 * (the clock costs nothing per decision); the event loop turns between chunks, so that the
 * auditor publishes, and its queue is drained inside the window.
 */
async function inProcessDecisions({ nc, ns, document, tenantId, apiKey, scopes }) {
  const store = new PolicyStore({ maxAgeMs: 3_600_000 });
  store.put(compile(document));
  const publisher = new EventPublisher({ js: jetstream(nc), options: { namespace: ns } });
  let published = 0;
  const auditor = new DecisionAuditor(async (event, context) => {
    await publisher.publishAudit(event, context);
    published++;
  });
  const authorizer = new Authorizer({ store }, auditor);
  const requirement = parsePermission('tenants:read', { tenantParam: 'id' });
  const principal = {
    kind: 'api_key',
    id: apiKey.id,
    tenantId,
    roles: [],
    scopes,
    expiresAt: null,
  };
  const request = { ip: CLIENT_IP, params: { id: tenantId } };
  const route = 'GET /v1/tenants/:id';
  const enginePrincipal = fromPrincipal(principal);
  const context = { ip: CLIENT_IP };
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  const loops = [
    {
      id: 'inproc.authorizer-forRoute',
      what: "the gateway's Authorizer.forRoute for GET /v1/tenants/:id as the API key (principal and resource as the engine's, decision, metric, audit sampling and the sampled allows' JetStream publishes), what the bench-only build replaces",
      call: () => authorizer.forRoute(requirement, principal, request, route, tenantId),
      drain: () => auditor.stop(10_000),
    },
    {
      id: 'inproc.store-decide',
      what: "the engine alone: store.decide(tenant, the key as the engine's principal, 'read', 'tenants', { ip })",
      call: () => store.decide(tenantId, enginePrincipal, 'read', 'tenants', context),
    },
  ];
  const out = [];
  for (const loop of loops) {
    const first = loop.call();
    if (!first.allowed) throw new Error(`${loop.id}: denied: ${JSON.stringify(first.reason)}`);
    for (let i = 0; i < 50; i++) {
      for (let j = 0; j < LOOP_CHUNK; j++) loop.call();
      await turn();
    }
    const publishedBefore = published;
    const chunks = [];
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const until = t0 + BigInt(LOOP_S * 1e9);
    let n = 0;
    for (let s = t0; s < until;) {
      for (let i = 0; i < LOOP_CHUNK; i++) loop.call();
      const e = process.hrtime.bigint();
      chunks.push(Number(e - s) / LOOP_CHUNK / 1e3);
      n += LOOP_CHUNK;
      await turn();
      s = process.hrtime.bigint();
    }
    await loop.drain?.();
    const wallUs = Number(process.hrtime.bigint() - t0) / 1e3;
    const cpu = process.cpuUsage(cpu0);
    chunks.sort((a, b) => a - b);
    out.push({
      id: loop.id,
      variant: loop.id,
      what: loop.what,
      kind: 'diagnostic',
      decisions: n,
      usPerDecision: +(wallUs / n).toFixed(3),
      cpuUsPerDecision: +((cpu.user + cpu.system) / n).toFixed(3),
      chunkP50_us: +chunks[Math.floor(chunks.length / 2)].toFixed(3),
      chunkP99_us:
        +chunks[Math.min(chunks.length - 1, Math.floor(chunks.length * 0.99))].toFixed(3),
      reason: first.reason.kind,
      ...(loop.drain ? { auditedAllowsPublished: published - publishedBefore } : {}),
    });
  }
  return out;
}

/** fetch against the gateway as the operator; `send` throws unless the status is the one expected. */
function apiClient(gatewayUrl, auth) {
  const get = async (path, method = 'GET', body, headers = auth) => {
    const response = await fetch(`${gatewayUrl}${path}`, {
      method,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: response.status, body: json };
  };
  const send = async (method, path, expected, body) => {
    const r = await get(path, method, body);
    if (r.status !== expected)
      throw new Error(`${method} ${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  return { get, send };
}

async function waitFor(what, test, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await test()) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function countBy(values) {
  const out = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

function printTable(rows, ratios, notes) {
  const timed = rows.filter((r) => r.okPerSec !== undefined);
  log('\nrequests: ok/s counts successful replies only; server = the process answering the row');
  log(
    table(
      timed.map((r) => ({
        ...r,
        server: Object.keys(r.serverPid ?? {})[0],
        cpu: r.cpuPercent
          ? `${Object.keys(r.serverPid)[0]} ${r.cpuPercent[Object.keys(r.serverPid)[0]]}, loadgen ${r.cpuPercent.loadgen}, other ${r.cpuPercent.other}`
          : '',
      })),
      [
        { key: 'id', title: 'row', align: 'left' },
        { key: 'kind', title: 'kind', align: 'left' },
        { key: 'concurrency', title: 'conc' },
        { key: 'okPerSec', title: 'ok/s' },
        { key: 'decisionsPerSec', title: 'decisions/s' },
        { key: 'p50_ms', title: 'p50 ms' },
        { key: 'p99_ms', title: 'p99 ms' },
        { key: 'server', title: 'server', align: 'left' },
        { key: 'serverCpuUsPerRequest', title: 'server µs/req' },
        { key: 'cpu', title: 'cpu% (100 = 1 core)', align: 'left' },
      ],
    ),
  );
  const loops = rows.filter((r) => r.usPerDecision !== undefined);
  if (loops.length) {
    log('\nin-process (this process, one core)');
    log(
      table(loops, [
        { key: 'id', title: 'row', align: 'left' },
        { key: 'decisions', title: 'decisions' },
        { key: 'cpuUsPerDecision', title: 'CPU µs/decision' },
        { key: 'usPerDecision', title: 'wall µs/decision' },
        { key: 'chunkP99_us', title: `p99 of ${LOOP_CHUNK}-call chunks` },
      ]),
    );
  }
  log('\nratios (same run; means over rounds)');
  for (const [k, v] of Object.entries(ratios)) log(`  ${k.padEnd(52)} ${v}`);
  for (const note of notes) log(`  - ${note}`);
}

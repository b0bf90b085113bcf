// Policy decision benchmark (issue 7): @tenantry/policy-engine against casbin and cedar-wasm in
// the six variants of ../shared/anchors/pdp, in one process, on the anchor's generated workload
// (reproduced exactly), extended with conditions and deny rules. See bench/README.md, "pdp".
import { loadavg } from 'node:os';
import { compile, PolicyStore, referenceDecide } from '@tenantry/policy-engine';
import { LOADGEN_CPU, log, PIN, pin, positiveNumber, ratio, table } from '../lib/common.mjs';
import { cpuMeter } from '../lib/cpu-meter.mjs';
import { ANCHOR_ENGINES, VERSIONS } from './anchor-engines.mjs';
import {
  ACTIONS,
  anchorWorkload,
  batches,
  CHAIN,
  CONDITION_SHARE,
  contexts,
  DENY_RULES,
  documents,
  FOCUS,
  FOCUS_ROLES,
  OTHER_ROLES,
  PERMS_PER_ROLE,
  POOL,
  RESOURCES,
  TENANTS,
  WILDCARD_P,
} from './workload.mjs';

/** Seconds per row at most (the anchor: 10), and at most 1M decisions (the anchor's cap). */
const SECONDS = positiveNumber('BENCH_DURATION_S', 10);
/** Rounds of the rows the goals are about (this engine, casbin-graph, cedar-graph), interleaved. */
const ROUNDS = positiveNumber('BENCH_ROUNDS', 2);
const MAX_DECISIONS = 1_000_000;
const MAX_BATCHES = 100_000;
const BATCH = 100;
const AGREEMENT_SAMPLE = 1000;
const GOALS = { vsCasbinGraph: 3, vsCedarGraph: 100, p50_us: 1.5, batch100_us: 50 };

export default async function run() {
  pin(process.pid, LOADGEN_CPU);
  const meter = cpuMeter({ bench: process.pid }, process.env.NATS_URL ?? 'nats://127.0.0.1:4222');
  const load0 = loadavg();
  log(
    `pdp: up to ${SECONDS} s or ${MAX_DECISIONS.toLocaleString('en-US')} decisions per row, ${ROUNDS} rounds, pinning ${PIN ? `on (CPU ${LOADGEN_CPU})` : 'off'}`,
  );

  // ---- workload ----
  const w = anchorWorkload();
  const plain = documents(w);
  const withConditions = documents(w, { conditions: true });
  const ctxs = contexts();
  log(
    `workload: anchor fingerprint ${w.fingerprint}, ${w.bindings.length.toLocaleString('en-US')} bindings, ` +
      `pool allow share ${w.allowShare.toFixed(3)}; ${withConditions.conditionalBindings} bindings with a condition, ` +
      `${DENY_RULES.length} deny rules`,
  );

  // ---- this engine: one store of 100 tenants each way ----
  const built = {};
  const buildStore = (docs) => {
    const t = performance.now();
    const store = new PolicyStore({ maxAgeMs: 3_600_000 });
    for (const d of docs) store.put(compile(d));
    return { store, loadMs: Math.round(performance.now() - t), stats: store.get(FOCUS).stats };
  };
  const heap0 = process.memoryUsage().heapUsed;
  const ours = buildStore(plain.docs);
  const oursC = buildStore(withConditions.docs);
  const heapMiB = +((process.memoryUsage().heapUsed - heap0) / 2 ** 20 / 2).toFixed(1);
  const ourRequests = w.requests.map((r) => {
    const colon = r.perm.indexOf(':');
    return {
      principal: { kind: 'user', id: r.u },
      action: r.perm.slice(colon + 1),
      resource: r.perm.slice(0, colon),
    };
  });
  const ourRequestsC = ourRequests.map((r, i) => ({ ...r, context: ctxs[i % ctxs.length] }));
  built.tenantry = {
    info: { loadMs: ours.loadMs, ...ours.stats },
    decide: (r) => ours.store.decide(FOCUS, r.principal, r.action, r.resource, r.context).allowed,
    pool: ourRequests,
  };
  built['tenantry+conditions'] = {
    info: { loadMs: oursC.loadMs, ...oursC.stats },
    decide: (r) => oursC.store.decide(FOCUS, r.principal, r.action, r.resource, r.context).allowed,
    pool: ourRequestsC,
  };
  const batchPool = batches(w, 2_000, BATCH).map((b) => ({
    principal: { kind: 'user', id: b.user },
    checks: b.checks,
    context: ctxs[b.context % ctxs.length],
  }));

  // ---- anchors ----
  for (const [name, make] of Object.entries(ANCHOR_ENGINES)) {
    const t = performance.now();
    const engine = await make(w);
    built[name] = {
      info: { loadMs: Math.round(performance.now() - t), ...engine.info },
      decide: engine.decide,
      pool: w.requests,
    };
    log(`built ${name} in ${built[name].info.loadMs} ms`);
  }

  // ---- agreement ----
  const agreement = checkAgreement(w, built, ours, oursC, ourRequests, ourRequestsC);
  log(
    `agreement on ${AGREEMENT_SAMPLE} sampled requests: ${Object.entries(agreement.sampleVsExpected)
      .map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`)
      .join(', ')}`,
  );
  log(
    `this engine vs its reference evaluator on all ${POOL.toLocaleString('en-US')}: plain ${agreement.plainVsReference.mismatches} mismatches, ` +
      `with conditions ${agreement.conditionsVsReference.mismatches} mismatches`,
  );

  // ---- timed rows ----
  const rows = [];
  const timed = (name, kind, semantics, fn) => {
    const cpu = meter.start();
    const r = fn();
    const percent = cpu.stop();
    const row = {
      engine: name,
      kind,
      semantics,
      ...built[name]?.info,
      ...r,
      cpu: { ...percent, elsewhere: Math.max(0, percent.machine - (percent.bench ?? 0)) },
    };
    rows.push(row);
    log(
      `  ${name.padEnd(22)} ${String(row.decisionsPerSec ?? row.batchesPerSec).padStart(10)}/s  p50 ${row.p50_us} µs  p99 ${row.p99_us} µs  ` +
        `(CPU elsewhere ${row.cpu.elsewhere}%)`,
    );
    return row;
  };
  const single = (name, semantics) => () =>
    timed(name, name.startsWith('tenantry') ? 'measured' : 'baseline', semantics, () =>
      measure(built[name].decide, built[name].pool),
    );
  const batchRow = () =>
    timed('tenantry batch of 100', 'measured', 'anchor + conditions', () =>
      measureBatches(oursC.store, batchPool),
    );

  const key = [
    single('tenantry', 'anchor'),
    single('tenantry+conditions', 'anchor + conditions'),
    batchRow,
    single('casbin-graph', 'anchor'),
    single('cedar-graph', 'anchor'),
  ];
  for (let round = 1; round <= ROUNDS; round++) {
    log(`round ${round} of ${ROUNDS}`);
    for (const row of key) row().round = round;
  }
  log('the other anchor variants (one round; they scan every rule per request)');
  for (const name of ['casbin', 'casbin-sharded', 'cedar', 'cedar-sharded'])
    single(name, 'anchor')().round = 1;

  // ---- summary ----
  const mean = (name, field) => {
    const xs = rows.filter((r) => r.engine === name).map((r) => r[field]);
    return xs.length ? +(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2) : null;
  };
  const summary = Object.fromEntries(
    [...new Set(rows.map((r) => r.engine))].map((name) => [
      name,
      {
        rounds: rows.filter((r) => r.engine === name).length,
        perSec: Math.round(
          mean(name, name.includes('batch') ? 'batchesPerSec' : 'decisionsPerSec'),
        ),
        p50_us: mean(name, 'p50_us'),
        p99_us: mean(name, 'p99_us'),
      },
    ]),
  );
  const rate = (name) => summary[name]?.perSec;
  const ratios = {
    tenantryConditions_vs_casbinGraph: ratio(rate('tenantry+conditions'), rate('casbin-graph')),
    tenantryConditions_vs_cedarGraph: ratio(rate('tenantry+conditions'), rate('cedar-graph')),
    tenantry_vs_casbinGraph: ratio(rate('tenantry'), rate('casbin-graph')),
    tenantry_vs_cedarGraph: ratio(rate('tenantry'), rate('cedar-graph')),
    tenantry_vs_casbin: ratio(rate('tenantry'), rate('casbin')),
    tenantry_vs_cedar: ratio(rate('tenantry'), rate('cedar')),
    casbinGraph_p50_vs_tenantryConditions_p50: ratio(
      summary['casbin-graph'].p50_us,
      summary['tenantry+conditions'].p50_us,
    ),
    batch100_checksPerSec_vs_single: ratio(
      rate('tenantry batch of 100') * BATCH,
      rate('tenantry+conditions'),
    ),
  };
  const goals = {
    vsCasbinGraph: {
      goal: `>= ${GOALS.vsCasbinGraph}x`,
      value: ratios.tenantryConditions_vs_casbinGraph,
      met: ratios.tenantryConditions_vs_casbinGraph >= GOALS.vsCasbinGraph,
    },
    vsCedarGraph: {
      goal: `>= ${GOALS.vsCedarGraph}x`,
      value: ratios.tenantryConditions_vs_cedarGraph,
      met: ratios.tenantryConditions_vs_cedarGraph >= GOALS.vsCedarGraph,
    },
    p50_us: {
      goal: `<= ${GOALS.p50_us} µs`,
      value: summary['tenantry+conditions'].p50_us,
      met: summary['tenantry+conditions'].p50_us <= GOALS.p50_us,
    },
    batch100_p50_us: {
      goal: `< ${GOALS.batch100_us} µs`,
      value: summary['tenantry batch of 100'].p50_us,
      met: summary['tenantry batch of 100'].p50_us < GOALS.batch100_us,
    },
    agreement: {
      goal: 'all engines agree on the sample; this engine = its reference on all requests',
      met:
        Object.values(agreement.sampleVsExpected).every((v) => v === 1) &&
        agreement.plainVsReference.mismatches === 0 &&
        agreement.conditionsVsReference.mismatches === 0,
    },
  };
  const load1 = loadavg();
  const machineLoad = {
    loadavg1_before: +load0[0].toFixed(2),
    loadavg1_after: +load1[0].toFixed(2),
    meanCpuElsewhere: Math.round(rows.reduce((a, r) => a + r.cpu.elsewhere, 0) / rows.length),
    maxCpuElsewhere: Math.max(...rows.map((r) => r.cpu.elsewhere)),
  };
  const notes = [
    'Every engine runs in this process, one at a time, with one process.hrtime.bigint() pair per decision (per batch for the batch row), after 2,000 warm-up calls, for BENCH_DURATION_S or 1M decisions, as the anchor.',
    'casbin and cedar decide the anchor semantics (RBAC with domains, 5-deep inheritance, res:* wildcards). "tenantry" decides the same documents; "tenantry+conditions" adds a condition to 10 % of the bindings and 5 deny rules, and every request carries a context: it does more work than the baselines it is compared with.',
    `CPU "elsewhere" = the whole machine minus this process, in % of one core (${machineLoad.meanCpuElsewhere} on average, at most ${machineLoad.maxCpuElsewhere}): other work on this shared 2-core machine.`,
  ];
  printTable(rows, summary, ratios, goals, agreement, machineLoad);
  return {
    settings: {
      durationS: SECONDS,
      rounds: ROUNDS,
      maxDecisionsPerRow: MAX_DECISIONS,
      batchSize: BATCH,
      pinned: PIN,
      cpu: PIN ? LOADGEN_CPU : null,
    },
    versions: { ...VERSIONS, policyEngine: '0.1.0' },
    workload: {
      tenants: TENANTS.length,
      focusRoles: FOCUS_ROLES,
      otherRolesPerTenant: OTHER_ROLES,
      chainDepth: CHAIN,
      bindings: w.bindings.length,
      permsPerRole: PERMS_PER_ROLE,
      wildcardShare: WILDCARD_P,
      requestPool: POOL,
      poolAllowShare: +w.allowShare.toFixed(3),
      anchorFingerprint: w.fingerprint,
      resources: RESOURCES.length,
      actions: ACTIONS.length,
      conditionShare: CONDITION_SHARE,
      conditionalBindings: withConditions.conditionalBindings,
      denyRules: DENY_RULES.length,
      contexts: ctxs.length,
      engineHeapMiBPerStore: heapMiB,
    },
    rows,
    summary,
    ratios,
    goals,
    agreement,
    machineLoad,
    notes,
  };
}

/** The anchor's harness: one hrtime pair per decision. */
function measure(decide, pool) {
  const warm = Math.min(2000, pool.length);
  for (let i = 0; i < warm; i++) decide(pool[i]);
  const lat = [];
  let i = 0;
  let allows = 0;
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(SECONDS * 1e9));
  for (;;) {
    const req = pool[i % pool.length];
    const s = process.hrtime.bigint();
    if (decide(req)) allows++;
    const e = process.hrtime.bigint();
    lat.push(Number(e - s));
    i++;
    if (e >= deadline || i >= MAX_DECISIONS) break;
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    decisions: i,
    seconds: +wall.toFixed(2),
    decisionsPerSec: Math.round(i / wall),
    ...micros(lat),
    allowRate: +(allows / i).toFixed(3),
  };
}

function measureBatches(store, pool) {
  const run = (b) => store.decideBatch(FOCUS, b.principal, b.checks, b.context);
  for (let i = 0; i < 200; i++) run(pool[i % pool.length]);
  const lat = [];
  let i = 0;
  let allows = 0;
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(SECONDS * 1e9));
  for (;;) {
    const b = pool[i % pool.length];
    const s = process.hrtime.bigint();
    const out = run(b);
    const e = process.hrtime.bigint();
    lat.push(Number(e - s));
    for (let k = 0; k < out.length; k++) if (out[k].allowed) allows++;
    i++;
    if (e >= deadline || i >= MAX_BATCHES) break;
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    batches: i,
    seconds: +wall.toFixed(2),
    batchesPerSec: Math.round(i / wall),
    checksPerSec: Math.round((i * BATCH) / wall),
    ...micros(lat),
    allowRate: +(allows / (i * BATCH)).toFixed(3),
  };
}

function micros(latNs) {
  const sorted = Float64Array.from(latNs).sort();
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] / 1000;
  return {
    p50_us: +q(0.5).toFixed(2),
    p99_us: +q(0.99).toFixed(2),
    max_us: +(sorted[sorted.length - 1] / 1000).toFixed(1),
  };
}

/**
 * Agreement: on the anchor's 1,000-request sample, every engine against the anchor's expected
 * decision (and so against each other); this engine against its reference evaluator on every
 * request of the pool, with and without conditions (allowed, reason kind and obligations).
 */
function checkAgreement(w, built, ours, oursC, ourRequests, ourRequestsC) {
  const N = AGREEMENT_SAMPLE;
  const picks = Array.from({ length: N }, (_, k) => (k * 17) % POOL);
  const sampleVsExpected = {};
  const decisions = {};
  for (const [name, engine] of Object.entries(built)) {
    if (name === 'tenantry+conditions') continue; // other semantics: checked against the reference below
    decisions[name] = picks.map((i) => engine.decide(engine.pool[i]));
    sampleVsExpected[name] =
      decisions[name].filter((x, k) => x === w.requests[picks[k]].expect).length / N;
  }
  const focusPolicy = ours.store.get(FOCUS).policy;
  decisions.reference = picks.map((i) => {
    const r = ourRequests[i];
    return referenceDecide(focusPolicy, r.principal, r.action, r.resource).allowed;
  });
  sampleVsExpected.reference =
    decisions.reference.filter((x, k) => x === w.requests[picks[k]].expect).length / N;
  const pairwiseVsTenantry = Object.fromEntries(
    Object.entries(decisions)
      .filter(([n]) => n !== 'tenantry')
      .map(([n, d]) => [n, d.filter((x, k) => x === decisions.tenantry[k]).length / N]),
  );
  const versusReference = (store, requests) => {
    const policy = store.get(FOCUS).policy;
    let mismatches = 0;
    let firstMismatch;
    const kinds = {};
    for (const r of requests) {
      const d = store.decide(FOCUS, r.principal, r.action, r.resource, r.context);
      const ref = referenceDecide(policy, r.principal, r.action, r.resource, r.context);
      kinds[d.reason.kind] = (kinds[d.reason.kind] ?? 0) + 1;
      const same =
        d.allowed === ref.allowed &&
        d.reason.kind === ref.reason.kind &&
        JSON.stringify(d.obligations) === JSON.stringify(ref.obligations);
      if (!same) {
        mismatches++;
        firstMismatch ??= { request: r, decision: d, reference: ref };
      }
    }
    return {
      requests: requests.length,
      mismatches,
      reasonKinds: kinds,
      ...(firstMismatch ? { firstMismatch } : {}),
    };
  };
  const plainVsReference = versusReference(ours.store, ourRequests);
  const conditionsVsReference = versusReference(oursC.store, ourRequestsC);
  const changedByConditions = ourRequestsC.filter(
    (r, i) =>
      oursC.store.decide(FOCUS, r.principal, r.action, r.resource, r.context).allowed !==
      w.requests[i].expect,
  ).length;
  return {
    sample: N,
    sampleVsExpected,
    pairwiseVsTenantry,
    plainVsReference,
    conditionsVsReference,
    changedByConditions,
  };
}

function printTable(rows, summary, ratios, goals, agreement, machineLoad) {
  log('\npdp: decisions in one process (µs include one hrtime pair, as the anchor)');
  log(
    table(
      rows.map((r) => ({
        ...r,
        perSec: r.decisionsPerSec ?? r.batchesPerSec,
        unit: r.batchesPerSec ? 'batches' : 'decisions',
        elsewhere: r.cpu.elsewhere,
      })),
      [
        { key: 'engine', title: 'engine', align: 'left' },
        { key: 'round', title: 'round' },
        { key: 'semantics', title: 'semantics', align: 'left' },
        { key: 'perSec', title: 'per s' },
        { key: 'unit', title: 'of', align: 'left' },
        { key: 'p50_us', title: 'p50 µs' },
        { key: 'p99_us', title: 'p99 µs' },
        { key: 'allowRate', title: 'allow' },
        { key: 'loadMs', title: 'load ms' },
        { key: 'elsewhere', title: 'CPU elsewhere %' },
      ],
    ),
  );
  log('\nmeans over the rounds');
  log(
    table(
      Object.entries(summary).map(([engine, s]) => ({ engine, ...s })),
      [
        { key: 'engine', title: 'engine', align: 'left' },
        { key: 'rounds', title: 'rounds' },
        { key: 'perSec', title: 'per s' },
        { key: 'p50_us', title: 'p50 µs' },
        { key: 'p99_us', title: 'p99 µs' },
      ],
    ),
  );
  log('\nratios');
  for (const [k, v] of Object.entries(ratios)) log(`  ${k}: ${v}`);
  log('\ngoals');
  for (const [k, g] of Object.entries(goals))
    log(`  ${g.met ? 'met    ' : 'NOT MET'} ${k}: ${g.value ?? ''} (${g.goal})`);
  log(
    `\nagreement: sample vs expected ${JSON.stringify(agreement.sampleVsExpected)}; vs reference on all: plain ${agreement.plainVsReference.mismatches} / ${agreement.plainVsReference.requests} mismatches, conditions ${agreement.conditionsVsReference.mismatches} / ${agreement.conditionsVsReference.requests}`,
  );
  log(
    `reasons with conditions: ${JSON.stringify(agreement.conditionsVsReference.reasonKinds)}; decisions changed by conditions: ${agreement.changedByConditions}`,
  );
  log(
    `machine: load average ${machineLoad.loadavg1_before} before, ${machineLoad.loadavg1_after} after; CPU elsewhere mean ${machineLoad.meanCpuElsewhere}%, max ${machineLoad.maxCpuElsewhere}%`,
  );
}

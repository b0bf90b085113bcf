// Helpers shared by every benchmark area: CPU pinning, load loops, percentiles, machine facts, output.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { cpus, totalmem, release, platform as osPlatform, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

/** Seconds per measured row (`BENCH_DURATION_S`, default 10, like the anchors). */
export const DURATION_S = positiveNumber('BENCH_DURATION_S', 10);

export function positiveNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${name} must be a positive number (got ${JSON.stringify(raw)})`);
  }
  return value;
}

export const log = (...parts) => process.stderr.write(`${parts.join(' ')}\n`);

// ---------------------------------------------------------------------------
// CPU pinning (taskset). With 2 cores, a server and its load generator on the
// same core swing results by +-20%: pin the server side to CPU 0, the load
// generator (this process) to CPU 1. BENCH_PIN=0 disables.
// ---------------------------------------------------------------------------
export const PIN =
  process.env.BENCH_PIN !== '0' &&
  cpus().length >= 2 &&
  spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;

export const SERVER_CPU = '0';
export const LOADGEN_CPU = '1';
export const ALL_CPUS = `0-${cpus().length - 1}`;

/** Sets the CPU affinity of every thread of `pid`; true when it was applied. */
export function pin(pid, cpuList) {
  if (!PIN || !pid) return false;
  const r = spawnSync('taskset', ['-a', '-cp', cpuList, String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) {
    log(`  (taskset -a -cp ${cpuList} ${pid} failed: ${(r.stderr || '').trim()})`);
    return false;
  }
  return true;
}

/** The CPU list a process may run on, as taskset reports it (e.g. "0", "0,1"). */
export function affinityOf(pid) {
  const r = spawnSync('taskset', ['-cp', String(pid)], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().split(': ').pop() : 'unknown';
}

/**
 * Starts `node <script>` as a child on the server CPU; resolves once it sends its
 * first IPC message (`{ port }` or 'ready').
 */
export function startChild(script, env = {}) {
  return new Promise((resolve, reject) => {
    const [cmd, args] = PIN
      ? ['taskset', ['-c', SERVER_CPU, process.execPath, script]]
      : [process.execPath, [script]];
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...env },
    });
    const onExit = (code) => reject(new Error(`${script} exited with ${code} before it was ready`));
    child.once('exit', onExit);
    child.once('error', reject);
    child.once('message', (message) => {
      child.off('exit', onExit);
      resolve({ child, message });
    });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child, graceMs = 5_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------
// Load
// ---------------------------------------------------------------------------

/**
 * autocannon in this process (as in anchors/fastify): 2 s warm-up at 10 connections, then the
 * row; `headers` go with every request (a bearer token, an API key), `method`/`body` likewise;
 * `overallRate` caps the requests per second of all connections together (a row at a fixed load).
 */
export async function httpLoad({
  url,
  connections,
  headers,
  method,
  body,
  overallRate,
  durationS = DURATION_S,
  warmupS = 2,
}) {
  const run = (opts) =>
    new Promise((resolve, reject) =>
      autocannon(opts, (err, res) => (err ? reject(err) : resolve(res))),
    );
  const request = {
    url,
    pipelining: 1,
    ...(headers ? { headers } : {}),
    ...(method ? { method } : {}),
    ...(body !== undefined ? { body } : {}),
    ...(overallRate ? { overallRate } : {}),
  };
  const warmup = warmupS > 0 ? await run({ ...request, connections: 10, duration: warmupS }) : null;
  const r = await run({ ...request, connections, duration: durationS });
  const ok = r['2xx'] ?? 0;
  return {
    concurrency: connections,
    // successful requests of the warm-up before the row (for CPU per request over both)
    warmupOk: warmup?.['2xx'] ?? 0,
    ops: r.requests.total,
    ok,
    opsPerSec: Math.round(r.requests.average),
    okPerSec: Math.round(ok / (r.duration || durationS)),
    // autocannon latency is whole milliseconds; littleMean = connections / rps
    littleMean_ms: +((connections / r.requests.average) * 1000).toFixed(2),
    mean_ms: r.latency.average,
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    max_ms: r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    latencyResolution: '1 ms (autocannon)',
  };
}

/**
 * Runs `op` with `concurrency` workers for `durationS` (after `warmupOps` sequential
 * calls), one hrtime pair per operation, as anchors/nats does. `op` resolves to true
 * (success) or false (failed reply); a throw counts as an error.
 */
export async function opLoad({ op, concurrency, durationS = DURATION_S, warmupOps = 1_000 }) {
  for (let i = 0; i < warmupOps; i++) await op();
  const lat = [];
  let failed = 0;
  let errors = 0;
  let firstError;
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(durationS * 1e9));
  const worker = async () => {
    for (;;) {
      const s = process.hrtime.bigint();
      try {
        if ((await op()) === false) failed++;
      } catch (error) {
        errors++;
        firstError ??= error.message;
      }
      const e = process.hrtime.bigint();
      lat.push(Number(e - s));
      if (e >= deadline) return;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const q = quantiles(lat);
  return {
    concurrency,
    ops: lat.length,
    ok: lat.length - failed - errors,
    opsPerSec: Math.round(lat.length / wall),
    okPerSec: Math.round((lat.length - failed - errors) / wall),
    mean_ms: +(lat.reduce((a, b) => a + b, 0) / lat.length / 1e6).toFixed(3),
    p50_ms: q(0.5),
    p99_ms: q(0.99),
    max_ms: q(1),
    failedReplies: failed,
    errors,
    ...(firstError ? { firstError } : {}),
    latencyResolution: '1 µs (hrtime)',
  };
}

/** Runs `op(i)` for i in [0, count) with `concurrency` in flight; latency per op. */
export async function countLoad({ op, count, concurrency }) {
  const lat = new Float64Array(count);
  let next = 0;
  const t0 = process.hrtime.bigint();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const s = process.hrtime.bigint();
      await op(i);
      lat[i] = Number(process.hrtime.bigint() - s);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const q = quantiles(lat);
  return { seconds, opsPerSec: Math.round(count / seconds), p50_ms: q(0.5), p99_ms: q(0.99) };
}

/** Nanosecond samples -> quantile function returning milliseconds (3 decimals). */
export function quantiles(samplesNs) {
  const sorted = Float64Array.from(samplesNs).sort();
  return (p) =>
    sorted.length
      ? +(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] / 1e6).toFixed(3)
      : null;
}

export const ratio = (a, b) => (a && b ? +(a / b).toFixed(3) : null);

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

export function machineInfo() {
  const list = cpus();
  return {
    cpuModel: list[0]?.model ?? 'unknown',
    // os.cpus(), not availableParallelism(): the latter shrinks to 1 once this process is pinned
    nproc: cpus().length,
    totalMemoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    os: `${osPlatform()} ${release()}`,
  };
}

/** A plain-text table: `columns` = [{ key, title, align }]. */
export function table(rows, columns) {
  const fmt = (v) =>
    v === null || v === undefined
      ? '-'
      : typeof v === 'number'
        ? Number.isInteger(v)
          ? v.toLocaleString('en-US')
          : v.toLocaleString('en-US', { maximumFractionDigits: 3 })
        : String(v);
  const cells = rows.map((r) => columns.map((c) => fmt(r[c.key])));
  const widths = columns.map((c, i) =>
    Math.max(c.title.length, ...cells.map((row) => row[i].length)),
  );
  const line = (values) =>
    values
      .map((v, i) => (columns[i].align === 'left' ? v.padEnd(widths[i]) : v.padStart(widths[i])))
      .join('  ');
  return [
    line(columns.map((c) => c.title)),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map(line),
  ].join('\n');
}

// ---------------------------------------------------------------------------
// Cleanup: every resource a benchmark creates registers its undo here, so that
// the normal path (finally), a failure and Ctrl-C all release it.
// ---------------------------------------------------------------------------
const cleanups = [];
const started = []; // promises of cleanups under way or done

/**
 * Registers `fn` (async); returns a function that runs it now and unregisters it. It runs at most
 * once: a second call (or runCleanups) gets the same promise, so a caller never moves on while
 * the cleanup is still under way.
 */
export function onCleanup(what, fn) {
  const entry = { what, fn, promise: null };
  cleanups.push(entry);
  return () => runEntry(entry);
}

function runEntry(entry) {
  if (!entry.promise) {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
    entry.promise = Promise.resolve().then(entry.fn);
    started.push(entry.promise.catch(() => undefined));
  }
  return entry.promise;
}

/** Runs every registered cleanup, newest first, and waits for any already under way; logs failures. */
export async function runCleanups() {
  while (cleanups.length) {
    const entry = cleanups[cleanups.length - 1];
    try {
      await runEntry(entry);
    } catch (error) {
      log(`cleanup of ${entry.what} failed: ${error.message}`);
    }
  }
  await Promise.allSettled(started);
}

/** Signs in at the gateway (e.g. as the bootstrap operator); its access token. */
export async function signIn(gatewayUrl, { email, password }) {
  const response = await fetch(`${gatewayUrl}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = await response.json();
  if (response.status !== 200 || !body.accessToken) {
    throw new Error(`POST /v1/auth/login answered ${response.status}: ${JSON.stringify(body)}`);
  }
  return body.accessToken;
}

/**
 * Keeps count of the services' warn/error log lines (LOG_LEVEL=warn) and the first 20 of them,
 * for `Platform`'s `onLine`. `tallies` names messages counted apart per service and left out of
 * the samples (`{ dropped: /audit buffer is full/ }`): the summary then has `dropped` too.
 */
export function serviceLogCollector(tallies = {}) {
  const LEVELS = { 40: 'warn', 50: 'error', 60: 'fatal' };
  const counts = {};
  const samples = [];
  const tallied = {};
  return {
    onLine(service, line) {
      // BENCH_SERVICE_LOG=1: every line the services print, as it comes (diagnosis)
      if (process.env.BENCH_SERVICE_LOG === '1') process.stderr.write(`[${service}] ${line}\n`);
      let level = 'other';
      let msg = line;
      try {
        const parsed = JSON.parse(line);
        level = LEVELS[parsed.level] ?? String(parsed.level);
        msg = parsed.msg ?? parsed.err?.message ?? line;
      } catch {
        // not JSON (e.g. a crash trace): kept as is
      }
      counts[service] ??= {};
      counts[service][level] = (counts[service][level] ?? 0) + 1;
      for (const [name, pattern] of Object.entries(tallies)) {
        if (!pattern.test(msg)) continue;
        tallied[name] ??= {};
        tallied[name][service] = (tallied[name][service] ?? 0) + 1;
        return;
      }
      if (samples.length < 20) samples.push({ service, level, msg: String(msg).slice(0, 300) });
    },
    summary: () => ({ counts, samples, ...tallied }),
  };
}

/**
 * With BENCH_PROFILE=1: ends the CPU profile segment of each process (lib/cpu-profiler.mjs
 * writes it and starts the next), so that a row's window is a segment of its own. A no-op
 * otherwise.
 */
export function profileSegment(pids) {
  if (process.env.BENCH_PROFILE !== '1') return;
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGUSR2');
    } catch {
      // gone already
    }
  }
}

/**
 * BENCH_PROFILE=1: V8 CPU profiles of the services (costs throughput: diagnosis only). Returns
 * the folder they go to (null without profiling), the services' environment that records them
 * (lib/cpu-profiler.mjs loaded into every service), and the note a result should carry.
 */
export function serviceProfiling() {
  if (process.env.BENCH_PROFILE !== '1') return { dir: null, env: {}, note: null };
  const dir = mkdtempSync(join(tmpdir(), 'tenantry-bench-profiles-'));
  const profiler = new URL('./cpu-profiler.mjs', import.meta.url).href;
  return {
    dir,
    env: {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${profiler}`.trim(),
      BENCH_PROFILE_DIR: dir,
    },
    note: `CPU profiles (BENCH_PROFILE=1, figures depressed by profiling): ${dir}`,
  };
}
